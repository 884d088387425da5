from django.contrib import admin

from notifications.models import Notification, NotificationPreference
from organisations.admin_audit import AuditedModelAdmin


@admin.register(Notification)
class NotificationAdmin(AuditedModelAdmin):
    """Read-only: notifications are written by their events, read by their recipients."""

    list_display = ["title", "kind", "recipient", "organisation", "created_at", "read_at", "emailed_at"]
    list_filter = ["kind", "email_delivery"]
    search_fields = ["title", "event_key"]
    list_select_related = ["recipient", "organisation"]

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(AuditedModelAdmin):
    list_display = ["user", "email_mode", "updated_at"]
    list_select_related = ["user"]
