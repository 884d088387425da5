"""Acting on a training plan through the API (tests/api/test_training_plans.py): refused to all but its trainer.
Nothing is written, so the plan is built once, in a module of its own: its rows would show in the other
module's counts of plans and trainers."""

from collections.abc import Iterator

import pytest

from tests.api.test_training_plans import _member_of, _plan, _post, _session, _url
from tests.factories import OrganisationFactory
from tests.shared import shared_rows
from training.models import TrainingPlan, TrainingSession

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def refused_plan(django_db_setup, django_db_blocker) -> Iterator[tuple[TrainingPlan, TrainingSession]]:
    """One plan with a done session for the 30 refusals below (tests/shared.py): each checks that nothing was
    written, in its own savepoint."""
    with shared_rows(django_db_blocker):
        plan = _plan(organisation=OrganisationFactory(name="Évaluateur A"))
        yield plan, _session(plan, done=True)


# Acting on the plan: its trainer only; those who see the plan get 403, the others 404.
@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("counsellor", 403),
        ("evaluator", 403),
        ("trainer_colleague", 404),
        ("advisor", 404),
        ("jury_member", 404),
        ("other_counsellor", 404),
    ],
)
@pytest.mark.parametrize("name", ["sessions", "session-done", "session-remove", "notes", "complete"])
def test_only_the_plans_trainer_acts_on_it(name, who, status, client_for, make_member, refused_plan):
    plan, session = refused_plan
    kwargs = {"session_pk": session.pk} if name.startswith("session-") else {}

    # No body: the role is refused before the input is read (a 400 would tell the field rules to anyone).
    response = _post(client_for(_member_of(plan, who, make_member)), _url(name, plan, **kwargs))

    assert response.status_code == status
    assert plan.sessions.count() == 1 and not plan.notes.exists()
    plan.refresh_from_db()
    assert plan.completed_at is None
