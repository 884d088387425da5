import functools

from django import template
from django.utils.html import format_html
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

from juries.models import Decision, DecisionKind, SessionState

register = template.Library()

# The badge's colour repeats what its text says; it never carries the information alone.
SESSION_BADGES = {
    SessionState.PLANNED: "neutral",
    SessionState.CONVENED: "info",
    SessionState.DELIBERATING: "warning",
    SessionState.CLOSED: "success",
}
DECISION_BADGES = {
    DecisionKind.AWARDED: "success",
    DecisionKind.DEFERRED: "warning",
    DecisionKind.REFUSED: "danger",
    DecisionKind.ABSENT: "neutral",
    DecisionKind.EXCUSED: "neutral",
}


def session_state_label(state: str) -> str:
    # The model's label "Close" is also a msgid of Django's own catalogue, translated there as the verb
    # "Fermer": asked with a context, it stays the French adjective it is.
    if state == SessionState.CLOSED:
        return pgettext("jury session state", "Close")
    return str(SessionState(state).label) if state in SessionState.values else state


@register.simple_tag
def session_state_badge(state: str) -> str:
    """`{% session_state_badge session.state %}`: the session's state in a badge."""
    label = session_state_label(state)
    return format_html('<span class="badge badge--{}">{}</span>', SESSION_BADGES.get(state, "neutral"), label)


@register.simple_tag
def decision_badge(decision: Decision | str | None) -> str:
    """`{% decision_badge submission.decision %}`: the decision, and in words when it was revoked. A submission
    without a decision hands the template engine's empty value, not None."""
    if not isinstance(decision, Decision):
        return decision_badge_html("")
    return decision_badge_html(decision.kind, revoked=decision.is_revoked)


def decision_badge_html(kind: str, *, revoked: bool = False) -> str:
    """The badge of a decision of this kind ("" when none is recorded yet), for rows read as plain values."""
    return _decision_badge(get_language(), kind, revoked)


@functools.cache
def _decision_badge(language: str, kind: str, revoked: bool) -> str:
    # A session page shows up to 200 of these: translating the same few labels each time was a tenth of it.
    if not kind:
        return format_html('<span class="badge badge--neutral">{}</span>', _("En attente de décision"))
    label = DecisionKind(kind).label if kind in DecisionKind.values else kind
    if revoked:
        return format_html('<span class="badge badge--neutral">{} – {}</span>', label, _("révoquée"))
    return format_html('<span class="badge badge--{}">{}</span>', DECISION_BADGES.get(kind, "neutral"), label)
