"""The directory's availability of a site, computed from the bookings where the organisation uses the agenda."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from organisations.forms import SiteForm
from organisations.models import Site
from scheduling.models import AppointmentPurpose
from scheduling.services import appointment_cancel
from scheduling.tasks import sites_availability_refresh_task
from tests.factories import SiteFactory
from tests.journey import DossierFactory
from tests.scheduling import book

pytestmark = pytest.mark.django_db


def _workday_ahead(after: datetime.date) -> datetime.date:
    day = after + datetime.timedelta(days=1)
    while day.weekday() >= 5:
        day += datetime.timedelta(days=1)
    return day


def _at(day: datetime.date, hour: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def _flagged_dossier(flag: bool = True):
    dossier = DossierFactory(state="opened")
    dossier.organisation.uses_platform_agenda = flag
    dossier.organisation.save(update_fields=["uses_platform_agenda"])
    return dossier


def test_declared_values_stay_when_the_organisation_does_not_use_the_agenda():
    dossier = _flagged_dossier(flag=False)
    declared = timezone.localdate() + datetime.timedelta(days=40)
    site = SiteFactory(organisation=dossier.organisation, next_slot_on=declared, typical_wait_days=30)
    book(dossier, site=site)
    site.refresh_from_db()
    assert (site.next_slot_on, site.typical_wait_days) == (declared, 30)


def test_next_free_day_skips_the_days_full_for_the_organisations_people():
    dossier = _flagged_dossier()
    team = dossier.team
    site = SiteFactory(organisation=dossier.organisation)
    first = _workday_ahead(timezone.localdate())
    # Three people (a counsellor, two evaluators), three meetings that day: full.
    book(
        dossier,
        site=site,
        purpose=AppointmentPurpose.INFORMATION,
        with_membership=team.counsellor,
        starts_at=_at(first, 9),
    )
    book(dossier, site=site, starts_at=_at(first, 9))
    site.refresh_from_db()
    assert site.next_slot_on == first and site.availability_updated_at is not None
    last = book(dossier, site=site, with_membership=team.final_evaluator, starts_at=_at(first, 14))
    site.refresh_from_db()
    assert site.next_slot_on == _workday_ahead(first)
    # A cancellation frees the day again.
    appointment_cancel(appointment=last, by=team.counsellor, reason="Empêchement")
    site.refresh_from_db()
    assert site.next_slot_on == first


def test_typical_wait_is_the_median_days_between_booking_and_meeting_over_90_days():
    dossier = _flagged_dossier()
    site = SiteFactory(organisation=dossier.organisation)
    today = timezone.localdate()
    for days in (2, 4, 10):
        book(dossier, site=site, starts_at=_at(today + datetime.timedelta(days=days), 9))
    site.refresh_from_db()
    assert site.typical_wait_days == 4


def test_the_nightly_task_refreshes_every_site_of_the_organisations_using_the_agenda():
    dossier = _flagged_dossier()
    site = SiteFactory(organisation=dossier.organisation)
    other = SiteFactory(next_slot_on=None)
    assert sites_availability_refresh_task() == 1
    site.refresh_from_db()
    other.refresh_from_db()
    assert site.next_slot_on == _workday_ahead(timezone.localdate()) and other.availability_updated_at is None


def test_the_site_form_no_longer_asks_for_the_computed_values():
    dossier = _flagged_dossier()
    site = SiteFactory(organisation=dossier.organisation)
    assert not set(Site.AVAILABILITY_FIELDS) & set(SiteForm(instance=site).fields)
    assert set(Site.AVAILABILITY_FIELDS) <= set(SiteForm(instance=SiteFactory()).fields)
