"""The outbox (issue 13): a promised side effect is a row; running it twice produces it once; failures are kept
and retried; what the broker lost is queued again."""

from __future__ import annotations

import datetime
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from clea_platform.celery import app as celery_app
from clea_platform.tasks_queue import queue_depth
from evaluations.models import Attestation
from organisations.models import AuditLog, Role
from outbox import registry
from outbox import services as outbox_services
from outbox.models import SideEffect, SideEffectState
from outbox.services import (
    OutboxError,
    dispatch,
    email_add,
    side_effect_add,
    side_effect_retry,
    side_effect_run,
    side_effects_add,
    side_effects_purge,
    side_effects_requeue,
)
from tests.audit import audit_rows_for
from tests.journey import PRIOR_WITH_GAPS, DossierFactory, evaluate

pytestmark = pytest.mark.django_db


@pytest.fixture
def kind(monkeypatch) -> Callable[..., registry.Kind]:
    """A kind of side effect of the test's own, whose handler the test writes."""

    def register(handler: Callable[..., object], **options: object) -> registry.Kind:
        name = f"test-{uuid.uuid4().hex[:8]}"
        test_kind = registry.Kind(name=name, label="Essai", handler=handler, document=False, **options)
        monkeypatch.setitem(registry._kinds, name, test_kind)
        return test_kind

    return register


def promise(kind: registry.Kind, organisation=None, **arguments) -> SideEffect:
    return side_effect_add(
        kind=kind.name, key=f"{kind.name}:{uuid.uuid4()}", label="Essai", organisation=organisation, arguments=arguments
    )


@pytest.fixture
def closed_with_gaps(django_capture_on_commit_callbacks):
    """A prior evaluation closed with gaps: its attestation is promised (and, here, not yet produced)."""
    dossier = DossierFactory(state="prior_evaluation")
    evaluation = dossier.evaluations.get()
    with django_capture_on_commit_callbacks(execute=False):
        evaluate(evaluation, dossier.team.evaluator, acquired=PRIOR_WITH_GAPS)
    return evaluation


@contextmanager
def another_worker_holds(side_effect_id: int) -> Iterator[None]:
    """Another connection holds the effect's advisory lock meanwhile, as a worker producing it does (PostgreSQL;
    elsewhere there is no lock to hold)."""
    held, release = threading.Event(), threading.Event()

    def other_worker() -> None:
        try:
            with outbox_services._held(side_effect_id) as holding:
                assert holding
                held.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert held.wait(10)
        yield
    finally:
        release.set()
        thread.join()


# -- Promising --------------------------------------------------------------------------------------------------


def test_the_attestation_is_promised_in_the_transaction_that_closes_the_evaluation(closed_with_gaps):
    side_effect = SideEffect.objects.get(kind="attestation")
    assert side_effect.state == SideEffectState.PENDING
    assert side_effect.arguments == {"evaluation_id": closed_with_gaps.pk}
    assert side_effect.organisation_id == closed_with_gaps.organisation_id
    assert side_effect.label == f"Attestation du dossier {closed_with_gaps.dossier.reference}"
    assert not Attestation.objects.exists()


def test_a_promise_rolled_back_with_its_transaction_leaves_no_row_and_queues_nothing(
    kind, django_capture_on_commit_callbacks
):
    ran = []
    test_kind = kind(lambda: ran.append(1))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                promise(test_kind)
                raise RuntimeError("the business transaction fails")
        except RuntimeError:
            pass
    assert not SideEffect.objects.exists()
    assert callbacks == [] and ran == []


def test_asking_twice_for_the_same_key_gives_one_row_queued_once(kind, django_capture_on_commit_callbacks):
    ran = []
    test_kind = kind(lambda: ran.append(1))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = side_effect_add(kind=test_kind.name, key="same", label="Essai", organisation=None)
        second = side_effect_add(kind=test_kind.name, key="same", label="Essai", organisation=None)
    assert first.pk == second.pk and SideEffect.objects.count() == 1
    assert len(callbacks) == 1 and ran == [1]


def test_promising_several_at_once_writes_the_new_keys_only_and_queues_each_once(
    kind, django_capture_on_commit_callbacks
):
    ran = []
    test_kind = kind(lambda n: ran.append(n))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = side_effect_add(kind=test_kind.name, key="one", label="Essai", organisation=None, arguments={"n": 1})
        rows = side_effects_add(
            [
                {"kind": test_kind.name, "key": key, "label": "Essai" * 50, "organisation": None, "arguments": {"n": n}}
                for key, n in (("one", 10), ("two", 2), ("three", 3))
            ]
        )
    assert [row.key for row in rows] == ["one", "two", "three"]
    assert rows[0].pk == first.pk and rows[0].arguments == {"n": 1}  # the first promise's row, untouched
    assert SideEffect.objects.count() == 3
    assert SideEffect.objects.get(key="two").label == ("Essai" * 50)[:200]
    assert len(callbacks) == 3 and ran == [1, 2, 3]


