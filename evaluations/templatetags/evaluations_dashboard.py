"""The evaluator's home page: dossiers waiting for an evaluation, and the evaluator's own drafts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template
from django.db.models import OuterRef, Q, Subquery

from candidates.models import Dossier, DossierState
from evaluations.models import Evaluation
from training.models import TrainingPlan

register = template.Library()

WAITING_LIMIT = 20


@dataclass
class EvaluatorWorklist:
    waiting: list[Dossier]
    more_waiting: bool
    drafts: list[Evaluation]


@register.simple_tag(takes_context=True)
def evaluator_worklist(context: dict[str, Any]) -> EvaluatorWorklist:
    """Two queries whatever the number of dossiers. Waiting: opened dossiers (prior evaluation), and dossiers in
    training whose current plan is completed (final evaluation); the longest waiting first."""
    membership = context.get("current_membership")
    if membership is None:
        return EvaluatorWorklist(waiting=[], more_waiting=False, drafts=[])
    current_plan_completed_at = Subquery(
        TrainingPlan.objects.filter(dossier=OuterRef("pk")).order_by("-cycle").values("completed_at")[:1]
    )
    waiting = list(
        Dossier.objects.visible_to(membership)
        .annotate(current_plan_completed_at=current_plan_completed_at)
        .filter(
            Q(state=DossierState.OPENED) | Q(state=DossierState.IN_TRAINING, current_plan_completed_at__isnull=False)
        )
        .select_related("candidate")
        .order_by("updated_at", "id")[: WAITING_LIMIT + 1]
    )
    drafts = list(
        Evaluation.objects.visible_to(membership)
        .drafts()
        .filter(evaluator_id=membership.user_id)
        .select_related("dossier__candidate")
        .order_by("started_on", "id")
    )
    return EvaluatorWorklist(waiting=waiting[:WAITING_LIMIT], more_waiting=len(waiting) > WAITING_LIMIT, drafts=drafts)
