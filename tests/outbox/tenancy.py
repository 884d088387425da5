"""The operators' page: an organisation's administrator lists and retries its own side effects only."""

from __future__ import annotations

from organisations.models import Role
from tests.outbox.support import side_effect
from tests.tenancy_registry import TenantList, TenantURL, marker

TENANT_URLS = [
    TenantURL("outbox:side_effect_retry", Role.ORG_ADMIN, lambda org: {"pk": side_effect(org).pk}, method="post"),
]

TENANT_LISTS = [
    TenantList(
        "outbox:side_effect_list",
        Role.ORG_ADMIN,
        lambda org: side_effect(org, label=marker(org, "effet")).label,
    ),
]
