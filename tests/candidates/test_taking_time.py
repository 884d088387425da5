"""Taking time (issue 19): the information interview's notes, « la personne prend le temps de réfléchir » with its
reminder, the information left untouched closed « sans suite » by the daily job, its retention, and the person who
comes back later."""

from __future__ import annotations

import datetime
import io
import json
import zipfile

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from candidates.forms import CONSENT_TEXT
from candidates.models import Candidate, Dossier, DossierEvent, DossierNote
from candidates.services import (
    NotInInformation,
    dossier_create,
    dossier_note_add,
    dossier_open,
    dossier_take_time,
    dossier_withdraw,
    dossiers_close_idle_information,
)
from candidates.tasks import information_idle_close_task
from journey.selectors import information_closing_soon, information_reminders_due, work_queue
from notifications.models import Notification
from organisations.models import AuditLog, Role
from privacy.exports import DATA_FILE, person_archive
from privacy.selectors import person_key, person_records
from privacy.services import retention_apply
from scheduling.models import AppointmentPurpose
from tests.factories import MembershipFactory
from tests.journey import DossierFactory
from tests.privacy.support import later, staff_still_logging_in
from tests.scheduling import book, next_weekday_at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limit")]

SAID = "Travaille en cuisine depuis 3 ans ; veut d'abord en parler à son employeur."
IDLE = settings.INFORMATION_IDLE_DAYS


def information(**fields) -> Dossier:
    return DossierFactory(state="information", first_name="Inès", last_name="Garnier", **fields)


def counsellor(dossier: Dossier):
    return dossier.team.counsellor


def candidate_data(**fields) -> dict:
    return {
        "civility": "mme",
        "first_name": "Inès",
        "last_name": "Garnier",
        "birth_date": datetime.date(1985, 4, 12),
        "registration_status": "job_seeker",
        "origin": "own_initiative",
        **fields,
    }


# -- Notes ------------------------------------------------------------------------------------------------------


def test_notes_are_dated_entries_that_add_up_and_the_timeline_says_only_that_one_was_written():
    dossier = information()
    first = dossier_note_add(dossier=dossier, by=counsellor(dossier), text=SAID)
    second = dossier_note_add(dossier=dossier, by=counsellor(dossier), text="  Rappel : elle réfléchit encore.  ")
    assert list(DossierNote.objects.filter(dossier=dossier).order_by("at", "id")) == [first, second]
    assert second.text == "Rappel : elle réfléchit encore." and second.organisation_id == dossier.organisation_id
    events = DossierEvent.objects.filter(dossier=dossier, transition="note")
    assert events.count() == 2 and all(SAID not in event.note for event in events)
    audit = AuditLog.objects.filter(action="dossier.note", object_id=str(first.pk)).get()
    assert SAID not in str(audit.details) and SAID not in audit.object_repr


def test_a_note_must_say_something():
    dossier = information()
    with pytest.raises(ValidationError) as exc:
        dossier_note_add(dossier=dossier, by=counsellor(dossier), text="   ")
    assert "text" in exc.value.message_dict
    assert not DossierNote.objects.exists()


def test_only_the_organisations_counsellors_and_administrators_write_notes(org_b):
    dossier = information()
    evaluator = dossier.team.evaluator
    with pytest.raises(PermissionDenied):
        dossier_note_add(dossier=dossier, by=evaluator, text=SAID)
    with pytest.raises(PermissionDenied):
        dossier_note_add(dossier=dossier, by=MembershipFactory(organisation=org_b, role=Role.COUNSELLOR), text=SAID)
    admin = MembershipFactory(organisation=dossier.organisation, role=Role.ORG_ADMIN)
    assert dossier_note_add(dossier=dossier, by=admin, text=SAID).author == admin.user


