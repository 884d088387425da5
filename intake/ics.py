"""The proposed meeting as an iCalendar file, written as scheduling.ics writes an appointment (Europe/Paris with
its VTIMEZONE, what the attendee needs and nothing of the person). The proposal is a scheduling appointment: same
UID and SEQUENCE as the .ics of its reminder, so the person's calendar keeps one entry; the place is the words the
person was sent."""

from __future__ import annotations

import datetime

import icalendar
from django.utils import timezone
from django.utils.translation import gettext as _

from intake.models import InterviewRequest
from scheduling.ics import PARIS, PRODID, appointment_uid
from scheduling.models import AppointmentState


def proposal_ics(interview_request: InterviewRequest, *, now: datetime.datetime | None = None) -> bytes:
    appointment = interview_request.appointment
    if appointment is None:
        raise ValueError("No meeting proposed.")
    starts_at, ends_at = appointment.starts_at, appointment.ends_at
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = icalendar.Event()
    # One appointment per proposal: another time proposed is another event in the calendar.
    event.add("uid", appointment_uid(appointment))
    event.add("sequence", appointment.sequence)
    event.add("dtstamp", (now or timezone.now()).astimezone(datetime.UTC))
    event.add("dtstart", starts_at.astimezone(PARIS))
    event.add("dtend", ends_at.astimezone(PARIS))
    event.add(
        "summary",
        _("Entretien d'information CléA – %(organisation)s") % {"organisation": interview_request.organisation.name},
    )
    event.add("location", interview_request.proposed_place)
    event.add("description", _("Avec : %(name)s") % {"name": appointment.with_membership.user.get_full_name()})
    event.add("status", "CANCELLED" if appointment.state == AppointmentState.CANCELLED else "TENTATIVE")
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
