import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.utils import timezone

from candidates.models import DossierState
from evaluations.models import EvaluationKind, EvaluationStatus
from organisations.models import AuditLog, Role
from tests.factories import MembershipFactory
from tests.journey import DossierFactory, evaluate
from training.models import TrainingPlan, TrainingSession
from training.services import (
    TrainingError,
    training_note_add,
    training_plan_complete,
    training_plan_create,
    training_session_add,
    training_session_mark_done,
    training_session_remove,
)

pytestmark = pytest.mark.django_db

# After the default prior evaluation (tests.journey.PRIOR_WITH_GAPS) only sub-domain 2.1 is not validated.
GAPS = ["2.1.3", "2.1.4"]


def _create(dossier, trainer=None, **overrides):
    today = timezone.localdate()
    arguments = {
        "dossier": dossier,
        "by": dossier.team.counsellor,
        "trainer": trainer or dossier.team.trainer,
        "planned_hours": Decimal("24"),
        "starts_on": today,
        "ends_on": today + datetime.timedelta(days=90),
    }
    return training_plan_create(**{**arguments, **overrides})


def _plan_of(dossier, cycle=1):
    return TrainingPlan.objects.get(dossier=dossier, cycle=cycle)


def _session(plan, by, done=False):
    return training_session_add(
        plan=plan, by=by, date=timezone.localdate(), duration_hours=Decimal("3"), topic="Pourcentages", done=done
    )


def test_a_trainer_who_evaluated_the_dossier_cannot_be_named():
    dossier = DossierFactory(state="partially_validated")
    # Same person, trainer too in the evaluator organisation (CléA allows trainers there, never the same person).
    evaluator_as_trainer = MembershipFactory(
        user=dossier.team.evaluator.user, organisation=dossier.organisation, role=Role.TRAINER
    )

    with pytest.raises(TrainingError, match="a évalué le candidat"):
        _create(dossier, trainer=evaluator_as_trainer)

    dossier.refresh_from_db()
    assert dossier.state == DossierState.PARTIALLY_VALIDATED
    assert not dossier.training_plans.exists()


def test_another_trainer_of_the_evaluator_organisation_may_be_named():
    dossier = DossierFactory(state="partially_validated")
    colleague = MembershipFactory(organisation=dossier.organisation, role=Role.TRAINER)

    plan = _create(dossier, trainer=colleague)

    assert plan.organisation == dossier.organisation
    assert plan.trainer == colleague.user


def test_the_plans_objectives_and_target_criteria_are_the_gaps():
    dossier = DossierFactory(state="partially_validated")

    plan = _create(dossier)

    assert sorted(plan.target_criteria.values_list("code", flat=True)) == GAPS
    assert plan.objectives == "2.1.3 – Critère 2.1.3\n2.1.4 – Critère 2.1.4"
    assert plan.cycle == 1
    assert plan.organisation == dossier.team.trainer.organisation
    dossier.refresh_from_db()
    assert dossier.state == DossierState.IN_TRAINING


def test_objectives_written_by_the_counsellor_are_kept_and_the_targets_stay_the_gaps():
    dossier = DossierFactory(state="partially_validated")

    plan = _create(dossier, objectives="  Calculer une proportion dans une recette.  ")

    assert plan.objectives == "Calculer une proportion dans une recette."
    assert sorted(plan.target_criteria.values_list("code", flat=True)) == GAPS


def test_an_end_after_the_five_year_deadline_is_refused():
    dossier = DossierFactory(state="partially_validated")
    deadline = dossier.deadline

    with pytest.raises(ValidationError) as refused:
        _create(dossier, ends_on=deadline + datetime.timedelta(days=1))

    assert f"{deadline:%d/%m/%Y}" in refused.value.message_dict["ends_on"][0]
    assert _create(dossier, ends_on=deadline).ends_on == deadline


def test_a_plan_cannot_start_before_the_prior_evaluation_that_found_the_gaps():
    evaluated_on = timezone.localdate() - datetime.timedelta(days=10)
    dossier = DossierFactory(state="partially_validated", evaluated_on=evaluated_on)

    with pytest.raises(ValidationError) as refused:
        _create(dossier, starts_on=evaluated_on - datetime.timedelta(days=1))

    assert list(refused.value.message_dict) == ["starts_on"]
    assert f"au plus tôt le {evaluated_on:%d/%m/%Y}" in refused.value.messages[0]
    dossier.refresh_from_db()
    assert dossier.state == DossierState.PARTIALLY_VALIDATED
    assert _create(dossier, starts_on=evaluated_on).starts_on == evaluated_on


