"""The 5-year window: the daily job warns the counsellor three months ahead, then expires the dossier."""

import datetime

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from candidates.models import Dossier, add_years
from candidates.services import dossiers_process_deadlines
from candidates.tasks import dossier_deadlines_task
from tests.journey import DossierFactory

TASK_NAME = "candidates.tasks.dossier_deadlines_task"


def today() -> datetime.date:
    return timezone.localdate()


def dossier_with_deadline_in(days: int, state: str = "partially_validated", **kwargs) -> Dossier:
    """A dossier whose prior evaluation took place so long ago that its deadline is `days` from today."""
    evaluated_on = add_years(today() + datetime.timedelta(days=days), -5)
    dossier = DossierFactory(state=state, evaluated_on=evaluated_on, **kwargs)
    assert dossier.deadline == today() + datetime.timedelta(days=days)
    return dossier


@pytest.mark.django_db
def test_the_counsellor_is_warned_once_when_the_deadline_is_three_months_away(django_capture_on_commit_callbacks):
    dossier = dossier_with_deadline_in(30)
    with django_capture_on_commit_callbacks(execute=True):
        run = dossiers_process_deadlines(today=today())
    assert (run.warned, run.expired) == (1, 0)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [dossier.team.counsellor.user.email]
    assert dossier.reference in message.subject
    assert f"{dossier.deadline:%d/%m/%Y}" in message.body
    dossier.refresh_from_db()
    assert dossier.deadline_warning_sent_at is not None
    assert dossier.events.filter(note__startswith="Alerte").count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        again = dossiers_process_deadlines(today=today())
    assert (again.warned, again.expired) == (0, 0)
    assert len(mail.outbox) == 1
    assert dossier.events.filter(note__startswith="Alerte").count() == 1


@pytest.mark.django_db
def test_the_warning_waits_until_the_deadline_is_within_91_days(django_capture_on_commit_callbacks):
    dossier = dossier_with_deadline_in(120)
    with django_capture_on_commit_callbacks(execute=True):
        assert dossiers_process_deadlines(today=today()).warned == 0
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        assert dossiers_process_deadlines(today=today() + datetime.timedelta(days=30)).warned == 1
    assert len(mail.outbox) == 1
    dossier.refresh_from_db()
    assert dossier.deadline_warning_sent_at is not None


@pytest.mark.django_db
def test_a_dossier_past_its_deadline_expires(django_capture_on_commit_callbacks):
    dossier = dossier_with_deadline_in(-1)
    with django_capture_on_commit_callbacks(execute=True):
        run = dossiers_process_deadlines(today=today())
    assert run.expired == 1
    dossier.refresh_from_db()
    assert dossier.state == "expired"
    event = dossier.events.get(transition="expire")
    assert (event.actor, event.from_state, event.to_state) == (None, "partially_validated", "expired")
    assert "5 ans" in event.note
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_dossier_in_training_past_its_deadline_expires_too():
    dossier = DossierFactory(state="in_training")
    # Five years pass without a final evaluation.
    Dossier.objects.filter(pk=dossier.pk).update(deadline=today() - datetime.timedelta(days=1))
    assert dossiers_process_deadlines(today=today()).expired == 1
    dossier.refresh_from_db()
    assert dossier.state == "expired"


@pytest.mark.django_db
def test_the_job_leaves_the_other_dossiers_alone(django_capture_on_commit_callbacks):
    far = dossier_with_deadline_in(400)
    opened = DossierFactory(state="opened")
    # Went to the jury long ago: its old window no longer matters.
    at_jury = DossierFactory(state="ready_for_jury", evaluated_on=add_years(today(), -6))
    withdrawn = DossierFactory(state="withdrawn")
    with django_capture_on_commit_callbacks(execute=True):
        run = dossiers_process_deadlines(today=today())
    assert (run.warned, run.expired) == (0, 0)
    assert mail.outbox == []
    for dossier, state in [(far, "partially_validated"), (opened, "opened"), (at_jury, "ready_for_jury")]:
        dossier.refresh_from_db()
        assert dossier.state == state
        assert dossier.deadline_warning_sent_at is None
    withdrawn.refresh_from_db()
    assert withdrawn.state == "withdrawn"


def test_the_beat_schedule_runs_the_deadline_job_daily():
    entries = [entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"] == TASK_NAME]
    assert len(entries) == 1
    assert entries[0]["schedule"] <= 24 * 60 * 60
    assert dossier_deadlines_task.name == TASK_NAME


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_deadline_task_runs_on_a_worker(celery_worker):
    expired = dossier_with_deadline_in(-10)
    warned = dossier_with_deadline_in(20)
    result = dossier_deadlines_task.delay().get(timeout=20)
    assert result == {"warned": 1, "expired": 1}
    expired.refresh_from_db()
    warned.refresh_from_db()
    assert expired.state == "expired"
    assert warned.deadline_warning_sent_at is not None


@pytest.mark.django_db
def test_the_job_expires_according_to_the_day_it_is_given():
    dossier = dossier_with_deadline_in(10)
    assert dossiers_process_deadlines(today=today()).expired == 0
    assert dossiers_process_deadlines(today=today() + datetime.timedelta(days=11)).expired == 1
    dossier.refresh_from_db()
    assert dossier.state == "expired"
