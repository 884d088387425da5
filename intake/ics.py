"""The proposed meeting as an iCalendar file, written as scheduling.ics writes an appointment (Europe/Paris with
its VTIMEZONE, what the attendee needs and nothing of the person)."""

from __future__ import annotations

import datetime
from urllib.parse import urlsplit

import icalendar
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from intake.models import InterviewRequest
from scheduling.ics import PARIS, PRODID


def proposal_ics(interview_request: InterviewRequest, *, now: datetime.datetime | None = None) -> bytes:
    starts_at, ends_at = interview_request.proposed_starts_at, interview_request.proposed_ends_at
    if starts_at is None or ends_at is None:
        raise ValueError("No meeting proposed.")
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = icalendar.Event()
    host = urlsplit(settings.SITE_URL).hostname or "clea.invalid"
    # One UID per proposal: another time proposed is another event in the calendar.
    stamp = int(starts_at.timestamp())
    event.add("uid", f"interview-request-{interview_request.pk}-{stamp}@{host}")
    event.add("dtstamp", (now or timezone.now()).astimezone(datetime.UTC))
    event.add("dtstart", starts_at.astimezone(PARIS))
    event.add("dtend", ends_at.astimezone(PARIS))
    event.add(
        "summary",
        _("Entretien d'information CléA – %(organisation)s") % {"organisation": interview_request.organisation.name},
    )
    event.add("location", interview_request.proposed_place)
    if interview_request.proposed_with is not None:
        event.add("description", _("Avec : %(name)s") % {"name": interview_request.proposed_with.user.get_full_name()})
    event.add("status", "TENTATIVE")
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
