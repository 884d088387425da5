"""Webhooks (issue 20) through a real HTTP receiver: signed per Standard Webhooks (checked by its reference library),
retried with the outbox's backoff, paused after repeated failures, and delivered by a real Celery worker."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from candidates.services import dossier_withdraw
from notifications.models import Notification
from organisations.models import Role
from outbox.models import SideEffect, SideEffectState
from outbox.services import side_effect_retry, side_effect_run
from privacy.services import retention_apply
from tests.journey import DossierFactory
from tests.waiting import wait_until
from tests.webhooks.support import http_receiver, subscribe
from webhooks.models import DeliveryStatus, EventType, PauseReason, WebhookAttempt, WebhookDelivery
from webhooks.services import subscription_ping

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _local_receivers(settings):
    settings.WEBHOOK_ALLOW_HTTP = True  # the receiver listens on http://127.0.0.1


def _due_now(side_effect: SideEffect) -> None:
    """The backoff, elapsed."""
    SideEffect.objects.filter(pk=side_effect.pk).update(available_at=timezone.now())


def test_a_new_dossier_reaches_its_organisations_subscriber_signed_and_readable_through_the_api(
    org_a, make_member, client_for, settings, django_capture_on_commit_callbacks
):
    admin = make_member(org_a, Role.ORG_ADMIN)
    with http_receiver(200) as receiver:
        subscription, secret = subscribe(admin, receiver.url, [EventType.DOSSIER_STATE_CHANGED])
        with django_capture_on_commit_callbacks(execute=True):
            dossier = DossierFactory(organisation=org_a)

    [message] = receiver.received
    payload = Webhook(secret).verify(message.body, message.headers)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", payload.pop("occurred_at"))
    delivery = WebhookDelivery.objects.get(subscription=subscription)
    assert payload == {
        "id": str(delivery.event_id),
        "type": "dossier.state_changed",
        "organisation": org_a.pk,
        "resource": "dossier",
        "resource_id": dossier.pk,
        "url": f"{settings.SITE_URL}/api/v1/dossiers/{dossier.pk}/",
        "data": {"state": "information", "previous_state": None, "transition": ""},
    }
    assert message.headers["Webhook-Id"] == f"msg_{delivery.message_id.hex}"
    assert message.headers["Content-Type"] == "application/json"
    with pytest.raises(WebhookVerificationError):  # one byte changed, or another secret: refused
        Webhook(secret).verify(message.body.replace(b"information", b"informatiom"), message.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(subscribe(admin)[1]).verify(message.body, message.headers)
    [attempt] = delivery.attempts.all()
    assert (attempt.status_code, attempt.error, attempt.response_body) == (200, "", '{"ok": true}')
    assert delivery.status == DeliveryStatus.DELIVERED
    # The payload names no one: the subscriber reads the dossier with its token, under the same rights.
    assert dossier.candidate.last_name not in message.body.decode()
    assert client_for(admin).get(payload["url"].removeprefix(settings.SITE_URL)).status_code == 200


def test_a_failing_receiver_is_retried_with_the_outbox_backoff_and_the_retry_delivers(
    org_a, make_member, django_capture_on_commit_callbacks
):
    admin = make_member(org_a, Role.ORG_ADMIN)
    with http_receiver(503, 200) as receiver:
        subscription, secret = subscribe(admin, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            delivery = subscription_ping(subscription=subscription, by=admin)
        side_effect = SideEffect.objects.get(kind="webhook")
        assert side_effect.state == SideEffectState.PENDING and side_effect.attempts == 1
        assert side_effect.available_at > timezone.now() + datetime.timedelta(seconds=5)  # 10 s after a first failure
        assert "503" in side_effect.last_error
        subscription.refresh_from_db()
        assert subscription.consecutive_failures == 1 and subscription.failing_since is not None

        _due_now(side_effect)
        assert side_effect_run(side_effect.pk).state == SideEffectState.DONE

    first, second = receiver.received
    assert first.headers["Webhook-Id"] == second.headers["Webhook-Id"]  # one message, sent twice
    assert first.headers["Webhook-Timestamp"] <= second.headers["Webhook-Timestamp"]
    assert Webhook(secret).verify(second.body, second.headers)["type"] == "ping"
    attempts = list(delivery.attempts.order_by("at", "pk"))
    assert [(a.status_code, a.response_body) for a in attempts] == [
        (503, "Service indisponible"),
        (200, '{"ok": true}'),
    ]
    assert "503" in attempts[0].error and attempts[0].duration_ms < 10_000
    delivery.refresh_from_db()
    subscription.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert (subscription.consecutive_failures, subscription.failing_since) == (0, None)
    assert subscription.last_success_at is not None


def test_a_subscription_failing_too_often_is_paused_its_waiting_deliveries_dropped_and_its_admins_told(
    org_a, make_member, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_PAUSE_AFTER_FAILURES = 2
    admin = make_member(org_a, Role.ORG_ADMIN)
    with http_receiver(500) as receiver:
        subscription, _secret = subscribe(admin, receiver.url, [EventType.DOSSIER_STATE_CHANGED])
        with django_capture_on_commit_callbacks(execute=True):
            first = DossierFactory(organisation=org_a)
        with django_capture_on_commit_callbacks(execute=True):
            dossier_withdraw(dossier=first, by=first.team.counsellor, reason="La personne renonce.")
        assert len(receiver.received) == 2

        subscription.refresh_from_db()
        assert subscription.is_paused and subscription.pause_reason == PauseReason.FAILURES
        told = Notification.objects.get(kind="webhook_paused")
        assert told.recipient == admin.user and f"/organisation/webhooks/{subscription.pk}/" in told.url
        # The first delivery's retry finds the subscription paused: not sent, and said so.
        waiting = SideEffect.objects.filter(kind="webhook", state=SideEffectState.PENDING).get()
        _due_now(waiting)
        side_effect_run(waiting.pk)
        assert len(receiver.received) == 2
        assert set(subscription.deliveries.values_list("status", flat=True)) == {DeliveryStatus.CANCELLED}
        # Later events are not even written.
        DossierFactory(organisation=org_a)
        assert subscription.deliveries.count() == 2


def test_the_delivery_log_is_forgotten_after_30_days_by_the_retention_job(org_a, make_member):
    subscription, _secret = subscribe(make_member(org_a, Role.ORG_ADMIN))
    now = timezone.now()
    old = subscription_ping(subscription=subscription, by=subscription.membership)
    WebhookDelivery.objects.filter(pk=old.pk).update(created_at=now - datetime.timedelta(days=31))
    WebhookAttempt.objects.create(delivery=old, status_code=500, duration_ms=3, response_body="Erreur")
    recent = subscription_ping(subscription=subscription, by=subscription.membership)

    assert retention_apply(now=now)["webhook_deliveries"] == 1

    assert list(WebhookDelivery.objects.all()) == [recent]
    assert not WebhookAttempt.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_a_signed_ping(celery_worker, org_a, make_member):
    """On PostgreSQL with Redis (CI), a Celery worker takes the side effect from the queue; elsewhere it runs eagerly
    once the transaction commits."""
    admin = make_member(org_a, Role.ORG_ADMIN)
    with http_receiver(200) as receiver:
        subscription, secret = subscribe(admin, receiver.url)
        delivery = subscription_ping(subscription=subscription, by=admin)
        wait_until(lambda: WebhookDelivery.objects.get(pk=delivery.pk).status == DeliveryStatus.DELIVERED)
    [message] = receiver.received
    assert Webhook(secret).verify(message.body, message.headers)["resource_id"] == subscription.pk


def test_a_delivery_failing_its_last_attempt_waits_for_an_operators_retry_which_delivers_it(
    org_a, make_member, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    admin = make_member(org_a, Role.ORG_ADMIN)
    with http_receiver(500, 500, 200) as receiver:
        subscription, _secret = subscribe(admin, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            delivery = subscription_ping(subscription=subscription, by=admin)
        side_effect = SideEffect.objects.get(kind="webhook")
        _due_now(side_effect)
        side_effect_run(side_effect.pk)
        side_effect.refresh_from_db()
        delivery.refresh_from_db()
        assert (side_effect.state, side_effect.attempts, delivery.status) == (
            SideEffectState.FAILED,
            2,
            DeliveryStatus.FAILED,
        )

        # « Relancer » on the operators' page (outbox) sends the same message again.
        with django_capture_on_commit_callbacks(execute=True):
            side_effect_retry(side_effect=side_effect, by=admin)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts.count() == 3
    assert len({message.headers["Webhook-Id"] for message in receiver.received}) == 1
