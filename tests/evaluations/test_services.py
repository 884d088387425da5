import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from candidates.models import Dossier, DossierState
from evaluations.acquisitions import acquired_criterion_ids
from evaluations.models import CriterionResult, CriterionResultValue, Evaluation, EvaluationKind
from evaluations.services import (
    EvaluationError,
    evaluation_close,
    evaluation_save_results,
    evaluation_start,
)
from organisations.models import AuditLog, Role
from referentiels.models import Criterion
from tests.evaluations.support import complete_training
from tests.factories import MembershipFactory
from tests.journey import PRIOR_WITH_GAPS, DossierFactory, criteria_by_code, evaluate

pytestmark = pytest.mark.django_db


def start_final(dossier, by=None):
    return evaluation_start(dossier=dossier, by=by or dossier.team.final_evaluator, started_on=timezone.localdate())


@pytest.fixture
def trained_dossier():
    """In training after a prior evaluation that acquired PRIOR_WITH_GAPS (2.1.3 and 2.1.4 missing)."""
    dossier = DossierFactory(state="in_training")
    complete_training(dossier)
    dossier.refresh_from_db()
    return dossier


# -- Evaluations -----------------------------------------------------------------------------------------------


def test_the_prior_evaluation_covers_every_criterion_of_the_referentiel():
    dossier = DossierFactory(state="prior_evaluation")
    evaluation = dossier.evaluations.get()
    assert evaluation.kind == EvaluationKind.PRIOR
    assert evaluation.results.count() == dossier.referentiel.criteria().count() == 9
    assert set(evaluation.results.values_list("result", flat=True)) == {CriterionResultValue.NOT_ASSESSED}


def test_the_final_evaluation_covers_only_the_criteria_still_missing(trained_dossier):
    evaluation = start_final(trained_dossier)
    assert evaluation.kind == EvaluationKind.FINAL
    assert sorted(evaluation.results.values_list("criterion__code", flat=True)) == ["2.1.3", "2.1.4"]
    trained_dossier.refresh_from_db()
    assert trained_dossier.state == DossierState.FINAL_EVALUATION


def test_what_was_acquired_at_the_prior_evaluation_stays_acquired_even_if_the_final_marks_nothing(trained_dossier):
    evaluation = start_final(trained_dossier)
    outcome = evaluate(evaluation, trained_dossier.team.final_evaluator, acquired=set())
    assert [d.code for d in outcome.validated_domains] == ["1"]
    dossier = Dossier.objects.get(pk=trained_dossier.pk)
    acquired_codes = set(
        Criterion.objects.filter(pk__in=acquired_criterion_ids(dossier)).values_list("code", flat=True)
    )
    assert acquired_codes == PRIOR_WITH_GAPS
    # Gaps left: back in training on a new cycle, on what is still missing only.
    assert dossier.state == DossierState.IN_TRAINING
    assert [c.code for c in dossier.current_training_plan.target_criteria.order_by("code")] == ["2.1.3", "2.1.4"]


def test_the_final_evaluation_completes_the_prior_acquisitions(trained_dossier):
    evaluation = start_final(trained_dossier)
    outcome = evaluate(evaluation, trained_dossier.team.final_evaluator, acquired={"2.1.3"})
    assert outcome.all_validated
    trained_dossier.refresh_from_db()
    assert trained_dossier.state == DossierState.READY_FOR_JURY


def test_results_outside_the_evaluations_scope_are_refused(trained_dossier):
    evaluation = start_final(trained_dossier)
    outside = criteria_by_code(trained_dossier.referentiel)["1.1.1"]
    with pytest.raises(EvaluationError, match="ne font pas partie de cette évaluation"):
        evaluation_save_results(
            evaluation=evaluation,
            by=trained_dossier.team.final_evaluator,
            results={outside.pk: (CriterionResultValue.ACQUIRED, "")},
        )
    assert not CriterionResult.objects.filter(evaluation=evaluation, criterion=outside).exists()


def test_saving_a_draft_writes_an_audit_row_naming_the_criteria_changed(org_b):
    dossier = DossierFactory(state="prior_evaluation")
    evaluation = dossier.evaluations.get()
    lines = {line.criterion.code: line for line in evaluation.results.select_related("criterion")}
    before = AuditLog.objects.count()

    changed = evaluation_save_results(
        evaluation=evaluation,
        by=dossier.team.evaluator,
        results={
            lines["1.1.1"].criterion_id: (CriterionResultValue.ACQUIRED, "Consignes reformulées"),
            lines["1.1.2"].criterion_id: (CriterionResultValue.NOT_ASSESSED, ""),  # unchanged
        },
    )

    assert changed == 1
    row = AuditLog.objects.order_by("-id").first()
    assert AuditLog.objects.count() == before + 1 and row.action == "evaluation.save_results"
    assert (row.actor, row.organisation_id) == (dossier.team.evaluator.user, evaluation.organisation_id)
    assert (row.object_type.model, row.object_id) == ("evaluation", str(evaluation.pk))
    assert row.details == {"criteria": [lines["1.1.1"].criterion_id]}
    # Refused: nothing saved, nothing recorded.
    with pytest.raises(PermissionDenied):
        evaluation_save_results(
            evaluation=evaluation,
            by=MembershipFactory(organisation=org_b, role=Role.EVALUATOR),
            results={lines["1.1.2"].criterion_id: (CriterionResultValue.ACQUIRED, "")},
        )
    assert AuditLog.objects.count() == before + 1


