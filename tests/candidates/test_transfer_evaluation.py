"""A dossier moves while an evaluation is in progress (issue 19: the previous organisation cannot block the move by
keeping its grid open). Its draft is abandoned: no result, nothing acquired, no fee, read only for the organisation
that entered it and unseen by the new one, which starts the evaluation again from the step before it."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse
from django.utils import timezone

from candidates.models import Dossier, DossierEvent, DossierState
from evaluations.acquisitions import acquired_criterion_ids, dossier_outcome
from evaluations.models import CriterionResultValue, Evaluation, EvaluationKind, EvaluationStatus
from evaluations.services import EvaluationError, evaluation_close, evaluation_save_results, evaluation_start
from funding.models import FeeEntry
from funding.references import funding_references_load
from funding.services import fee_entries_catch_up
from notifications.models import Notification
from organisations.models import AuditLog
from scheduling.models import Assignment, AssignmentPurpose
from tests.candidates.transfer_support import REASON, move, new_organisation
from tests.clients import logged_in_client
from tests.journey import DossierFactory, criteria_by_code, evaluate

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


def _draft(dossier: Dossier) -> Evaluation:
    return Evaluation.objects.get(dossier=dossier, status=EvaluationStatus.DRAFT)


def _enter(evaluation: Evaluation, by, acquired: set[str]) -> None:
    """Results saved in the draft, never closed."""
    codes = criteria_by_code(evaluation.dossier.referentiel)
    evaluation_save_results(
        evaluation=evaluation,
        by=by,
        results={codes[code].pk: (CriterionResultValue.ACQUIRED, "") for code in acquired},
    )


def test_moving_during_the_prior_evaluation_abandons_it_and_the_new_organisation_starts_again():
    funding_references_load()
    dossier = DossierFactory(in_prior_evaluation=True)
    team_a = dossier.team
    draft = _draft(dossier)
    _enter(draft, team_a.evaluator, {"1.1.1", "1.1.2", "2.1.1"})
    org_b, team_b = new_organisation()

    transfer = move(dossier, org_b, by=team_b.counsellor)

    draft.refresh_from_db()
    assert draft.status == EvaluationStatus.ABANDONED and draft.get_status_display() == "Abandonnée"
    assert draft.abandoned_at == transfer.at and draft.abandoned_by_transfer == transfer
    assert draft.closed_at is None and draft.outcome == {}
    assert draft.organisation == team_a.organisation  # it stays the work of who did it
    # Its lines stay as entered, and none is acquired.
    assert draft.results.filter(result=CriterionResultValue.ACQUIRED).count() == 3
    dossier = Dossier.objects.get(pk=dossier.pk)
    assert acquired_criterion_ids(dossier) == set()
    assert (dossier.organisation, dossier.state) == (org_b, DossierState.OPENED)
    assert dossier.window_starts_on is None and dossier.deadline is None
    assert not FeeEntry.objects.exists()
    assert ("evaluation.abandon", team_a.organisation.pk) in set(
        AuditLog.objects.filter(object_id=str(draft.pk)).values_list("action", "organisation_id")
    )
    note = DossierEvent.objects.get(dossier=dossier, note__startswith="Évaluation préalable commencée").note
    assert note == (
        f"Évaluation préalable commencée le {draft.started_on:%d/%m/%Y} chez {team_a.organisation.name} : "
        f"abandonnée, car le dossier part vers {org_b.name}. Rien de cette évaluation n'est acquis. "
        f"{org_b.name} refera l'évaluation préalable en entier."
    )

    # B's evaluator starts the prior evaluation again, over every criterion, from nothing; closing it owes B's fee.
    again = evaluation_start(dossier=dossier, by=team_b.evaluator, started_on=timezone.localdate())
    assert again.kind == EvaluationKind.PRIOR and again.organisation == org_b
    assert again.results.count() == dossier.referentiel.criteria().count()
    assert set(again.results.values_list("result", flat=True)) == {CriterionResultValue.NOT_ASSESSED}
    evaluate(again, team_b.evaluator, {"1.1.1"})
    assert acquired_criterion_ids(Dossier.objects.get(pk=dossier.pk)) == {
        criteria_by_code(dossier.referentiel)["1.1.1"].pk
    }
    assert list(FeeEntry.objects.values_list("evaluation_id", "organisation_id")) == [(again.pk, org_b.pk)]
    fee_entries_catch_up()  # the abandoned grid owes nothing, even when the fees are caught up
    assert not FeeEntry.objects.filter(evaluation=draft).exists()


def test_moving_during_the_final_evaluation_returns_to_it_on_what_remains():
    dossier = DossierFactory(in_final_evaluation=True)
    team_a = dossier.team
    draft = _draft(dossier)
    assert draft.kind == EvaluationKind.FINAL
    remaining = [c.code for c in dossier_outcome(dossier).gap_criteria()]
    assert remaining == ["2.1.3", "2.1.4"]
    _enter(draft, team_a.final_evaluator, {"2.1.3", "2.1.4"})
    org_b, team_b = new_organisation()

    move(dossier, org_b, by=team_b.counsellor)

    dossier = Dossier.objects.get(pk=dossier.pk)
    assert dossier.state == DossierState.IN_TRAINING and dossier.training_completed()
    assert [c.code for c in dossier_outcome(dossier).gap_criteria()] == remaining
    assert DossierEvent.objects.filter(
        dossier=dossier, note__contains=f"{org_b.name} refera l'évaluation finale sur ce qui reste à acquérir."
    ).exists()
    final = evaluation_start(dossier=dossier, by=team_b.evaluator, started_on=timezone.localdate())
    assert final.kind == EvaluationKind.FINAL
    assert sorted(final.results.values_list("criterion__code", flat=True)) == remaining
    evaluate(final, team_b.evaluator)
    dossier.refresh_from_db()
    assert dossier.state == DossierState.READY_FOR_JURY


def test_a_completed_training_waiting_for_its_final_evaluation_stays_so_when_the_dossier_moves():
    from tests.evaluations.support import complete_training

    dossier = DossierFactory(in_training=True)
    complete_training(dossier)
    org_b, team_b = new_organisation()
    move(dossier, org_b, by=team_b.counsellor)
    dossier = Dossier.objects.get(pk=dossier.pk)
    assert dossier.state == DossierState.IN_TRAINING
    assert evaluation_start(dossier=dossier, by=team_b.evaluator, started_on=timezone.localdate()).kind == "final"


def test_the_evaluator_is_told_and_their_assignment_ends():
    dossier = DossierFactory(in_prior_evaluation=True)
    evaluator = dossier.team.evaluator
    draft = _draft(dossier)
    assert (
        Assignment.objects.current()
        .filter(dossier=dossier, purpose=AssignmentPurpose.PRIOR_EVALUATION, assignee=evaluator)
        .exists()
    )
    org_b, team_b = new_organisation()

    move(dossier, org_b, by=None)

    assert not Assignment.objects.current().filter(dossier=dossier).exists()
    ended = Assignment.objects.get(dossier=dossier, assignee=evaluator)
    assert REASON in ended.end_reason
    told = Notification.objects.get(kind="dossier_transferred_away", recipient=evaluator.user)
    assert told.organisation_id == dossier.team.organisation.pk
    assert told.title.startswith(f"Évaluation abandonnée, dossier parti vers {org_b.name}")
    assert "Elle est close sans résultat : vous pouvez encore la lire, plus la modifier." in told.body
    assert REASON in told.body
    assert told.url == reverse("evaluations:grid", args=[draft.pk])
    # The counsellor still reads the move's own words.
    counsellor = Notification.objects.get(kind="dossier_transferred_away", recipient=dossier.team.counsellor.user)
    assert counsellor.title.startswith(f"Dossier parti vers {org_b.name}")


def test_the_abandoned_grid_can_no_longer_change_nor_be_closed():
    dossier = DossierFactory(in_prior_evaluation=True)
    evaluator = dossier.team.evaluator
    draft = _draft(dossier)
    org_b, team_b = new_organisation()
    move(dossier, org_b, by=team_b.counsellor)
    message = "Cette évaluation a été abandonnée : le dossier est parti vers un autre organisme. Elle ne change plus."
    with pytest.raises(EvaluationError, match=message):
        _enter(draft, evaluator, {"1.1.1"})
    with pytest.raises(EvaluationError, match=message):
        evaluation_close(evaluation=draft, by=evaluator, ended_on=timezone.localdate())
    draft.refresh_from_db()
    assert draft.status == EvaluationStatus.ABANDONED
    assert not FeeEntry.objects.exists()


def test_the_previous_organisation_reads_its_abandoned_grid_and_the_new_one_only_its_mention():
    dossier = DossierFactory(in_prior_evaluation=True)
    team_a = dossier.team
    draft = _draft(dossier)
    _enter(draft, team_a.evaluator, {"1.1.1"})
    org_b, team_b = new_organisation()
    move(dossier, org_b, by=team_b.counsellor)
    grid_url = reverse("evaluations:grid", args=[draft.pk])
    summary_url = reverse("evaluations:summary", args=[draft.pk])
    dossier_url = reverse("journey:dossier_detail", args=[dossier.pk])

    evaluator_a = logged_in_client(team_a.evaluator)
    page = text(evaluator_a.get(grid_url))
    assert "Abandonnée" in page
    assert f"le dossier est parti vers {org_b.name}. Rien de cette évaluation n'est acquis. Consultation seule." in page
    assert f"Motif du changement d'organisme : {REASON}" in page
    assert 'id="grille"' not in page  # no form: read only
    refused = text(evaluator_a.post(grid_url, {}))
    assert "Cette évaluation a été abandonnée" in refused or "Corrigez les lignes signalées." in refused
    draft.refresh_from_db()
    assert draft.results.filter(result=CriterionResultValue.ACQUIRED).count() == 1
    assert evaluator_a.get(summary_url).status_code == 404  # nothing of it was acquired: no summary
    page_a = text(logged_in_client(team_a.counsellor).get(dossier_url))
    assert "Abandonnée" in page_a and grid_url in page_a
    assert "abandonnée, car le dossier part vers" in page_a  # dated with the move: on A's timeline too

    # B reads that an evaluation was abandoned on the timeline, not A's grid.
    for member in (team_b.counsellor, team_b.evaluator):
        client = logged_in_client(member)
        assert client.get(grid_url).status_code == 404
        assert client.get(summary_url).status_code == 404
        page = text(client.get(dossier_url))
        assert "abandonnée, car le dossier part vers" in page
        assert grid_url not in page
    assert not Evaluation.objects.visible_to(team_b.counsellor).filter(pk=draft.pk).exists()
    assert Evaluation.objects.visible_to(team_a.counsellor).filter(pk=draft.pk).exists()
    # A third organisation sees nothing of it.
    _org_c, team_c = new_organisation()
    assert logged_in_client(team_c.evaluator).get(grid_url).status_code == 404


def test_the_next_step_at_the_new_organisation_is_the_prior_evaluation_not_the_abandoned_grid():
    dossier = DossierFactory(in_prior_evaluation=True)
    org_b, team_b = new_organisation()
    move(dossier, org_b, by=team_b.counsellor)
    page = text(logged_in_client(team_b.evaluator).get(reverse("journey:dossier_detail", args=[dossier.pk])))
    assert "depuis sa grille" not in page  # "Clôture de l'évaluation préalable commencée le …, depuis sa grille"
    assert reverse("evaluations:evaluation_start", args=[dossier.pk]) in page
