"""The facts follow the journey: each change of step (and each move to another organisation, which may keep the
step) refreshes the dossier's fact row once the step's transaction has committed. A failure there is logged and
never undoes the step; the nightly rebuild (`indicators.tasks.facts_rebuild_task`) repairs what it missed. A
deleted dossier takes its fact with it."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from candidates.models import Dossier, DossierState
from candidates.signals import dossier_state_changed, dossier_transferred
from indicators.facts import fact_refresh
from indicators.models import DossierFact

logger = logging.getLogger(__name__)


def _refresh_after_commit(dossier_id: int) -> None:
    def refresh() -> None:
        try:
            fact_refresh(dossier_id)
        except Exception:  # the statistics must never break a step; the nightly rebuild catches up
            logger.exception("indicators: fact of dossier %s not refreshed", dossier_id)

    transaction.on_commit(refresh)


@receiver(dossier_state_changed, dispatch_uid="indicators.fact_refresh")
def refresh_fact_on_step(sender: Any, *, dossier: Any, event: Any, **kwargs: Any) -> None:
    # A dossier at the information step is not in the statistics yet: nothing to read.
    if event.to_state != DossierState.INFORMATION:
        _refresh_after_commit(dossier.pk)


@receiver(dossier_transferred, dispatch_uid="indicators.fact_refresh_on_transfer")
def refresh_fact_on_transfer(sender: Any, *, dossier: Any, **kwargs: Any) -> None:
    _refresh_after_commit(dossier.pk)


@receiver(post_delete, sender=Dossier, dispatch_uid="indicators.fact_delete")
def delete_fact_with_its_dossier(sender: Any, *, instance: Dossier, **kwargs: Any) -> None:
    # In the deletion's own transaction: no fact outlives its dossier (its gaps follow by cascade).
    DossierFact.objects.filter(dossier_id=instance.pk).delete()
