"""Webhooks (issue 20): subscriptions managed by an organisation's administrators and Certif'Pro; each event becomes,
in its own transaction, a delivery per subscriber who may read its object, promised as an outbox side effect
(`webhook`); the worker POSTs it signed per the Standard Webhooks convention and logs each attempt.

Signature (https://www.standardwebhooks.com/): headers `Webhook-Id` (the message, the same on every retry),
`Webhook-Timestamp` (Unix seconds of the attempt) and `Webhook-Signature` (`v1,` + base64 of the HMAC-SHA256, keyed
with the base64-decoded part of the `whsec_` secret, of `<id>.<timestamp>.<body>`)."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from candidates.models import Dossier, DossierTransfer
from evaluations.models import Attestation
from juries.models import Certificate, Decision
from organisations.models import Membership, Role
from organisations.services import audit_record
from outbox.services import side_effects_add
from referrals.models import Referral
from webhooks.models import (
    PING,
    DeliveryStatus,
    PauseReason,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
    attempt_fields,
)
from webhooks.signals import subscription_paused

logger = logging.getLogger(__name__)

# Who manages subscriptions: an organisation's administrators (theirs), Certif'Pro (all).
MANAGER_ROLES = frozenset({Role.ORG_ADMIN, Role.CERTIFPRO_ADMIN})
SIDE_EFFECT_KIND = "webhook"


# -- The objects an event is about, and who may read them -------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    """What an event names: its type in the payload, its API address, and the rows a membership may read (the same
    scoped querysets as the API: a subscriber hears only of what its token could fetch)."""

    name: str
    # None: the resource has no API address (a subscription, named by the « Tester » button's ping).
    api_route: str | None
    readable: Callable[[Membership], models.QuerySet[Any]]


RESOURCES = {
    # The dossier's current organisation only: once it has moved, the organisation it left hears nothing more.
    "dossier": Resource("dossier", "api:dossier-detail", Dossier.objects.visible_to),
    # A move is told to both organisations (each reads the transfer), with the dossier's address.
    "dossier_transfer": Resource("dossier", "api:dossier-detail", DossierTransfer.objects.visible_to),
    "attestation": Resource("attestation", "api:document-detail", Attestation.objects.visible_to),
    "certificate": Resource("certificate", "api:certificate-detail", Certificate.objects.downloadable_by),
    "decision": Resource("decision", "api:decision-detail", Decision.objects.visible_to),
    "referral": Resource("referral", "api:referral-detail", Referral.objects.visible_to),
    "webhook_subscription": Resource("webhook_subscription", None, WebhookSubscription.objects.visible_to),
}


@dataclass
class WebhookEvent:
    """What happened, as the receivers tell it. `checked` is the row whose visibility decides who hears of it (the
    transfer for a move; the object itself otherwise); `resource_id` the id the payload names."""

    type: str
    key: str
    resource: str
    resource_id: int
    checked_id: int
    organisation_id: int
    # The organisations whose subscribers may hear of it (Certif'Pro's always may): a first, cheap filter before
    # the scoped querysets decide.
    organisations: set[int]
    data: dict[str, Any] = field(default_factory=dict)
    occurred_at: datetime.datetime = field(default_factory=timezone.now)
    id: uuid.UUID = field(default_factory=uuid.uuid4)

    def payload(self) -> dict[str, Any]:
        resource = RESOURCES[self.resource]
        url = settings.SITE_URL + reverse(resource.api_route, args=[self.resource_id]) if resource.api_route else ""
        return {
            "id": str(self.id),
            "type": self.type,
            "occurred_at": timezone.localtime(self.occurred_at).isoformat(timespec="seconds"),
            "organisation": self.organisation_id,
            "resource": resource.name,
            "resource_id": self.resource_id,
            "url": url,
            "data": self.data,
        }


def webhook_event_emit(event: WebhookEvent) -> list[WebhookDelivery]:
    """Inside the event's transaction: a delivery for each active subscription that wants this type and whose
    membership may read the object, and its side effect; nothing else when nobody subscribes (one query). A second
    call with the same key (a signal sent again) adds nothing."""
    subscriptions = (
        WebhookSubscription.objects.active()
        .filter(models.Q(organisation_id__in=event.organisations) | models.Q(membership__role=Role.CERTIFPRO_ADMIN))
        .select_related("membership")
    )
    resource = RESOURCES[event.resource]
    chosen = [
        subscription
        for subscription in subscriptions
        if subscription.wants(event.type)
        and resource.readable(subscription.membership).filter(pk=event.checked_id).exists()
    ]
    return _deliveries_add(chosen, event)


def _deliveries_add(
    subscriptions: Iterable[WebhookSubscription], event: WebhookEvent, *, requested_by: Any = None
) -> list[WebhookDelivery]:
    deliveries = []
    for subscription in subscriptions:
        delivery, created = WebhookDelivery.objects.get_or_create(
            subscription=subscription,
            event_key=event.key,
            defaults={
                "event_id": event.id,
                "event_type": event.type,
                "payload": event.payload(),
                "created_at": event.occurred_at,
            },
        )
        if created:
            deliveries.append(delivery)
    side_effects_add([_delivery_side_effect(delivery, requested_by=requested_by) for delivery in deliveries])
    return deliveries


def _delivery_side_effect(delivery: WebhookDelivery, *, requested_by: Any = None) -> dict[str, Any]:
    """The outbox row that sends one delivery (`requested_by`: the user who pressed « Tester »)."""
    effect = {
        "kind": SIDE_EFFECT_KIND,
        "key": f"webhook:{delivery.message_id}",
        "label": _("Webhook « %(type)s » vers %(host)s")
        % {"type": delivery.event_type, "host": urlsplit(delivery.subscription.url).hostname},
        "organisation": delivery.subscription.organisation_id,
        "arguments": {"delivery_id": delivery.pk},
    }
    if requested_by is not None:
        effect["requested_by"] = requested_by
    return effect


# -- Signing and sending ------------------------------------------------------------------------------------------


def secret_generate() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def signature(*, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def address_refusal(url: str) -> str:
    """Why the platform must not post to `url` now, or "" when it may: every address its host resolves to at send
    time must be public (`is_global`). The check at subscription only sees the name typed; a public name can resolve
    to 10.0.0.1 or 169.254.169.254, or be moved there later. settings.WEBHOOK_ALLOW_HTTP lifts it (DEBUG, the
    tests' receiver on 127.0.0.1). The connection resolves the name again: docs/security.md says what remains."""
    if settings.WEBHOOK_ALLOW_HTTP:
        return ""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        found = socket.getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return _("Envoi impossible : le nom « %(host)s » ne correspond à aucune adresse.") % {"host": host}
    private = []
    for *_rest, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if not address.is_global:
            private.append(str(address))
    if private:
        return _(
            "Envoi refusé : « %(host)s » désigne une adresse non publique (%(addresses)s). La plateforme n'envoie "
            "qu'à des adresses joignables depuis Internet."
        ) % {"host": host, "addresses": ", ".join(sorted(set(private)))}
    return ""


class WebhookDeliveryFailed(Exception):
    """The receiver did not answer 2xx: the outbox records it and tries again after its backoff."""


class WebhookAddressRefused(Exception):
    """The address resolves to a non-public one: nothing is sent (address_refusal)."""


def webhook_deliver(delivery_id: int) -> str | None:
    """The side effect `webhook`: POST the delivery, log the attempt, and raise when it failed (the outbox then
    retries with its backoff, up to settings.WEBHOOK_MAX_ATTEMPTS). Idempotent: a delivery already received is not
    sent again. Nor is one whose subscription was paused, or whose membership, user or organisation was deactivated,
    since the event (a paused subscription's ping still is: testing before resuming is the point)."""
    delivery = WebhookDelivery.objects.select_related("subscription").filter(pk=delivery_id).first()
    if delivery is None:
        return None
    if delivery.status in {DeliveryStatus.DELIVERED, DeliveryStatus.CANCELLED}:
        return delivery.get_status_display()
    subscription = delivery.subscription
    if delivery.event_type != PING and not WebhookSubscription.objects.active().filter(pk=subscription.pk).exists():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.CANCELLED)
        return str(DeliveryStatus.CANCELLED.label)
    body = body_of(delivery.payload)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "CleA-Webhooks/1",
        "Webhook-Id": delivery.webhook_id,
        "Webhook-Timestamp": str(timestamp),
        "Webhook-Signature": signature(
            secret=subscription.secret, message_id=delivery.webhook_id, timestamp=timestamp, body=body
        ),
    }
    started = time.monotonic()
    status_code, error, excerpt = None, "", ""
    # Checked at each attempt, not only at subscription: what a name resolves to changes. A refused address is
    # logged as a failed attempt, and nothing is sent.
    refusal = address_refusal(subscription.url)
    try:
        if refusal:
            raise WebhookAddressRefused(refusal)
        # No redirects: the address checked at subscription is the only one the platform posts to.
        with requests.post(
            subscription.url,
            data=body,
            headers=headers,
            timeout=settings.WEBHOOK_TIMEOUT,
            allow_redirects=False,
            stream=True,
        ) as response:
            status_code = response.status_code
            raw = response.raw.read(settings.WEBHOOK_RESPONSE_KEPT_CHARS * 4, decode_content=True) or b""
            excerpt = raw.decode(response.encoding or "utf-8", errors="replace")
    except WebhookAddressRefused as exc:
        error = str(exc)
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"
    duration_ms = int((time.monotonic() - started) * 1000)
    succeeded = status_code is not None and 200 <= status_code < 300
    if not succeeded and not error:
        error = _("Réponse %(code)s : seul un code 2xx vaut réception.") % {"code": status_code}
    delivery = webhook_attempt_record(
        delivery=delivery,
        status_code=status_code,
        duration_ms=duration_ms,
        error=error,
        response_body=excerpt,
    )
    if succeeded:
        return str(status_code)
    if delivery.status == DeliveryStatus.CANCELLED:  # this failure paused the subscription: no more tries
        return str(DeliveryStatus.CANCELLED.label)
    raise WebhookDeliveryFailed(error)


