from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from organisations.admin_audit import AuditedModelAdmin
from training.models import ProgressNote, TrainingPlan, TrainingSession


class TrainerRecordInline:
    """The trainer's record of the training: written on the training screens, whose services check the calendar
    and audit each step. Editing it here would mark sessions done, or put words in a trainer's name, behind the
    trainer's back."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class TrainingSessionInline(TrainerRecordInline, admin.TabularInline):
    model = TrainingSession
    fields = ["date", "duration_hours", "topic", "done"]
    readonly_fields = fields


class ProgressNoteInline(TrainerRecordInline, admin.StackedInline):
    model = ProgressNote
    fields = ["at", "author", "text"]
    readonly_fields = fields


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
class TrainingPlanAdmin(AuditedModelAdmin):
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
    raw_id_fields = ["trainer"]
    autocomplete_fields = ["organisation"]
    filter_horizontal = ["target_criteria"]
    # What the journey sets: the dossier and cycle (training_plan_create), the completion and its reason
    # (training_plan_complete, by the trainer, which lets the final evaluation start).
    readonly_fields = ["dossier", "cycle", "completed_at", "shortfall_reason", "created_at", "created_by"]
    inlines = [TrainingSessionInline, ProgressNoteInline]

    @admin.display(description=_("personne candidate"), ordering="dossier__candidate__last_name")
    def candidate(self, plan: TrainingPlan) -> str:
        return str(plan.dossier.candidate)