def test_a_counsellor_of_another_organisation_cannot_define_the_plan(org_a, make_member):
    dossier = DossierFactory(state="partially_validated")

    with pytest.raises(PermissionDenied):
        _create(dossier, by=make_member(org_a, role=Role.COUNSELLOR))

    assert not dossier.training_plans.exists()


def test_completion_requires_a_done_session():
    dossier = DossierFactory(state="in_training")
    plan, trainer = _plan_of(dossier), dossier.team.trainer
    session = _session(plan, trainer)

    with pytest.raises(TrainingError, match="au moins une séance réalisée"):
        training_plan_complete(plan=plan, by=trainer)

    training_session_mark_done(session=session, by=trainer)
    plan = training_plan_complete(plan=plan, by=trainer, shortfall_reason="Objectifs atteints.")
    assert plan.completed_at is not None
    assert dossier.events.filter(note__startswith="Formation terminée").exists()


@pytest.mark.parametrize("who", ["another_trainer", "counsellor"])
def test_only_the_plans_trainer_may_add_sessions_notes_or_complete(who):
    dossier = DossierFactory(state="in_training")
    plan = _plan_of(dossier)
    session = _session(plan, dossier.team.trainer, done=True)
    if who == "another_trainer":
        # A colleague in the same training organisation: still not the plan's trainer.
        by = MembershipFactory(organisation=plan.organisation, role=Role.TRAINER)
    else:
        by = dossier.team.counsellor

    with pytest.raises(PermissionDenied):
        _session(plan, by)
    with pytest.raises(PermissionDenied):
        training_session_mark_done(session=session, by=by)
    with pytest.raises(PermissionDenied):
        training_note_add(plan=plan, by=by, text="Progrès notables.")
    with pytest.raises(PermissionDenied):
        training_plan_complete(plan=plan, by=by)

    plan.refresh_from_db()
    assert plan.sessions.count() == 1
    assert not plan.notes.exists()
    assert plan.completed_at is None


def test_the_plans_trainer_under_another_membership_may_not_act():
    dossier = DossierFactory(state="in_training")
    plan = _plan_of(dossier)
    # The same person, working for another organisation at the moment: the plan belongs to the training tenant.
    elsewhere = MembershipFactory(user=dossier.team.trainer.user, role=Role.TRAINER)

    with pytest.raises(PermissionDenied):
        training_note_add(plan=plan, by=elsewhere, text="Note")


def test_an_empty_note_is_refused():
    dossier = DossierFactory(state="in_training")

    with pytest.raises(TrainingError, match="vide"):
        training_note_add(plan=_plan_of(dossier), by=dossier.team.trainer, text="   ")


def test_a_completed_plan_refuses_new_sessions_and_notes():
    dossier = DossierFactory(state="final_evaluation")
    plan, trainer = _plan_of(dossier), dossier.team.trainer
    assert plan.is_completed

    with pytest.raises(TrainingError, match="terminé"):
        _session(plan, trainer)
    with pytest.raises(TrainingError, match="terminé"):
        training_note_add(plan=plan, by=trainer, text="Encore une séance ?")
    assert plan.sessions.count() == 1


def test_a_final_evaluation_with_gaps_opens_the_next_cycle_with_the_same_trainer():
    dossier = DossierFactory(state="final_evaluation")
    evaluation = dossier.evaluations.get(kind=EvaluationKind.FINAL, status=EvaluationStatus.DRAFT)

    evaluate(evaluation, by=dossier.team.final_evaluator, acquired=set())

    dossier.refresh_from_db()
    assert dossier.state == DossierState.IN_TRAINING
    first, second = _plan_of(dossier, cycle=1), _plan_of(dossier, cycle=2)
    assert second.trainer_id == first.trainer_id
    assert second.organisation_id == first.organisation_id
    assert second.completed_at is None
    assert sorted(second.target_criteria.values_list("code", flat=True)) == GAPS
    assert second.ends_on <= dossier.deadline


def test_a_final_evaluation_that_validates_every_domain_opens_no_new_cycle():
    dossier = DossierFactory(state="final_evaluation")
    evaluation = dossier.evaluations.get(kind=EvaluationKind.FINAL, status=EvaluationStatus.DRAFT)

    # 2.1.3 acquired: 3 of 4 reach the 75 % of sub-domain 2.1, which is then validated: nothing left.
    evaluate(evaluation, by=dossier.team.final_evaluator, acquired={"2.1.3"})

    dossier.refresh_from_db()
    assert dossier.state == DossierState.READY_FOR_JURY
    assert not dossier.training_plans.filter(cycle=2).exists()


