from django.contrib import admin

from indicators.models import RegionalFunder


@admin.register(RegionalFunder)
class RegionalFunderAdmin(admin.ModelAdmin):
    """Certif'Pro marks which funder organisations are Régions: their administrators see their region's figures."""

    list_display = ["organisation"]
    raw_id_fields = ["organisation"]
