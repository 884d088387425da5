"""Assignments and appointments: each rule refuses, the history stays, the state machine moves only as declared."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from candidates.models import DossierEvent
from evaluations.services import evaluation_start
from organisations.models import AuditLog, Role
from scheduling.models import (
    Appointment,
    AppointmentModality,
    AppointmentPurpose,
    AppointmentState,
    Assignment,
    AssignmentPurpose,
)
from scheduling.services import (
    SchedulingError,
    appointment_book,
    appointment_cancel,
    appointment_mark,
    appointment_rebook,
    appointment_reschedule,
    assignment_set,
)
from scheduling.signals import appointment_booked, appointment_cancelled, appointment_changed, assignment_changed
from tests.factories import MembershipFactory, OrganisationFactory, SiteFactory
from tests.journey import DossierFactory
from tests.scheduling import book, next_weekday_at

pytestmark = pytest.mark.django_db


class Received:
    """Records the kwargs of a signal while connected."""

    def __init__(self, signal):
        self.signal, self.calls = signal, []

    def __call__(self, sender, **kwargs):
        self.calls.append(kwargs)

    def __enter__(self):
        self.signal.connect(self, weak=False)
        return self

    def __exit__(self, *exc):
        self.signal.disconnect(self)


# -- Assignments -----------------------------------------------------------------------------------------------------


def test_reassigning_ends_the_current_assignment_and_keeps_the_history():
    dossier = DossierFactory(state="opened")
    team = dossier.team
    with Received(assignment_changed) as received:
        first = assignment_set(
            dossier=dossier, purpose=AssignmentPurpose.PRIOR_EVALUATION, assignee=team.evaluator, by=team.counsellor
        )
        second = assignment_set(
            dossier=dossier,
            purpose=AssignmentPurpose.PRIOR_EVALUATION,
            assignee=team.final_evaluator,
            by=team.counsellor,
            reason="Congé",
        )
    first.refresh_from_db()
    assert first.ended_at is not None and first.end_reason == "Congé"
    assert second.is_current and second.assigned_by == team.counsellor.user
    assert list(Assignment.objects.filter(dossier=dossier).order_by("id")) == [first, second]
    assert [c["previous"] for c in received.calls] == [None, first]
    assert [c["by"] for c in received.calls] == [team.counsellor.user] * 2
    assert DossierEvent.objects.filter(dossier=dossier, transition="assignment").count() == 2
    assert AuditLog.objects.filter(action="assignment.set").count() == 2


def test_one_current_assignment_per_dossier_and_purpose_in_the_database():
    dossier = DossierFactory(state="opened")
    assignment_set(
        dossier=dossier,
        purpose=AssignmentPurpose.PRIOR_EVALUATION,
        assignee=dossier.team.evaluator,
        by=dossier.team.counsellor,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.create(
            organisation=dossier.organisation,
            dossier=dossier,
            purpose=AssignmentPurpose.PRIOR_EVALUATION,
            assignee=dossier.team.final_evaluator,
        )


def test_only_the_counsellor_or_the_administrator_of_the_organisation_assigns():
    dossier = DossierFactory(state="opened")
    admin = MembershipFactory(organisation=dossier.organisation, role=Role.ORG_ADMIN)
    assignment_set(
        dossier=dossier, purpose=AssignmentPurpose.PRIOR_EVALUATION, assignee=dossier.team.evaluator, by=admin
    )
    outsider = MembershipFactory(role=Role.COUNSELLOR)
    for by in (dossier.team.evaluator, outsider):
        with pytest.raises(PermissionDenied):
            assignment_set(
                dossier=dossier,
                purpose=AssignmentPurpose.PRIOR_EVALUATION,
                assignee=dossier.team.final_evaluator,
                by=by,
            )


@pytest.mark.parametrize(
    "who",
    ["counsellor", "inactive_evaluator", "evaluator_elsewhere"],
)
def test_an_evaluation_is_assigned_to_an_active_evaluator_of_the_organisation_only(who):
    dossier = DossierFactory(state="opened")
    assignee = {
        "counsellor": lambda: dossier.team.counsellor,
        "inactive_evaluator": lambda: MembershipFactory(
            organisation=dossier.organisation, role=Role.EVALUATOR, is_active=False
        ),
        "evaluator_elsewhere": lambda: MembershipFactory(role=Role.EVALUATOR),
    }[who]()
    with pytest.raises(ValidationError) as refused:
        assignment_set(
            dossier=dossier, purpose=AssignmentPurpose.PRIOR_EVALUATION, assignee=assignee, by=dossier.team.counsellor
        )
    assert "évaluateur actif de votre organisme" in str(refused.value.message_dict["assignee"])


def test_the_trainer_is_never_the_person_who_evaluated_the_dossier():
    dossier = DossierFactory(state="partially_validated")
    # The prior evaluator, also a trainer of the organisation.
    evaluator_as_trainer = MembershipFactory(
        organisation=dossier.organisation, role=Role.TRAINER, user=dossier.team.evaluator.user
    )
    with pytest.raises(ValidationError) as refused:
        assignment_set(
            dossier=dossier,
            purpose=AssignmentPurpose.TRAINING,
            assignee=evaluator_as_trainer,
            by=dossier.team.counsellor,
        )
    assert "a évalué le candidat" in str(refused.value.message_dict["assignee"])
    # The trainer of a training organisation is fine.
    assignment_set(
        dossier=dossier, purpose=AssignmentPurpose.TRAINING, assignee=dossier.team.trainer, by=dossier.team.counsellor
    )


def test_the_assigned_evaluator_cannot_be_the_trainer_either():
    dossier = DossierFactory(state="opened")
    team = dossier.team
    assignment_set(
        dossier=dossier, purpose=AssignmentPurpose.PRIOR_EVALUATION, assignee=team.evaluator, by=team.counsellor
    )
    same_person = MembershipFactory(organisation=dossier.organisation, role=Role.TRAINER, user=team.evaluator.user)
    with pytest.raises(ValidationError):
        assignment_set(dossier=dossier, purpose=AssignmentPurpose.TRAINING, assignee=same_person, by=team.counsellor)


def test_training_plan_refuses_the_assigned_evaluator_as_trainer_through_the_same_rule():
    from training.services import TrainingError, training_plan_create

    dossier = DossierFactory(state="partially_validated")
    team = dossier.team
    assignment_set(
        dossier=dossier, purpose=AssignmentPurpose.FINAL_EVALUATION, assignee=team.final_evaluator, by=team.counsellor
    )
    same_person = MembershipFactory(
        organisation=dossier.organisation, role=Role.TRAINER, user=team.final_evaluator.user
    )
    today = timezone.localdate()
    with pytest.raises(TrainingError, match="a évalué le candidat"):
        training_plan_create(
            dossier=dossier,
            by=team.counsellor,
            trainer=same_person,
            planned_hours=10,
            starts_on=today,
            ends_on=today + datetime.timedelta(days=30),
        )


def test_a_training_plan_records_its_trainer_as_the_assigned_trainer():
    dossier = DossierFactory(state="in_training")
    current = Assignment.objects.current().get(dossier=dossier, purpose=AssignmentPurpose.TRAINING)
    assert current.assignee == dossier.team.trainer


def test_starting_an_evaluation_records_or_hands_over_the_assignment():
    dossier = DossierFactory(state="opened")
    team = dossier.team
    assignment_set(
        dossier=dossier, purpose=AssignmentPurpose.PRIOR_EVALUATION, assignee=team.final_evaluator, by=team.counsellor
    )
    evaluation_start(dossier=dossier, by=team.evaluator, started_on=timezone.localdate())
    history = list(
        Assignment.objects.filter(dossier=dossier, purpose=AssignmentPurpose.PRIOR_EVALUATION).order_by("id")
    )
    assert [a.assignee for a in history] == [team.final_evaluator, team.evaluator]
    assert history[0].end_reason == "Évaluation commencée par une autre personne"
    assert history[1].is_current


def test_an_evaluation_started_without_assignment_records_one():
    dossier = DossierFactory(state="prior_evaluation")
    current = Assignment.objects.current().get(dossier=dossier, purpose=AssignmentPurpose.PRIOR_EVALUATION)
    assert current.assignee == dossier.team.evaluator


def test_assigning_the_same_person_again_is_refused():
    dossier = DossierFactory(state="opened")
    team = dossier.team
    assignment_set(
        dossier=dossier, purpose=AssignmentPurpose.PRIOR_EVALUATION, assignee=team.evaluator, by=team.counsellor
    )
    with pytest.raises(SchedulingError, match="déjà confiée"):
        assignment_set(
            dossier=dossier, purpose=AssignmentPurpose.PRIOR_EVALUATION, assignee=team.evaluator, by=team.counsellor
        )


# -- Booking ---------------------------------------------------------------------------------------------------------


def test_booking_writes_the_appointment_its_timeline_its_audit_and_its_signal():
    dossier = DossierFactory(state="opened")
    with Received(appointment_booked) as received:
        appointment = book(dossier)
    assert appointment.state == AppointmentState.PLANNED
    assert appointment.ends_at == appointment.starts_at + datetime.timedelta(minutes=120)
    assert received.calls == [
        {"signal": appointment_booked, "appointment": appointment, "by": dossier.team.counsellor.user}
    ]
    assert DossierEvent.objects.filter(dossier=dossier, transition="appointment_book").exists()
    assert AuditLog.objects.filter(action="appointment.book", object_id=str(appointment.pk)).exists()


def test_booking_in_the_past_is_refused():
    dossier = DossierFactory(state="opened")
    with pytest.raises(ValidationError) as refused:
        book(dossier, starts_at=timezone.now() - datetime.timedelta(minutes=5))
    assert "dans le passé" in refused.value.message_dict["starts_at"][0]


@pytest.mark.parametrize("minutes", [14, 481])
def test_duration_outside_15_to_480_minutes_is_refused(minutes):
    dossier = DossierFactory(state="opened")
    with pytest.raises(ValidationError) as refused:
        book(dossier, duration_minutes=minutes)
    assert refused.value.message_dict["duration_minutes"] == ["La durée doit être comprise entre 15 et 480 minutes."]


def test_an_evaluation_appointment_needs_an_evaluator_of_the_organisation():
    dossier = DossierFactory(state="opened")
    for person in (dossier.team.counsellor, MembershipFactory(role=Role.EVALUATOR)):
        with pytest.raises(ValidationError) as refused:
            book(dossier, with_membership=person)
        assert "with_membership" in refused.value.message_dict


def test_an_on_site_appointment_needs_a_site_of_the_organisation_and_a_remote_one_its_details():
    dossier = DossierFactory(state="opened")
    with pytest.raises(ValidationError) as refused:
        book(dossier, site=SiteFactory())
    assert refused.value.message_dict["site"] == ["Ce site n'est pas un site actif de l'organisme."]
    with pytest.raises(ValidationError) as refused:
        appointment_book(
            dossier=dossier,
            purpose=AppointmentPurpose.INFORMATION,
            with_membership=dossier.team.counsellor,
            starts_at=next_weekday_at(10),
            duration_minutes=60,
            modality=AppointmentModality.REMOTE,
            remote_details=" ",
            by=dossier.team.counsellor,
        )
    assert "remote_details" in refused.value.message_dict


def test_a_training_session_with_the_person_who_evaluated_is_refused():
    dossier = DossierFactory(state="in_training")
    same_person = MembershipFactory(
        organisation=dossier.organisation, role=Role.TRAINER, user=dossier.team.evaluator.user
    )
    with pytest.raises(ValidationError) as refused:
        book(dossier, purpose=AppointmentPurpose.TRAINING_SESSION, with_membership=same_person)
    assert "a évalué le candidat" in refused.value.message_dict["with_membership"][0]


def test_an_overlap_in_the_same_persons_agenda_is_refused_naming_the_clash():
    first = DossierFactory(state="opened")
    book(first, starts_at=next_weekday_at(9), duration_minutes=120)
    second = DossierFactory(organisation=first.organisation, state="opened")
    with pytest.raises(ValidationError) as refused:
        book(second, starts_at=next_weekday_at(10), duration_minutes=30)
    message = refused.value.message_dict["starts_at"][0]
    assert first.team.evaluator.user.get_full_name() in message
    assert "évaluation préalable" in message and "09:00" in message and "11:00" in message
    # Back to back is fine; so is the same slot with someone else.
    book(second, starts_at=next_weekday_at(11), duration_minutes=30)
    book(second, starts_at=next_weekday_at(9), with_membership=first.team.final_evaluator)


def test_a_cancelled_appointment_frees_the_slot():
    dossier = DossierFactory(state="opened")
    appointment = book(dossier)
    appointment_cancel(appointment=appointment, by=dossier.team.counsellor, reason="Candidat malade")
    book(dossier)


def test_a_trainer_books_the_sessions_of_the_dossiers_they_train_only():
    dossier = DossierFactory(state="in_training")
    trainer = dossier.team.trainer
    appointment = book(
        dossier, by=trainer, purpose=AppointmentPurpose.TRAINING_SESSION, with_membership=trainer, remote=True
    )
    assert appointment.with_membership == trainer
    with pytest.raises(PermissionDenied):
        book(dossier, by=trainer, purpose=AppointmentPurpose.PRIOR_EVALUATION, remote=True)
    other_trainer = MembershipFactory(organisation=trainer.organisation, role=Role.TRAINER)
    with pytest.raises(PermissionDenied):
        book(
            dossier,
            by=other_trainer,
            purpose=AppointmentPurpose.TRAINING_SESSION,
            with_membership=other_trainer,
            remote=True,
        )


def test_nothing_is_booked_for_a_closed_dossier():
    dossier = DossierFactory(state="withdrawn")
    with pytest.raises(SchedulingError):
        book(dossier)


# -- Lifecycle -------------------------------------------------------------------------------------------------------


def _started(appointment: Appointment) -> datetime.datetime:
    return appointment.starts_at + datetime.timedelta(minutes=5)


def test_done_and_missed_only_once_the_appointment_has_started():
    dossier = DossierFactory(state="opened")
    appointment = book(dossier)
    with pytest.raises(SchedulingError, match="ne peut pas encore"):
        appointment_mark(appointment=appointment, by=dossier.team.evaluator, done=True)
    with Received(appointment_changed) as received:
        appointment_mark(appointment=appointment, by=dossier.team.evaluator, done=True, now=_started(appointment))
    appointment.refresh_from_db()
    assert appointment.state == AppointmentState.DONE and appointment.sequence == 1
    assert received.calls[0]["change"] == "done" and received.calls[0]["previous"] == {}
    assert DossierEvent.objects.filter(dossier=dossier, transition="appointment_mark_done").exists()
    assert AuditLog.objects.filter(action="appointment.mark_done").exists()


def test_a_done_appointment_cannot_be_cancelled_nor_marked_again():
    dossier = DossierFactory(state="opened")
    appointment = book(dossier)
    appointment_mark(appointment=appointment, by=dossier.team.counsellor, done=False, now=_started(appointment))
    appointment.refresh_from_db()
    with pytest.raises(SchedulingError, match="manqué"):
        appointment_cancel(appointment=appointment, by=dossier.team.counsellor, reason="x")
    with pytest.raises(SchedulingError):
        appointment_mark(appointment=appointment, by=dossier.team.counsellor, done=True, now=_started(appointment))


def test_only_the_person_met_or_the_organisers_record_the_outcome():
    dossier = DossierFactory(state="opened")
    appointment = book(dossier)
    with pytest.raises(PermissionDenied):
        appointment_mark(appointment=appointment, by=dossier.team.final_evaluator, done=True, now=_started(appointment))


def test_cancelling_needs_a_reason_and_sends_it():
    dossier = DossierFactory(state="opened")
    appointment = book(dossier)
    with pytest.raises(ValidationError):
        appointment_cancel(appointment=appointment, by=dossier.team.counsellor, reason="  ")
    with pytest.raises(PermissionDenied):
        appointment_cancel(appointment=appointment, by=dossier.team.evaluator, reason="Empêchement")
    with Received(appointment_cancelled) as received:
        appointment_cancel(appointment=appointment, by=dossier.team.counsellor, reason="Empêchement")
    appointment.refresh_from_db()
    assert appointment.state == AppointmentState.CANCELLED and appointment.cancel_reason == "Empêchement"
    assert received.calls[0]["reason"] == "Empêchement"
    event = DossierEvent.objects.get(dossier=dossier, transition="appointment_cancel")
    assert "Empêchement" in event.note


def test_a_missed_appointment_is_rebooked_once_linked_to_it():
    dossier = DossierFactory(state="opened")
    missed = book(dossier)
    with pytest.raises(SchedulingError):
        appointment_rebook(appointment=missed, by=dossier.team.counsellor, starts_at=next_weekday_at(14, days=2))
    appointment_mark(appointment=missed, by=dossier.team.counsellor, done=False, now=_started(missed))
    new = appointment_rebook(appointment=missed, by=dossier.team.counsellor, starts_at=next_weekday_at(14, days=2))
    assert new.rebooked_from == missed and new.state == AppointmentState.PLANNED
    assert (new.site, new.with_membership, new.duration_minutes) == (missed.site, missed.with_membership, 120)
    with pytest.raises(SchedulingError, match="pas encore remplacé"):
        appointment_rebook(appointment=missed, by=dossier.team.counsellor, starts_at=next_weekday_at(16, days=3))


def test_rescheduling_moves_a_planned_appointment_and_bumps_its_sequence():
    dossier = DossierFactory(state="opened")
    appointment = book(dossier)
    before = appointment.starts_at
    with Received(appointment_changed) as received:
        moved = appointment_reschedule(
            appointment=appointment,
            by=dossier.team.counsellor,
            starts_at=next_weekday_at(9, days=2),
            duration_minutes=60,
            modality=AppointmentModality.REMOTE,
            remote_details="Téléphone : 03 20 00 00 00",
        )
    assert moved.sequence == 1 and moved.site is None
    assert received.calls[0]["change"] == "rescheduled" and received.calls[0]["previous"]["starts_at"] == before


def test_the_state_field_is_protected():
    dossier = DossierFactory(state="opened")
    appointment = book(dossier)
    with pytest.raises(AttributeError):
        appointment.state = AppointmentState.DONE


def test_appointments_of_another_organisation_are_not_visible():
    dossier = DossierFactory(state="opened")
    appointment = book(dossier)
    outsider = MembershipFactory(organisation=OrganisationFactory(), role=Role.COUNSELLOR)
    assert not Appointment.objects.visible_to(outsider).filter(pk=appointment.pk).exists()
    assert Appointment.objects.visible_to(dossier.team.counsellor).filter(pk=appointment.pk).exists()


def test_a_trainer_sees_the_appointments_they_hold_and_nothing_else():
    dossier = DossierFactory(state="in_training")
    trainer = dossier.team.trainer
    session = book(
        dossier, by=trainer, purpose=AppointmentPurpose.TRAINING_SESSION, with_membership=trainer, remote=True
    )
    book(dossier, remote=True)  # an evaluation appointment of the same dossier
    colleague = MembershipFactory(organisation=trainer.organisation, role=Role.TRAINER)
    assert list(Appointment.objects.visible_to(trainer)) == [session]
    assert not Appointment.objects.visible_to(colleague).exists()
    assert list(Assignment.objects.visible_to(trainer)) == list(
        Assignment.objects.filter(dossier=dossier, purpose=AssignmentPurpose.TRAINING)
    )
