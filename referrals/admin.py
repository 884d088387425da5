from django.contrib import admin

from organisations.admin_audit import AuditedModelAdmin
from referrals.models import Referral


@admin.register(Referral)
class ReferralAdmin(AuditedModelAdmin):
    """Read-only: referrals are answered by the receiving organisation in its screens."""

    list_display = ["last_name", "first_name", "certification", "organisation", "from_organisation", "state", "sent_at"]
    list_filter = ["state", "certification"]
    search_fields = ["last_name", "first_name", "organisation__name", "from_organisation__name"]
    list_select_related = ["organisation", "from_organisation"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Referral._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
