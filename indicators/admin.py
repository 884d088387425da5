from django.contrib import admin

from indicators.models import RegionalFunder
from organisations.admin_audit import AuditedModelAdmin


@admin.register(RegionalFunder)
class RegionalFunderAdmin(AuditedModelAdmin):
    """Certif'Pro marks which funder organisations are Régions: their administrators see their region's figures."""

    list_display = ["organisation"]
    raw_id_fields = ["organisation"]
