from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from organisations.admin_audit import AuditedModelAdmin
from outbox import registry
from outbox.models import SideEffect


class KindFilter(admin.SimpleListFilter):
    """The registered kinds by their French names (no query to list them)."""

    title = _("nature")
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [(kind.name, kind.label) for kind in registry.kinds()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[SideEffect]) -> QuerySet[SideEffect]:
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(SideEffect)
class SideEffectAdmin(AuditedModelAdmin):
    """Read-only: a side effect changes through the outbox's services (a retry is the "Relancer" of the operators'
    page, which writes its audit row), never by editing its row."""

    list_display = ["created_at", "kind_name", "label", "organisation", "state", "attempts", "available_at", "done_at"]
    list_filter = ["state", KindFilter]
    search_fields = ["key", "label"]
    list_select_related = ["organisation"]

    @admin.display(description=_("nature"), ordering="kind")
    def kind_name(self, obj: SideEffect) -> str:
        return obj.kind_label

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
