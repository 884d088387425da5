"""The organisation's own pages: its sites and its members, for its administrators."""

from __future__ import annotations

from organisations.models import Role
from tests.factories import MembershipFactory, SiteFactory
from tests.tenancy_registry import TenantList, TenantURL, marker

TENANT_URLS = [
    TenantURL("organisations:site_edit", Role.ORG_ADMIN, lambda org: {"pk": SiteFactory(organisation=org).pk}),
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
]
