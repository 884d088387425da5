"""The candidates URLs that take an id, each made for the organisation under test."""

from __future__ import annotations

from organisations.models import Role
from tests.journey import DossierFactory
from tests.tenancy_registry import TenantList, TenantURL

TENANT_URLS = [
    TenantURL("journey:dossier_detail", Role.COUNSELLOR, lambda org: {"pk": DossierFactory(organisation=org).pk}),
    TenantURL(
        "candidates:dossier_open",
        Role.COUNSELLOR,
        lambda org: {"pk": DossierFactory(organisation=org, state="information").pk},
    ),
    TenantURL(
        "candidates:dossier_withdraw",
        Role.COUNSELLOR,
        lambda org: {"pk": DossierFactory(organisation=org, state="opened").pk},
    ),
    TenantURL("candidates:candidate_correct", Role.COUNSELLOR, lambda org: {"pk": DossierFactory(organisation=org).pk}),
]

TENANT_LISTS = [
    TenantList("candidates:dossier_list", Role.COUNSELLOR, lambda org: DossierFactory(organisation=org).reference),
    TenantList(
        "candidates:dossier_export",
        Role.COUNSELLOR,
        lambda org: DossierFactory(organisation=org).reference,
        query={"format": "xlsx"},
    ),
]
