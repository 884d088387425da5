from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html

from organisations.models import Role
from referrals.models import Referral, ReferralState

register = template.Library()

DASHBOARD_SIZE = 5

# The badge's colour repeats what its text says; it never carries the information alone.
REFERRAL_BADGES = {
    ReferralState.SENT: "info",
    ReferralState.ACCEPTED: "success",
    ReferralState.DECLINED: "warning",
    ReferralState.EXPIRED: "neutral",
}


@register.simple_tag
def referral_badge(state: str) -> str:
    """`{% referral_badge referral.state %}`: the referral's state in a badge."""
    label = ReferralState(state).label if state in ReferralState.values else state
    return format_html('<span class="badge badge--{}">{}</span>', REFERRAL_BADGES.get(state, "neutral"), label)


def _membership(context: template.Context) -> Any:
    request = context.get("request")
    return getattr(request, "membership", None) or context.get("current_membership")


@register.simple_tag(takes_context=True)
def incoming_referrals(context: template.Context) -> dict[str, Any]:
    """`{% incoming_referrals as incoming %}`: the referrals the organisation has not answered yet (a count and
    the oldest few, which expire first). Two queries."""
    membership = _membership(context)
    if membership is None or membership.role not in {Role.COUNSELLOR, Role.ORG_ADMIN}:
        return {"count": 0, "oldest": []}
    waiting = (
        Referral.objects.visible_to(membership).filter(organisation_id=membership.organisation_id).awaiting_answer()
    )
    return {
        "count": waiting.count(),
        "oldest": list(waiting.select_related("site", "from_organisation").order_by("sent_at", "id")[:DASHBOARD_SIZE]),
    }


@register.simple_tag(takes_context=True)
def advisor_referrals(context: template.Context) -> list[Referral]:
    """`{% advisor_referrals as recent %}`: the advisor's own latest referrals, with their dossier's step."""
    membership = _membership(context)
    if membership is None:
        return []
    return list(
        Referral.objects.visible_to(membership)
        .filter(advisor_id=membership.user_id)
        .select_related("site", "organisation", "dossier")
        .order_by("-sent_at", "-id")[: DASHBOARD_SIZE * 2]
    )
