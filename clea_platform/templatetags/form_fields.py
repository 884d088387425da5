from django import template
from django.forms import BoundField
from django.utils.safestring import SafeString

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
