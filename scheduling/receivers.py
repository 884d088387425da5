"""Scheduling follows the dossier: a move to another organisation closes what was in progress at the previous one."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from candidates.signals import dossier_transfer_started, dossier_transferred
from scheduling.services import dossier_transfer_close, dossier_transfer_lock


@receiver(dossier_transfer_started, dispatch_uid="scheduling.transfer_lock")
def lock_before_transfer(sender: Any, *, dossier: Any, **kwargs: Any) -> None:
    dossier_transfer_lock(dossier=dossier)


@receiver(dossier_transferred, dispatch_uid="scheduling.transfer_close")
def close_after_transfer(sender: Any, *, dossier: Any, transfer: Any, by: Any, **kwargs: Any) -> None:
    dossier_transfer_close(dossier=dossier, reason=transfer.reason, by=by.user if by is not None else None)
