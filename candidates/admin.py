import copy
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from candidates.models import Candidate, Dossier, DossierEvent
from candidates.services import NewDossierRefusal, refuse_a_second_holder
from organisations.admin_audit import AuditedModelAdmin

IDENTITY = ("first_name", "last_name", "birth_date")


class CandidateAdminForm(forms.ModelForm):
    class Meta:
        model = Candidate
        fields = IDENTITY  # the admin passes its own field list; these are the ones this form checks

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors or not set(IDENTITY) & set(self.changed_data):
            return cleaned
        # The same one-dossier rule as the organisation's correction: checked on a copy carrying the new identity
        # (the instance gets the cleaned values only after clean()), inside the admin's transaction.
        candidate = copy.copy(self.instance)
        for name in IDENTITY:
            setattr(candidate, name, cleaned[name])
        try:
            refuse_a_second_holder(candidate)
        except NewDossierRefusal as refusal:
            raise forms.ValidationError(str(refusal), code=refusal.code) from None
        return cleaned


@admin.register(Candidate)
class CandidateAdmin(AuditedModelAdmin):
    """Identity corrections (a misspelt name); `identity_key` is recomputed on save. A corrected identity must
    not be that of a person with a dossier in progress or the certification (`refuse_a_second_holder`)."""

    form = CandidateAdminForm

    list_display = ["last_name", "first_name", "birth_date", "organisation", "email"]
    list_filter = ["registration_status", "education_level", "origin"]
    search_fields = ["last_name", "first_name", "birth_name", "identity_key", "email"]
    list_select_related = ["organisation"]
    readonly_fields = ["organisation", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A candidate comes with a dossier, created by a counsellor (duplicate check, timeline, audit).
        return False

    def has_change_permission(self, request: HttpRequest, obj: Candidate | None = None) -> bool:
        # Anonymised for good (privacy.services): no identity comes back, here as in candidate_correct.
        if obj is not None and not obj.can_be_corrected:
            return False
        return super().has_change_permission(request, obj)


class DossierEventInline(admin.TabularInline):
    """The timeline, append-only: written by the services, never edited."""

    model = DossierEvent
    extra = 0
    fields = ["at", "transition", "from_state", "to_state", "actor", "note"]
    readonly_fields = fields
    ordering = ["-at", "-id"]
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[DossierEvent]:
        return super().get_queryset(request).select_related("actor")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Dossier)
class DossierAdmin(AuditedModelAdmin):
    """Consultation and the counsellor's reassignment only.

    The step (`state`) and what the journey records (consent, window, deadline) change through the services,
    which lock the row and write the timeline and the audit log; django-fsm's FSMAdminMixin would apply
    transitions on the bare model (and its permission checks expect a membership, not a user), so it is not
    used here.
    """

    list_display = ["reference", "candidate", "organisation", "state", "certification", "deadline"]
    list_filter = ["state", "certification", "organisation__region"]
    search_fields = ["reference", "candidate__last_name", "candidate__first_name", "organisation__name"]
    list_select_related = ["candidate", "organisation"]
    autocomplete_fields = ["counsellor"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "reference",
        "organisation",
        "candidate",
        "certification",
        "referentiel",
        "state",
        "consent_at",
        "consent_text",
        "window_starts_on",
        "deadline",
        "deadline_warning_sent_at",
        "withdrawal_reason",
        "created_at",
        "updated_at",
    ]
    fields = ["counsellor", *readonly_fields]
    inlines = [DossierEventInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Dossier]:
        return super().get_queryset(request).select_related("candidate", "organisation", "referentiel", "counsellor")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