def test_notes_are_written_at_the_information_step_and_kept_once_the_dossier_opens():
    dossier = information()
    dossier_note_add(dossier=dossier, by=counsellor(dossier), text=SAID)
    dossier_open(dossier=Dossier.objects.get(pk=dossier.pk), by=counsellor(dossier), consent_text=CONSENT_TEXT)
    with pytest.raises(NotInInformation):
        dossier_note_add(dossier=dossier, by=counsellor(dossier), text="Encore un mot")
    assert list(DossierNote.objects.filter(dossier=dossier).values_list("text", flat=True)) == [SAID]


def test_another_organisation_reads_none_of_the_notes(org_b):
    dossier = information()
    dossier_note_add(dossier=dossier, by=counsellor(dossier), text=SAID)
    assert DossierNote.objects.visible_to(counsellor(dossier)).count() == 1
    assert not DossierNote.objects.visible_to(MembershipFactory(organisation=org_b, role=Role.COUNSELLOR)).exists()


# -- « La personne prend le temps de réfléchir » ----------------------------------------------------------------


def test_taking_time_records_the_day_and_the_reminder_then_the_reminder_enters_the_queue_on_its_day():
    dossier = information()
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    dossier_take_time(dossier=dossier, by=counsellor(dossier), reminder_on=tomorrow)
    dossier.refresh_from_db()
    assert dossier.reflection_since is not None and dossier.reflection_reminder_on == tomorrow
    event = DossierEvent.objects.get(dossier=dossier, transition="take_time")
    assert f"{tomorrow:%d/%m/%Y}" in event.note
    assert AuditLog.objects.filter(action="dossier.take_time", object_id=str(dossier.pk)).exists()
    assert information_reminders_due(counsellor(dossier), 8) == (0, [])

    # The day comes (the date is moved, not the clock: the service refuses a reminder that is not ahead).
    Dossier.objects.filter(pk=dossier.pk).update(reflection_reminder_on=timezone.localdate())
    count, items = information_reminders_due(counsellor(dossier), 8)
    assert count == 1 and items[0].kind == "information_reminder" and items[0].detail == dossier.reference
    assert items[0] in work_queue(counsellor(dossier)).items


def test_a_note_written_once_the_reminder_is_due_takes_it_out_of_the_queue():
    dossier = information()
    dossier_take_time(dossier=dossier, by=counsellor(dossier), reminder_on=timezone.localdate() + datetime.timedelta(1))
    Dossier.objects.filter(pk=dossier.pk).update(reflection_reminder_on=timezone.localdate())
    dossier_note_add(dossier=dossier, by=counsellor(dossier), text="Rappelée : elle revient en mars.")
    assert information_reminders_due(counsellor(dossier), 8)[0] == 0
    assert Dossier.objects.get(pk=dossier.pk).reflection_since is not None


def test_a_reminder_must_be_ahead():
    dossier = information()
    with pytest.raises(ValidationError) as exc:
        dossier_take_time(dossier=dossier, by=counsellor(dossier), reminder_on=timezone.localdate())
    assert "reminder_on" in exc.value.message_dict
    assert Dossier.objects.get(pk=dossier.pk).reflection_since is None


def test_taking_time_without_a_reminder_puts_nothing_in_the_queue():
    dossier = information()
    dossier_take_time(dossier=dossier, by=counsellor(dossier))
    assert Dossier.objects.get(pk=dossier.pk).reflection_reminder_on is None
    assert information_reminders_due(counsellor(dossier), 8)[0] == 0


# -- Closed by itself ---------------------------------------------------------------------------------------------


def test_an_untouched_information_closes_sans_suite_with_its_event_audit_and_notification(
    django_capture_on_commit_callbacks,
):
    dossier = information()
    assert dossiers_close_idle_information(now=later(days=IDLE - 1)) == 0
    assert Dossier.objects.get(pk=dossier.pk).state == "information"

    with django_capture_on_commit_callbacks(execute=True):
        assert dossiers_close_idle_information(now=later(days=IDLE + 1)) == 1
    dossier.refresh_from_db()
    assert dossier.state == "withdrawn" and "Sans suite après l'information" in dossier.withdrawal_reason
    event = DossierEvent.objects.filter(dossier=dossier).latest("at", "id")
    assert event.to_state == "withdrawn" and event.actor is None and "Sans suite" in event.note
    assert AuditLog.objects.filter(action="dossier.withdraw", actor=None, object_id=str(dossier.pk)).exists()
    notice = Notification.objects.get(kind="dossier_withdrawn", recipient=counsellor(dossier).user)
    assert "Sans suite" in notice.body

    # Twice: nothing more.
    assert dossiers_close_idle_information(now=later(days=IDLE + 1)) == 0
    assert DossierEvent.objects.filter(dossier=dossier, to_state="withdrawn").count() == 1