def test_promising_several_at_once_refuses_an_unknown_kind_before_writing_any(kind):
    test_kind = kind(lambda: None)
    with pytest.raises(LookupError):
        side_effects_add(
            [
                {"kind": test_kind.name, "key": "k1", "label": "?", "organisation": None},
                {"kind": "nothing-like-it", "key": "k2", "label": "?", "organisation": None},
            ]
        )
    assert not SideEffect.objects.exists()


def test_an_unknown_kind_is_refused_at_once():
    with pytest.raises(LookupError):
        side_effect_add(kind="nothing-like-it", key="k", label="?", organisation=None)


# -- Running ----------------------------------------------------------------------------------------------------


def test_running_twice_produces_one_attestation_and_one_file(closed_with_gaps, settings):
    side_effect = SideEffect.objects.get(kind="attestation")

    first = side_effect_run(side_effect.pk)
    second = side_effect_run(side_effect.pk)

    assert first is not None and first.state == SideEffectState.DONE
    assert second is None, "done: a duplicate message does nothing"
    attestation = Attestation.objects.get()
    assert first.result == str(attestation) and first.attempts == 1 and first.done_at is not None
    files = [path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()]
    assert [path.name for path in files] == [attestation.file.name.rsplit("/", 1)[-1]]


def test_a_failure_is_kept_with_its_error_and_tried_again_after_a_backoff(kind):
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("disque plein")
        return "produit"

    side_effect = promise(kind(flaky))
    before = timezone.now()

    failed = side_effect_run(side_effect.pk)

    assert failed is not None
    assert (failed.state, failed.attempts, failed.last_error) == (SideEffectState.PENDING, 1, "OSError: disque plein")
    assert before + datetime.timedelta(seconds=9) < failed.available_at < before + datetime.timedelta(seconds=30)
    assert side_effect_run(side_effect.pk) is None, "not due before its backoff ends"
    SideEffect.objects.filter(pk=side_effect.pk).update(available_at=timezone.now())
    done = side_effect_run(side_effect.pk)
    assert done is not None and (done.state, done.attempts, done.result, done.last_error) == (
        SideEffectState.DONE,
        2,
        "produit",
        "",
    )


def test_a_failing_producer_keeps_what_it_committed_itself(kind, org_a):
    """Producers commit as they go (a batch marks itself failed for its screen): the outbox does not undo it."""

    def marks_then_fails() -> None:
        AuditLog.objects.create(action="test.marked_failed", organisation=org_a)
        raise ValueError("rendu impossible")

    side_effect = promise(kind(marks_then_fails))
    side_effect_run(side_effect.pk)
    assert AuditLog.objects.filter(action="test.marked_failed").exists()
    side_effect.refresh_from_db()
    assert (side_effect.state, side_effect.started_at) == (SideEffectState.PENDING, None)


def test_after_its_last_attempt_an_effect_fails_for_good(kind, settings):
    def broken() -> None:
        raise ValueError("gabarit cassé")

    side_effect = promise(kind(broken))
    for _attempt in range(settings.SIDE_EFFECT_MAX_ATTEMPTS):
        SideEffect.objects.filter(pk=side_effect.pk).update(available_at=timezone.now())
        side_effect_run(side_effect.pk)
    side_effect.refresh_from_db()
    assert (side_effect.state, side_effect.attempts) == (SideEffectState.FAILED, settings.SIDE_EFFECT_MAX_ATTEMPTS)
    assert side_effect.last_error == "ValueError: gabarit cassé"
    SideEffect.objects.filter(pk=side_effect.pk).update(available_at=timezone.now())
    assert side_effect_run(side_effect.pk) is None


def test_an_effect_whose_runs_were_all_killed_is_abandoned_not_run_again(kind, settings):
    """A worker killed mid-run commits nothing but the attempt it counted first."""
    ran = []
    side_effect = promise(kind(lambda: ran.append(1)))
    SideEffect.objects.filter(pk=side_effect.pk).update(attempts=settings.SIDE_EFFECT_MAX_ATTEMPTS)

    abandoned = side_effect_run(side_effect.pk)

    assert abandoned is not None and abandoned.state == SideEffectState.FAILED
    assert abandoned.last_error == "Abandonné après 5 tentatives interrompues."
    assert ran == []


