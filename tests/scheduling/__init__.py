"""Assignments and appointments: what the tests of scheduling share."""

from __future__ import annotations

import datetime

from django.utils import timezone

from organisations.models import Membership
from scheduling.models import Appointment, AppointmentModality, AppointmentPurpose
from scheduling.services import appointment_book
from tests.factories import SiteFactory


def next_weekday_at(hour: int, days: int = 1) -> datetime.datetime:
    """An aware Paris time `days` ahead at `hour`:00."""
    day = timezone.localdate() + datetime.timedelta(days=days)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def book(
    dossier,
    *,
    by: Membership | None = None,
    with_membership: Membership | None = None,
    purpose: str = AppointmentPurpose.PRIOR_EVALUATION,
    starts_at: datetime.datetime | None = None,
    duration_minutes: int = 120,
    remote: bool = False,
    site=None,
) -> Appointment:
    team = dossier.team
    if not remote and site is None:
        site = SiteFactory(organisation=dossier.organisation)
    return appointment_book(
        dossier=dossier,
        purpose=purpose,
        with_membership=with_membership or team.evaluator,
        starts_at=starts_at or next_weekday_at(9),
        duration_minutes=duration_minutes,
        modality=AppointmentModality.REMOTE if remote else AppointmentModality.SITE,
        site=site,
        remote_details="https://visio.exemple.fr/salle-12" if remote else "",
        by=by or team.counsellor,
    )
