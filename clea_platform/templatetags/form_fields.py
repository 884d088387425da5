from dataclasses import dataclass
from typing import Any

from django import template
from django.forms import BaseForm, BoundField
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def described_widget(field: BoundField) -> SafeString:
    """The widget, tied to its help text and errors so that screen readers announce them with the field."""
    ids = []
    if field.help_text:
        ids.append(f"{field.auto_id}_helptext")
    attrs = {}
    if field.errors:
        ids.append(f"{field.auto_id}_errors")
        attrs["aria-invalid"] = "true"
    if ids:
        attrs["aria-describedby"] = " ".join(ids)
    return field.as_widget(attrs=attrs)


@dataclass
class SummaryError:
    """One line of an error summary: the message, and the anchor (or page) of what it concerns."""

    message: str
    href: str = ""


def field_anchor(field: BoundField) -> str:
    """The element a summary link focuses: the input itself, or the first of a radio, checkbox or split group."""
    if field.is_hidden or not field.auto_id:
        return ""
    return field.id_for_label or f"{field.auto_id}_0"


def form_summary_errors(form: BaseForm, anchors: dict[str, str] | None = None) -> list[SummaryError]:
    """The errors of a bound form in the order of its fields, non-field errors first, each field error linked to
    its input. `anchors` maps a field rendered by hand (a table of radios) to the id of the element holding it."""
    anchors = anchors or {}
    errors = [SummaryError(str(e)) for e in form.non_field_errors()]
    for field in form:
        if not field.errors:
            continue
        anchor = anchors.get(field.name) or field_anchor(field)
        for error in field.errors:
            message = (
                _("%(label)s : %(error)s") % {"label": field.label, "error": error}
                if field.label and not field.is_hidden
                else str(error)
            )
            errors.append(SummaryError(message, f"#{anchor}" if anchor else ""))
    return errors


@register.inclusion_tag("includes/error_summary.html")
def error_summary(form: BaseForm | None, refusal: object = None, title: str = "", **anchors: str) -> dict[str, Any]:
    """The shared error summary of a form posted back with errors: at the top of the form, focused on load, each
    line a link to its field (static/js/error_summary.js). `refusal`: a service's refusal shown first; any other
    keyword names a field rendered by hand and the id of its container."""
    errors = [SummaryError(str(refusal))] if refusal else []
    if form is not None and form.is_bound:
        errors += form_summary_errors(form, anchors)
    return {"errors": errors, "title": title}
