"""Certif'Pro's edits in the Django admin leave audit rows, like the screens' services do.

Every ModelAdmin of the platform's apps derives from AuditedModelAdmin (tests/test_admin_audit.py checks it). The
rows name the fields changed, never their values: an identity corrected, a note, a password stay in their own rows,
which the anonymisation can reach, and out of the log, which nothing can change."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.forms import BaseForm, BaseFormSet
from django.http import HttpRequest

from organisations.models import owning_organisation_id
from organisations.services import audit_record


def admin_audit(request: HttpRequest, action: str, obj: Model, fields: list[str] | None = None) -> None:
    audit_record(
        action=f"admin.{action}",
        actor=request.user,  # type: ignore[arg-type]  # the admin requires a logged-in staff user
        organisation=owning_organisation_id(obj),
        obj=obj,
        request=request,
        details={"fields": sorted(fields)} if fields is not None else None,
    )


class AuditedAdminMixin:
    """`admin.add`, `admin.change` and `admin.delete` rows for the object of the page and those of its inlines,
    from every path the admin writes by: the add and change pages, the list's editable columns, the password page
    of a user, the delete page and the "delete selected" action. Written in the admin's own transaction."""

    def construct_change_message(
        self, request: HttpRequest, form: BaseForm, formsets: Any, add: bool = False
    ) -> list[dict[str, Any]]:
        # Called once the object and its inlines are saved, by each path that adds or changes one.
        message = super().construct_change_message(request, form, formsets, add)  # type: ignore[misc]
        obj = getattr(form, "instance", None) or getattr(form, "user", None)  # the password form has a user
        if obj is not None and (add or form.changed_data):
            admin_audit(request, "add" if add else "change", obj, list(form.changed_data))
        return message

    def save_formset(self, request: HttpRequest, form: BaseForm, formset: BaseFormSet, change: bool) -> None:
        # Deleted rows are recorded first: once deleted, they have no id left to name.
        for deleted in formset.deleted_forms:
            if deleted.instance.pk is not None:
                admin_audit(request, "delete", deleted.instance)
        super().save_formset(request, form, formset, change)  # type: ignore[misc]
        added = {id(obj) for obj in formset.new_objects}  # type: ignore[attr-defined]
        for inline_form in formset.forms:
            if id(inline_form.instance) in added:
                admin_audit(request, "add", inline_form.instance, list(inline_form.changed_data))
        for obj, fields in formset.changed_objects:  # type: ignore[attr-defined]
            admin_audit(request, "change", obj, list(fields))

    def log_deletions(self, request: HttpRequest, queryset: QuerySet[Any] | list[Model]) -> Any:
        # Called before the deletion, by the delete page and by the "delete selected" action.
        for obj in queryset:
            admin_audit(request, "delete", obj)
        return super().log_deletions(request, queryset)  # type: ignore[misc]


class AuditedModelAdmin(AuditedAdminMixin, admin.ModelAdmin):
    pass
