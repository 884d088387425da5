"""The outbox: a side effect is a row written in the business transaction; a message on the broker only makes it
happen sooner. `side_effect_run` produces it, one worker at a time, with an idempotent producer;
`side_effects_requeue`, every minute from beat, queues again what stays pending."""

from __future__ import annotations

import datetime
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, models, transaction
from django.db.models.fields.files import FieldFile
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from clea_platform.backup import sha256_field_name
from clea_platform.changes import TracksChanges, rows_changed
from clea_platform.errors import BusinessRefusal
from clea_platform.pdf import sha256_hex
from clea_platform.tasks_queue import enqueue, queue_depth
from organisations.models import Membership, Organisation, Role, User, owning_organisation_id
from organisations.services import audit_record
from outbox import registry
from outbox.models import DocumentVersion, SideEffect, SideEffectState

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


def side_effects_add(promises: list[dict[str, Any]]) -> list[SideEffect]:
    """Several `side_effect_add` at once (each dict holds its keyword arguments), in one insert rather than a read
    and an insert per effect: same rows, same dispatch on commit, same answer (each key's row, in the order asked).
    A key already promised (asked twice, or by a concurrent transaction) makes the insert fail: its savepoint is
    rolled back and each effect is then asked for alone, as side_effect_add does, which returns the first row."""
    for promise in promises:
        registry.get(promise["kind"])  # an unknown kind fails here, in the request, not later in a worker
    rows: dict[str, SideEffect] = {}
    for promise in promises:
        organisation = promise["organisation"]
        rows.setdefault(
            promise["key"],
            SideEffect(
                key=promise["key"],
                kind=promise["kind"],
                label=promise["label"][:200],
                organisation_id=organisation.pk if isinstance(organisation, Organisation) else organisation,
                arguments=promise.get("arguments") or {},
                requested_by=promise.get("requested_by"),
            ),
        )
    if not rows:
        return []
    if not connection.features.can_return_rows_from_bulk_insert:
        return [side_effect_add(**promise) for promise in promises]
    try:
        with transaction.atomic():
            SideEffect.objects.bulk_create(rows.values())
    except IntegrityError:
        return [side_effect_add(**promise) for promise in promises]
    for side_effect in rows.values():
        transaction.on_commit(partial(dispatch, side_effect.pk, side_effect.kind))
    return [rows[promise["key"]] for promise in promises]


def dispatch(side_effect_id: int, kind: str) -> bool:
    """Queue one run on the kind's queue. False when the broker is unreachable: the row stays pending and the
    re-queueing job sends it later."""
    from outbox.tasks import side_effect_run_task

    return enqueue(side_effect_run_task, side_effect_id, _options=_queue_options(registry.get(kind)))


def _queue_options(kind: registry.Kind) -> dict[str, Any]:
    options: dict[str, Any] = {"queue": kind.queue, "priority": kind.priority}
    if kind.queue == settings.CELERY_PDF_QUEUE:
        options.update(soft_time_limit=settings.LONG_TASK_SOFT_TIME_LIMIT, time_limit=settings.LONG_TASK_TIME_LIMIT)
    return options


def _backoff(attempts: int) -> datetime.timedelta:
    """10 s, 20 s, 40 s... after the n-th failed attempt, at most settings.TASK_RETRY_BACKOFF_MAX."""
    return datetime.timedelta(seconds=min(10 * 2 ** max(attempts - 1, 0), settings.TASK_RETRY_BACKOFF_MAX))


def side_effect_run(side_effect_id: int) -> SideEffect | None:
    """Produce one side effect. None when there is nothing to do here: it is done, failed for good, waiting for
    its backoff, or another worker is producing it right now.

    A worker holds the effect with a PostgreSQL advisory lock on its connection for the whole run, so a duplicate
    message (redelivered, re-queued) does nothing meanwhile and a worker that dies releases it with its
    connection. The lock is not a transaction: the producer commits as it goes (a batch shows its progress, a
    failed sheet says so at once) and is idempotent, so a run killed after the producer's commit and before the
    "done" mark only finds, next time, the document already there. The attempt is counted before the run, so
    that an effect that kills every worker that touches it stops after its kind's limit
    (settings.SIDE_EFFECT_MAX_ATTEMPTS unless the kind says otherwise)."""
    with _held(side_effect_id) as held:
        if not held:
            return None
        with transaction.atomic():
            row = SideEffect.objects.select_for_update().filter(pk=side_effect_id).due().first()
            if row is None:
                return None
            kind = registry.get(row.kind)
            if row.attempts >= kind.attempts_limit:
                row.state, row.started_at = SideEffectState.FAILED, None
                row.last_error = row.last_error or ngettext(
                    "Abandonné après %(n)s tentative interrompue.",
                    "Abandonné après %(n)s tentatives interrompues.",
                    row.attempts,
                ) % {"n": row.attempts}
                row.save(update_fields=["state", "started_at", "last_error"])
                logger.error("Side effect %s (%s) abandoned after %s attempts", row.pk, row.key, row.attempts)
                return row
            row.attempts, row.started_at = row.attempts + 1, timezone.now()
            row.save(update_fields=["attempts", "started_at"])
        try:
            produced = kind.handler(**row.arguments)
        except Exception as exc:  # any failure is recorded on the row and retried, up to a limit
            logger.exception("Side effect %s (%s) failed", side_effect_id, kind.name)
            return _record_failure(side_effect_id, exc)
        row.state, row.done_at, row.started_at, row.last_error = SideEffectState.DONE, timezone.now(), None, ""
        row.result = str(produced)[:200] if produced is not None else ""
        if kind.forget_arguments:
            row.arguments = {}
        row.save(update_fields=["state", "done_at", "started_at", "last_error", "result", "arguments"])
        return row


