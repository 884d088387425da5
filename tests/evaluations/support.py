"""Small steps the evaluation tests share (the journey factories live in tests/journey.py)."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from candidates.models import Dossier
from evaluations.models import CriterionResultValue, Evaluation
from training.models import TrainingPlan
from training.services import training_plan_complete, training_session_add


def complete_training(dossier: Dossier) -> TrainingPlan:
    """The trainer records a session done and declares the current plan completed."""
    plan = TrainingPlan.objects.filter(dossier=dossier).order_by("-cycle").first()
    training_session_add(
        plan=plan,
        by=dossier.team.trainer,
        date=timezone.localdate(),
        duration_hours=Decimal("3"),
        topic="Calcul",
        done=True,
    )
    return training_plan_complete(plan=plan, by=dossier.team.trainer, shortfall_reason="Objectifs atteints.")


def grid_post_data(evaluation: Evaluation, acquired: set[str] = frozenset(), comments: dict[str, str] | None = None):
    """The grid form as a browser posts it: one checked radio and one comment box per line."""
    comments = comments or {}
    data = {}
    for line in evaluation.results.select_related("criterion"):
        code = line.criterion.code
        data[f"result-{line.criterion_id}"] = (
            CriterionResultValue.ACQUIRED if code in acquired else CriterionResultValue.NOT_ACQUIRED
        )
        data[f"comment-{line.criterion_id}"] = comments.get(code, "")
    return data
