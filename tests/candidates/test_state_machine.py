"""The dossier's state machine, driven through the services: each step, each guard, who may take it, and what
each step records."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django_fsm import ConcurrentTransition

from candidates.models import Dossier, DossierEvent, add_years
from candidates.services import (
    DossierConflict,
    TransitionRefused,
    dossier_create,
    dossier_open,
    dossier_transition,
    dossier_withdraw,
)
from evaluations.models import Evaluation, EvaluationKind
from evaluations.services import evaluation_start
from organisations.models import AuditLog, Habilitation, HabilitationStatus, Role
from tests.journey import PATH, PRIOR_WITH_GAPS, DossierFactory, evaluate
from training.models import TrainingPlan
from training.services import training_plan_complete, training_plan_create, training_session_add

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def transition(dossier: Dossier, name: str, by, **kwargs) -> Dossier:
    """One transition through the generic service, in its own transaction like a view or a task."""
    with transaction.atomic():
        return dossier_transition(dossier=dossier, name=name, by=by, **kwargs)


def prior_evaluation(dossier: Dossier) -> Evaluation:
    return Evaluation.objects.get(dossier=dossier, kind=EvaluationKind.PRIOR)


def plan_training(dossier: Dossier) -> TrainingPlan:
    return training_plan_create(
        dossier=dossier,
        by=dossier.team.counsellor,
        trainer=dossier.team.trainer,
        planned_hours=Decimal("20"),
        starts_on=TODAY(),
        ends_on=TODAY() + datetime.timedelta(days=30),
    )


def complete_training(dossier: Dossier) -> None:
    plan = dossier.training_plans.order_by("-cycle").first()
    trainer = dossier.team.trainer
    training_session_add(
        plan=plan, by=trainer, date=TODAY(), duration_hours=Decimal("2"), topic="Proportionnalité", done=True
    )
    training_plan_complete(plan=plan, by=trainer, shortfall_reason="Objectifs atteints.")


def expired_dossier() -> Dossier:
    dossier = DossierFactory(state="partially_validated", evaluated_on=add_years(TODAY(), -6))
    expired = transition(dossier, "expire", by=None)
    expired.team = dossier.team
    return expired


# -- Opening -----------------------------------------------------------------------------------------------------


def test_opening_is_refused_without_the_consent_text():
    dossier = DossierFactory()
    with pytest.raises(TransitionRefused, match="texte du consentement"):
        dossier_open(dossier=dossier, by=dossier.team.counsellor, consent_text="   ")
    dossier.refresh_from_db()
    assert dossier.state == "information"
    assert dossier.consent_at is None


def test_the_state_machine_itself_refuses_to_open_without_consent():
    dossier = DossierFactory()
    with pytest.raises(TransitionRefused, match="consentement du candidat doit être recueilli"):
        transition(dossier, "open", by=dossier.team.counsellor)
    dossier.refresh_from_db()
    assert dossier.state == "information"


def test_opening_records_the_consent_and_its_text():
    dossier = DossierFactory()
    opened = dossier_open(dossier=dossier, by=dossier.team.counsellor, consent_text="  J'accepte.  ")
    assert opened.state == "opened"
    assert opened.consent_text == "J'accepte."
    assert opened.consent_at is not None


# -- Prior evaluation --------------------------------------------------------------------------------------------


# A suspension stops new dossiers only: an opened dossier goes on (tests/organisations/test_habilitations.py).
@pytest.mark.parametrize("lapse", ["withdrawn", "ended"])
def test_the_prior_evaluation_needs_a_habilitation_neither_withdrawn_nor_ended(lapse):
    dossier = DossierFactory(state="opened")
    habilitation = Habilitation.objects.get(organisation=dossier.organisation, certification=dossier.certification)
    if lapse == "withdrawn":
        habilitation.status, habilitation.status_reason = HabilitationStatus.WITHDRAWN, "Audit défavorable"
    else:
        habilitation.valid_until = TODAY() - datetime.timedelta(days=1)
    habilitation.full_clean()
    habilitation.save()
    with pytest.raises(TransitionRefused, match="pas d'habilitation en cours"):
        evaluation_start(dossier=dossier, by=dossier.team.evaluator, started_on=TODAY())
    dossier.refresh_from_db()
    assert dossier.state == "opened"
    assert not dossier.evaluations.exists()


@pytest.mark.parametrize(
    ("evaluated_on", "deadline"),
    [
        (datetime.date(2025, 3, 10), datetime.date(2030, 3, 10)),
        # No 29 February in 2029: the window ends the day before.
        (datetime.date(2024, 2, 29), datetime.date(2029, 2, 28)),
    ],
)
def test_a_prior_evaluation_with_gaps_gives_a_partial_validation_and_a_5_year_deadline(evaluated_on, deadline):
    dossier = DossierFactory(state="prior_evaluation", evaluated_on=evaluated_on)
    evaluate(prior_evaluation(dossier), dossier.team.evaluator, acquired=PRIOR_WITH_GAPS, ended_on=evaluated_on)
    dossier.refresh_from_db()
    assert dossier.state == "partially_validated"
    assert dossier.window_starts_on == evaluated_on
    assert dossier.deadline == deadline


def test_add_years_falls_back_to_28_february_only_when_needed():
    assert add_years(datetime.date(2024, 2, 29), 5) == datetime.date(2029, 2, 28)
    assert add_years(datetime.date(2024, 2, 29), 4) == datetime.date(2028, 2, 29)
    assert add_years(datetime.date(2023, 12, 31), 5) == datetime.date(2028, 12, 31)


def test_a_prior_evaluation_with_everything_acquired_goes_to_the_jury():
    dossier = DossierFactory(state="prior_evaluation")
    outcome = evaluate(prior_evaluation(dossier), dossier.team.evaluator, acquired=None)
    dossier.refresh_from_db()
    assert outcome.all_validated
    assert dossier.state == "ready_for_jury"
    assert not dossier.training_plans.exists()


# -- Training and final evaluation -------------------------------------------------------------------------------


def test_training_cannot_start_without_a_plan():
    dossier = DossierFactory(state="partially_validated")
    with pytest.raises(TransitionRefused, match="parcours de formation doit être défini"):
        transition(dossier, "start_training", by=dossier.team.counsellor)
    dossier.refresh_from_db()
    assert dossier.state == "partially_validated"


def test_defining_the_plan_starts_the_training():
    dossier = DossierFactory(state="partially_validated")
    plan = plan_training(dossier)
    dossier.refresh_from_db()
    assert dossier.state == "in_training"
    assert plan.cycle == 1
    assert {c.code for c in plan.target_criteria.all()} == {"2.1.3", "2.1.4"}


def test_the_final_evaluation_needs_the_training_completed():
    dossier = DossierFactory(state="in_training")
    with pytest.raises(TransitionRefused, match="formation doit être déclarée terminée"):
        evaluation_start(dossier=dossier, by=dossier.team.final_evaluator, started_on=TODAY())
    dossier.refresh_from_db()
    assert dossier.state == "in_training"


def test_the_final_evaluation_needs_the_5_year_window_open():
    dossier = DossierFactory(state="in_training")
    complete_training(dossier)
    # Five years pass: the daily job has not run yet, the deadline is behind us.
    Dossier.objects.filter(pk=dossier.pk).update(deadline=TODAY() - datetime.timedelta(days=1))
    dossier.refresh_from_db()
    with pytest.raises(TransitionRefused, match="délai"):
        evaluation_start(dossier=dossier, by=dossier.team.final_evaluator, started_on=TODAY())
    dossier.refresh_from_db()
    assert dossier.state == "in_training"


def test_the_final_evaluation_starts_once_the_training_is_completed_within_the_window():
    dossier = DossierFactory(state="in_training")
    complete_training(dossier)
    evaluation = evaluation_start(dossier=dossier, by=dossier.team.final_evaluator, started_on=TODAY())
    dossier.refresh_from_db()
    assert dossier.state == "final_evaluation"
    assert evaluation.kind == EvaluationKind.FINAL
    assert {line.criterion.code for line in evaluation.results.select_related("criterion")} == {"2.1.3", "2.1.4"}


def test_a_final_evaluation_with_gaps_goes_back_to_training_with_a_second_cycle():
    dossier = DossierFactory(state="final_evaluation")
    final = Evaluation.objects.get(dossier=dossier, kind=EvaluationKind.FINAL)
    evaluate(final, dossier.team.final_evaluator, acquired=set())
    dossier.refresh_from_db()
    assert dossier.state == "in_training"
    cycle_2 = dossier.training_plans.get(cycle=2)
    assert not cycle_2.is_completed
    assert cycle_2.trainer_id == dossier.team.trainer.user_id
    assert {c.code for c in cycle_2.target_criteria.all()} == {"2.1.3", "2.1.4"}


def test_a_final_evaluation_with_everything_acquired_goes_to_the_jury():
    dossier = DossierFactory(state="final_evaluation")
    final = Evaluation.objects.get(dossier=dossier, kind=EvaluationKind.FINAL)
    evaluate(final, dossier.team.final_evaluator, acquired=None)
    dossier.refresh_from_db()
    assert dossier.state == "ready_for_jury"


# -- Withdrawal and expiry ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", PATH)
def test_a_dossier_may_be_withdrawn_from_every_open_state(state):
    dossier = DossierFactory(state=state)
    withdrawn = dossier_withdraw(dossier=dossier, by=dossier.team.counsellor, reason="Reprise d'emploi")
    assert withdrawn.state == "withdrawn"
    assert withdrawn.withdrawal_reason == "Reprise d'emploi"


def test_withdrawal_needs_a_reason():
    dossier = DossierFactory(state="opened")
    with pytest.raises(TransitionRefused, match="motif"):
        dossier_withdraw(dossier=dossier, by=dossier.team.counsellor, reason=" ")
    dossier.refresh_from_db()
    assert dossier.state == "opened"


@pytest.mark.parametrize("closed", ["withdrawn", "expired"])
def test_a_closed_dossier_cannot_be_withdrawn(closed):
    dossier = expired_dossier() if closed == "expired" else DossierFactory(state="withdrawn")
    with pytest.raises(TransitionRefused, match="n'est pas possible"):
        dossier_withdraw(dossier=dossier, by=dossier.team.counsellor, reason="Encore")
    dossier.refresh_from_db()
    assert dossier.state == closed


def test_a_dossier_expires_only_past_its_deadline():
    running = DossierFactory(state="partially_validated", evaluated_on=TODAY() - datetime.timedelta(days=30))
    with pytest.raises(TransitionRefused, match="n'est pas écoulé"):
        transition(running, "expire", by=None)
    running.refresh_from_db()
    assert running.state == "partially_validated"

    assert expired_dossier().state == "expired"


def test_a_dossier_outside_the_window_states_never_expires():
    dossier = DossierFactory(state="ready_for_jury", evaluated_on=add_years(TODAY(), -6))
    assert dossier.deadline < TODAY()
    with pytest.raises(TransitionRefused):
        transition(dossier, "expire", by=None)


# -- Who may take a step -----------------------------------------------------------------------------------------


def _open(dossier, member):
    dossier_open(dossier=dossier, by=member, consent_text="J'accepte.")


def _withdraw(dossier, member):
    dossier_withdraw(dossier=dossier, by=member, reason="Motif")


def _start_evaluation(dossier, member):
    evaluation_start(dossier=dossier, by=member, started_on=TODAY())


def _expire(dossier, member):
    transition(dossier, "expire", by=member)


def _plan(dossier, member):
    training_plan_create(
        dossier=dossier,
        by=member,
        trainer=dossier.team.trainer,
        planned_hours=Decimal("10"),
        starts_on=TODAY(),
        ends_on=TODAY() + datetime.timedelta(days=10),
    )


@pytest.mark.parametrize(
    ("state", "action", "role"),
    [
        ("information", _open, Role.EVALUATOR),
        ("information", _open, Role.ORG_ADMIN),
        ("information", _open, Role.CERTIFPRO_ADMIN),
        ("opened", _start_evaluation, Role.COUNSELLOR),
        ("opened", _withdraw, Role.EVALUATOR),
        ("opened", _withdraw, Role.TRAINER),
        ("opened", _withdraw, Role.CERTIFPRO_ADMIN),
        ("partially_validated", _plan, Role.EVALUATOR),
        ("partially_validated", _expire, Role.COUNSELLOR),
    ],
    ids=lambda value: getattr(value, "__name__", str(value)),
)
def test_a_role_that_may_not_take_a_step_gets_permission_denied(state, action, role, make_member):
    dossier = DossierFactory(state=state)
    member = make_member(None if role == Role.CERTIFPRO_ADMIN else dossier.organisation, role=role)
    with pytest.raises(PermissionDenied):
        action(dossier, member)
    dossier.refresh_from_db()
    assert dossier.state == state


def test_the_evaluator_may_not_close_a_prior_evaluation_for_a_counsellor():
    dossier = DossierFactory(state="prior_evaluation")
    with pytest.raises(PermissionDenied):
        transition(
            dossier, "close_prior_evaluation", by=dossier.team.counsellor, all_validated=True, evaluated_on=TODAY()
        )


def test_only_a_counsellor_creates_a_dossier(org_a, make_member):
    with pytest.raises(PermissionDenied):
        dossier_create(membership=make_member(org_a, role=Role.EVALUATOR), candidate_data={}, certification="clea")


# -- Optimistic locking ------------------------------------------------------------------------------------------


def test_a_stale_dossier_is_refused_by_the_services():
    dossier = DossierFactory()
    stale = Dossier.objects.get(pk=dossier.pk)
    dossier_open(dossier=dossier, by=dossier.team.counsellor, consent_text="J'accepte.")
    with pytest.raises(DossierConflict, match="Dossier ouvert"):
        dossier_withdraw(dossier=stale, by=dossier.team.counsellor, reason="Motif")
    with pytest.raises(DossierConflict):
        dossier_open(dossier=stale, by=dossier.team.counsellor, consent_text="J'accepte.")
    dossier.refresh_from_db()
    assert dossier.state == "opened"
    assert dossier.events.filter(transition="open").count() == 1


def test_a_stale_evaluation_start_is_refused():
    dossier = DossierFactory(state="opened")
    stale = Dossier.objects.get(pk=dossier.pk)
    dossier_withdraw(dossier=dossier, by=dossier.team.counsellor, reason="Motif")
    with pytest.raises(DossierConflict):
        evaluation_start(dossier=stale, by=dossier.team.evaluator, started_on=TODAY())
    assert not Evaluation.objects.filter(dossier=dossier).exists()


def test_saving_a_stale_instance_raises_concurrent_transition():
    dossier = DossierFactory()
    stale = Dossier.objects.get(pk=dossier.pk)
    dossier_open(dossier=dossier, by=dossier.team.counsellor, consent_text="J'accepte.")
    stale.withdrawal_reason = "Écrase tout"
    with pytest.raises(ConcurrentTransition):
        with transaction.atomic():
            stale.save()
    dossier.refresh_from_db()
    assert dossier.state == "opened"
    assert dossier.withdrawal_reason == ""


# -- What each step records --------------------------------------------------------------------------------------


class Recorder:
    """Checks that one step appended exactly one timeline event and one audit row, and what they say."""

    def __init__(self, dossier: Dossier) -> None:
        self.dossier = dossier

    # The state machine's rows: a transition has its target state. Facts a step records besides (the assignment an
    # evaluation's start hands over, tests/scheduling) are timeline rows without one, with audit rows of their own.
    def _counts(self) -> tuple[int, int]:
        events = DossierEvent.objects.filter(dossier=self.dossier).exclude(to_state="").count()
        audits = AuditLog.objects.filter(object_id=str(self.dossier.pk), action__startswith="dossier.").count()
        return events, audits

    def step(self, action, *, name: str, by, source: str, target: str) -> None:
        before = self._counts()
        action()
        assert self._counts() == (before[0] + 1, before[1] + 1), name
        event = DossierEvent.objects.filter(dossier=self.dossier).exclude(to_state="").order_by("-id").first()
        actor = by.user if by is not None else None
        assert (event.transition, event.actor, event.from_state, event.to_state) == (name, actor, source, target)
        audit = (
            AuditLog.objects.filter(object_id=str(self.dossier.pk), action__startswith="dossier.")
            .order_by("-id")
            .first()
        )
        assert audit.action == f"dossier.{name}"
        assert audit.actor == actor
        assert audit.organisation_id == self.dossier.organisation_id
        assert audit.details == {"from": source, "to": target}


def test_every_step_of_the_journey_appends_one_event_and_one_audit_row():
    dossier = DossierFactory()
    team = dossier.team
    record = Recorder(dossier).step
    record(
        lambda: dossier_open(dossier=dossier, by=team.counsellor, consent_text="J'accepte."),
        name="open",
        by=team.counsellor,
        source="information",
        target="opened",
    )
    dossier.refresh_from_db()
    prior = {}
    record(
        lambda: prior.setdefault("e", evaluation_start(dossier=dossier, by=team.evaluator, started_on=TODAY())),
        name="start_prior_evaluation",
        by=team.evaluator,
        source="opened",
        target="prior_evaluation",
    )
    record(
        lambda: evaluate(prior["e"], team.evaluator, acquired=PRIOR_WITH_GAPS),
        name="close_prior_evaluation",
        by=team.evaluator,
        source="prior_evaluation",
        target="partially_validated",
    )
    dossier.refresh_from_db()
    record(
        lambda: plan_training(dossier),
        name="start_training",
        by=team.counsellor,
        source="partially_validated",
        target="in_training",
    )
    complete_training(dossier)
    dossier.refresh_from_db()
    final = {}
    record(
        lambda: final.setdefault("e", evaluation_start(dossier=dossier, by=team.final_evaluator, started_on=TODAY())),
        name="start_final_evaluation",
        by=team.final_evaluator,
        source="in_training",
        target="final_evaluation",
    )
    record(
        lambda: evaluate(final["e"], team.final_evaluator, acquired=set()),
        name="close_final_evaluation",
        by=team.final_evaluator,
        source="final_evaluation",
        target="in_training",
    )
    dossier.refresh_from_db()
    record(
        lambda: dossier_withdraw(dossier=dossier, by=team.counsellor, reason="Déménagement"),
        name="withdraw",
        by=team.counsellor,
        source="in_training",
        target="withdrawn",
    )


def test_expiry_appends_one_event_and_one_audit_row_without_an_actor():
    dossier = DossierFactory(state="partially_validated", evaluated_on=add_years(TODAY(), -6))
    Recorder(dossier).step(
        lambda: transition(dossier, "expire", by=None),
        name="expire",
        by=None,
        source="partially_validated",
        target="expired",
    )
