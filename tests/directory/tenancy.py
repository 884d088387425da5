"""The directory URLs that take an id: the printable sheets, owned by the agency that asked for them."""

from __future__ import annotations

from organisations.models import Role
from tests.directory.support import make_sheet
from tests.tenancy_registry import TenantURL

TENANT_URLS = [
    TenantURL("directory:sheet_detail", Role.FT_ADVISOR, lambda org: {"pk": make_sheet(org).pk}),
    TenantURL("directory:sheet_download", Role.FT_ADVISOR, lambda org: {"pk": make_sheet(org).pk}),
]
