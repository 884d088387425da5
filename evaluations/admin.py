"""Read-only views of evaluations and attestations: records of what happened, written by the services only.
The référentiels are administered in referentiels/admin.py."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Exists, Model, OuterRef, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from evaluations.models import (
    Attestation,
    CriterionResult,
    Evaluation,
    PixImport,
    PixImportRow,
    PixMappingRule,
    PixMappingVersion,
    PixRowStatus,
)
from evaluations.services import pix_mapping_make_current, pix_mapping_new_version
from organisations.admin_audit import AuditedModelAdmin


class ReadOnlyAdminMixin:
    """Records of what happened: written by the services only."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class CriterionResultInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CriterionResult
    fields = ["criterion", "result", "comment"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[CriterionResult]:
        return super().get_queryset(request).select_related("criterion").order_by("criterion__position", "pk")


@admin.register(Evaluation)
class EvaluationAdmin(ReadOnlyAdminMixin, AuditedModelAdmin):
    list_display = ["__str__", "dossier", "organisation", "evaluator", "kind", "status", "closed_at"]
    list_filter = ["kind", "status", "modality"]
    search_fields = ["dossier__reference", "organisation__name", "evaluator__email"]
    list_select_related = ["dossier", "organisation", "evaluator"]
    date_hierarchy = "started_on"
    inlines = [CriterionResultInline]


@admin.register(Attestation)
class AttestationAdmin(ReadOnlyAdminMixin, AuditedModelAdmin):
    list_display = ["number", "dossier", "version", "organisation", "generated_at"]
    search_fields = ["number", "dossier__reference", "organisation__name"]
    list_select_related = ["dossier", "organisation"]
    date_hierarchy = "generated_at"
    readonly_fields = ["download"]

    @admin.display(description=_("document"))
    def download(self, obj: Attestation) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("evaluations:attestation_download", args=[obj.pk]), obj.filename
        )


# -- Pix results (issue 21) --------------------------------------------------------------------------------------


class PixMappingRuleInline(admin.TabularInline):
    model = PixMappingRule
    extra = 0
    fields = ["competence", "minimum_level", "domain_code"]

    def _editable(self, obj: PixMappingVersion | None) -> bool:
        return obj is None or not obj.is_locked

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_add_permission(request, obj) and self._editable(obj)  # type: ignore[arg-type]

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_change_permission(request, obj) and self._editable(obj)  # type: ignore[arg-type]

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_delete_permission(request, obj) and self._editable(obj)  # type: ignore[arg-type]


@admin.register(PixMappingVersion)
class PixMappingVersionAdmin(AuditedModelAdmin):
    """Certif'Pro edits the table that turns Pix levels into CléA numérique domains. A version whose results were
    recorded is frozen: copy it (action), edit the copy, then make it current."""

    list_display = ["label", "is_current", "is_provisional", "locked", "created_at"]
    fields = ["label", "is_provisional", "is_current", "note"]
    readonly_fields = ["is_current"]
    inlines = [PixMappingRuleInline]
    actions = ["create_new_version", "make_current"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PixMappingVersion]:
        # Whether results were recorded through each version, in the list's own query (not one per row).
        applied = PixImportRow.objects.filter(pix_import__mapping_version=OuterRef("pk"), status=PixRowStatus.APPLIED)
        return super().get_queryset(request).annotate(in_use=Exists(applied))

    @admin.display(boolean=True, description=_("utilisée (verrouillée)"), ordering="in_use")
    def locked(self, obj: PixMappingVersion) -> bool:
        return obj.in_use  # type: ignore[attr-defined]

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        if isinstance(obj, PixMappingVersion) and obj.is_locked:
            return ["label", "is_provisional", "is_current", "note"]
        return list(self.readonly_fields)

    @admin.action(description=_("Créer une nouvelle version"), permissions=["add"])
    def create_new_version(self, request: HttpRequest, queryset: QuerySet[PixMappingVersion]) -> None:
        for source in queryset:
            label = f"{source.label}-copie"
            n = 2
            while PixMappingVersion.objects.filter(label=label).exists():
                label, n = f"{source.label}-copie-{n}", n + 1
            pix_mapping_new_version(source=source, label=label[:40], by=request.user, request=request)
            self.message_user(request, _("La version « %(label)s » est créée.") % {"label": label})

    @admin.action(description=_("Rendre cette version en vigueur"), permissions=["change"])
    def make_current(self, request: HttpRequest, queryset: QuerySet[PixMappingVersion]) -> None:
        chosen = list(queryset)
        if len(chosen) != 1:
            self.message_user(request, _("Choisissez une seule version."), messages.ERROR)
            return
        pix_mapping_make_current(version=chosen[0], by=request.user, request=request)
        self.message_user(request, _("La version « %(label)s » est en vigueur.") % {"label": chosen[0].label})


@admin.register(PixImport)
class PixImportAdmin(ReadOnlyAdminMixin, AuditedModelAdmin):
    list_display = ["filename", "organisation", "scope", "status", "rows_total", "rows_applied", "uploaded_at"]
    list_filter = ["scope", "status"]
    list_select_related = ["organisation"]
    search_fields = ["filename", "organisation__name"]