@transaction.atomic
def webhook_attempt_record(
    *,
    delivery: WebhookDelivery,
    status_code: int | None,
    duration_ms: int,
    error: str,
    response_body: str,
    now: datetime.datetime | None = None,
) -> WebhookDelivery:
    """Log one attempt and move the delivery and its subscription on: a success resets the failures in a row; a
    failure counts, pauses the subscription past settings.WEBHOOK_PAUSE_AFTER_FAILURES in a row or
    WEBHOOK_PAUSE_AFTER_DAYS of failures (announced by `subscription_paused`), and gives the delivery up after
    WEBHOOK_MAX_ATTEMPTS (the outbox's row then stays failed, for an operator's retry)."""
    now = now or timezone.now()
    subscription = WebhookSubscription.objects.select_for_update().get(pk=delivery.subscription_id)
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    attempt = WebhookAttempt.objects.create(
        **attempt_fields(
            delivery=delivery,
            at=now,
            status_code=status_code,
            duration_ms=duration_ms,
            error=error,
            response_body=response_body,
        )
    )
    if attempt.succeeded:
        delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, now
        delivery.save(update_fields=["status", "delivered_at"])
        subscription.consecutive_failures, subscription.failing_since, subscription.last_success_at = 0, None, now
        subscription.save(update_fields=["consecutive_failures", "failing_since", "last_success_at"])
        return delivery
    subscription.consecutive_failures += 1
    subscription.failing_since = subscription.failing_since or now
    updates = ["consecutive_failures", "failing_since"]
    if not subscription.is_paused and delivery.event_type != PING and subscription.failures_to_pause(now):
        subscription.paused_at, subscription.pause_reason = now, PauseReason.FAILURES
        updates += ["paused_at", "pause_reason"]
        subscription.save(update_fields=updates)
        audit_record(
            action="webhook.paused",
            actor=None,
            organisation=subscription.organisation_id,
            obj=subscription,
            details={"failures": subscription.consecutive_failures, "since": subscription.failing_since.isoformat()},
        )
        delivery.status = DeliveryStatus.CANCELLED
        delivery.save(update_fields=["status"])
        subscription_paused.send(sender=WebhookSubscription, subscription=subscription)
        return delivery
    subscription.save(update_fields=updates)
    if delivery.attempts.count() >= settings.WEBHOOK_MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
        delivery.save(update_fields=["status"])
    return delivery


