"""The outbox: a side effect is a row written in the business transaction; a message on the broker only makes it
happen sooner. `side_effect_run` produces it at most once (a row lock, and the row marked done in the transaction
that writes what it produced); `side_effects_requeue`, every minute from beat, queues again what stays pending."""

from __future__ import annotations

import datetime
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from clea_platform.errors import BusinessRefusal
from clea_platform.tasks_queue import enqueue, queue_depth
from organisations.models import Membership, Organisation, User
from organisations.services import audit_record
from outbox import registry
from outbox.models import SideEffect, SideEffectState

logger = logging.getLogger(__name__)


class OutboxError(BusinessRefusal):
    code = "side_effect_refused"


def side_effect_add(
    *,
    kind: str,
    key: str,
    label: str,
    organisation: Organisation | int | None,
    arguments: dict[str, Any] | None = None,
    requested_by: User | None = None,
) -> SideEffect:
    """Promise a side effect, inside the caller's transaction: the row commits with the business rows or not at
    all, and a message is queued once it has. Asking again for the same `key` returns the first row."""
    registry.get(kind)  # an unknown kind fails here, in the request, not later in a worker
    side_effect, created = SideEffect.objects.get_or_create(
        key=key,
        defaults={
            "kind": kind,
            "label": label[:200],
            "organisation_id": organisation.pk if isinstance(organisation, Organisation) else organisation,
            "arguments": arguments or {},
            "requested_by": requested_by,
        },
    )
    if created:
        transaction.on_commit(partial(dispatch, side_effect.pk, side_effect.kind))
    return side_effect


def dispatch(side_effect_id: int, kind: str) -> bool:
    """Queue one run on the kind's queue. False when the broker is unreachable: the row stays pending and the
    re-queueing job sends it later."""
    from outbox.tasks import side_effect_run_task

    queue = registry.get(kind).queue
    return enqueue(side_effect_run_task, side_effect_id, _options=_queue_options(queue))


def _queue_options(queue: str) -> dict[str, Any]:
    if queue == settings.CELERY_PDF_QUEUE:
        return {
            "queue": queue,
            "soft_time_limit": settings.LONG_TASK_SOFT_TIME_LIMIT,
            "time_limit": settings.LONG_TASK_TIME_LIMIT,
        }
    return {"queue": queue}


def _backoff(attempts: int) -> datetime.timedelta:
    """10 s, 20 s, 40 s... after the n-th failed attempt, at most settings.TASK_RETRY_BACKOFF_MAX."""
    return datetime.timedelta(seconds=min(10 * 2 ** max(attempts - 1, 0), settings.TASK_RETRY_BACKOFF_MAX))


def side_effect_run(side_effect_id: int) -> SideEffect | None:
    """Produce one side effect. None when there is nothing to do here: it is done, failed for good, waiting for
    its backoff, or another worker holds it right now.

    The attempt is counted in a transaction of its own first, so that a worker killed mid-run still counts it:
    an effect that kills every worker that touches it stops after settings.SIDE_EFFECT_MAX_ATTEMPTS. Then the
    handler runs inside a transaction that holds the row's lock and marks it done: what it writes and the
    "done" commit together, and a worker that dies releases the lock with its connection."""
    with transaction.atomic():
        row = _claim(side_effect_id)
        if row is None:
            return None
        if row.attempts >= settings.SIDE_EFFECT_MAX_ATTEMPTS:
            row.state = SideEffectState.FAILED
            row.last_error = row.last_error or _("Abandonné après %(n)s tentatives interrompues.") % {"n": row.attempts}
            row.save(update_fields=["state", "last_error"])
            logger.error("Side effect %s (%s) abandoned after %s attempts", row.pk, row.key, row.attempts)
            return row
        row.attempts += 1
        row.save(update_fields=["attempts"])
    kind = registry.get(row.kind)
    try:
        with transaction.atomic():
            row = _claim(side_effect_id)
            if row is None:
                return None
            produced = kind.handler(**row.arguments)
            row.state, row.done_at, row.last_error = SideEffectState.DONE, timezone.now(), ""
            row.result = str(produced)[:200] if produced is not None else ""
            if kind.forget_arguments:
                row.arguments = {}
            row.save(update_fields=["state", "done_at", "last_error", "result", "arguments"])
            return row
    except Exception as exc:  # any failure is recorded on the row and retried, up to a limit
        logger.exception("Side effect %s (%s) failed", side_effect_id, kind.name)
        return _record_failure(side_effect_id, exc)


def _claim(side_effect_id: int) -> SideEffect | None:
    """The row, locked, if it is due; None if another worker holds it (SKIP LOCKED) or it is not due."""
    return SideEffect.objects.select_for_update(skip_locked=True).filter(pk=side_effect_id).due().first()


