"""The referral URLs that take an id: owned by the receiving evaluator, seen also by the sending agency."""

from __future__ import annotations

from organisations.models import Role
from tests.referrals.support import make_referral
from tests.tenancy_registry import TenantURL

TENANT_URLS = [
    TenantURL("referrals:detail", Role.COUNSELLOR, lambda org: {"pk": make_referral(to=org).pk}),
    # The agency's side: an advisor of another agency gets 404 on the referral its colleague's agency sent.
    TenantURL("referrals:detail", Role.FT_ADVISOR, lambda org: {"pk": make_referral(from_agency=org).pk}),
    TenantURL("referrals:accept", Role.COUNSELLOR, lambda org: {"pk": make_referral(to=org).pk}),
    TenantURL("referrals:decline", Role.COUNSELLOR, lambda org: {"pk": make_referral(to=org).pk}),
]
