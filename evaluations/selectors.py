"""Reads of evaluations for the screens (the evaluator's home page)."""

from __future__ import annotations

from evaluations.models import Evaluation
from organisations.models import Membership


def evaluation_drafts_of(membership: Membership) -> list[Evaluation]:
    """The evaluations this evaluator started and has not closed, the oldest first. One query."""
    return list(
        Evaluation.objects.visible_to(membership)
        .drafts()
        .filter(evaluator_id=membership.user_id)
        .select_related("dossier__candidate")
        .order_by("started_on", "id")
    )
