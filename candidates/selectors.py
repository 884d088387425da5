"""Reads of the organisation's dossiers for the screens (the counsellor's home page panel)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Count
from django.utils import timezone

from candidates.models import WARNING_BEFORE_DEADLINE, WINDOW_STATES, Dossier, DossierState
from organisations.models import Membership

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

DEADLINE_LIST_SIZE = 10


# Dicts rather than dataclasses: the home page's tests read them by key.
class StateCount(TypedDict):
    state: str
    label: StrOrPromise  # the choice's lazy label, translated when rendered
    count: int


class DossierBoard(TypedDict):
    total: int
    by_state: list[StateCount]
    deadline_soon: list[Dossier]
    warning_days: int


def dossier_board(membership: Membership, *, today: datetime.date | None = None) -> DossierBoard:
    """The dossiers the membership sees, counted per step in the journey's order with the empty steps left out
    (one aggregate query), and the open ones whose 5-year deadline falls within the warning period, the nearest
    first (one query)."""
    dossiers = Dossier.objects.visible_to(membership)
    counts = dict(dossiers.order_by().values_list("state").annotate(n=Count("id")))
    today = today or timezone.localdate()
    deadline_soon = list(
        dossiers.filter(state__in=WINDOW_STATES, deadline__gte=today, deadline__lte=today + WARNING_BEFORE_DEADLINE)
        .select_related("candidate")
        .order_by("deadline", "id")[:DEADLINE_LIST_SIZE]
    )
    return {
        "total": sum(counts.values()),
        "by_state": [
            {"state": value, "label": label, "count": counts[value]}
            for value, label in DossierState.choices
            if counts.get(value)
        ],
        "deadline_soon": deadline_soon,
        "warning_days": WARNING_BEFORE_DEADLINE.days,
    }
