import pytest

from tests.journey import PATH, DossierFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("state", [*PATH, "withdrawn"])
def test_the_factory_reaches_every_state_through_the_services(state, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        dossier = DossierFactory(state=state)
    assert dossier.state == state
    transitions = list(dossier.events.order_by("at", "id").values_list("to_state", flat=True))
    assert transitions[0] == "information"
