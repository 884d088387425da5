from __future__ import annotations

from typing import Any

from django import template
from django.db.models import Count
from django.utils import timezone

from candidates.models import WARNING_BEFORE_DEADLINE, WINDOW_STATES, Dossier, DossierState

register = template.Library()

DEADLINE_LIST_SIZE = 10


@register.simple_tag(takes_context=True)
def counsellor_dashboard(context: template.Context) -> dict[str, Any]:
    """`{% counsellor_dashboard as board %}`: the organisation's dossiers per step (one aggregate query) and
    those whose 5-year deadline falls within the warning period (one query)."""
    request = context.get("request")
    membership = getattr(request, "membership", None) or context.get("current_membership")
    dossiers = Dossier.objects.visible_to(membership)
    counts = dict(dossiers.order_by().values_list("state").annotate(n=Count("id")))
    today = timezone.localdate()
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
