"""Reading an API request's input: ids through the membership's scoped querysets, bodies through the screens' forms.

An id in a body names a row the membership may see, or nothing: another organisation's row gets the same French
message as a missing one. A body is validated by the screen's own form, so that a rule is never worded twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from django import forms
from django.db.models import Model, QuerySet
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from organisations.api_auth import current_membership

if TYPE_CHECKING:
    from organisations.models import Membership

F = TypeVar("F", bound=forms.Form)

# The largest id the databases store (a BigAutoField): a bigger one is invalid input, not a database error.
MAX_ID = 2**63 - 1


class ScopedPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """An id looked up among `queryset_for(membership)`; `message` answers for a missing row, another
    organisation's and anything that is not an id alike. `within` names an object of the serializer's context
    the row must also belong to (the session of /jury-sessions/{id}/decisions/)."""

    def __init__(
        self,
        *,
        queryset_for: Callable[[Membership | None], QuerySet[Any]],
        message: str,
        within: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.queryset_for = queryset_for
        self.within = within
        # The model, for the schema; the rows come from get_queryset(), once the membership is known.
        super().__init__(queryset=queryset_for(None).none(), **kwargs)
        self.error_messages.update(does_not_exist=message, incorrect_type=message)

    def get_queryset(self) -> QuerySet[Any]:
        rows = self.queryset_for(current_membership(self.context["request"]))
        return rows.filter(**{self.within: self.context[self.within]}) if self.within else rows

    def to_internal_value(self, data: Any) -> Model:
        text = str(data).strip() if isinstance(data, int | str) and not isinstance(data, bool) else ""
        # The length first: int() refuses (with an error) a string of thousands of digits.
        if not text.isdecimal() or len(text) > len(str(MAX_ID)) or not 1 <= int(text) <= MAX_ID:
            self.fail("does_not_exist")
        return super().to_internal_value(int(text))


def _as_posted(value: Any) -> str:
    """A JSON value as a browser would post it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def as_posted(body: Any) -> MultiValueDict:
    """A JSON object (or a form post) as the browser would post it to the screen's form."""
    if isinstance(body, MultiValueDict):
        return body.copy()
    if isinstance(body, dict):
        return MultiValueDict(
            {
                key: [_as_posted(item) for item in (value if isinstance(value, list) else [value])]
                for key, value in body.items()
            }
        )
    raise ValidationError({"non_field_errors": [_("Le corps de la requête doit être un objet JSON.")]})


# ISO 8601 only in the API (README, "API REST"; DRF's own fields: settings.REST_FRAMEWORK DATE_INPUT_FORMATS): the
# screens' forms also read French dates ("03/04/1990"), which a program must not have guessed for it.
ISO_DATE_FORMATS = ["%Y-%m-%d"]
ISO_TIME_FORMATS = ["%H:%M", "%H:%M:%S", "%H:%M:%S.%f"]


def iso_8601_only(form: F) -> F:
    """The screen's form reading dates, times and datetimes as ISO 8601 only, for the API: anything else is a 400 on
    the field. A datetime field keeps Django's ISO parser (an offset, or the platform's time zone without one)."""
    for field in form.fields.values():
        if isinstance(field, forms.DateTimeField):
            field.input_formats = []
        elif isinstance(field, forms.DateField):
            field.input_formats = ISO_DATE_FORMATS
        elif isinstance(field, forms.TimeField):
            field.input_formats = ISO_TIME_FORMATS
    return form


def bound_form(form_class: type[F], request: Request, *, prefill: bool = False, **kwargs: Any) -> F:
    """The screen's form bound to the request's body, read as the browser's post would be (strings, a list for a
    multiple choice). With `prefill`, what the body leaves out takes the value the screen shows pre-filled (the
    form's initial values: today's date, the amount granted, the line as it is)."""
    data = as_posted(request.data)
    if prefill:
        unbound = form_class(**kwargs)
        for name, field in unbound.fields.items():
            initial = unbound.get_initial_for_field(field, name)
            if name not in data and initial is not None:
                data[name] = field.prepare_value(initial)
    return iso_8601_only(form_class(data, **kwargs))
