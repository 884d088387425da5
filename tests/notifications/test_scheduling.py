"""Assignments and appointments tell exactly the people of their kind's rule (notifications/kinds.py): never the
person who acted, never another organisation, the candidate only if they agreed; each appointment e-mail carries
the appointment's .ics, and tomorrow's appointments are reminded once per (appointment, time)."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from candidates.models import Dossier
from notifications.kinds import KINDS
from notifications.models import EmailMode, Notification
from notifications.receivers import appointment_ics_file
from notifications.services import appointment_reminders_send, digests_promise, notification_preference_set
from organisations.models import Membership, Role
from outbox.models import SideEffect, SideEffectState
from outbox.services import side_effect_run
from scheduling.models import AppointmentModality, AppointmentPurpose, AssignmentPurpose
from scheduling.services import appointment_cancel, appointment_mark, appointment_reschedule, assignment_set
from tests.factories import MembershipFactory
from tests.journey import DossierFactory
from tests.notifications.support import recipients
from tests.scheduling import book, next_weekday_at

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
CANDIDATE = "candidate@exemple.fr"


def emails(*memberships: Membership) -> set[str]:
    return {m.user.email for m in memberships}


def consenting(dossier: Dossier) -> Dossier:
    Dossier.objects.filter(pk=dossier.pk).update(notify_by_email=True, notify_by_email_at=timezone.now())
    dossier.refresh_from_db()
    return dossier


def run_all() -> None:
    for pk in SideEffect.objects.filter(state=SideEffectState.PENDING).values_list("pk", flat=True):
        side_effect_run(pk)


def message_to(address: str):
    [message] = [m for m in mail.outbox if m.to == [address]]
    return message


def calendar_of(message) -> icalendar.Event:
    [(filename, content, mimetype)] = message.attachments
    assert filename.endswith(".ics") and mimetype == "text/calendar"
    [event] = icalendar.Calendar.from_ical(content).walk("VEVENT")
    return event


@pytest.fixture
def bystanders(org_b):
    """Another organisation's counsellor, evaluator and administrator: they never hear of org_a's appointments."""
    return [
        MembershipFactory(organisation=org_b, role=role) for role in (Role.COUNSELLOR, Role.EVALUATOR, Role.ORG_ADMIN)
    ]


@pytest.fixture
def dossier(org_a, bystanders):
    return DossierFactory(organisation=org_a, state="opened")


@pytest.fixture
def admin(org_a):
    return MembershipFactory(organisation=org_a, role=Role.ORG_ADMIN)


# -- Assignments -----------------------------------------------------------------------------------------------------


def test_an_assignment_tells_the_assignee_only(dossier):
    team = dossier.team
    assignment_set(
        dossier=dossier, purpose=AssignmentPurpose.PRIOR_EVALUATION, assignee=team.evaluator, by=team.counsellor
    )
    assert recipients("assignment") == emails(team.evaluator)  # not the counsellor who assigned
    [notification] = Notification.objects.filter(kind="assignment")
    assert notification.url == f"/dossiers/{dossier.pk}/"
    assert dossier.reference in notification.title


def test_a_reassignment_tells_the_new_assignee_and_the_previous_one_that_it_is_no_longer_theirs(dossier):
    team = dossier.team
    purpose = AssignmentPurpose.PRIOR_EVALUATION
    assignment_set(dossier=dossier, purpose=purpose, assignee=team.evaluator, by=team.counsellor)
    assignment_set(
        dossier=dossier, purpose=purpose, assignee=team.final_evaluator, by=team.counsellor, reason="Congé maladie"
    )
    assert recipients("assignment") == emails(team.evaluator, team.final_evaluator)
    first, before = Notification.objects.filter(kind="assignment", recipient=team.evaluator.user).order_by("pk")
    assert "vous est confiée" in first.title and "ne vous est plus confiée" in before.title
    assert "Congé maladie" in before.body and team.final_evaluator.user.last_name in before.body
    after = Notification.objects.get(kind="assignment", recipient=team.final_evaluator.user)
    assert "vous est confiée" in after.title and "plus" not in after.title


def test_a_trainer_of_a_training_organisation_hears_of_their_assignment_in_their_own_organisation(org_a):
    dossier = DossierFactory(organisation=org_a, state="opened")
    trainer = dossier.team.trainer
    assert trainer.organisation_id != org_a.pk
    assignment_set(dossier=dossier, purpose=AssignmentPurpose.TRAINING, assignee=trainer, by=dossier.team.counsellor)
    [notification] = Notification.objects.filter(kind="assignment")
    assert notification.recipient_id == trainer.user_id
    assert notification.organisation_id == trainer.organisation_id
    assert list(Notification.objects.visible_to(trainer)) == [notification]
    # A trainer does not see dossiers: the link books the sessions of the one assigned.
    assert notification.url == f"/agenda/dossier/{dossier.pk}/rendez-vous/"


def test_the_trainer_named_by_a_training_plan_is_told_once_by_the_plan(org_a):
    dossier = DossierFactory(organisation=org_a, state="in_training")
    trainer = dossier.team.trainer
    assert recipients("training_plan_created") == emails(trainer)
    assert not Notification.objects.filter(kind="assignment", recipient=trainer.user).exists()


# -- Appointments ----------------------------------------------------------------------------------------------------


def test_a_booking_tells_the_person_met_the_counsellor_and_the_candidate_who_agreed(dossier, admin):
    consenting(dossier)
    team = dossier.team
    book(dossier, by=admin)
    assert recipients("appointment_booked") == emails(team.evaluator, team.counsellor) | {CANDIDATE}


def test_a_booking_never_tells_the_booker_nor_a_candidate_who_did_not_agree(dossier):
    team = dossier.team
    book(dossier, by=team.counsellor)
    assert recipients("appointment_booked") == emails(team.evaluator)


def test_a_trainer_of_a_training_organisation_hears_of_the_sessions_booked_with_them_and_not_of_their_own(org_a):
    dossier = consenting(DossierFactory(organisation=org_a, state="in_training"))
    team = dossier.team
    session = {"purpose": AppointmentPurpose.TRAINING_SESSION, "with_membership": team.trainer, "remote": True}
    appointment = book(dossier, by=team.counsellor, **session)
    [told] = Notification.objects.filter(kind="appointment_booked", recipient=team.trainer.user)
    assert told.organisation_id == team.trainer.organisation_id
    assert list(Notification.objects.visible_to(team.trainer).filter(kind="appointment_booked")) == [told]
    day = timezone.localtime(appointment.starts_at).date()
    assert told.url == f"/agenda/?view=day&date={day:%Y-%m-%d}"
    Notification.objects.filter(kind="appointment_booked").delete()
    book(dossier, by=team.trainer, starts_at=next_weekday_at(9, days=2), **session)
    assert recipients("appointment_booked") == emails(team.counsellor) | {CANDIDATE}


def test_each_reschedule_is_told_once(dossier):
    consenting(dossier)
    team = dossier.team
    appointment = book(dossier, by=team.counsellor)
    for hour in (14, 16):
        appointment = appointment_reschedule(
            appointment=appointment,
            by=team.counsellor,
            starts_at=next_weekday_at(hour),
            duration_minutes=60,
            modality=AppointmentModality.REMOTE,
            remote_details="https://visio.exemple.fr/salle-3",
        )
    moved = Notification.objects.filter(kind="appointment_changed")
    assert moved.filter(recipient=team.evaluator.user).count() == 2
    assert moved.filter(recipient_email=CANDIDATE).count() == 2
    assert recipients("appointment_changed") == emails(team.evaluator) | {CANDIDATE}
    latest = moved.filter(recipient_email=CANDIDATE).order_by("-pk").first()
    assert latest is not None and "16:00" in latest.title


def test_a_cancellation_gives_its_reason_to_the_staff_and_never_to_the_candidate(dossier, admin):
    consenting(dossier)
    team = dossier.team
    appointment = book(dossier, by=team.counsellor)
    run_all()  # the booking's e-mails
    mail.outbox.clear()
    reason = "Le candidat est hospitalisé"
    appointment_cancel(appointment=appointment, by=admin, reason=reason)
    assert recipients("appointment_cancelled") == emails(team.evaluator, team.counsellor) | {CANDIDATE}
    staff = Notification.objects.get(kind="appointment_cancelled", recipient=team.evaluator.user)
    assert reason in staff.body
    run_all()
    candidate_message = message_to(CANDIDATE)
    html = candidate_message.alternatives[0][0]
    assert reason not in candidate_message.subject + candidate_message.body + html
    # The way to their own space, never a sign-in link: a forwarded e-mail opens nothing by itself.
    assert f"{django_settings.SITE_URL}/mon-espace/" in candidate_message.body
    assert "/mon-espace/lien/" not in candidate_message.body + html
    event = calendar_of(candidate_message)
    assert reason not in event.to_ical().decode()
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(calendar_of(message_to(team.evaluator.user.email))["STATUS"]) == "CANCELLED"


def test_a_missed_appointment_tells_the_counsellor_only(dossier):
    consenting(dossier)
    team = dossier.team
    appointment = book(dossier, by=team.counsellor)
    later = appointment.starts_at + datetime.timedelta(minutes=5)
    appointment_mark(appointment=appointment, by=team.evaluator, done=False, now=later)
    assert recipients("appointment_missed") == emails(team.counsellor)


def test_a_done_appointment_tells_nobody(dossier):
    team = dossier.team
    appointment = book(dossier, by=team.counsellor)
    before = Notification.objects.count()
    later = appointment.starts_at + datetime.timedelta(minutes=5)
    appointment_mark(appointment=appointment, by=team.evaluator, done=True, now=later)
    assert Notification.objects.count() == before


def test_the_booking_email_carries_the_appointment_ics_in_paris_time(dossier):
    consenting(dossier)
    team = dossier.team
    mail.outbox.clear()
    appointment = book(dossier, by=team.counsellor, starts_at=next_weekday_at(9))
    run_all()
    for address in (CANDIDATE, team.evaluator.user.email):
        event = calendar_of(message_to(address))
        start = event.decoded("DTSTART")
        assert start.tzinfo is not None and str(start.tzinfo) == "Europe/Paris"
        assert start == appointment.starts_at and start.hour == 9
        assert str(event["STATUS"]) == "CONFIRMED"


def test_the_ics_provider_joins_nothing_once_the_appointment_is_gone():
    assert appointment_ics_file(appointment_id=987654) is None


def test_a_digest_joins_the_ics_of_its_appointments(dossier):
    team = dossier.team
    notification_preference_set(user=team.evaluator.user, email_mode=EmailMode.DIGEST)
    appointment = book(dossier, by=team.counsellor)
    mail.outbox.clear()
    digests_promise(today=timezone.localdate() + datetime.timedelta(days=1))
    run_all()
    message = message_to(team.evaluator.user.email)
    assert calendar_of(message)["UID"].startswith(f"appointment-{appointment.pk}@")


# -- Reminders -------------------------------------------------------------------------------------------------------


def _today_at(hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(timezone.localdate(), datetime.time(hour, minute)))


def test_tomorrows_appointment_is_reminded_once_to_the_person_met_and_the_candidate(dossier):
    consenting(dossier)
    team = dossier.team
    appointment = book(dossier, by=team.counsellor, starts_at=next_weekday_at(10))
    run_all()  # the booking's e-mails
    mail.outbox.clear()
    assert appointment_reminders_send(now=_today_at(7)) == 0  # not in the night
    assert appointment_reminders_send(now=_today_at(9, 30)) == 2
    assert appointment_reminders_send(now=_today_at(10, 30)) == 0
    assert recipients("appointment_reminder") == emails(team.evaluator) | {CANDIDATE}
    run_all()
    assert calendar_of(message_to(CANDIDATE)).decoded("DTSTART") == appointment.starts_at


def test_a_rescheduled_appointment_is_reminded_again_for_its_new_time(dossier):
    team = dossier.team
    appointment = book(dossier, by=team.counsellor, starts_at=next_weekday_at(10))
    assert appointment_reminders_send(now=_today_at(9, 30)) == 1
    appointment_reschedule(
        appointment=appointment,
        by=team.counsellor,
        starts_at=next_weekday_at(15),
        duration_minutes=60,
        modality=AppointmentModality.REMOTE,
        remote_details="https://visio.exemple.fr/salle-3",
    )
    assert appointment_reminders_send(now=_today_at(11)) == 1
    assert appointment_reminders_send(now=_today_at(12)) == 0
    titles = sorted(n.title for n in Notification.objects.filter(kind="appointment_reminder"))
    assert any("10:00" in t for t in titles) and any("15:00" in t for t in titles)


def test_only_tomorrows_planned_appointments_are_reminded(dossier, admin):
    team = dossier.team
    book(dossier, by=team.counsellor, starts_at=next_weekday_at(10, days=2))
    cancelled = book(dossier, by=team.counsellor, starts_at=next_weekday_at(10))
    appointment_cancel(appointment=cancelled, by=admin, reason="Reporté")
    assert appointment_reminders_send(now=_today_at(9, 30)) == 0


# -- Demo ------------------------------------------------------------------------------------------------------------


def test_the_demo_gives_each_nord_agenda_holder_appointment_notifications(settings):
    settings.DEBUG, settings.EMBEDDED = True, True
    call_command("seed_demo", verbosity=0, without_communes=True)
    for email in (
        "conseillere@evaluateur-nord.demo",
        "evaluateur@evaluateur-nord.demo",
        "formatrice@formation-nord.demo",
    ):
        told = Notification.objects.filter(recipient__email=email, kind__startswith="appointment_")
        assert told.exists(), email
    assert Notification.objects.filter(recipient__email="formatrice@formation-nord.demo", kind="assignment").exists()


def test_the_readme_lists_every_kind_and_counts_them():
    readme = (django_settings.BASE_DIR / "README.md").read_text(encoding="utf-8")
    for kind in KINDS:
        assert f"`{kind}`" in readme, kind
    assert f"{len(KINDS)} natures de notification en tout" in readme
