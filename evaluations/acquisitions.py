"""What a dossier has acquired so far, and the outcome it gives against the dossier's référentiel.

What was acquired stays acquired, except in the domains that a later step sent back to be acquired again
(a jury's deferral). That step sits above evaluations in the journey, so it is not imported here: it answers
the `reopened_domains` signal.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, cast

from django.dispatch import Signal

from evaluations.models import CriterionResult, CriterionResultValue, EvaluationStatus
from referentiels.outcomes import Outcome, compute_outcome

if TYPE_CHECKING:
    from candidates.models import Dossier
    from evaluations.models import Evaluation

# kwargs: dossier. Each receiver returns [(reopened_at, [domain codes]), ...]: criteria of those domains
# acquired at an evaluation closed before `reopened_at` no longer count.
reopened_domains = Signal()


def acquired_criterion_ids(dossier: Dossier, *, up_to: datetime.datetime | None = None) -> set[int]:
    """Criteria acquired at any closed evaluation of the dossier, less the reopened domains. With `up_to`: as they
    stood then (evaluations closed by then, domains reopened by then), which is what an attestation states."""
    acquired = CriterionResult.objects.filter(
        evaluation__dossier=dossier,
        evaluation__status=EvaluationStatus.CLOSED,
        result=CriterionResultValue.ACQUIRED,
    )
    if up_to is not None:
        acquired = acquired.filter(evaluation__closed_at__lte=up_to)
    # django-stubs types a receiver's answer as `str | None`; this signal's receivers answer reopenings.
    reopenings = [
        reopening
        for _receiver, answer in reopened_domains.send(sender=type(dossier), dossier=dossier)
        for reopening in cast("list[tuple[datetime.datetime, list[str]]]", answer)
    ]
    for reopened_at, domains in reopenings:
        if up_to is not None and reopened_at > up_to:
            continue
        acquired = acquired.exclude(
            criterion__subdomain__domain__code__in=domains, evaluation__closed_at__lt=reopened_at
        )
    return set(acquired.values_list("criterion_id", flat=True))


def dossier_outcome(dossier: Dossier) -> Outcome:
    """The validation rule applied to what the dossier has acquired (domains, sub-domains, gaps)."""
    return compute_outcome(dossier.referentiel.domains_tree(), acquired_criterion_ids(dossier))


def attestation_outcome(evaluation: Evaluation) -> Outcome:
    """What the attestation of a closed evaluation states, whenever it is rendered (first, again, or checked on the
    public page): what the dossier had acquired when that evaluation closed, and the criteria still to acquire."""
    dossier = evaluation.dossier
    return compute_outcome(
        dossier.referentiel.domains_tree(), acquired_criterion_ids(dossier, up_to=evaluation.closed_at)
    )
