from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from training.models import ProgressNote, TrainingPlan, TrainingSession


class TrainingSessionInline(admin.TabularInline):
    model = TrainingSession
    extra = 0
    fields = ["date", "duration_hours", "topic", "done"]


class ProgressNoteInline(admin.StackedInline):
    model = ProgressNote
    extra = 0
    fields = ["at", "author", "text"]
    readonly_fields = ["at"]
    raw_id_fields = ["author"]


class CompletedFilter(admin.SimpleListFilter):
    title = _("statut")
    parameter_name = "statut"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("en_cours", _("En cours")), ("termine", _("Terminé"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[TrainingPlan]) -> QuerySet[TrainingPlan]:
        if self.value() == "en_cours":
            return queryset.filter(completed_at__isnull=True)
        if self.value() == "termine":
            return queryset.filter(completed_at__isnull=False)
        return queryset


@admin.register(TrainingPlan)
class TrainingPlanAdmin(admin.ModelAdmin):
    list_display = ["dossier", "candidate", "cycle", "trainer", "organisation", "starts_on", "ends_on", "completed_at"]
    list_select_related = ["dossier__candidate", "trainer", "organisation"]
    list_filter = [CompletedFilter, "cycle", "dossier__certification", "organisation__region"]
    search_fields = [
        "dossier__reference",
        "dossier__candidate__last_name",
        "trainer__last_name",
        "trainer__email",
        "organisation__name",
    ]
    date_hierarchy = "starts_on"
    raw_id_fields = ["dossier", "trainer", "created_by"]
    autocomplete_fields = ["organisation"]
    filter_horizontal = ["target_criteria"]
    readonly_fields = ["created_at", "created_by"]
    inlines = [TrainingSessionInline, ProgressNoteInline]

    @admin.display(description=_("personne candidate"), ordering="dossier__candidate__last_name")
    def candidate(self, plan: TrainingPlan) -> str:
        return str(plan.dossier.candidate)
