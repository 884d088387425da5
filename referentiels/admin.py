"""Certif'Pro's administration of the référentiels.

A référentiel version on which a dossier was opened is frozen (its results must keep their meaning): every
part of it is read-only here, and changes go into a new version (action "Créer une nouvelle version")."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from organisations.admin_audit import AuditedModelAdmin
from referentiels.models import Criterion, Domain, Referentiel, SubDomain
from referentiels.services import referentiel_make_current, referentiel_new_version

LOCKED_MESSAGE = _(
    "Ce référentiel est déjà utilisé par des dossiers : il ne peut plus être modifié, pour que les résultats "
    "enregistrés gardent leur sens. Pour le faire évoluer, créez une nouvelle version (action « Créer une "
    "nouvelle version » de la liste des référentiels), modifiez-la, puis rendez-la en vigueur."
)
VERSION_MAX_LENGTH = Referentiel._meta.get_field("version").max_length


def referentiel_of(obj: Model) -> Referentiel:
    return obj if isinstance(obj, Referentiel) else obj._referentiel()  # type: ignore[attr-defined]


def is_locked(obj: Model | None) -> bool:
    """Whether obj's référentiel is frozen; remembered on the référentiel instance for the request's duration
    (the admin asks several times per page)."""
    if obj is None or obj.pk is None:
        return False
    referentiel = referentiel_of(obj)
    if not hasattr(referentiel, "_admin_locked"):
        referentiel._admin_locked = referentiel.is_locked  # type: ignore[attr-defined]
    return referentiel._admin_locked  # type: ignore[attr-defined]


class LockedReferentielAdminMixin:
    """Change and delete refused on a frozen référentiel's parts, with a message saying what to do instead."""

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return not is_locked(obj) and super().has_change_permission(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return not is_locked(obj) and super().has_delete_permission(request, obj)  # type: ignore[misc]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]
        if request.method == "GET" and is_locked(obj):
            messages.warning(request, LOCKED_MESSAGE)
        return super().change_view(request, object_id, form_url, extra_context)  # type: ignore[misc]


class LockedReferentielInlineMixin:
    """Inline rows of a frozen référentiel's part (`obj` is the parent): no addition, change or deletion."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return not is_locked(obj) and super().has_add_permission(request, obj)  # type: ignore[misc]

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return not is_locked(obj) and super().has_change_permission(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return not is_locked(obj) and super().has_delete_permission(request, obj)  # type: ignore[misc]


class DomainInline(LockedReferentielInlineMixin, admin.TabularInline):
    model = Domain
    fields = ["code", "title", "is_transversal", "position"]
    extra = 0
    show_change_link = True


class SubDomainInline(LockedReferentielInlineMixin, admin.TabularInline):
    model = SubDomain
    fields = ["code", "title", "threshold_percent", "position"]
    extra = 0
    show_change_link = True


class CriterionInline(LockedReferentielInlineMixin, admin.TabularInline):
    model = Criterion
    fields = ["code", "title", "is_mandatory", "position"]
    extra = 0


def free_version_name(source: Referentiel) -> str:
    """ "<version>-copie-<date>", with a number when that name is taken (one copy a day is not a rule)."""
    base = f"{source.version[: VERSION_MAX_LENGTH - 21]}-copie-{timezone.localdate():%Y%m%d}"
    taken = set(
        Referentiel.objects.filter(certification=source.certification, version__startswith=base).values_list(
            "version", flat=True
        )
    )
    if base not in taken:
        return base
    return next(f"{base}-{n}" for n in range(2, len(taken) + 3) if f"{base}-{n}" not in taken)


@admin.register(Referentiel)
class ReferentielAdmin(LockedReferentielAdminMixin, AuditedModelAdmin):
    list_display = ["__str__", "title", "is_current", "is_provisional", "used", "created_at"]
    list_filter = ["certification", "is_current", "is_provisional"]
    search_fields = ["version", "title"]
    readonly_fields = ["is_current", "created_at"]
    inlines = [DomainInline]
    actions = ["create_new_version", "make_current"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Referentiel]:
        return super().get_queryset(request).with_in_use()

    @admin.display(boolean=True, description=_("utilisé (verrouillé)"), ordering="in_use")
    def used(self, obj: Referentiel) -> bool:
        return obj.in_use  # type: ignore[attr-defined]

    @admin.action(description=_("Créer une nouvelle version"), permissions=["add"])
    def create_new_version(self, request: HttpRequest, queryset: QuerySet[Referentiel]) -> None:
        for source in queryset:
            try:
                copy = referentiel_new_version(source=source, version=free_version_name(source))
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
                continue
            self.message_user(
                request,
                format_html(
                    '{} <a href="{}">{}</a>',
                    _("La version « %(version)s » est créée à partir de « %(source)s ».")
                    % {"version": copy.version, "source": source.version},
                    reverse("admin:referentiels_referentiel_change", args=[copy.pk]),
                    _("Modifier la nouvelle version"),
                ),
                messages.SUCCESS,
            )

    @admin.action(description=_("Rendre cette version en vigueur"), permissions=["change"])
    def make_current(self, request: HttpRequest, queryset: QuerySet[Referentiel]) -> None:
        chosen = list(queryset)
        if len({r.certification for r in chosen}) != len(chosen):
            self.message_user(
                request,
                _("Une seule version peut être en vigueur par certification : choisissez-en une par certification."),
                messages.ERROR,
            )
            return
        for referentiel in chosen:
            try:
                referentiel_make_current(referentiel=referentiel, by=request.user)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
                continue
            self.message_user(
                request,
                _("« %(r)s » est maintenant la version en vigueur : les nouveaux dossiers seront ouverts sur elle.")
                % {"r": referentiel},
                messages.SUCCESS,
            )


@admin.register(Domain)
class DomainAdmin(LockedReferentielAdminMixin, AuditedModelAdmin):
    list_display = ["__str__", "referentiel", "is_transversal", "position"]
    list_filter = ["referentiel__certification", "referentiel"]
    search_fields = ["code", "title"]
    list_select_related = ["referentiel"]
    inlines = [SubDomainInline]


@admin.register(SubDomain)
class SubDomainAdmin(LockedReferentielAdminMixin, AuditedModelAdmin):
    list_display = ["__str__", "threshold_percent", "domain", "referentiel"]
    list_filter = ["domain__referentiel__certification", "domain__referentiel", "threshold_percent"]
    search_fields = ["code", "title"]
    list_select_related = ["domain__referentiel"]
    inlines = [CriterionInline]

    @admin.display(description=_("référentiel"), ordering="domain__referentiel")
    def referentiel(self, obj: SubDomain) -> Referentiel:
        return obj.domain.referentiel


@admin.register(Criterion)
class CriterionAdmin(LockedReferentielAdminMixin, AuditedModelAdmin):
    list_display = ["code", "title", "is_mandatory", "subdomain", "referentiel"]
    list_filter = ["is_mandatory", "subdomain__domain__referentiel__certification", "subdomain__domain__referentiel"]
    search_fields = ["code", "title"]
    list_select_related = ["subdomain__domain__referentiel"]

    @admin.display(description=_("référentiel"), ordering="subdomain__domain__referentiel")
    def referentiel(self, obj: Criterion) -> Referentiel:
        return obj.subdomain.domain.referentiel
