"""The referral URLs that take an id: owned by the receiving evaluator, seen also by the sending agency."""

from __future__ import annotations

from organisations.models import Role
from tests.referrals.support import make_referral
from tests.tenancy_registry import TenantList, TenantURL, marker

TENANT_URLS = [
    TenantURL("referrals:detail", Role.COUNSELLOR, lambda org: {"pk": make_referral(to=org).pk}),
    # The agency's side: an advisor of another agency gets 404 on the referral its colleague's agency sent.
    TenantURL("referrals:detail", Role.FT_ADVISOR, lambda org: {"pk": make_referral(from_agency=org).pk}),
    TenantURL("referrals:accept", Role.COUNSELLOR, lambda org: {"pk": make_referral(to=org).pk}),
    TenantURL("referrals:decline", Role.COUNSELLOR, lambda org: {"pk": make_referral(to=org).pk}),
]

# The list upper-cases the last name: the marker is upper-case already.
TENANT_LISTS = [
    TenantList(
        "referrals:list", Role.COUNSELLOR, lambda org: make_referral(to=org, last_name=marker(org, "oriente")).last_name
    ),
    TenantList(
        "referrals:list",
        Role.FT_ADVISOR,
        lambda org: make_referral(from_agency=org, last_name=marker(org, "oriente")).last_name,
    ),
]