def test_a_note_restarts_the_count():
    dossier = information()
    note = dossier_note_add(dossier=dossier, by=counsellor(dossier), text=SAID)
    # The note was written 100 days after the interview (its event moved with it).
    DossierEvent.objects.filter(dossier=dossier, transition="note").update(at=note.at + datetime.timedelta(days=100))
    assert dossiers_close_idle_information(now=later(days=IDLE + 1)) == 0
    assert dossiers_close_idle_information(now=later(days=IDLE + 101)) == 1


def test_an_appointment_planned_ahead_keeps_the_information_open():
    dossier = information()
    book(
        dossier,
        purpose=AppointmentPurpose.INFORMATION,
        with_membership=counsellor(dossier),
        starts_at=next_weekday_at(9, days=IDLE + 10),
    )
    assert dossiers_close_idle_information(now=later(days=IDLE + 1)) == 0
    assert dossiers_close_idle_information(now=later(days=IDLE + 11 + IDLE)) == 1


def test_a_call_back_day_beyond_the_idle_period_keeps_the_information_open(client_for):
    """The counsellor agreed to call the person back in more than the idle days: the job waits for that day."""
    dossier = information()
    reminder_on = timezone.localdate() + datetime.timedelta(days=IDLE + 10)
    dossier_take_time(dossier=dossier, by=counsellor(dossier), reminder_on=reminder_on)
    page = client_for(counsellor(dossier)).get(detail(dossier)).text
    assert f"à partir du {reminder_on + datetime.timedelta(days=IDLE):%d/%m/%Y}" in page
    assert dossiers_close_idle_information(now=later(days=IDLE + 1)) == 0
    assert Dossier.objects.get(pk=dossier.pk).state == "information"
    assert dossiers_close_idle_information(now=later(days=IDLE + 11 + IDLE)) == 1


def test_an_opened_dossier_is_never_closed_by_the_idle_rule():
    dossier = DossierFactory(opened=True)
    assert dossiers_close_idle_information(now=later(days=IDLE * 3)) == 0
    assert Dossier.objects.get(pk=dossier.pk).state == "opened"


def test_the_closing_enters_the_queue_some_days_before(settings):
    dossier = information()
    assert information_closing_soon(counsellor(dossier), 8)[0] == 0
    # The queue reads "now": the idle period is shortened so that the dossier is within the warning.
    settings.INFORMATION_IDLE_DAYS = settings.INFORMATION_IDLE_WARNING_DAYS - 1
    count, items = information_closing_soon(counsellor(dossier), 8)
    assert count == 1 and items[0].kind == "information_closing" and "sans suite" in items[0].action


def test_the_daily_task_is_in_the_beat_schedule_and_closes():
    entry = settings.CELERY_BEAT_SCHEDULE["information-idle-close"]
    assert entry["task"] == "candidates.tasks.information_idle_close_task"
    information()
    assert information_idle_close_task() == {"closed": 0}


# -- Retention ------------------------------------------------------------------------------------------------


