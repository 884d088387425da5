import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone

from candidates.models import Dossier, DossierState
from clea_platform.certifications import Certification
from evaluations.acquisitions import acquired_criterion_ids, dossier_outcome
from evaluations.models import (
    Criterion,
    CriterionResult,
    CriterionResultValue,
    Domain,
    Evaluation,
    EvaluationKind,
    Referentiel,
    SubDomain,
)
from evaluations.referentiel_sources import DATA_DIR
from evaluations.services import (
    EvaluationError,
    evaluation_close,
    evaluation_save_results,
    evaluation_start,
    referentiel_load_csv,
    referentiel_make_current,
    referentiel_new_version,
)
from organisations.models import Role
from tests.evaluations.support import complete_training
from tests.factories import MembershipFactory
from tests.journey import PRIOR_WITH_GAPS, DossierFactory, criteria_by_code, evaluate, small_referentiel

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


def test_an_end_date_before_the_start_date_is_refused():
    dossier = DossierFactory(state="prior_evaluation")
    evaluation = dossier.evaluations.get()
    with pytest.raises(EvaluationError, match="précède la date de début"):
        evaluation_close(
            evaluation=evaluation,
            by=dossier.team.evaluator,
            ended_on=evaluation.started_on - datetime.timedelta(days=1),
        )
    evaluation.refresh_from_db()
    assert not evaluation.is_closed


# -- Référentiels ----------------------------------------------------------------------------------------------


def load_referentiels() -> str:
    out = io.StringIO()
    call_command("load_referentiels", stdout=out)
    return out.getvalue()


def test_load_referentiels_loads_the_clea_referentiel_with_its_thresholds():
    load_referentiels()
    clea = Referentiel.objects.current_for(Certification.CLEA)
    assert clea.criteria().count() == 107
    assert Domain.objects.filter(referentiel=clea).count() == 7
    thresholds = dict(SubDomain.objects.filter(domain__referentiel=clea).values_list("code", "threshold_percent"))
    assert len(thresholds) == 28
    assert (thresholds["2.2"], thresholds["2.4"], thresholds["2.5"]) == (50, 100, 66)
    assert thresholds["1.1"] == thresholds["2.1"] == thresholds["7.4"] == 75
    for certification in Certification.values:
        assert Referentiel.objects.current().filter(certification=certification).count() == 1


def test_load_referentiels_is_idempotent():
    load_referentiels()
    before = (Referentiel.objects.count(), set(Criterion.objects.values_list("pk", "code", "title", "subdomain_id")))
    load_referentiels()
    after = (Referentiel.objects.count(), set(Criterion.objects.values_list("pk", "code", "title", "subdomain_id")))
    assert before == after


def test_a_referentiel_used_by_a_dossier_is_locked():
    referentiel = small_referentiel()
    criterion = referentiel.criteria().get(code="1.1.1")
    criterion.clean()  # not used yet: editable
    assert not referentiel.is_locked

    DossierFactory(state="opened")
    assert referentiel.is_locked
    criterion.title = "Autre intitulé"
    with pytest.raises(ValidationError, match="créez une nouvelle version"):
        criterion.full_clean()
    # Adding a part changes the thresholds' meaning as much as editing one.
    with pytest.raises(ValidationError, match="créez une nouvelle version"):
        Criterion(subdomain=criterion.subdomain, code="1.1.9", title="Nouveau").full_clean()


def test_the_loader_leaves_a_locked_version_untouched():
    load_referentiels()
    DossierFactory(state="opened")  # opened on the current CléA version
    clea = Referentiel.objects.current_for(Certification.CLEA)
    assert clea.is_locked
    Criterion.objects.filter(subdomain__domain__referentiel=clea, code="1.1.1").update(title="Modifié à la main")

    output = load_referentiels()

    assert "verrouillé" in output
    assert clea.criteria().get(code="1.1.1").title == "Modifié à la main"
    report = referentiel_load_csv(
        path=DATA_DIR / "referentiel_clea.csv", certification=Certification.CLEA, version=clea.version, title="Autre"
    )
    assert report.skipped_locked
    clea.refresh_from_db()
    assert clea.title != "Autre"


def tree(referentiel):
    return [
        (
            d.code,
            d.title,
            d.is_transversal,
            d.position,
            [
                (
                    s.code,
                    s.title,
                    s.threshold_percent,
                    s.position,
                    [(c.code, c.title, c.is_mandatory, c.position) for c in s.criteria.all()],
                )
                for s in d.subdomains.all()
            ],
        )
        for d in referentiel.domains_tree()
    ]


def test_a_new_version_copies_domains_thresholds_and_mandatory_criteria():
    source = small_referentiel()
    copy = referentiel_new_version(source=source, version="2027")
    assert tree(copy) == tree(source)
    assert copy.criteria().get(code="1.2.1").is_mandatory
    assert not copy.is_current and source.is_current
    assert set(copy.criteria().values_list("pk", flat=True)).isdisjoint(source.criteria().values_list("pk", flat=True))
    with pytest.raises(ValidationError, match="existe déjà"):
        referentiel_new_version(source=source, version="2027")


def test_a_new_version_never_changes_the_results_recorded_against_the_old_one():
    dossier = DossierFactory(state="partially_validated")
    old = dossier.referentiel
    evaluation = dossier.evaluations.get()
    recorded = evaluation.outcome
    before = dossier_outcome(dossier).as_json()

    new = referentiel_new_version(source=old, version="2027")
    # Certif'Pro lowers 2.1's threshold (2 of 4 would now validate it) and makes the new version current.
    SubDomain.objects.filter(domain__referentiel=new, code="2.1").update(threshold_percent=50)
    Criterion.objects.filter(subdomain__domain__referentiel=new, code="1.1.1").update(title="Nouvel intitulé")
    referentiel_make_current(referentiel=new)

    dossier = Dossier.objects.get(pk=dossier.pk)
    assert dossier.referentiel == old
    assert dossier_outcome(dossier).as_json() == before
    assert not dossier_outcome(dossier).all_validated
    evaluation.refresh_from_db()
    assert evaluation.outcome == recorded
    assert set(evaluation.results.values_list("criterion__subdomain__domain__referentiel", flat=True)) == {old.pk}
    assert old.criteria().get(code="1.1.1").title == "Critère 1.1.1"
    assert not new.is_locked


def test_one_version_is_current_per_certification():
    old = small_referentiel()
    new = referentiel_new_version(source=old, version="2027")
    referentiel_make_current(referentiel=new)
    assert list(Referentiel.objects.current().filter(certification=old.certification)) == [new]
    assert Referentiel.objects.current_for(Certification.CLEA) == new


def test_an_empty_version_cannot_become_current():
    empty = Referentiel.objects.create(certification=Certification.CLEA, version="vide", title="Vide")
    with pytest.raises(ValidationError, match="aucun critère"):
        referentiel_make_current(referentiel=empty)


def test_evaluations_are_only_visible_to_their_organisation(org_a, make_member):
    dossier = DossierFactory(state="prior_evaluation")
    evaluation = dossier.evaluations.get()
    assert list(Evaluation.objects.visible_to(dossier.team.counsellor)) == [evaluation]
    assert not Evaluation.objects.visible_to(make_member(org_a, role=Role.EVALUATOR)).exists()
    assert not Evaluation.objects.visible_to(dossier.team.trainer).exists()
