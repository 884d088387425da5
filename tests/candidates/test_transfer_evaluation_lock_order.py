"""An evaluator saves their grid while the candidate moves the dossier, at once, on PostgreSQL: both land, neither is
aborted as a deadlock. Saving locks the evaluation, then writes its audit row (which holds the chain's lock to the
commit); the move must therefore lock the draft it abandons before its own first audit row (`dossier_transfer_started`),
not when it abandons it."""

import threading
import time

import pytest
from django.db import connection

from candidates.models import Dossier
from evaluations import services as evaluation_services
from evaluations.models import CriterionResultValue, Evaluation, EvaluationStatus
from evaluations.services import evaluation_save_results
from organisations.services import audit_chain_verify
from tests.candidates.transfer_support import move, new_organisation
from tests.concurrency import in_a_thread, someone_waits_on_a_lock
from tests.journey import DossierFactory, criteria_by_code

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks and the chain's advisory lock are PostgreSQL's: set DATABASE_URL to a postgres:// URL (CI does)",
)


@pytest.mark.django_db(transaction=True)
def test_saving_the_grid_and_moving_the_dossier_at_the_same_moment_both_land(monkeypatch):
    dossier = DossierFactory(in_prior_evaluation=True)
    evaluator = dossier.team.evaluator
    draft = Evaluation.objects.get(dossier=dossier, status=EvaluationStatus.DRAFT)
    criterion = criteria_by_code(dossier.referentiel)["1.1.1"]
    org_b, _team_b = new_organisation()
    grid_locked = threading.Event()
    ensure_editable = evaluation_services._ensure_editable

    def lock_held_until_the_move_waits(evaluation, by) -> None:
        # Called with the evaluation's row locked: the save goes on to its audit row once the move waits on a lock.
        grid_locked.set()
        deadline = time.monotonic() + 5
        while not someone_waits_on_a_lock() and time.monotonic() < deadline:
            time.sleep(0.02)
        ensure_editable(evaluation, by)

    monkeypatch.setattr(evaluation_services, "_ensure_editable", lock_held_until_the_move_waits)

    def save() -> None:
        evaluation_save_results(
            evaluation=draft, by=evaluator, results={criterion.pk: (CriterionResultValue.ACQUIRED, "")}
        )

    def move_away() -> None:
        assert grid_locked.wait(10)
        move(dossier, org_b, by=None)

    errors: list[BaseException] = []
    threads = [in_a_thread(save, errors), in_a_thread(move_away, errors)]
    for thread in threads:
        thread.join(30)

    assert errors == []
    assert Dossier.objects.get(pk=dossier.pk).organisation == org_b
    draft.refresh_from_db()
    # Saved first, then abandoned by the move that waited for it.
    assert draft.status == EvaluationStatus.ABANDONED
    assert draft.results.get(criterion=criterion).result == CriterionResultValue.ACQUIRED
    assert audit_chain_verify().intact
