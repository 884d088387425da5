from __future__ import annotations

from django import template
from django.utils.html import format_html

from funding.models import BatchStatus, LineState
from funding.money import format_euros

register = template.Library()

# The badge's colour repeats what its text says; it never carries the information alone.
LINE_BADGES = {
    LineState.DRAFT: "neutral",
    LineState.REQUESTED: "info",
    LineState.GRANTED: "success",
    LineState.REFUSED: "danger",
    LineState.INVOICED: "info",
    LineState.PARTIALLY_PAID: "warning",
    LineState.PAID: "success",
    LineState.WRITTEN_OFF: "neutral",
    LineState.CANCELLED: "neutral",
}
BATCH_BADGES = {
    BatchStatus.QUEUED: "neutral",
    BatchStatus.RUNNING: "info",
    BatchStatus.ISSUED: "success",
    BatchStatus.FAILED: "danger",
}


@register.filter
def euros(cents: int | None) -> str:
    """`{{ line.granted_cents|euros }}` → "1 234,50 €"."""
    return format_euros(cents)


@register.simple_tag
def line_state_badge(state: str) -> str:
    label = LineState(state).label if state in LineState.values else state
    return format_html('<span class="badge badge--{}">{}</span>', LINE_BADGES.get(state, "neutral"), label)


@register.simple_tag
def batch_status_badge(status: str) -> str:
    label = BatchStatus(status).label if status in BatchStatus.values else status
    return format_html('<span class="badge badge--{}">{}</span>', BATCH_BADGES.get(status, "neutral"), label)