def test_an_unknown_result_value_is_refused():
    dossier = DossierFactory(state="prior_evaluation")
    evaluation = dossier.evaluations.get()
    line = evaluation.results.first()
    with pytest.raises(EvaluationError, match="Résultat inconnu"):
        evaluation_save_results(
            evaluation=evaluation, by=dossier.team.evaluator, results={line.criterion_id: ("x", "")}
        )


def test_a_closed_evaluation_cannot_be_edited_nor_closed_again():
    dossier = DossierFactory(state="partially_validated")
    evaluation = dossier.evaluations.get()
    line = evaluation.results.get(criterion__code="2.1.3")
    with pytest.raises(EvaluationError, match="clôturée"):
        evaluation_save_results(
            evaluation=evaluation,
            by=dossier.team.evaluator,
            results={line.criterion_id: (CriterionResultValue.ACQUIRED, "")},
        )
    with pytest.raises(EvaluationError, match="clôturée"):
        evaluation_close(evaluation=evaluation, by=dossier.team.evaluator, ended_on=timezone.localdate())
    line.refresh_from_db()
    assert line.result == CriterionResultValue.NOT_ACQUIRED


def test_only_an_evaluator_of_the_organisation_records_results(org_b):
    dossier = DossierFactory(state="prior_evaluation")
    evaluation = dossier.evaluations.get()
    line = evaluation.results.first()
    results = {line.criterion_id: (CriterionResultValue.ACQUIRED, "")}
    for membership in (dossier.team.counsellor, MembershipFactory(organisation=org_b, role=Role.EVALUATOR)):
        with pytest.raises(PermissionDenied):
            evaluation_save_results(evaluation=evaluation, by=membership, results=results)


def test_the_dossiers_trainer_cannot_conduct_its_final_evaluation(trained_dossier):
    trainer_as_evaluator = MembershipFactory(
        user=trained_dossier.team.trainer.user, organisation=trained_dossier.organisation, role=Role.EVALUATOR
    )
    with pytest.raises(EvaluationError, match="Vous avez formé ce candidat"):
        start_final(trained_dossier, by=trainer_as_evaluator)
    trained_dossier.refresh_from_db()
    assert trained_dossier.state == DossierState.IN_TRAINING
    assert not trained_dossier.evaluations.filter(kind=EvaluationKind.FINAL).exists()


def test_the_final_evaluation_waits_for_the_training_to_be_completed():
    from candidates.services import TransitionRefused

    dossier = DossierFactory(state="in_training")
    with pytest.raises(TransitionRefused, match="formation doit être déclarée terminée"):
        start_final(dossier)


def test_an_end_date_before_the_start_date_is_refused_on_its_field():
    dossier = DossierFactory(state="prior_evaluation")
    evaluation = dossier.evaluations.get()
    with pytest.raises(ValidationError) as refused:
        evaluation_close(
            evaluation=evaluation,
            by=dossier.team.evaluator,
            ended_on=evaluation.started_on - datetime.timedelta(days=1),
        )
    assert "précède la date de début" in refused.value.message_dict["ended_on"][0]
    evaluation.refresh_from_db()
    assert not evaluation.is_closed


@pytest.mark.parametrize(
    ("days", "hours", "field"), [(1, "4", "ended_on"), (0, "41", "duration_hours"), (0, "-1", "duration_hours")]
)
def test_closing_refuses_an_end_in_the_future_and_a_duration_out_of_bounds(days, hours, field):
    dossier = DossierFactory(state="prior_evaluation")
    evaluation = dossier.evaluations.get()
    with pytest.raises(ValidationError) as refused:
        evaluation_close(
            evaluation=evaluation,
            by=dossier.team.evaluator,
            ended_on=timezone.localdate() + datetime.timedelta(days=days),
            duration_hours=Decimal(hours),
        )
    assert list(refused.value.message_dict) == [field]
    evaluation.refresh_from_db()
    assert not evaluation.is_closed
    assert evaluation.dossier.state == DossierState.PRIOR_EVALUATION


def test_an_evaluation_cannot_start_in_the_future():
    dossier = DossierFactory(state="opened")
    with pytest.raises(ValidationError) as refused:
        evaluation_start(
            dossier=dossier, by=dossier.team.evaluator, started_on=timezone.localdate() + datetime.timedelta(days=1)
        )
    assert refused.value.message_dict == {"started_on": ["La date de début ne peut pas être dans le futur."]}
    dossier.refresh_from_db()
    assert dossier.state == DossierState.OPENED
    assert not dossier.evaluations.exists()


def test_the_final_evaluation_cannot_start_before_the_training_ended(trained_dossier):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as refused:
        evaluation_start(dossier=trained_dossier, by=trained_dossier.team.final_evaluator, started_on=yesterday)
    assert refused.value.message_dict == {
        "started_on": [
            f"L'évaluation finale ne peut pas commencer avant la fin de la formation ({timezone.localdate():%d/%m/%Y})."
        ]
    }
    trained_dossier.refresh_from_db()
    assert trained_dossier.state == DossierState.IN_TRAINING


def test_evaluations_are_only_visible_to_their_organisation(org_a, make_member):
    dossier = DossierFactory(state="prior_evaluation")
    evaluation = dossier.evaluations.get()
    assert list(Evaluation.objects.visible_to(dossier.team.counsellor)) == [evaluation]
    assert not Evaluation.objects.visible_to(make_member(org_a, role=Role.EVALUATOR)).exists()
    assert not Evaluation.objects.visible_to(dossier.team.trainer).exists()
