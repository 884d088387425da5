"""Reads of training plans for the screens (the trainer's home page)."""

from __future__ import annotations

import datetime

from django.db.models import Min, OuterRef, Q, Subquery
from django.utils import timezone

from organisations.models import Membership
from training.models import TrainingPlan, TrainingSession

PLANS_IN_PROGRESS_SIZE = 10


def training_plans_in_progress(
    membership: Membership, *, today: datetime.date | None = None, limit: int = PLANS_IN_PROGRESS_SIZE
) -> list[TrainingPlan]:
    """Plans not yet completed, soonest end first; `next_session` is the next session still to hold (today or
    later), `hours_done` the hours of the sessions done. One query, whatever the number of plans."""
    today = today or timezone.localdate()
    next_session = (
        TrainingSession.objects.filter(plan=OuterRef("pk"))
        .filter(Q(done=False) & Q(date__gte=today))
        .order_by()
        .values("plan")
        .annotate(first=Min("date"))
        .values("first")
    )
    plans = (
        TrainingPlan.objects.visible_to(membership)
        .filter(completed_at__isnull=True)
        .with_progress()
        .annotate(next_session=Subquery(next_session))
        .select_related("dossier__candidate")
        .order_by("ends_on", "id")
    )
    return list(plans[:limit])