def test_an_information_closed_sans_suite_is_anonymised_with_its_notes_two_years_after_closing():
    dossier = information()
    dossier_note_add(dossier=dossier, by=counsellor(dossier), text=SAID)
    closed_at = later(days=IDLE + 1)
    dossiers_close_idle_information(now=closed_at)
    # The closing event is dated by the job's run, today: the two years run from it.
    staff_still_logging_in(later(years=3))
    assert retention_apply(now=later(years=2, days=-1))["closed_information"] == 0
    assert DossierNote.objects.get(dossier=dossier).text == SAID

    done = retention_apply(now=later(years=2, days=1))
    assert done["closed_information"] == 1 and done["closed_dossiers"] == 0
    assert DossierNote.objects.get(dossier=dossier).text == ""
    assert Candidate.objects.get(pk=dossier.candidate_id).last_name == "anonymisée"
    assert retention_apply(now=later(years=2, days=1))["closed_information"] == 0


def test_a_dossier_withdrawn_after_opening_keeps_its_five_years():
    dossier = DossierFactory(opened=True)
    dossier_withdraw(dossier=dossier, by=counsellor(dossier), reason="Déménagement")
    staff_still_logging_in(later(years=6))
    assert retention_apply(now=later(years=3))["closed_information"] == 0
    assert Candidate.objects.get(pk=dossier.candidate_id).anonymised_at is None
    assert retention_apply(now=later(years=5, days=1))["closed_dossiers"] == 1


# -- Coming back later ------------------------------------------------------------------------------------------


def test_the_person_comes_back_a_new_dossier_opens_and_the_earlier_notes_show(client_for):
    dossier = information()
    dossier_note_add(dossier=dossier, by=counsellor(dossier), text=SAID)
    dossiers_close_idle_information(now=later(days=IDLE + 1))

    again = dossier_create(
        membership=counsellor(dossier), candidate_data=candidate_data(), certification=dossier.certification
    )
    page = client_for(counsellor(dossier)).get(reverse("journey:dossier_detail", kwargs={"pk": again.pk}))
    assert [note.reference for note in page.context["earlier_notes"]] == [dossier.reference]
    assert "Information précédente" in page.text and escape(SAID) in page.text


def test_another_organisation_sees_nothing_of_an_earlier_interview_elsewhere(client_for, org_b):
    dossier = information()
    dossier_note_add(dossier=dossier, by=counsellor(dossier), text=SAID)
    dossiers_close_idle_information(now=later(days=IDLE + 1))
    other = MembershipFactory(organisation=org_b, role=Role.COUNSELLOR)
    theirs = dossier_create(membership=other, candidate_data=candidate_data(), certification=dossier.certification)
    page = client_for(other).get(reverse("journey:dossier_detail", kwargs={"pk": theirs.pk}))
    assert "Information précédente" not in page.text and escape(SAID) not in page.text


# -- Screens ------------------------------------------------------------------------------------------------------


def detail(dossier: Dossier) -> str:
    return reverse("journey:dossier_detail", kwargs={"pk": dossier.pk})


def test_the_information_page_shows_the_empty_notes_and_the_two_actions(client_for):
    dossier = information()
    page = client_for(counsellor(dossier)).get(detail(dossier)).text
    assert "Entretien d'information" in page and "Aucune note pour le moment." in page
    assert reverse("candidates:dossier_note", kwargs={"pk": dossier.pk}) in page
    assert "La personne prend le temps de réfléchir" in page
    # The day it closes by itself if nothing happens.
    closes = timezone.localdate(timezone.now() + datetime.timedelta(days=IDLE))
    assert f"{closes:%d/%m/%Y}" in page


def test_an_evaluator_reads_the_notes_without_the_actions(client_for):
    dossier = information()
    dossier_note_add(dossier=dossier, by=counsellor(dossier), text="Préfère les rendez-vous le matin.")
    page = client_for(dossier.team.evaluator).get(detail(dossier)).text
    assert "Préfère les rendez-vous le matin." in page
    assert reverse("candidates:dossier_note", kwargs={"pk": dossier.pk}) not in page


def test_a_note_is_written_from_its_page_and_shows_on_the_dossier(client_for):
    dossier = information()
    client = client_for(counsellor(dossier))
    url = reverse("candidates:dossier_note", kwargs={"pk": dossier.pk})
    assert "Ajouter une note d'entretien" in client.get(url).text
    response = client.post(url, {"text": "Veut passer CléA pour un poste de cariste."}, follow=True)
    assert response.redirect_chain[-1][0].startswith(detail(dossier))
    assert "La note est enregistrée." in response.text and "Veut passer CléA pour un poste de cariste." in response.text


