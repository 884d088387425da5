"""The trainer's home-page block: the plans in progress, with their next session and the hours done."""

from __future__ import annotations

from django import template
from django.db.models import Min, OuterRef, Q, Subquery
from django.utils import timezone

from organisations.models import Membership
from training.models import TrainingPlan, TrainingSession

register = template.Library()

DASHBOARD_PLANS = 10


@register.simple_tag
def current_training_plans(membership: Membership | None) -> list[TrainingPlan]:
    """Plans not yet completed, soonest end first; `next_session` is the next session still to hold (today or
    later), `hours_done` the hours of the sessions done. One query, whatever the number of plans."""
    today = timezone.localdate()
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
    return list(plans[:DASHBOARD_PLANS])
