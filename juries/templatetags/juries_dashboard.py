from __future__ import annotations

from typing import Any

from django import template
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from juries.models import ConflictDeclaration, JuryMember, JurySession, SessionState, Submission

register = template.Library()

UPCOMING_SIZE = 10


def _with_dossier_count(sessions: Any) -> Any:
    counts = (
        Submission.objects.filter(session=OuterRef("pk"))
        .order_by()
        .values("session")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return sessions.annotate(dossier_count=Coalesce(Subquery(counts, output_field=IntegerField()), Value(0)))


@register.simple_tag(takes_context=True)
def jury_dashboard(context: template.Context) -> dict[str, Any]:
    """`{% jury_dashboard as board %}`: the member's upcoming sessions with their number of dossiers, the sessions
    in deliberation they preside, and how many conflicts of interest they have on record (three queries)."""
    request = context.get("request")
    membership = getattr(request, "membership", None) or context.get("current_membership")
    sessions = JurySession.objects.visible_to(membership).select_related("organisation")
    upcoming = list(
        _with_dossier_count(
            sessions.filter(state__in=[SessionState.PLANNED, SessionState.CONVENED], date__gte=timezone.now())
        ).order_by("date", "pk")[:UPCOMING_SIZE]
    )
    presiding = list(
        _with_dossier_count(
            JurySession.objects.filter(
                state=SessionState.DELIBERATING,
                seats__is_president=True,
                seats__member__user_id=getattr(membership, "user_id", None),
            ).select_related("organisation")
        ).order_by("date", "pk")
    )
    conflict_count = ConflictDeclaration.objects.filter(
        seat__member__in=JuryMember.objects.visible_to(membership)
    ).count()
    return {"upcoming": upcoming, "presiding": presiding, "conflict_count": conflict_count}
