from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from juries.models import (
    ConflictDeclaration,
    JuryMember,
    JurySession,
    SessionSeat,
    SessionState,
    Submission,
)
from organisations.models import Membership

if TYPE_CHECKING:
    from candidates.models import Dossier

UPCOMING_SESSIONS_SIZE = 10


def related_count(model: type[Submission | SessionSeat], field: str) -> Coalesce:
    """The count of `model` rows pointing at each row through `field`, as a subquery (`related_count(Submission,
    "session")` per session): no join that a scoped queryset's own filters could narrow."""
    counts = (
        model.objects.filter(**{field: OuterRef("pk")}).order_by().values(field).annotate(n=Count("pk")).values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))


def submissions_for_session(session: JurySession, membership: Membership) -> QuerySet[Submission]:
    return (
        Submission.objects.of_session(session, membership)
        .select_related("dossier__candidate", "dossier__organisation", "decision")
        # One query for the conflicts with their juror, not one per level: most submissions have none.
        .prefetch_related(
            Prefetch("conflicts", queryset=ConflictDeclaration.objects.select_related("seat__member__user"))
        )
    )


def upcoming_sessions_for(membership: Membership, *, limit: int = UPCOMING_SESSIONS_SIZE) -> list[JurySession]:
    """The sessions to come (planned or convened) that the membership sees, the soonest first, each with its
    `dossier_count`. One query."""
    return list(
        JurySession.objects.visible_to(membership)
        .select_related("organisation")
        .filter(state__in=[SessionState.PLANNED, SessionState.CONVENED], date__gte=timezone.now())
        .annotate(dossier_count=related_count(Submission, "session"))
        .order_by("date", "pk")[:limit]
    )


def deliberations_presided_by(membership: Membership) -> list[JurySession]:
    """The sessions in deliberation that the membership's user presides, whichever body seated them, each with
    its `dossier_count`. One query."""
    return list(
        JurySession.objects.visible_to(membership)
        .filter(state=SessionState.DELIBERATING, seats__is_president=True, seats__member__user_id=membership.user_id)
        .select_related("organisation")
        .annotate(dossier_count=related_count(Submission, "session"))
        .order_by("date", "pk")
    )


def conflict_count_for(membership: Membership) -> int:
    """How many conflicts of interest the membership's jury members have on record. One query."""
    return ConflictDeclaration.objects.filter(seat__member__in=JuryMember.objects.visible_to(membership)).count()


def jury_session_of(dossier: Dossier, membership: Membership) -> JurySession | None:
    """The session the dossier was last submitted to, as the membership may see its submission. One query."""
    submission = (
        Submission.objects.visible_to(membership)
        .filter(dossier=dossier)
        .select_related("session")
        .order_by("-submitted_at", "-id")
        .first()
    )
    return submission.session if submission is not None else None
