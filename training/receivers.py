"""Training follows the evaluations: a final evaluation that leaves gaps opens the next training cycle."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from candidates.signals import dossier_transfer_started, dossier_transferred
from evaluations.models import EvaluationKind
from evaluations.signals import evaluation_closed
from training.services import (
    training_plan_next_cycle,
    training_plans_close_for_transfer,
    training_plans_lock_for_transfer,
)


@receiver(evaluation_closed, dispatch_uid="training.next_cycle")
def open_next_cycle_after_final_evaluation_with_gaps(
    sender: Any, *, evaluation: Any, dossier: Any, outcome: Any, **kwargs: Any
) -> None:
    if evaluation.kind == EvaluationKind.FINAL and not outcome.all_validated:
        training_plan_next_cycle(dossier=dossier, outcome=outcome)


@receiver(dossier_transfer_started, dispatch_uid="training.transfer_lock")
def lock_plans_before_transfer(sender: Any, *, dossier: Any, **kwargs: Any) -> None:
    training_plans_lock_for_transfer(dossier=dossier)


@receiver(dossier_transferred, dispatch_uid="training.transfer_close")
def close_plans_after_transfer(sender: Any, *, dossier: Any, transfer: Any, by: Any, **kwargs: Any) -> None:
    training_plans_close_for_transfer(dossier=dossier, reason=transfer.reason, by=by.user if by is not None else None)
