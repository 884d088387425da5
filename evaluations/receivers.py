"""Evaluations follow the dossier: a move to another organisation abandons the evaluation in progress there."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from candidates.signals import dossier_transfer_started, dossier_transferred
from evaluations.services import evaluation_abandon_for_transfer, evaluation_drafts_lock_for_transfer


@receiver(dossier_transfer_started, dispatch_uid="evaluations.transfer_lock")
def lock_draft_before_transfer(sender: Any, *, dossier: Any, **kwargs: Any) -> None:
    evaluation_drafts_lock_for_transfer(dossier=dossier)


@receiver(dossier_transferred, dispatch_uid="evaluations.transfer_abandon")
def abandon_draft_after_transfer(sender: Any, *, dossier: Any, transfer: Any, by: Any, **kwargs: Any) -> None:
    evaluation_abandon_for_transfer(dossier=dossier, transfer=transfer, by=by.user if by is not None else None)
