"""The proposed meeting is a scheduling appointment without a dossier: in the named counsellor's agenda, in the clash
checks, reminded the day before (the person by the request's address), cancelled when the person asks for another
time, attached to the dossier opened from the request, and emptied of the person's data with the request."""

from __future__ import annotations

import datetime

import icalendar
import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from candidates.models import DossierEvent
from intake.ics import proposal_ics
from intake.models import InterviewRequest, InterviewRequestState
from intake.services import (
    interview_request_answer,
    interview_request_convert,
    interview_request_expire,
    interview_request_propose,
)
from notifications.models import Notification
from notifications.services import appointment_reminders_send
from organisations.models import Membership, Role
from outbox.models import SideEffect, SideEffectState
from outbox.services import side_effect_run
from privacy.services import retention_apply
from scheduling.ics import appointment_uid
from scheduling.models import Appointment, AppointmentModality, AppointmentPurpose, AppointmentState
from scheduling.services import appointment_book, appointment_cancel
from tests.factories import MembershipFactory
from tests.intake.support import counsellor_of, make_request
from tests.journey import DossierFactory
from tests.scheduling import next_weekday_at

pytestmark = pytest.mark.django_db

PERSON = "lea.martin@exemple.fr"


def propose(request: InterviewRequest, with_membership: Membership, starts_at: datetime.datetime) -> str:
    _, token = interview_request_propose(
        interview_request=request,
        by=with_membership,
        starts_at=starts_at,
        duration_minutes=60,
        with_membership=with_membership,
        place="Salle 2, 1 rue de la République, Lille",
    )
    return token


def test_the_proposal_is_an_appointment_in_the_named_counsellors_agenda_linking_to_the_request(org_a, client_for):
    request = make_request(org_a)
    named = counsellor_of(org_a)
    other = MembershipFactory(organisation=org_a, role=Role.COUNSELLOR)
    starts = next_weekday_at(10, days=3)
    propose(request, named, starts)
    request.refresh_from_db()
    appointment = request.appointment
    assert appointment.dossier is None and appointment.purpose == AppointmentPurpose.INFORMATION
    assert (appointment.person_name, appointment.person_email) == ("Léa Martin", PERSON)
    assert appointment.organisation_id == org_a.pk and appointment.site_id == request.site_id
    assert appointment.with_membership == named and appointment.state == AppointmentState.PLANNED
    day = {"view": "day", "date": starts.date().isoformat()}
    page = client_for(named).get(reverse("scheduling:agenda"), day).content.decode()
    assert "Léa Martin (demande de l'annuaire)" in page
    assert reverse("intake:detail", args=[request.pk]) in page
    assert "Léa Martin" not in client_for(other).get(reverse("scheduling:agenda"), day).content.decode()


def test_a_later_booking_at_the_same_time_for_that_counsellor_is_refused(org_a):
    request = make_request(org_a)
    counsellor = counsellor_of(org_a)
    starts = next_weekday_at(10, days=3)
    propose(request, counsellor, starts)
    dossier = DossierFactory(organisation=org_a, state="opened")
    with pytest.raises(ValidationError) as caught:
        appointment_book(
            dossier=dossier,
            purpose=AppointmentPurpose.INFORMATION,
            with_membership=counsellor,
            starts_at=starts + datetime.timedelta(minutes=30),
            duration_minutes=60,
            modality=AppointmentModality.REMOTE,
            remote_details="https://visio.exemple.fr/1",
            by=counsellor,
        )
    assert "déjà un rendez-vous sur ce créneau" in caught.value.message_dict["starts_at"][0]
    # Nor can another request be proposed on that slot with them.
    with pytest.raises(ValidationError) as caught:
        propose(make_request(org_a, email="autre@exemple.fr"), counsellor, starts)
    assert "starts_at" in caught.value.message_dict


def test_the_person_is_reminded_by_email_the_day_before_with_the_calendar_file(org_a):
    request = make_request(org_a)
    counsellor = counsellor_of(org_a)
    propose(request, counsellor, next_weekday_at(10))
    request.refresh_from_db()
    today_930 = timezone.make_aware(datetime.datetime.combine(timezone.localdate(), datetime.time(9, 30)))
    assert appointment_reminders_send(now=today_930) == 2  # the counsellor and the person
    assert appointment_reminders_send(now=today_930) == 0
    mail.outbox.clear()
    for pk in SideEffect.objects.filter(state=SideEffectState.PENDING).values_list("pk", flat=True):
        side_effect_run(pk)
    [message] = [m for m in mail.outbox if m.to == [PERSON] and "Rappel" in m.subject]
    assert "demain à 10:00" in message.subject
    [(filename, content, _mimetype)] = message.attachments
    [event] = icalendar.Calendar.from_ical(content).walk("VEVENT")
    assert str(event["UID"]) == appointment_uid(request.appointment)
    # The proposal's own .ics is the same calendar entry.
    [proposed] = icalendar.Calendar.from_ical(proposal_ics(request)).walk("VEVENT")
    assert str(proposed["UID"]) == str(event["UID"])
    staff = [m for m in mail.outbox if m.to == [counsellor.user.email] and "Rappel" in m.subject]
    assert staff and "Léa Martin (demande de l'annuaire)" in staff[0].subject


