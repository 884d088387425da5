"""The .ics file parses with icalendar, in Europe/Paris on both sides of a clock change."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.utils import timezone

from scheduling.ics import appointment_ics
from scheduling.services import appointment_cancel, appointment_reschedule
from tests.journey import DossierFactory
from tests.scheduling import book

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


def _event(data: bytes) -> icalendar.Event:
    calendar = icalendar.Calendar.from_ical(data)
    (event,) = calendar.walk("VEVENT")
    return event


def _last_sunday_of_march_ahead() -> datetime.date:
    """The next change to summer time (the last Sunday of March) still ahead."""
    today = timezone.localdate()
    for year in (today.year, today.year + 1):
        day = datetime.date(year, 3, 31)
        day -= datetime.timedelta(days=(day.weekday() + 1) % 7)
        if day - datetime.timedelta(days=3) > today:
            return day
    raise AssertionError("unreachable")


def test_times_are_in_europe_paris_across_the_dst_change():
    change = _last_sunday_of_march_ahead()
    dossier = DossierFactory(state="opened")
    before, after = change - datetime.timedelta(days=2), change + datetime.timedelta(days=1)
    winter = book(
        dossier, starts_at=datetime.datetime.combine(before, datetime.time(9, 30), PARIS), duration_minutes=90
    )
    summer = book(dossier, starts_at=datetime.datetime.combine(after, datetime.time(9, 30), PARIS), duration_minutes=90)
    for appointment, utc_hour in ((winter, 8), (summer, 7)):
        data = appointment_ics(appointment)
        assert b"TZID=Europe/Paris" in data and b"BEGIN:VTIMEZONE" in data
        event = _event(data)
        start, end = event.decoded("dtstart"), event.decoded("dtend")
        assert str(start.tzinfo) == "Europe/Paris" or getattr(start.tzinfo, "key", "") == "Europe/Paris"
        assert (start.hour, start.minute) == (9, 30) and (end.hour, end.minute) == (11, 0)
        assert start.astimezone(datetime.UTC).hour == utc_hour
    calendar = icalendar.Calendar.from_ical(appointment_ics(summer))
    (vtimezone,) = calendar.walk("VTIMEZONE")
    assert vtimezone["tzid"] == "Europe/Paris"
    assert {c.name for c in vtimezone.subcomponents} >= {"STANDARD", "DAYLIGHT"}


def test_uid_is_stable_sequence_grows_and_a_cancelled_one_says_so():
    dossier = DossierFactory(state="opened")
    appointment = book(dossier)
    first = _event(appointment_ics(appointment))
    assert first["status"] == "CONFIRMED" and first.decoded("sequence") == 0
    moved = appointment_reschedule(
        appointment=appointment,
        by=dossier.team.counsellor,
        starts_at=appointment.starts_at + datetime.timedelta(days=1),
        duration_minutes=60,
        modality="remote",
        remote_details="https://visio.exemple.fr/a",
    )
    second = _event(appointment_ics(moved))
    assert second["uid"] == first["uid"] and second.decoded("sequence") == 1
    assert second["location"] == "À distance"
    cancelled = appointment_cancel(appointment=moved, by=dossier.team.counsellor, reason="Mme Nom0 est malade")
    third = _event(appointment_ics(cancelled))
    assert third["uid"] == first["uid"] and third.decoded("sequence") == 2 and third["status"] == "CANCELLED"
    # The reason may speak of the candidate: it stays out of a file sent by e-mail.
    assert "malade" not in third["description"]


def test_location_is_the_site_address_and_no_candidate_identity():
    dossier = DossierFactory(state="opened")
    appointment = book(dossier)
    event = _event(appointment_ics(appointment))
    site = appointment.site
    assert event["location"] == f"{site.name}, {site.address}, {site.postcode} {site.city}"
    text = appointment_ics(appointment).decode()
    candidate = dossier.candidate
    assert candidate.last_name not in text and candidate.first_name not in text
    assert dossier.team.evaluator.user.last_name in event["description"]
