from __future__ import annotations

from django import template
from django.utils.html import format_html

from candidates.models import Dossier
from funding.models import BatchStatus, LineState
from funding.money import format_euros
from funding.selectors import DossierFunding
from funding.selectors import dossier_funding as funding_dossier_funding

register = template.Library()

# The badge's colour repeats what its text says; it never carries the information alone.
LINE_BADGES = {
    LineState.DRAFT: "neutral",
    LineState.REQUESTED: "info",
    LineState.GRANTED: "success",
    LineState.REFUSED: "danger",
    LineState.INVOICED: "info",
    LineState.PAID: "success",
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


@register.simple_tag(takes_context=True)
def dossier_funding(context: template.Context, dossier: Dossier) -> DossierFunding | None:
    """`{% dossier_funding dossier as funding %}`: hands the dossier page (a candidates template, which cannot
    import funding) the funding section's data from its selector; the query lives there, not here."""
    request = context.get("request")
    membership = getattr(request, "membership", None) or context.get("current_membership")
    return funding_dossier_funding(membership, dossier)
