from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from organisations.admin_audit import AuditedAdminMixin, AuditedModelAdmin
from organisations.models import AuditLog, Habilitation, Membership, Organisation, Site, User


class SiteInline(admin.StackedInline):
    model = Site
    extra = 0
    show_change_link = True


class HabilitationInline(admin.TabularInline):
    model = Habilitation
    extra = 0


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organisation)
class OrganisationAdmin(AuditedModelAdmin):
    list_display = ["name", "kind", "siret", "region", "is_active"]
    list_filter = ["kind", "region", "is_active"]
    search_fields = ["name", "siret"]
    inlines = [SiteInline, HabilitationInline, MembershipInline]


@admin.register(Site)
class SiteAdmin(AuditedModelAdmin):
    list_display = [
        "name",
        "organisation",
        "postcode",
        "city",
        "wheelchair_accessible",
        "remote_evaluation",
        "is_active",
    ]
    list_filter = ["wheelchair_accessible", "remote_evaluation", "is_active", "organisation__region"]
    search_fields = ["name", "city", "postcode", "organisation__name"]
    list_select_related = ["organisation"]
    autocomplete_fields = ["organisation"]


@admin.register(Habilitation)
class HabilitationAdmin(AuditedModelAdmin):
    list_display = ["organisation", "certification", "valid_from", "valid_until", "status"]
    list_filter = ["certification", "status"]
    search_fields = ["organisation__name", "organisation__siret"]
    list_select_related = ["organisation"]
    autocomplete_fields = ["organisation"]


@admin.register(User)
class UserAdmin(AuditedAdminMixin, DjangoUserAdmin):
    ordering = ["last_name", "first_name"]
    list_display = ["email", "first_name", "last_name", "is_active", "is_staff"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Identité"), {"fields": ["first_name", "last_name"]}),
        (_("Droits"), {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "first_name", "last_name", "password1", "password2"]}),
    ]
    inlines = [MembershipInline]


# Django's groups carry permissions: granting them is audited like the rest.
admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(AuditedAdminMixin, DjangoGroupAdmin):
    pass


@admin.register(Membership)
class MembershipAdmin(AuditedModelAdmin):
    list_display = ["user", "organisation", "role", "is_active"]
    list_filter = ["role", "is_active", "organisation__kind"]
    search_fields = ["user__email", "user__last_name", "organisation__name"]
    list_select_related = ["user", "organisation"]
    autocomplete_fields = ["user", "organisation"]


@admin.register(AuditLog)
class AuditLogAdmin(AuditedModelAdmin):
    """Read-only: the log is append-only, even for administrators."""

    list_display = ["created_at", "action", "actor", "organisation", "object_repr", "ip_address"]
    list_filter = ["action"]
    search_fields = ["object_repr", "actor__email", "organisation__name"]
    list_select_related = ["actor", "organisation"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