@pytest.mark.django_db
def test_the_plan_of_a_withdrawn_dossier_cannot_be_completed():
    from candidates.services import dossier_withdraw

    dossier = DossierFactory(state="in_training")
    plan = TrainingPlan.objects.get(dossier=dossier)
    training_session_add(
        plan=plan,
        by=dossier.team.trainer,
        date=timezone.localdate(),
        duration_hours=Decimal("2"),
        topic="Calcul",
        done=True,
    )
    dossier_withdraw(dossier=dossier, by=dossier.team.counsellor, reason="Déménagement")
    with pytest.raises(TrainingError, match="plus en formation"):
        training_plan_complete(plan=plan, by=dossier.team.trainer)


# -- Dates and hours (issue 14) ---------------------------------------------------------------------------------


def _days(n):
    return timezone.localdate() + datetime.timedelta(days=n)


def _add(plan, by, date, hours="3", done=False):
    return training_session_add(
        plan=plan, by=by, date=date, duration_hours=Decimal(hours), topic="Proportionnalité", done=done
    )


@pytest.mark.parametrize("offset", ["before_start", "after_end"])
def test_a_session_cannot_be_dated_outside_its_plan(offset):
    dossier = DossierFactory(state="in_training")
    plan, trainer = _plan_of(dossier), dossier.team.trainer
    date = (
        plan.starts_on - datetime.timedelta(days=1)
        if offset == "before_start"
        else plan.ends_on + datetime.timedelta(days=1)
    )

    with pytest.raises(ValidationError) as refused:
        _add(plan, trainer, date)

    assert list(refused.value.message_dict) == ["date"]
    assert f"du {plan.starts_on:%d/%m/%Y} au {plan.ends_on:%d/%m/%Y}" in refused.value.message_dict["date"][0]
    assert not plan.sessions.exists()
    # The plan's own bounds are within it.
    _add(plan, trainer, plan.starts_on)
    _add(plan, trainer, plan.ends_on)


def test_a_session_cannot_be_added_done_before_its_day():
    dossier = DossierFactory(state="in_training")
    plan, trainer = _plan_of(dossier), dossier.team.trainer

    with pytest.raises(ValidationError) as refused:
        _add(plan, trainer, _days(1), done=True)

    assert list(refused.value.message_dict) == ["done"]
    assert "n'a pas encore eu lieu" in refused.value.message_dict["done"][0]
    assert not plan.sessions.exists()


def test_a_session_cannot_be_marked_done_before_its_day():
    dossier = DossierFactory(state="in_training")
    plan, trainer = _plan_of(dossier), dossier.team.trainer
    session = _add(plan, trainer, _days(2))

    with pytest.raises(ValidationError) as refused:
        training_session_mark_done(session=session, by=trainer)

    assert list(refused.value.message_dict) == ["done"]
    session.refresh_from_db()
    assert session.done is False


def test_the_day_of_a_session_is_the_day_in_paris(monkeypatch):
    dossier = DossierFactory(state="in_training")
    plan, trainer = _plan_of(dossier), dossier.team.trainer
    TrainingPlan.objects.filter(pk=plan.pk).update(
        starts_on=datetime.date(2025, 6, 1), ends_on=datetime.date(2025, 6, 30)
    )
    plan.refresh_from_db()
    session = TrainingSession.objects.create(
        plan=plan, date=datetime.date(2025, 6, 2), duration_hours=Decimal("3"), topic="Calcul"
    )

    # 23:30 in Paris on 1 June (21:30 UTC): the session of 2 June has not taken place yet.
    monkeypatch.setattr(timezone, "now", lambda: datetime.datetime(2025, 6, 1, 21, 30, tzinfo=datetime.UTC))
    with pytest.raises(ValidationError):
        training_session_mark_done(session=session, by=trainer)

    # 00:30 in Paris on 2 June, still 1 June in UTC: its day has come.
    monkeypatch.setattr(timezone, "now", lambda: datetime.datetime(2025, 6, 1, 22, 30, tzinfo=datetime.UTC))
    training_session_mark_done(session=session, by=trainer)
    session.refresh_from_db()
    assert session.done