# The first key of PostgreSQL's two-key advisory locks: this module's, so that no other lock collides.
_LOCK_CLASS = 0x0B0C


def _lock_key(side_effect_id: int) -> tuple[int, int]:
    return (_LOCK_CLASS, side_effect_id % 2**31)


def _being_produced() -> set[int] | None:
    """The second keys of the advisory locks workers hold now (PostgreSQL); None elsewhere."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND objsubid = 2 AND granted",
            [_LOCK_CLASS],
        )
        return {int(objid) for (objid,) in cursor.fetchall()}


@contextmanager
def _held(side_effect_id: int) -> Iterator[bool]:
    """True while this connection holds the effect's advisory lock; False when another session holds it. Other
    databases (SQLite, the embedded mode, where tasks run one at a time in the request) need none."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = _lock_key(side_effect_id)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", key)
        held = bool(cursor.fetchone()[0])
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", key)


def _record_failure(side_effect_id: int, exc: Exception) -> SideEffect | None:
    with transaction.atomic():
        row = SideEffect.objects.select_for_update().filter(pk=side_effect_id).first()
        if row is None or row.state != SideEffectState.PENDING:
            return row
        row.last_error, row.started_at = f"{type(exc).__name__}: {exc}"[:2000], None
        if row.attempts >= registry.get(row.kind).attempts_limit:
            row.state = SideEffectState.FAILED
        else:
            row.available_at = timezone.now() + _backoff(row.attempts)
        row.save(update_fields=["last_error", "started_at", "state", "available_at"])
        return row


def side_effects_requeue(*, limit: int = 1000) -> int:
    """Queue again the pending side effects whose message was lost (a broker restarted without persistence, a
    web process that died between its commit and its publish, a backoff that ended). Returns how many.

    Rows queued less than settings.SIDE_EFFECT_REQUEUE_AFTER seconds ago are left alone, and so are rows a worker
    is producing right now (it holds their advisory lock; a killed worker's lock went with its connection, so its
    row is queued again at once, not when Redis gives its unacknowledged message back, 15 minutes later). A queue
    is topped up only by what it lacks: with 300 rows pending and 280 messages waiting, the 20 longest-waiting
    rows are queued again, not 300 (a long backlog is not multiplied)."""
    now = timezone.now()
    threshold = now - datetime.timedelta(seconds=settings.SIDE_EFFECT_REQUEUE_AFTER)
    being_produced = _being_produced()
    with transaction.atomic():
        due = SideEffect.objects.select_for_update(skip_locked=True).due()
        if being_produced is None:  # no advisory locks to read: trust a start younger than the longest run
            due = due.exclude(started_at__gt=now - datetime.timedelta(seconds=settings.LONG_TASK_TIME_LIMIT))
        pending = [
            row
            for row in due.order_by("dispatched_at", "pk").values_list("pk", "kind", "dispatched_at")[: limit * 2]
            if being_produced is None or _lock_key(row[0])[1] not in being_produced
        ]
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


# -- Documents rendered again (issue 13) ------------------------------------------------------------------------

# Who may have a document rendered again: Certif'Pro any document, an organisation's administrators their own.
REGENERATE_ROLES = frozenset({Role.CERTIFPRO_ADMIN, Role.ORG_ADMIN})
REASON_MAX_LENGTH = 1000

DocumentModel = TypeVar("DocumentModel", bound=models.Model)


class DocumentRefusal(BusinessRefusal):
    code = "document_refused"


class DocumentNotProduced(DocumentRefusal):
    code = "document_not_produced"

    def __init__(self) -> None:
        super().__init__(_("Ce document n'est pas encore produit : il n'a pas encore de version à remplacer."))


