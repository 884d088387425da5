"""A site's availability in the directory, computed from the bookings of an organisation that uses the platform's
agenda (Organisation.uses_platform_agenda); the others keep declaring it by hand (organisations/forms.py).

Written into the site's own fields (next_slot_on, typical_wait_days, availability_updated_at), which the directory
already reads: its searches and sheets stay as fast as before, with no query per request. Refreshed on each booking,
move or cancellation of an information or prior-evaluation appointment at the site (in the booking's transaction),
and every night by `scheduling.tasks.sites_availability_refresh_task` (the next free day moves with the calendar).
"""

from __future__ import annotations

import datetime
import statistics
from collections import Counter

from django.utils import timezone

from organisations.models import Membership, Role, Site
from scheduling.models import Appointment, AppointmentPurpose, AppointmentState

# The appointments that make the wait before a prior evaluation: the first meeting, and the evaluation itself.
WAIT_PURPOSES = (AppointmentPurpose.INFORMATION, AppointmentPurpose.PRIOR_EVALUATION)
# The window of the typical wait: bookings of the last 90 days.
WAIT_WINDOW = datetime.timedelta(days=90)
# How far ahead a free day is looked for.
HORIZON_DAYS = 180


def _is_workday(day: datetime.date) -> bool:
    return day.weekday() < 5


def site_next_free_day(site: Site, *, today: datetime.date) -> datetime.date | None:
    """The first working day from tomorrow on which the site still has room for an information meeting or a prior
    evaluation: fewer of them booked that day than the organisation has active evaluators and counsellors (a prior
    evaluation takes about half a day, and each person can hold one such meeting at least)."""
    capacity = (
        Membership.objects.active()
        .filter(organisation_id=site.organisation_id, role__in=[Role.EVALUATOR, Role.COUNSELLOR])
        .values("user_id")
        .distinct()
        .count()
    )
    if capacity == 0:
        return None
    start = today + datetime.timedelta(days=1)
    end = today + datetime.timedelta(days=HORIZON_DAYS)
    tz = timezone.get_current_timezone()
    booked = Counter(
        timezone.localtime(starts_at, tz).date()
        for starts_at in Appointment.objects.filter(
            site=site, purpose__in=WAIT_PURPOSES, state=AppointmentState.PLANNED
        )
        .filter(starts_at__gte=datetime.datetime.combine(start, datetime.time.min, tzinfo=tz))
        .filter(starts_at__lt=datetime.datetime.combine(end, datetime.time.min, tzinfo=tz))
        .values_list("starts_at", flat=True)
    )
    day = start
    while day < end:
        if _is_workday(day) and booked[day] < capacity:
            return day
        day += datetime.timedelta(days=1)
    return None


def site_typical_wait(site: Site, *, now: datetime.datetime) -> int | None:
    """The median number of days between booking and meeting, over the site's information and prior-evaluation
    appointments booked in the last 90 days and not cancelled; None without any."""
    waits = [
        (timezone.localdate(starts_at) - timezone.localdate(booked_at)).days
        for starts_at, booked_at in Appointment.objects.filter(
            site=site, purpose__in=WAIT_PURPOSES, booked_at__gte=now - WAIT_WINDOW
        )
        .exclude(state=AppointmentState.CANCELLED)
        .values_list("starts_at", "booked_at")
    ]
    return round(statistics.median(waits)) if waits else None


def site_availability_refresh(site: Site, *, now: datetime.datetime | None = None) -> None:
    now = now or timezone.now()
    Site.objects.filter(pk=site.pk).update(
        next_slot_on=site_next_free_day(site, today=timezone.localdate(now)),
        typical_wait_days=site_typical_wait(site, now=now),
        availability_updated_at=now,
    )


def refresh_after(appointment: Appointment) -> None:
    """After a booking, a move or a cancellation at a site of an organisation that uses the agenda."""
    if appointment.site_id is None or appointment.purpose not in WAIT_PURPOSES:
        return
    site = Site.objects.select_related("organisation").get(pk=appointment.site_id)
    if site.organisation.uses_platform_agenda:
        site_availability_refresh(site)


def sites_availability_refresh(*, now: datetime.datetime | None = None) -> int:
    """Every active site of the organisations that use the agenda (the nightly task). Returns how many."""
    sites = list(Site.objects.active().filter(organisation__uses_platform_agenda=True))
    for site in sites:
        site_availability_refresh(site, now=now)
    return len(sites)
