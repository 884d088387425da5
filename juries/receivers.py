"""The jury answers the evaluations' questions it owns the answer to."""

from __future__ import annotations

import datetime
from typing import Any

from django.dispatch import receiver

from evaluations.acquisitions import reopened_domains
from juries.models import Decision, DecisionKind


@receiver(reopened_domains, dispatch_uid="juries.deferrals")
def domains_deferred_by_a_jury(
    sender: Any, *, dossier: Any, **kwargs: Any
) -> list[tuple[datetime.datetime, list[str]]]:
    """A deferral (not revoked) names the domains the candidate must acquire again, from the jury's date."""
    deferrals = Decision.objects.filter(
        submission__dossier=dossier, kind=DecisionKind.DEFERRED, revoked_at__isnull=True
    ).values_list("decided_at", "missing_domains")
    return list(deferrals)
