from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from organisations.admin_audit import AuditedAdminMixin, AuditedModelAdmin
from organisations.models import AuditLog, Habilitation, Membership, Organisation, Site, User
from organisations.services import two_factor_reset

# Devices hold the users' secrets: nobody reads or edits them here. Certif'Pro resets a lost one from the users'
# list (action below), which removes it, ends the person's sessions and writes an audit row.
for _device_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_device_model):
        admin.site.unregister(_device_model)


class SiteInline(admin.StackedInline):
    model = Site
    extra = 0
    show_change_link = True


class HabilitationInline(admin.TabularInline):
    model = Habilitation
    extra = 0
    # Suspension, reinstatement and withdrawal are instructed on the platform (organisations.habilitations), which
    # audits them and tells the organisation: here they are read only.
    readonly_fields = ["status", "status_reason"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organisation)
class OrganisationAdmin(AuditedModelAdmin):
    list_display = ["name", "kind", "siret", "region", "is_active", "uses_platform_agenda"]
    list_filter = ["kind", "region", "is_active", "uses_platform_agenda"]
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
    # See HabilitationInline: the platform's screens instruct them.
    readonly_fields = ["status", "status_reason", "application", "previous"]


@admin.register(User)
class UserAdmin(AuditedAdminMixin, DjangoUserAdmin):
    ordering = ["last_name", "first_name"]
    list_display = ["email", "first_name", "last_name", "is_active", "is_staff", "has_two_factor"]
    search_fields = ["email", "first_name", "last_name"]
    readonly_fields = ["password_changed_at"]
    actions = ["reset_two_factor"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Identité"), {"fields": ["first_name", "last_name"]}),
        (_("Droits"), {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined", "password_changed_at"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        devices = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        return super().get_queryset(request).annotate(two_factor=Exists(devices))

    @admin.display(boolean=True, description=_("double authentification"), ordering="two_factor")
    def has_two_factor(self, user: User) -> bool:
        return user.two_factor  # type: ignore[attr-defined]

    @admin.action(description=_("Réinitialiser la double authentification (téléphone perdu)"))
    def reset_two_factor(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        try:
            for user in queryset:
                two_factor_reset(user=user, by=request.user, request=request)  # type: ignore[arg-type]
        except PermissionDenied:
            self.message_user(
                request, _("Seul un administrateur Certif'Pro réinitialise la double authentification."), messages.ERROR
            )
            return
        count = len(queryset)
        self.message_user(
            request,
            ngettext(
                "Double authentification réinitialisée pour %(count)d personne : elle la configurera à sa prochaine "
                "connexion, ses sessions sont fermées.",
                "Double authentification réinitialisée pour %(count)d personnes : elles la configureront à leur "
                "prochaine connexion, leurs sessions sont fermées.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )

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