def _record_failure(side_effect_id: int, exc: Exception) -> SideEffect | None:
    with transaction.atomic():
        row = SideEffect.objects.select_for_update().filter(pk=side_effect_id).first()
        if row is None or row.state != SideEffectState.PENDING:
            return row
        row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if row.attempts >= settings.SIDE_EFFECT_MAX_ATTEMPTS:
            row.state = SideEffectState.FAILED
        else:
            row.available_at = timezone.now() + _backoff(row.attempts)
        row.save(update_fields=["last_error", "state", "available_at"])
        return row


def side_effects_requeue(*, limit: int = 1000) -> int:
    """Queue again the pending side effects whose message was lost (a broker restarted without persistence, a
    web process that died between its commit and its publish, a backoff that ended). Returns how many.

    Rows queued less than settings.SIDE_EFFECT_REQUEUE_AFTER seconds ago are left alone, rows a worker holds are
    skipped (SKIP LOCKED), and a queue is topped up only by what it lacks: with 300 rows pending and 280 messages
    waiting, the 20 longest-waiting rows are queued again, not 300 (a long backlog is not multiplied)."""
    now = timezone.now()
    threshold = now - datetime.timedelta(seconds=settings.SIDE_EFFECT_REQUEUE_AFTER)
    with transaction.atomic():
        pending = list(
            SideEffect.objects.select_for_update(skip_locked=True)
            .due()
            .order_by("dispatched_at", "pk")
            .values_list("pk", "kind", "dispatched_at")[: limit * 2]
        )
        by_queue: dict[str, list[tuple[int, str, datetime.datetime]]] = defaultdict(list)
        for pk, kind, dispatched_at in pending:
            by_queue[registry.get(kind).queue].append((pk, kind, dispatched_at))
        chosen: list[tuple[int, str]] = []
        for queue, rows in by_queue.items():
            waiting = queue_depth(queue) or 0
            missing = max(len(rows) - waiting, 0)
            chosen += [(pk, kind) for pk, kind, dispatched_at in rows[:missing] if dispatched_at <= threshold]
        chosen = chosen[:limit]
        SideEffect.objects.filter(pk__in=[pk for pk, _kind in chosen]).update(dispatched_at=now)
    sent = sum(dispatch(pk, kind) for pk, kind in chosen)
    if chosen:
        logger.warning("Re-queued %s pending side effects (%s published)", len(chosen), sent)
    return len(chosen)


def side_effect_retry(*, side_effect: SideEffect, by: Membership, request: HttpRequest | None = None) -> SideEffect:
    """An operator runs a failed (or stuck pending) side effect again, with a fresh count of attempts."""
    with transaction.atomic():
        locked = SideEffect.objects.visible_to(by).select_for_update().get(pk=side_effect.pk)
        if locked.state == SideEffectState.DONE:
            raise OutboxError(_("Cet effet est déjà fait : il n'y a rien à relancer."))
        locked.state, locked.attempts, locked.available_at = SideEffectState.PENDING, 0, timezone.now()
        locked.dispatched_at = timezone.now()
        locked.save(update_fields=["state", "attempts", "available_at", "dispatched_at"])
        audit_record(
            action="outbox.retry",
            actor=by.user,
            organisation=locked.organisation_id,
            obj=locked,
            request=request,
            details={"kind": locked.kind, "last_error": locked.last_error[:500]},
        )
        transaction.on_commit(partial(dispatch, locked.pk, locked.kind))
    return locked


def side_effects_purge(*, kinds: Iterable[str] | None = None) -> int:
    """Forget done side effects older than settings.SIDE_EFFECT_RETENTION_DAYS (the documents stay: they are
    rows of their own). Daily."""
    cutoff = timezone.now() - datetime.timedelta(days=settings.SIDE_EFFECT_RETENTION_DAYS)
    done = SideEffect.objects.filter(state=SideEffectState.DONE, done_at__lt=cutoff)
    if kinds is not None:
        done = done.filter(kind__in=list(kinds))
    deleted, _rows = done.delete()
    return deleted


def email_add(*, subject: str, body: str, to: list[str], organisation: Organisation | int | None) -> SideEffect | None:
    """An e-mail sent once the caller's transaction commits, kept as a side effect until it has left. None when
    nobody is to receive it."""
    recipients = [address for address in to if address]
    if not recipients:
        return None
    return side_effect_add(
        kind="email",
        key=f"email:{uuid.uuid4()}",
        label=_("Courriel « %(subject)s »") % {"subject": subject},
        organisation=organisation,
        arguments={"subject": subject, "body": body, "to": recipients},
    )
