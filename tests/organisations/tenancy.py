"""The organisation's own pages: its sites, its members and its habilitations, for its administrators."""

from __future__ import annotations

import datetime

from django.utils import timezone

from organisations.models import ApplicationKind, HabilitationApplication, Role
from tests.factories import HabilitationFactory, MembershipFactory, SiteFactory
from tests.tenancy_registry import TenantList, TenantURL, marker


def _application(org, note: str = "") -> HabilitationApplication:
    application = HabilitationApplication.objects.create(
        organisation=org,
        kind=ApplicationKind.FIRST,
        certifications=["clea"],
        requested_from=timezone.localdate(),
        requested_until=timezone.localdate() + datetime.timedelta(days=700),
        note=note,
    )
    application.sites.set([SiteFactory(organisation=org, name=marker(org, "site-demande"))])
    return application


TENANT_URLS = [
    TenantURL("organisations:site_edit", Role.ORG_ADMIN, lambda org: {"pk": SiteFactory(organisation=org).pk}),
    TenantURL(
        "organisations:habilitation_detail",
        Role.ORG_ADMIN,
        lambda org: {"pk": HabilitationFactory(organisation=org).pk},
    ),
    TenantURL("organisations:application_detail", Role.ORG_ADMIN, lambda org: {"pk": _application(org).pk}),
]

TENANT_LISTS = [
    TenantList(
        "organisations:site_list",
        Role.ORG_ADMIN,
        lambda org: SiteFactory(organisation=org, name=marker(org, "site")).name,
    ),
    TenantList(
        "organisations:member_list",
        Role.ORG_ADMIN,
        lambda org: MembershipFactory(organisation=org, user__last_name=marker(org, "membre")).user.last_name,
    ),
    # Certif'Pro sees every organisation's: the 404 of another's detail page is the tenancy that matters.
    TenantList(
        "organisations:habilitation_list",
        Role.ORG_ADMIN,
        lambda org: f"/habilitations/{HabilitationFactory(organisation=org).pk}/",
    ),
    TenantList(
        "organisations:application_list",
        Role.ORG_ADMIN,
        lambda org: f"/habilitations/demandes/{_application(org).pk}/",
    ),
    # The form lists the organisation's own sites to choose from.
    TenantList(
        "organisations:application_create",
        Role.ORG_ADMIN,
        lambda org: SiteFactory(organisation=org, name=marker(org, "site-a-choisir")).name,
    ),
]
