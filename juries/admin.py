"""Certif'Pro's administration of the jury bodies' pools and sessions, and read-only views of what juries produced.

Decisions, certificates, minutes and conflicts are records: they are read here and never edited. A decision is
revoked through its screen (`juries:decision_revoke`), which voids the certificate and moves the dossier back.
Sessions move through their states on the jury screens only (the state is read-only here).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import ForeignKey, Model
from django.forms import ModelChoiceField
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from juries.models import (
    Certificate,
    ConflictDeclaration,
    Decision,
    JuryMember,
    JurySession,
    SessionMinutes,
    SessionSeat,
    SessionState,
    Submission,
)
from juries.services import conflicts_detect
from organisations.admin_audit import AuditedModelAdmin
from organisations.models import Organisation, OrganisationKind


def _jury_bodies_only(db_field: ForeignKey, kwargs: dict[str, Any]) -> None:
    if db_field.name == "organisation":
        kwargs["queryset"] = Organisation.objects.filter(kind=OrganisationKind.JURY_BODY)


class ReadOnlyAdmin(AuditedModelAdmin):
    """A record: listed and viewed, never added, changed or deleted here."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(JuryMember)
class JuryMemberAdmin(AuditedModelAdmin):
    list_display = ["__str__", "organisation", "college", "represents", "is_active"]
    list_filter = ["college", "is_active", "organisation"]
    search_fields = ["user__last_name", "user__first_name", "user__email", "represents"]
    list_select_related = ["user", "organisation"]
    autocomplete_fields = ["user", "represented_organisation"]

    def formfield_for_foreignkey(self, db_field: ForeignKey, request: HttpRequest, **kwargs: Any) -> ModelChoiceField:
        _jury_bodies_only(db_field, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class SessionSeatInline(admin.TabularInline):
    model = SessionSeat
    extra = 0
    autocomplete_fields = ["member"]
    # Recorded by the president when the deliberation opens (jury_session_start_deliberation), which counts the
    # quorum on it.
    readonly_fields = ["attendance"]

    def _editable(self, obj: JurySession | None) -> bool:
        return obj is None or obj.state in {SessionState.PLANNED, SessionState.CONVENED}

    def has_add_permission(self, request: HttpRequest, obj: JurySession | None = None) -> bool:
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: JurySession | None = None) -> bool:
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: JurySession | None = None) -> bool:
        return self._editable(obj) and super().has_delete_permission(request, obj)


@admin.register(JurySession)
class JurySessionAdmin(AuditedModelAdmin):
    list_display = ["date", "organisation", "region", "certification", "state", "capacity"]
    list_filter = ["state", "region", "certification"]
    search_fields = ["organisation__name", "place"]
    date_hierarchy = "date"
    list_select_related = ["organisation"]
    readonly_fields = ["state", "closed_at", "created_at"]
    inlines = [SessionSeatInline]

    def formfield_for_foreignkey(self, db_field: ForeignKey, request: HttpRequest, **kwargs: Any) -> ModelChoiceField:
        _jury_bodies_only(db_field, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # A member seated here is checked for links with the session's dossiers, as on the composition screen.
        conflicts_detect(session=form.instance)


@admin.register(Submission)
class SubmissionAdmin(ReadOnlyAdmin):
    list_display = ["dossier", "session", "submitted_by", "submitted_at"]
    list_filter = ["session__state", "session__region"]
    search_fields = ["dossier__reference", "dossier__candidate__last_name"]
    list_select_related = ["dossier", "session", "submitted_by"]


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ["submission", "kind", "decided_by", "decided_at", "is_revoked"]
    list_filter = ["kind", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["submission__dossier__reference", "submission__dossier__candidate__last_name"]
    list_select_related = ["submission__dossier", "submission__session", "decided_by"]
    readonly_fields = ["revoke_link"]

    @admin.display(boolean=True, description=_("révoquée"))
    def is_revoked(self, obj: Decision) -> bool:
        return obj.is_revoked

    @admin.display(description=_("révocation"))
    def revoke_link(self, obj: Decision) -> str:
        if obj.is_revoked:
            return format_html("{}", _("Décision révoquée."))
        return format_html(
            '<a href="{}">{}</a>',
            reverse("juries:decision_revoke", kwargs={"pk": obj.pk}),
            _("Révoquer cette décision (écran de révocation)"),
        )


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdmin):
    list_display = ["number", "holder_name", "certification", "awarded_on", "organisation", "is_valid", "has_pdf"]
    list_filter = ["certification", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["number", "verification_code", "holder_name"]
    date_hierarchy = "awarded_on"
    list_select_related = ["organisation"]

    @admin.display(boolean=True, description=_("valide"))
    def is_valid(self, obj: Certificate) -> bool:
        return not obj.is_revoked

    # A row without its PDF (left by the code before issue 13) is not issued: shown nowhere but here.
    @admin.display(boolean=True, description=_("PDF produit"))
    def has_pdf(self, obj: Certificate) -> bool:
        return obj.is_produced


@admin.register(SessionMinutes)
class SessionMinutesAdmin(ReadOnlyAdmin):
    list_display = ["number", "session", "generated_at"]
    search_fields = ["number"]
    list_select_related = ["session__organisation"]


@admin.register(ConflictDeclaration)
class ConflictDeclarationAdmin(ReadOnlyAdmin):
    list_display = ["seat", "submission", "detected", "declared_at"]
    list_filter = ["detected"]
    search_fields = ["seat__member__user__last_name", "submission__dossier__reference"]
    # A submission reads as "dossier → session": both come with the row.
    list_select_related = ["seat__member__user", "submission__dossier", "submission__session"]