def test_a_plan_with_a_session_still_planned_after_today_cannot_be_completed_until_it_is_removed():
    dossier = DossierFactory(state="in_training")
    plan, trainer = _plan_of(dossier), dossier.team.trainer
    for _ in range(3):
        _add(plan, trainer, timezone.localdate(), hours="12", done=True)
    later = _add(plan, trainer, _days(7))

    with pytest.raises(ValidationError) as refused:
        training_plan_complete(plan=plan, by=trainer)

    assert list(refused.value.message_dict) == [NON_FIELD_ERRORS]
    assert f"encore prévue le {_days(7):%d/%m/%Y}" in refused.value.messages[0]
    plan.refresh_from_db()
    assert plan.completed_at is None

    training_session_remove(session=later, by=trainer)
    assert training_plan_complete(plan=plan, by=trainer).completed_at is not None


def test_a_session_planned_in_the_past_and_not_done_does_not_hold_the_completion():
    dossier = DossierFactory(state="in_training")
    plan, trainer = _plan_of(dossier), dossier.team.trainer
    TrainingPlan.objects.filter(pk=plan.pk).update(starts_on=_days(-10))
    plan.refresh_from_db()
    _add(plan, trainer, _days(-3))  # did not take place
    _add(plan, trainer, timezone.localdate(), hours="12", done=True)

    assert training_plan_complete(plan=plan, by=trainer, shortfall_reason="Absences").completed_at is not None


def test_a_plan_cannot_be_completed_before_its_last_done_session():
    dossier = DossierFactory(state="in_training")
    plan, trainer = _plan_of(dossier), dossier.team.trainer
    _add(plan, trainer, timezone.localdate(), hours="12", done=True)
    # Recorded done ahead of its day before the rule existed.
    TrainingSession.objects.create(plan=plan, date=_days(3), duration_hours=Decimal("12"), topic="Bilan", done=True)

    with pytest.raises(ValidationError) as refused:
        training_plan_complete(plan=plan, by=trainer, shortfall_reason="Autonome")

    assert f"datée du {_days(3):%d/%m/%Y}" in refused.value.messages[0]
    plan.refresh_from_db()
    assert plan.completed_at is None


def test_completing_under_the_planned_hours_asks_for_a_reason_that_the_timeline_shows():
    dossier = DossierFactory(state="in_training")
    plan, trainer = _plan_of(dossier), dossier.team.trainer
    _add(plan, trainer, timezone.localdate(), hours="7.5", done=True)

    with pytest.raises(ValidationError) as refused:
        training_plan_complete(plan=plan, by=trainer, shortfall_reason="   ")

    assert refused.value.message_dict == {
        "shortfall_reason": [
            "7,5 h réalisées sur 35 h prévues : indiquez pourquoi la formation se termine avant les heures prévues."
        ]
    }
    plan = training_plan_complete(plan=plan, by=trainer, shortfall_reason=" Le candidat a repris un emploi. ")

    plan.refresh_from_db()
    assert plan.shortfall_reason == "Le candidat a repris un emploi."
    event = dossier.events.get(note__startswith="Formation terminée")
    assert "7,5 h réalisées sur 35 h prévues. Motif : Le candidat a repris un emploi." in event.note
    # The audit row says hours were missing; the reason, written about the person, stays on the plan and the
    # timeline, where the anonymisation reaches it, and out of the unalterable log.
    row = AuditLog.objects.get(action="training_plan.complete")
    assert row.details == {"hours_done": "7.5", "shortfall": True}


def test_completing_with_the_planned_hours_done_needs_no_reason_and_keeps_none():
    dossier = DossierFactory(state="in_training")
    plan, trainer = _plan_of(dossier), dossier.team.trainer
    for _ in range(3):
        _add(plan, trainer, timezone.localdate(), hours="12", done=True)

    plan = training_plan_complete(plan=plan, by=trainer, shortfall_reason="Sans objet")

    assert plan.completed_at is not None and plan.shortfall_reason == ""
    assert dossier.events.get(note__startswith="Formation terminée").note == "Formation terminée (parcours 1)"


