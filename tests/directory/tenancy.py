"""The directory URLs that take an id: the printable sheets, owned by the agency that asked for them."""

from __future__ import annotations

from directory.models import DirectorySheet
from directory.services import directory_sheet_generate
from organisations.models import Organisation, Role
from tests.directory.support import make_sheet
from tests.documents import regenerated
from tests.tenancy_registry import Target, TenantList, TenantURL, marker


def _ready_sheet(org: Organisation) -> DirectorySheet:
    return directory_sheet_generate(sheet_id=make_sheet(org).pk)


def _sheet_to_regenerate(org: Organisation) -> Target:
    return Target({"kind": "directory_sheet", "pk": _ready_sheet(org).pk}, data={"reason": "Fichier abîmé"})


TENANT_URLS = [
    TenantURL("directory:sheet_detail", Role.FT_ADVISOR, lambda org: {"pk": make_sheet(org).pk}),
    TenantURL("directory:sheet_download", Role.FT_ADVISOR, lambda org: {"pk": make_sheet(org).pk}),
    # A new version of a ready sheet (issue 13): the agency's administrator, through the service's scoping.
    TenantURL("documents:regenerate", Role.ORG_ADMIN, _sheet_to_regenerate, method="post"),
    TenantURL("documents:version_download", Role.ORG_ADMIN, lambda org: {"pk": regenerated(_ready_sheet(org)).pk}),
]

TENANT_LISTS = [
    TenantList(
        "directory:sheet_list",
        Role.FT_ADVISOR,
        lambda org: make_sheet(org, place_label=marker(org, "fiche")).place_label,
    ),
]