def test_an_email_leaves_once_and_forgets_its_body(org_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        side_effect = email_add(
            subject="Convocation", body="Bonjour Léa", to=["lea@exemple.fr", ""], organisation=org_a
        )
    assert side_effect is not None
    side_effect.refresh_from_db()
    assert [(m.subject, m.to) for m in mail.outbox] == [("Convocation", ["lea@exemple.fr"])]
    assert (side_effect.state, side_effect.arguments, side_effect.result) == (
        SideEffectState.DONE,
        {},
        "lea@exemple.fr",
    )
    assert side_effect_run(side_effect.pk) is None
    assert len(mail.outbox) == 1


def test_an_email_to_nobody_is_not_promised(org_a):
    assert email_add(subject="Rien", body="…", to=["", ""], organisation=org_a) is None
    assert not SideEffect.objects.exists()


# -- Re-queueing what the broker lost ---------------------------------------------------------------------------


def test_the_requeueing_job_sends_again_only_what_waited_too_long(closed_with_gaps, kind, settings):
    settings.SIDE_EFFECT_REQUEUE_AFTER = 120
    lost = SideEffect.objects.get(kind="attestation")
    SideEffect.objects.filter(pk=lost.pk).update(dispatched_at=timezone.now() - datetime.timedelta(minutes=3))
    recent = promise(kind(lambda: "fait"))  # queued a moment ago: its message is presumably on its way
    backing_off = promise(kind(lambda: "fait"))
    SideEffect.objects.filter(pk=backing_off.pk).update(
        dispatched_at=timezone.now() - datetime.timedelta(hours=1),
        available_at=timezone.now() + datetime.timedelta(minutes=1),
    )

    being_produced = promise(kind(lambda: "fait"))  # a worker started it a moment ago
    killed_long_ago = promise(kind(lambda: "fait"))  # its worker died and its message with the broker
    an_hour_ago = timezone.now() - datetime.timedelta(hours=1)
    SideEffect.objects.filter(pk=being_produced.pk).update(dispatched_at=an_hour_ago, started_at=timezone.now())
    SideEffect.objects.filter(pk=killed_long_ago.pk).update(dispatched_at=an_hour_ago, started_at=an_hour_ago)

    with another_worker_holds(being_produced.pk):
        assert side_effects_requeue() == 2

    assert SideEffect.objects.get(pk=being_produced.pk).state == SideEffectState.PENDING
    assert SideEffect.objects.get(pk=killed_long_ago.pk).state == SideEffectState.DONE
    assert Attestation.objects.filter(evaluation=closed_with_gaps).exists(), "the lost one ran (embedded mode)"
    assert SideEffect.objects.get(pk=lost.pk).state == SideEffectState.DONE
    assert SideEffect.objects.get(pk=recent.pk).state == SideEffectState.PENDING
    assert SideEffect.objects.get(pk=backing_off.pk).state == SideEffectState.PENDING


def test_done_effects_are_forgotten_after_the_retention(kind, settings):
    side_effect = promise(kind(lambda: "fait"))
    side_effect_run(side_effect.pk)
    assert side_effects_purge() == 0
    SideEffect.objects.filter(pk=side_effect.pk).update(
        done_at=timezone.now() - datetime.timedelta(days=settings.SIDE_EFFECT_RETENTION_DAYS + 1)
    )
    assert side_effects_purge() == 1
    assert not SideEffect.objects.exists()


# -- Operators --------------------------------------------------------------------------------------------------


def test_an_operator_retries_a_failed_effect_and_it_runs(
    closed_with_gaps, make_member, django_capture_on_commit_callbacks
):
    side_effect = SideEffect.objects.get(kind="attestation")
    SideEffect.objects.filter(pk=side_effect.pk).update(state=SideEffectState.FAILED, attempts=5, last_error="x")
    admin = make_member(closed_with_gaps.organisation, role=Role.ORG_ADMIN)

    with django_capture_on_commit_callbacks(execute=True):
        side_effect_retry(side_effect=side_effect, by=admin)

    side_effect.refresh_from_db()
    assert (side_effect.state, side_effect.attempts) == (SideEffectState.DONE, 1)
    assert Attestation.objects.filter(evaluation=closed_with_gaps).exists()
    [audit] = audit_rows_for(side_effect)
    assert (audit.action, audit.actor, audit.details["last_error"]) == ("outbox.retry", admin.user, "x")


def test_a_done_effect_is_not_retried_and_another_organisations_is_not_found(closed_with_gaps, make_member, org_b):
    side_effect = SideEffect.objects.get(kind="attestation")
    side_effect_run(side_effect.pk)
    with pytest.raises(OutboxError, match="déjà fait"):
        side_effect_retry(side_effect=side_effect, by=make_member(closed_with_gaps.organisation, role=Role.ORG_ADMIN))
    with pytest.raises(SideEffect.DoesNotExist):
        side_effect_retry(side_effect=side_effect, by=make_member(org_b, role=Role.ORG_ADMIN))
    with pytest.raises(SideEffect.DoesNotExist):
        side_effect_retry(side_effect=side_effect, by=make_member(closed_with_gaps.organisation, role=Role.EVALUATOR))


def test_who_sees_which_effects(closed_with_gaps, make_member, org_b):
    # The attestation, and the counsellor's e-mail telling of the closed evaluation (notifications).
    effects = set(SideEffect.objects.filter(organisation=closed_with_gaps.organisation))
    assert {effect.kind for effect in effects} == {"attestation", "notification_email"}
    own = closed_with_gaps.organisation
    assert set(SideEffect.objects.visible_to(make_member(role=Role.CERTIFPRO_ADMIN))) == effects
    assert set(SideEffect.objects.visible_to(make_member(own, role=Role.ORG_ADMIN))) == effects
    assert not SideEffect.objects.visible_to(make_member(org_b, role=Role.ORG_ADMIN)).exists()
    assert not SideEffect.objects.visible_to(make_member(own, role=Role.COUNSELLOR)).exists()
    assert not SideEffect.objects.visible_to(None).exists()


# -- With PostgreSQL and Redis ----------------------------------------------------------------------------------

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="advisory locks are PostgreSQL's (the embedded mode runs one at a time)"
)


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_an_effect_another_worker_is_producing_is_skipped_not_waited_for(kind):
    ran = []
    test_kind = kind(lambda: ran.append(1))
    side_effect = SideEffect.objects.create(kind=test_kind.name, key="held", label="Essai")  # not queued
    with another_worker_holds(side_effect.pk):
        assert side_effect_run(side_effect.pk) is None
        assert ran == []
    assert side_effect_run(side_effect.pk) is not None and ran == [1]


