"""The directory URLs that take an id: the printable sheets, owned by the agency that asked for them."""

from __future__ import annotations

from organisations.models import Role
from tests.directory.support import make_sheet
from tests.tenancy_registry import TenantList, TenantURL, marker

TENANT_URLS = [
    TenantURL("directory:sheet_detail", Role.FT_ADVISOR, lambda org: {"pk": make_sheet(org).pk}),
    TenantURL("directory:sheet_download", Role.FT_ADVISOR, lambda org: {"pk": make_sheet(org).pk}),
]

TENANT_LISTS = [
    TenantList(
        "directory:sheet_list",
        Role.FT_ADVISOR,
        lambda org: make_sheet(org, place_label=marker(org, "fiche")).place_label,
    ),
]
