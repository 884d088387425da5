"""The facts follow the journey: each change of step (and each move to another organisation, which may keep the
step) refreshes the dossier's fact row in the step's own transaction, so the statistics never lag behind it."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from candidates.models import DossierState
from candidates.signals import dossier_state_changed, dossier_transferred
from indicators.facts import fact_refresh


@receiver(dossier_state_changed, dispatch_uid="indicators.fact_refresh")
def refresh_fact_on_step(sender: Any, *, dossier: Any, event: Any, **kwargs: Any) -> None:
    # A dossier at the information step is not in the statistics yet: nothing to read.
    if event.to_state != DossierState.INFORMATION:
        fact_refresh(dossier.pk)


@receiver(dossier_transferred, dispatch_uid="indicators.fact_refresh_on_transfer")
def refresh_fact_on_transfer(sender: Any, *, dossier: Any, **kwargs: Any) -> None:
    fact_refresh(dossier.pk)