@needs_postgresql
def test_an_effect_whose_worker_died_a_moment_ago_is_queued_again_at_once(kind, settings):
    """Its lock went with the dead worker's connection: no need to wait for Redis to give its message back."""
    settings.SIDE_EFFECT_REQUEUE_AFTER = 0
    test_kind = kind(lambda: "fait")
    rows = {name: promise(test_kind) for name in ("killed", "running")}
    SideEffect.objects.update(started_at=timezone.now(), dispatched_at=timezone.now() - datetime.timedelta(minutes=3))
    with another_worker_holds(rows["running"].pk):
        assert side_effects_requeue() == 1
    assert SideEffect.objects.get(pk=rows["killed"].pk).state == SideEffectState.DONE
    assert SideEffect.objects.get(pk=rows["running"].pk).state == SideEffectState.PENDING


@pytest.fixture
def real_broker_queue(settings) -> Iterator[str]:
    """A queue of the test's own on the real Redis, with nobody consuming it; emptied afterwards."""
    if not settings.REDIS_URL:
        pytest.skip("needs Redis (REDIS_URL)")
    queue = f"clea-tests-topup-{uuid.uuid4().hex[:8]}"
    settings.CELERY_LIGHT_QUEUE = queue
    celery_app.conf.task_always_eager = False  # the autouse fixture of tests/conftest.py puts it back
    try:
        yield queue
    finally:
        with celery_app.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)


def test_the_requeueing_job_tops_a_queue_up_by_what_it_lacks(real_broker_queue, kind, settings):
    """With 8 pending and 5 messages waiting, 3 more are sent, not 8: a long backlog is not multiplied."""
    settings.SIDE_EFFECT_REQUEUE_AFTER = 0
    test_kind = kind(lambda: "fait")
    rows = [promise(test_kind) for _ in range(8)]
    for row in rows[:5]:  # the broker lost the messages of the other three
        assert dispatch(row.pk, row.kind)
    assert queue_depth(real_broker_queue) == 5

    assert side_effects_requeue() == 3

    assert queue_depth(real_broker_queue) == 8
    assert side_effects_requeue() == 0, "nothing lacks any more"
    assert set(SideEffect.objects.values_list("state", flat=True)) == {SideEffectState.PENDING}


def test_a_document_waited_for_is_taken_before_the_bulk_queued_ahead_of_it(real_broker_queue, kind):
    """Issue 22: a jury session's certificates and minutes are bulk, queued at a lower priority; an attestation
    queued after them is the first message a worker gets from the same queue, and the depth counts them all."""
    assert registry.get("certificate").bulk and registry.get("minutes").bulk
    assert not registry.get("attestation").bulk
    bulk, waited_for = kind(lambda: "fait", bulk=True), kind(lambda: "fait")
    rows = [promise(bulk) for _ in range(3)] + [promise(waited_for)]
    for row in rows:
        assert dispatch(row.pk, row.kind)
    assert queue_depth(real_broker_queue) == 4

    with celery_app.connection_for_read() as conn:
        channel = conn.default_channel
        taken = [channel.basic_get(real_broker_queue, no_ack=True).decode()[0][0] for _ in rows]

    assert taken == [rows[3].pk, rows[0].pk, rows[1].pk, rows[2].pk]