def test_only_the_sessions_done_count_and_the_planned_hours_done_exactly_are_no_shortfall():
    dossier = DossierFactory(state="in_training")
    plan, trainer = _plan_of(dossier), dossier.team.trainer
    assert plan.planned_hours == 35
    for hours in ("12", "12", "10.5"):
        _add(plan, trainer, timezone.localdate(), hours=hours, done=True)
    _add(plan, trainer, plan.ends_on, hours="4")

    assert plan.sessions_done_hours() == Decimal("34.5")
    assert plan.has_shortfall(plan.sessions_done_hours())
    _add(plan, trainer, timezone.localdate(), hours="0.5", done=True)
    assert not plan.has_shortfall(TrainingPlan.objects.get(pk=plan.pk).sessions_done_hours())


def test_a_done_session_cannot_be_removed():
    dossier = DossierFactory(state="in_training")
    plan, trainer = _plan_of(dossier), dossier.team.trainer
    session = _add(plan, trainer, timezone.localdate(), done=True)

    with pytest.raises(TrainingError, match="reste au calendrier"):
        training_session_remove(session=session, by=trainer)
    with pytest.raises(PermissionDenied):
        training_session_remove(session=session, by=dossier.team.counsellor)
    assert plan.sessions.count() == 1


def test_removing_a_session_leaves_an_event_on_the_timeline_and_an_audit_row():
    dossier = DossierFactory(state="in_training")
    plan, trainer = _plan_of(dossier), dossier.team.trainer
    later = _add(plan, trainer, _days(7), hours="2.5")

    training_session_remove(session=later, by=trainer)

    assert not plan.sessions.exists()
    event = dossier.events.get(note__startswith="Séance du")
    assert event.actor == trainer.user
    assert event.note == f"Séance du {_days(7):%d/%m/%Y} (2,5 h) retirée du calendrier de formation (parcours 1)"
    audit = AuditLog.objects.get(action="training_session.remove")
    assert (audit.actor, audit.organisation_id, audit.object_id) == (trainer.user, plan.organisation_id, str(plan.pk))
    assert audit.details == {"date": _days(7).isoformat(), "duration_hours": "2.5"}


def test_a_refused_removal_leaves_no_event_and_no_audit_row():
    dossier = DossierFactory(state="in_training")
    plan, trainer = _plan_of(dossier), dossier.team.trainer
    session = _add(plan, trainer, timezone.localdate(), done=True)

    with pytest.raises(TrainingError):
        training_session_remove(session=session, by=trainer)

    assert not dossier.events.filter(note__startswith="Séance du").exists()
    assert not AuditLog.objects.filter(action="training_session.remove").exists()


def test_adding_a_session_marking_it_done_and_writing_a_note_each_leave_an_audit_row():
    dossier = DossierFactory(state="in_training")
    plan, trainer = _plan_of(dossier), dossier.team.trainer
    before = set(AuditLog.objects.values_list("pk", flat=True))

    session = _add(plan, trainer, timezone.localdate(), hours="2.5")
    training_session_mark_done(session=session, by=trainer)
    training_session_mark_done(session=session, by=trainer)  # again: nothing changes, nothing recorded
    note = training_note_add(plan=plan, by=trainer, text="Mme Durand progresse sur les fractions.")

    rows = list(AuditLog.objects.exclude(pk__in=before).order_by("id"))
    assert [row.action for row in rows] == ["training_session.add", "training_session.done", "progress_note.add"]
    for row in rows:
        assert (row.actor, row.organisation_id, row.object_id) == (trainer.user, plan.organisation_id, str(plan.pk))
    session_details = {"session": session.pk, "date": timezone.localdate().isoformat(), "duration_hours": "2.5"}
    assert rows[0].details == {**session_details, "done": False}
    assert rows[1].details == {**session_details, "done": True}
    # The note by its id: what the trainer wrote about the person never enters the unalterable log.
    assert rows[2].details == {"note": note.pk}
    assert "Durand" not in str([(row.object_repr, row.details) for row in rows])


def test_a_refused_session_or_note_leaves_no_audit_row():
    dossier = DossierFactory(state="in_training")
    plan, trainer = _plan_of(dossier), dossier.team.trainer
    before = AuditLog.objects.count()

    with pytest.raises(ValidationError):
        _add(plan, trainer, _days(1), done=True)
    with pytest.raises(PermissionDenied):
        _add(plan, dossier.team.counsellor, timezone.localdate())
    with pytest.raises(TrainingError):
        training_note_add(plan=plan, by=trainer, text="  ")
    future = _add(plan, trainer, _days(3))
    with pytest.raises(ValidationError):
        training_session_mark_done(session=future, by=trainer)

    assert list(AuditLog.objects.order_by("id").values_list("action", flat=True)[before:]) == ["training_session.add"]
