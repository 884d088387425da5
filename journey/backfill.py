"""Documents promised before the outbox existed, and never produced (a message lost to a dead worker or a broker
restart): found from the business rows, and promised again. Idempotent: each is promised under the key its
service uses, so a document already promised or produced is not asked for twice."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from functools import partial

from django.db import transaction

from directory.models import DirectorySheet, SheetStatus
from directory.services import directory_sheet_promise
from evaluations.models import Attestation, Evaluation, EvaluationStatus
from evaluations.services import attestation_promise
from funding.models import BatchStatus, ClaimBatch
from funding.services import batch_promise
from juries.models import Certificate, Decision, DecisionKind, JurySession, SessionState
from juries.services import certificate_promise, minutes_promise
from outbox.models import SideEffect


def side_effects_backfill(*, dry_run: bool = False) -> Counter[str]:
    """Promise every missing document again; returns how many per kind (those a dry run would promise)."""
    promised: Counter[str] = Counter()
    known = set(SideEffect.objects.values_list("key", flat=True))

    def promise(key: str, kind: str, make: Callable[[], SideEffect]) -> None:
        if key in known:
            return
        promised[kind] += 1
        if not dry_run:
            make()

    with transaction.atomic():
        evaluations = (
            Evaluation.objects.filter(status=EvaluationStatus.CLOSED, outcome__all_validated=False)
            .exclude(pk__in=Attestation.objects.values("evaluation_id"))
            .select_related("dossier")
        )
        for evaluation in evaluations:
            promise(f"attestation:{evaluation.pk}", "attestation", partial(attestation_promise, evaluation))
        decisions = (
            Decision.objects.filter(
                kind=DecisionKind.AWARDED, revoked_at__isnull=True, submission__session__state=SessionState.CLOSED
            )
            .exclude(pk__in=Certificate.objects.produced().values("decision_id"))
            .select_related("submission__dossier")
        )
        for decision in decisions:
            promise(f"certificate:{decision.pk}", "certificate", partial(certificate_promise, decision))
        for session in JurySession.objects.filter(state=SessionState.CLOSED, minutes__isnull=True):
            promise(f"minutes:{session.pk}", "minutes", partial(minutes_promise, session))
        for batch in ClaimBatch.objects.filter(status__in=[BatchStatus.QUEUED, BatchStatus.RUNNING]):
            promise(f"batch:{batch.pk}", "batch", partial(batch_promise, batch))
        for sheet in DirectorySheet.objects.filter(status=SheetStatus.PENDING):
            promise(f"directory_sheet:{sheet.pk}", "directory_sheet", partial(directory_sheet_promise, sheet))
    return promised
