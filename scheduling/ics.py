"""An appointment as an iCalendar file (RFC 5545), for the screens, the API and the e-mails that announce it.

Times are written in Europe/Paris with its VTIMEZONE (a calendar shows the right hour on both sides of a clock
change); the UID stays the same for the life of the appointment and SEQUENCE grows with each change, so a calendar
that imported it updates the entry (moved, cancelled) instead of adding one. Only what the attendee needs: what,
when, where, with whom on the organisation's side, the dossier's reference; never the candidate's identity.
"""

from __future__ import annotations

import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import icalendar
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from scheduling.models import Appointment, AppointmentModality, AppointmentState

PARIS = ZoneInfo("Europe/Paris")
PRODID = "-//Plateforme CléA//Rendez-vous//FR"


def appointment_uid(appointment: Appointment) -> str:
    host = urlsplit(settings.SITE_URL).hostname or "clea.invalid"
    return f"appointment-{appointment.pk}@{host}"


def appointment_location(appointment: Appointment) -> str:
    site = appointment.site
    if appointment.modality == AppointmentModality.SITE and site is not None:
        return f"{site.name}, {site.address}, {site.postcode} {site.city}"
    return _("À distance")


def appointment_ics_filename(appointment: Appointment) -> str:
    return f"rendez-vous-{appointment.pk}.ics"


def appointment_ics(appointment: Appointment, *, now: datetime.datetime | None = None) -> bytes:
    """The appointment's .ics file: one VEVENT, its VTIMEZONE, STATUS:CANCELLED once cancelled."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("calscale", "GREGORIAN")
    event = icalendar.Event()
    event.add("uid", appointment_uid(appointment))
    event.add("dtstamp", (now or timezone.now()).astimezone(datetime.UTC))
    event.add("sequence", appointment.sequence)
    event.add("dtstart", appointment.starts_at.astimezone(PARIS))
    event.add("dtend", appointment.ends_at.astimezone(PARIS))
    # The dossier's organisation is the appointment's (read through it: the callers load it with the dossier).
    organisation = appointment.dossier.organisation if appointment.dossier is not None else appointment.organisation
    event.add(
        "summary",
        _("%(what)s – %(organisation)s") % {"what": appointment.get_purpose_display(), "organisation": organisation},
    )
    event.add("location", appointment_location(appointment))
    lines = [
        _("Avec : %(name)s (%(organisation)s)")
        % {
            "name": appointment.with_membership.user.get_full_name(),
            "organisation": appointment.with_membership.organisation.name,
        },
    ]
    if appointment.dossier is not None and appointment.dossier.reference:
        lines.append(_("Dossier : %(reference)s") % {"reference": appointment.dossier.reference})
    if appointment.modality == AppointmentModality.REMOTE and appointment.remote_details:
        lines.append(_("Rendez-vous à distance : %(details)s") % {"details": appointment.remote_details})
    # Not the cancellation's reason: it may speak of the candidate, and the file travels by e-mail.
    event.add("description", "\n".join(lines))
    event.add("status", "CANCELLED" if appointment.state == AppointmentState.CANCELLED else "CONFIRMED")
    event.add("transp", "OPAQUE")
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