def document_regenerate(
    *, document: models.Model, by: Membership, reason: str, request: HttpRequest | None = None
) -> SideEffect:
    """Ask for a new rendering of a produced document, keeping the earlier one (issue 13): after a template fix, or
    when its file is damaged. Certif'Pro may ask for any document, an organisation's administrator for its own
    organisation's (the document model's `visible_to`: another organisation's is a DoesNotExist, like a missing
    one); nobody else. A reason is required.

    Writes the audit row and promises the side effect `<kind>_regenerate` (a new one each time), which a worker
    runs: the document's app renders it again with the same number and dates (`registry.register_document`), and
    `document_replace` keeps the earlier file as a DocumentVersion."""
    kind = registry.document_of(type(document))
    if by.role not in REGENERATE_ROLES:
        raise PermissionDenied
    reason = reason.strip()
    if not reason:
        raise DocumentRefusal(
            _("Indiquez le motif de la nouvelle version : il est conservé avec l'ancienne."), field="reason"
        )
    if len(reason) > REASON_MAX_LENGTH:
        raise DocumentRefusal(
            ngettext(
                "Le motif ne doit pas dépasser %(n)s caractère.",
                "Le motif ne doit pas dépasser %(n)s caractères.",
                REASON_MAX_LENGTH,
            )
            % {"n": REASON_MAX_LENGTH},
        )
    with transaction.atomic():
        visible = kind.model._default_manager.visible_to(by)  # type: ignore[attr-defined]
        found = visible.get(pk=document.pk)
        if not kind.is_produced(found):
            raise DocumentNotProduced
        organisation_id = owning_organisation_id(found)
        regeneration = uuid.uuid4()
        audit_record(
            action="document.regenerate_request",
            actor=by.user,
            organisation=organisation_id,
            obj=found,
            request=request,
            details={"kind": kind.name, "reason": reason, "regeneration": str(regeneration)},
        )
        return side_effect_add(
            kind=kind.side_effect_kind,
            key=f"{kind.name}:{found.pk}:regenerate:{regeneration}",
            label=str(kind.version_label) % {"document": found},
            organisation=organisation_id,
            arguments={
                "document_id": found.pk,
                "regeneration": str(regeneration),
                "by_id": by.user_id,
                "reason": reason,
            },
            requested_by=by.user,
        )


def document_replace(
    *,
    document: DocumentModel,
    files: Mapping[str, tuple[str, bytes]],
    regeneration: str | uuid.UUID,
    by_id: int | None,
    reason: str,
    changes: Mapping[str, Any] | None = None,
) -> tuple[DocumentModel, bool]:
    """Point a produced document at its new rendering, inside the caller's transaction, keeping the earlier files:
    lock the row, store each new file under a name of its own (the storage never overwrites), write a
    DocumentVersion for each earlier file with its SHA-256, then update the row's files, SHA-256 and `changes`, and
    write the audit row. `files` maps each FileField to (file name, content).

    Returns (the document as now stored, whether it was replaced): False when this regeneration already happened
    (its side effect ran twice), and nothing is written. A worker killed between the files and the commit leaves
    at worst files no row names, which the orphan collector removes.

    The row is updated through its queryset, not save(): a claim batch and a fee statement refuse any save once
    issued, because what they say never changes; a regeneration renders that same content again. A document that
    tracks changes (clea_platform.changes) then moves its `updated_at` and its parents' through `rows_changed`."""
    model = type(document)
    locked = model._base_manager.select_for_update(of=("self",)).get(pk=document.pk)
    if DocumentVersion.objects.filter(regeneration=regeneration).exists():
        return locked, False
    kind = registry.document_of(model)
    if not kind.is_produced(locked):
        raise DocumentNotProduced
    content_type = ContentType.objects.get_for_model(model)
    organisation_id = owning_organisation_id(locked)
    if organisation_id is None:  # every document belongs to an organisation (tests/test_platform.py)
        raise ValueError(f"{type(locked).__name__} {locked.pk} belongs to no organisation")
    by = User.objects.filter(pk=by_id).first() if by_id is not None else None
    updates: dict[str, Any] = dict(changes or {})
    fingerprints = {}
    replaced_at = timezone.now()
    for field, (name, content) in files.items():
        sha256_field = sha256_field_name(field)
        stored: FieldFile = getattr(locked, field)
        earlier_name, earlier_sha256 = stored.name, getattr(locked, sha256_field)
        stored.save(name, ContentFile(content), save=False)  # a new name: the earlier file stays as it is
        DocumentVersion.objects.create(
            content_type=content_type,
            object_id=locked.pk,
            organisation_id=organisation_id,
            field=field,
            file=earlier_name,
            sha256=earlier_sha256,
            regeneration=regeneration,
            replaced_at=replaced_at,
            replaced_by=by,
            reason=reason,
        )
        updates[field], updates[sha256_field] = stored.name, sha256_hex(content)
        fingerprints[field] = {"before": earlier_sha256, "after": updates[sha256_field]}
    model._base_manager.filter(pk=locked.pk).update(**updates)
    for name, value in updates.items():
        setattr(locked, name, value)
    if issubclass(model, TracksChanges):
        # A new file is a change the API's feed shows (its link, its SHA-256): updated_at and the parents' move.
        rows_changed(locked, at=replaced_at)
    audit_record(
        action="document.regenerate",
        actor=by,
        organisation=organisation_id,
        obj=locked,
        details={"reason": reason, "regeneration": str(regeneration), "files": fingerprints},
    )
    return locked, True
