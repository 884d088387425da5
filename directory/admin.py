from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from directory.models import Commune, DirectorySheet
from organisations.admin_audit import AuditedModelAdmin


@admin.register(Commune)
class CommuneAdmin(AuditedModelAdmin):
    """The national commune table: loaded by `load_communes`, read-only here."""

    list_display = ["insee_code", "name", "departement", "region_name", "postcodes", "is_approximate"]
    list_filter = ["is_approximate", "region_name"]
    search_fields = ["insee_code", "name", "name_folded", "postcodes"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(DirectorySheet)
class DirectorySheetAdmin(AuditedModelAdmin):
    list_display = ["place_label", "certification", "organisation", "requested_on", "status", "site_count"]
    list_filter = ["status", "certification"]
    list_select_related = ["organisation"]
    readonly_fields = [f.name for f in DirectorySheet._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
