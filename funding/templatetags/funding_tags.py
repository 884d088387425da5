from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html

from funding.models import BatchStatus, FundingLine, LineState
from funding.money import format_euros
from organisations.models import Role

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
def dossier_funding(context: template.Context, dossier: Any) -> dict[str, Any] | None:
    """`{% dossier_funding dossier as funding %}`: the dossier's funding lines with the actions the current
    membership may take, in one query; None for the roles that do not see funding (the section is hidden)."""
    request = context.get("request")
    membership = getattr(request, "membership", None) or context.get("current_membership")
    if membership is None or membership.role not in {Role.COUNSELLOR, Role.ORG_ADMIN, Role.CERTIFPRO_ADMIN}:
        return None
    lines = list(
        FundingLine.objects.visible_to(membership)
        .filter(dossier_id=dossier.pk)
        .with_step_done_on()
        .select_related("funder")
        .order_by("step", "created_at", "id")
    )
    may_act = membership.role in {Role.COUNSELLOR, Role.ORG_ADMIN}
    return {
        "lines": [(line, line.actions_for(membership) if may_act else []) for line in lines],
        "can_create": may_act and dossier.state not in {"withdrawn", "expired"},
    }
