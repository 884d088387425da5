"""Read-only views of evaluations and attestations: records of what happened, written by the services only.
The référentiels are administered in referentiels/admin.py."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from evaluations.models import Attestation, CriterionResult, Evaluation
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