def test_an_empty_note_comes_back_with_the_error_summary(client_for):
    dossier = information()
    response = client_for(counsellor(dossier)).post(
        reverse("candidates:dossier_note", kwargs={"pk": dossier.pk}), {"text": ""}
    )
    assert response.status_code == 200 and "error-summary" in response.text
    assert "Écrivez la note avant de l&#x27;enregistrer." in response.text
    assert not DossierNote.objects.exists()


def test_a_past_reminder_comes_back_with_the_error_summary_and_a_good_one_shows_on_the_page(client_for):
    dossier = information()
    client = client_for(counsellor(dossier))
    url = reverse("candidates:dossier_take_time", kwargs={"pk": dossier.pk})
    response = client.post(url, {"reminder_on": f"{timezone.localdate():%Y-%m-%d}"})
    assert "error-summary" in response.text and "Choisissez une date de rappel après aujourd&#x27;hui." in response.text
    day = timezone.localdate() + datetime.timedelta(days=14)
    response = client.post(url, {"reminder_on": f"{day:%Y-%m-%d}"}, follow=True)
    assert "La personne prend le temps de réfléchir" in response.text
    assert f"Rappel prévu le {day:%d/%m/%Y}." in response.text


def test_once_opened_the_note_page_sends_back_to_the_dossier(client_for):
    dossier = DossierFactory(opened=True)
    response = client_for(counsellor(dossier)).get(reverse("candidates:dossier_note", kwargs={"pk": dossier.pk}))
    assert response.status_code == 302 and response.url == detail(dossier)


def test_another_organisations_counsellor_gets_404_on_the_notes_and_the_reflection(client_for, org_b):
    dossier = information()
    dossier_note_add(dossier=dossier, by=counsellor(dossier), text=SAID)
    client = client_for(MembershipFactory(organisation=org_b, role=Role.COUNSELLOR))
    for name in ("candidates:dossier_note", "candidates:dossier_take_time", "journey:dossier_detail"):
        assert client.get(reverse(name, kwargs={"pk": dossier.pk})).status_code == 404
    assert client.post(reverse("candidates:dossier_note", kwargs={"pk": dossier.pk}), {"text": "x"}).status_code == 404
    assert DossierNote.objects.count() == 1


def test_the_information_page_costs_the_same_with_one_note_or_five(client_for, django_assert_num_queries):
    dossier = information()
    dossier_note_add(dossier=dossier, by=counsellor(dossier), text=SAID)
    client = client_for(counsellor(dossier))
    client.get(detail(dossier))
    with CaptureQueriesContext(connection) as captured:
        client.get(detail(dossier))
    for n in range(4):
        dossier_note_add(dossier=dossier, by=counsellor(dossier), text=f"Note {n}")
    with django_assert_num_queries(len(captured)):
        client.get(detail(dossier))


def test_the_persons_copy_of_their_data_holds_the_interview_notes():
    dossier = information()
    dossier_note_add(dossier=dossier, by=counsellor(dossier), text=SAID)
    content, _ = person_archive(person_records(person_key(dossier.candidate)))
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        data = json.loads(archive.read(DATA_FILE))
    [sheet] = data["fiches"]
    [exported] = sheet["dossiers"]
    assert [note["note"] for note in exported["notes d'entretien"]] == [SAID]


def test_the_page_gives_the_closing_day_after_a_planned_appointment(client_for):
    dossier = information()
    starts_at = next_weekday_at(9, days=40)
    book(dossier, purpose=AppointmentPurpose.INFORMATION, with_membership=counsellor(dossier), starts_at=starts_at)
    page = client_for(counsellor(dossier)).get(detail(dossier)).text
    closes = timezone.localdate(starts_at + datetime.timedelta(days=IDLE))
    assert f"à partir du {closes:%d/%m/%Y}" in page