# -- Subscriptions, managed on their screens ---------------------------------------------------------------------


def _manager(by: Membership) -> None:
    if by.role not in MANAGER_ROLES:
        raise PermissionDenied


@transaction.atomic
def subscription_create(
    *, by: Membership, name: str, url: str, event_types: list[str], request: HttpRequest | None = None
) -> tuple[WebhookSubscription, str]:
    """A subscription under `by`'s membership (it hears of what that membership reads) and its secret, returned to
    be shown once."""
    _manager(by)
    subscription = WebhookSubscription(
        organisation_id=by.organisation_id,
        membership=by,
        name=name,
        url=url,
        secret=secret_generate(),
        event_types=sorted(set(event_types)),
        created_by=by.user,
    )
    subscription.full_clean()
    subscription.save()
    audit_record(
        action="webhook.create",
        actor=by.user,
        organisation=subscription.organisation_id,
        obj=subscription,
        request=request,
        details={"url": url, "event_types": subscription.event_types},
    )
    return subscription, subscription.secret


def _locked(subscription: WebhookSubscription, by: Membership) -> WebhookSubscription:
    _manager(by)
    return WebhookSubscription.objects.visible_to(by).select_for_update().get(pk=subscription.pk)


@transaction.atomic
def subscription_update(
    *,
    subscription: WebhookSubscription,
    by: Membership,
    name: str,
    url: str,
    event_types: list[str],
    request: HttpRequest | None = None,
) -> WebhookSubscription:
    locked = _locked(subscription, by)
    before = {"url": locked.url, "event_types": locked.event_types}
    locked.name, locked.url, locked.event_types = name, url, sorted(set(event_types))
    locked.full_clean()
    locked.save(update_fields=["name", "url", "event_types"])
    audit_record(
        action="webhook.update",
        actor=by.user,
        organisation=locked.organisation_id,
        obj=locked,
        request=request,
        details={"before": before, "after": {"url": locked.url, "event_types": locked.event_types}},
    )
    return locked


