"""Certif'Pro keeps the funders' list and the tariffs here. Everything else is read-only: lines move through
their services (history, audit), batches and statements are issued documents, fee entries come from events."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from funding.models import (
    CdcDeclaration,
    CdcFlux,
    CdcReportImport,
    CdcSettings,
    CertificateReport,
    ClaimBatch,
    FeeEntry,
    Funder,
    FundingLine,
    FundingLineEvent,
    Payment,
    Statement,
    Tariff,
)
from organisations.admin_audit import AuditedModelAdmin


@admin.register(Funder)
class FunderAdmin(AuditedModelAdmin):
    list_display = ["name", "kind", "code", "reference_label", "is_active", "position"]
    list_filter = ["kind", "is_active"]
    list_editable = ["is_active", "position"]
    search_fields = ["name", "code"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Lines point at their funder: deactivate it instead.
        return False


@admin.register(Tariff)
class TariffAdmin(AuditedModelAdmin):
    list_display = ["certification", "kind", "amount_cents", "vat_rate", "valid_from", "valid_until"]
    list_filter = ["certification", "kind"]

    def get_readonly_fields(self, request: HttpRequest, obj: Tariff | None = None) -> list[str]:
        # A tariff already applied keeps its amount: close it (valid_until) and add the next one.
        if obj is not None and obj.entries.exists():
            return ["certification", "kind", "amount_cents", "vat_rate", "valid_from"]
        return []

    def has_delete_permission(self, request: HttpRequest, obj: Tariff | None = None) -> bool:
        return obj is None or not obj.entries.exists()


class ReadOnlyAdmin(AuditedModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class FundingLineEventInline(admin.TabularInline):
    model = FundingLineEvent
    extra = 0
    fields = ["at", "transition", "from_state", "to_state", "actor", "note"]
    readonly_fields = fields
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[FundingLineEvent]:
        return super().get_queryset(request).select_related("actor")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(FundingLine)
class FundingLineAdmin(ReadOnlyAdmin):
    list_display = ["dossier", "organisation", "step", "funder", "state", "requested_cents", "granted_cents"]
    list_filter = ["state", "step", "funder"]
    search_fields = ["dossier__reference", "funder_reference", "organisation__name"]
    list_select_related = ["dossier", "organisation", "funder"]
    inlines = [FundingLineEventInline]


@admin.register(ClaimBatch)
class ClaimBatchAdmin(ReadOnlyAdmin):
    list_display = ["number", "organisation", "funder", "status", "total_lines", "total_incl_vat_cents", "issued_on"]
    list_filter = ["status", "funder"]
    search_fields = ["number", "organisation__name"]
    list_select_related = ["organisation", "funder"]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["reference", "organisation", "batch", "received_on", "total_cents"]
    list_select_related = ["organisation", "batch"]
    search_fields = ["reference", "batch__number"]


@admin.register(FeeEntry)
class FeeEntryAdmin(ReadOnlyAdmin):
    list_display = ["occurred_on", "organisation", "kind", "certification", "source", "amount_cents", "statement"]
    list_filter = ["kind", "certification"]
    search_fields = ["source", "organisation__name"]
    list_select_related = ["organisation", "statement"]


@admin.register(Statement)
class StatementAdmin(ReadOnlyAdmin):
    list_display = ["number", "organisation", "period_start", "entry_count", "total_incl_vat_cents", "issued_on"]
    list_select_related = ["organisation"]
    search_fields = ["number", "organisation__name"]


@admin.register(CertificateReport)
class CertificateReportAdmin(ReadOnlyAdmin):
    list_display = ["certificate", "organisation", "reported_on", "reported_by"]
    list_select_related = ["certificate", "organisation", "reported_by"]


@admin.register(CdcSettings)
class CdcSettingsAdmin(AuditedModelAdmin):
    """One row (pk 1): Certif'Pro's identifiers at the Caisse des Dépôts and the certifications' RS codes. Read by
    each new flux, which copies them: a change never alters a flux already produced."""

    list_display = ["__str__", "client_id", "contract_id", "code_clea", "code_clea_numerique", "code_clea_management"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Never a second row: the one row is created on first reading (CdcSettings.current), here as anywhere; no
        # query here, which every admin page's sidebar asks.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        CdcSettings.current()
        return super().changelist_view(request, extra_context)


@admin.register(CdcFlux)
class CdcFluxAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "generated_at", "sha256", "generated_by"]
    list_select_related = ["generated_by"]


@admin.register(CdcDeclaration)
class CdcDeclarationAdmin(ReadOnlyAdmin):
    list_display = ["technical_id", "flux", "kind", "status", "rejection_reason"]
    list_filter = ["kind", "status"]
    list_select_related = ["flux"]
    search_fields = ["technical_id"]


@admin.register(CdcReportImport)
class CdcReportImportAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "accepted", "rejected", "imported_by"]
    list_select_related = ["flux", "imported_by"]
