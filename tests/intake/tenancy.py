"""The interview request URLs that take an id: owned by the organisation the person asked."""

from __future__ import annotations

from intake.models import InterviewRequestState
from organisations.models import Role
from tests.intake.support import make_request
from tests.tenancy_registry import TenantList, TenantURL, marker

TENANT_URLS = [
    TenantURL("intake:detail", Role.COUNSELLOR, lambda org: {"pk": make_request(org).pk}),
    TenantURL("intake:detail", Role.ORG_ADMIN, lambda org: {"pk": make_request(org).pk}),
    TenantURL("intake:propose", Role.COUNSELLOR, lambda org: {"pk": make_request(org).pk}),
    TenantURL(
        "intake:convert",
        Role.COUNSELLOR,
        lambda org: {"pk": make_request(org, state=InterviewRequestState.ACCEPTED).pk},
    ),
]

# The list upper-cases the last name: the marker is upper-case already.
TENANT_LISTS = [
    TenantList("intake:list", Role.COUNSELLOR, lambda org: str(make_request(org, last_name=marker(org, "demande")))),
]
