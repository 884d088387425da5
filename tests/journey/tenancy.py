"""The journey's lists: « À faire » shows the work of the member's own organisation only."""

from __future__ import annotations

from organisations.models import Role
from tests.journey import DossierFactory
from tests.referrals.support import make_referral
from tests.tenancy_registry import TenantList, marker

TENANT_LISTS = [
    # A referral to answer, and an evaluation to start; the queue upper-cases the last names.
    TenantList(
        "journey:todo", Role.COUNSELLOR, lambda org: make_referral(to=org, last_name=marker(org, "todo")).last_name
    ),
    TenantList(
        "journey:todo",
        Role.EVALUATOR,
        lambda org: DossierFactory(organisation=org, state="opened", last_name=marker(org, "todo")).candidate.last_name,
    ),
]