@transaction.atomic
def subscription_pause(
    *, subscription: WebhookSubscription, by: Membership, request: HttpRequest | None = None
) -> WebhookSubscription:
    """Events are no longer sent (those already waiting are dropped when their turn comes)."""
    locked = _locked(subscription, by)
    if not locked.is_paused:
        locked.paused_at, locked.pause_reason = timezone.now(), PauseReason.MANUAL
        locked.save(update_fields=["paused_at", "pause_reason"])
        audit_record(
            action="webhook.pause", actor=by.user, organisation=locked.organisation_id, obj=locked, request=request
        )
    return locked


@transaction.atomic
def subscription_resume(
    *, subscription: WebhookSubscription, by: Membership, request: HttpRequest | None = None
) -> WebhookSubscription:
    """Events are sent again from now on, with a fresh count of failures; those of the pause are not sent (the
    receiver catches up through the API)."""
    locked = _locked(subscription, by)
    if locked.is_paused:
        locked.paused_at, locked.pause_reason = None, ""
        locked.consecutive_failures, locked.failing_since = 0, None
        locked.save(update_fields=["paused_at", "pause_reason", "consecutive_failures", "failing_since"])
        audit_record(
            action="webhook.resume", actor=by.user, organisation=locked.organisation_id, obj=locked, request=request
        )
    return locked


@transaction.atomic
def subscription_delete(
    *, subscription: WebhookSubscription, by: Membership, request: HttpRequest | None = None
) -> None:
    locked = _locked(subscription, by)
    audit_record(
        action="webhook.delete",
        actor=by.user,
        organisation=locked.organisation_id,
        obj=locked,
        request=request,
        details={"url": locked.url},
    )
    locked.delete()


@transaction.atomic
def subscription_ping(
    *, subscription: WebhookSubscription, by: Membership, request: HttpRequest | None = None
) -> WebhookDelivery:
    """The « Tester » button: a `ping` event to this subscription alone, sent and logged like any other."""
    locked = _locked(subscription, by)
    event_id = uuid.uuid4()
    event = WebhookEvent(
        id=event_id,
        type=PING,
        key=f"ping:{event_id}",
        resource="webhook_subscription",
        resource_id=locked.pk,
        checked_id=locked.pk,
        organisation_id=locked.organisation_id,
        organisations={locked.organisation_id},
    )
    [delivery] = _deliveries_add([locked], event, requested_by=by.user)
    return delivery
