"""Training follows the evaluations: a final evaluation that leaves gaps opens the next training cycle."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from evaluations.models import EvaluationKind
from evaluations.signals import evaluation_closed
from training.services import training_plan_next_cycle


@receiver(evaluation_closed, dispatch_uid="training.next_cycle")
def open_next_cycle_after_final_evaluation_with_gaps(
    sender: Any, *, evaluation: Any, dossier: Any, outcome: Any, **kwargs: Any
) -> None:
    if evaluation.kind == EvaluationKind.FINAL and not outcome.all_validated:
        training_plan_next_cycle(dossier=dossier, outcome=outcome)
