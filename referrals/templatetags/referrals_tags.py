from django import template
from django.utils.html import format_html

from referrals.models import ReferralState

register = template.Library()

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
