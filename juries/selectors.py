from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from juries.models import (
    PENDING,
    REVOKED,
    ConflictDeclaration,
    DecisionKind,
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


@dataclass(frozen=True)
class DecisionTally:
    """How many of a session's submissions (those the reader sees) sit in each bucket of its page: `PENDING`,
    each decision kind in force, `REVOKED`."""

    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def pending(self) -> int:
        return self.counts.get(PENDING, 0)

    @property
    def awarded(self) -> int:
        return self.counts.get(DecisionKind.AWARDED, 0)


def decision_tally(submissions: QuerySet[Submission]) -> DecisionTally:
    """The submissions counted per bucket, in one grouped query (no row is built)."""
    revoked = ExpressionWrapper(Q(decision__revoked_at__isnull=False), output_field=BooleanField())
    rows = (
        submissions.order_by()
        .annotate(revoked=revoked)
        .values("decision__kind", "revoked")
        # A juror's scope joins their seats (`visible_to` is distinct): count each submission once.
        .annotate(n=Count("pk", distinct=True))
    )
    counts: dict[str, int] = {}
    for row in rows:
        key = REVOKED if row["revoked"] else (row["decision__kind"] or PENDING)
        counts[key] = counts.get(key, 0) + row["n"]
    return DecisionTally(counts)


# What a row of a session's dossier table shows: read as plain values, no model instance per row.
SESSION_ROW_FIELDS = (
    "pk",
    "submitted_at",
    "dossier__reference",
    "dossier__candidate__first_name",
    "dossier__candidate__last_name",
    "dossier__organisation__name",
    "decision__pk",
    "decision__kind",
    "decision__revoked_at",
    "decision__missing_domains",
)


def session_rows(submissions: QuerySet[Submission]) -> QuerySet[Submission, dict[str, Any]]:
    """A session's submissions as the rows of its page (`SESSION_ROW_FIELDS`), in the session's order. One query
    when evaluated, lazily, so that a paginator slices it."""
    return submissions.values(*SESSION_ROW_FIELDS).order_by("submitted_at", "pk")


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