def test_another_time_cancels_the_appointment_and_the_next_proposal_replaces_it(org_a):
    request = make_request(org_a)
    counsellor = counsellor_of(org_a)
    starts = next_weekday_at(10, days=3)
    token = propose(request, counsellor, starts)
    first = InterviewRequest.objects.get().appointment
    interview_request_answer(token=token, accept=False, message="Plutôt l'après-midi")
    first.refresh_from_db()
    assert first.state == AppointmentState.CANCELLED
    assert first.cancel_reason == "La personne demande un autre horaire"
    request.refresh_from_db()
    assert request.state == InterviewRequestState.OTHER_TIME
    # The slot is free again; the new proposal replaces the cancelled one.
    propose(request, counsellor, starts)
    request.refresh_from_db()
    assert request.appointment != first and request.appointment.rebooked_from == first
    # Proposed again while it stands: the standing one is cancelled by the organisation.
    second = request.appointment
    propose(request, counsellor, starts + datetime.timedelta(hours=2))
    second.refresh_from_db()
    assert second.state == AppointmentState.CANCELLED
    assert second.cancel_reason == "L'organisme propose un autre horaire"
    assert Appointment.objects.planned().count() == 1


def test_the_accepted_appointment_stays_planned(org_a):
    request = make_request(org_a, state=InterviewRequestState.ACCEPTED)
    assert request.appointment.state == AppointmentState.PLANNED


def test_converting_attaches_the_interview_to_the_dossier_done_once_it_took_place(org_a):
    request = make_request(org_a, state=InterviewRequestState.ACCEPTED)
    counsellor = counsellor_of(org_a)
    appointment = request.appointment
    # The interview took place (two hours ago).
    past = timezone.now() - datetime.timedelta(hours=2)
    Appointment.objects.filter(pk=appointment.pk).update(starts_at=past, ends_at=past + datetime.timedelta(hours=1))
    request.refresh_from_db()
    dossier = DossierFactory(organisation=org_a, state="opened")
    interview_request_convert(interview_request=request, dossier=dossier, by=counsellor)
    appointment.refresh_from_db()
    assert appointment.dossier == dossier and appointment.state == AppointmentState.DONE
    assert (appointment.person_name, appointment.person_email) == ("", "")
    assert list(dossier.appointments.all()) == [appointment]
    transitions = set(DossierEvent.objects.filter(dossier=dossier).values_list("transition", flat=True))
    assert {"appointment_book", "appointment_mark_done"} <= transitions


def test_converting_before_the_interview_attaches_it_still_planned(org_a):
    request = make_request(org_a, state=InterviewRequestState.PROPOSED)
    dossier = DossierFactory(organisation=org_a, state="opened")
    interview_request_convert(interview_request=request, dossier=dossier, by=counsellor_of(org_a))
    appointment = Appointment.objects.get()
    assert appointment.dossier == dossier and appointment.state == AppointmentState.PLANNED


def test_deleted_requests_leave_no_name_nor_address_on_their_appointments(org_a):
    counsellor = counsellor_of(org_a)
    # Converted, after a first proposal the person asked to move: the first stays without a dossier.
    converted = make_request(org_a)
    token = propose(converted, counsellor, next_weekday_at(10, days=3))
    interview_request_answer(token=token, accept=False)
    converted.refresh_from_db()
    propose(converted, counsellor, next_weekday_at(14, days=3))
    converted.refresh_from_db()
    interview_request_convert(interview_request=converted, dossier=DossierFactory(organisation=org_a), by=counsellor)
    # Expired after the person asked for another time.
    expired = make_request(org_a, email="autre@exemple.fr", state=InterviewRequestState.OTHER_TIME)
    interview_request_expire(interview_request=expired, now=timezone.now())
    assert Appointment.objects.exclude(person_email="").count() == 2
    done = retention_apply(now=timezone.now() + datetime.timedelta(days=367))
    assert done["closed_interview_requests"] == 2 and not InterviewRequest.objects.exists()
    assert Appointment.objects.count() == 3
    assert not Appointment.objects.exclude(person_name="").exists()
    assert not Appointment.objects.exclude(person_email="").exists()


def test_scheduling_refuses_an_appointment_without_dossier_for_another_purpose(org_a):
    from django.db import IntegrityError, transaction

    request = make_request(org_a, state=InterviewRequestState.PROPOSED)
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.filter(pk=request.appointment_id).update(purpose=AppointmentPurpose.PRIOR_EVALUATION)


def test_cancelled_from_the_agenda_the_person_is_told_and_the_request_waits_again(org_a):
    request = make_request(org_a, state=InterviewRequestState.ACCEPTED)
    counsellor = counsellor_of(org_a)
    appointment_cancel(appointment=request.appointment, by=counsellor, reason="Conseillère absente")
    request.refresh_from_db()
    assert request.state == InterviewRequestState.WAITING and request.may_propose
    assert request.events.last().action == "cancelled"
    told = Notification.objects.get(kind="appointment_cancelled", recipient__isnull=True)
    assert told.recipient_email == PERSON and "annulé" in told.title
