"""Signed webhooks (issue 20): an organisation's administrators, or Certif'Pro, subscribe a URL to some events; each
event is a delivery per subscriber, promised as an outbox side effect in the event's transaction, POSTed by a worker
with a Standard Webhooks signature, retried with the outbox's backoff, and logged attempt by attempt."""

from __future__ import annotations

import datetime
import ipaddress
import uuid
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from organisations.models import Membership, Organisation, Role, TenantQuerySet


class EventType(models.TextChoices):
    DOSSIER_STATE_CHANGED = "dossier.state_changed", _("Dossier : changement d'étape (création comprise)")
    DOSSIER_TRANSFERRED = "dossier.transferred", _("Dossier : changement d'organisme")
    ATTESTATION_READY = "attestation.ready", _("Attestation de validation partielle disponible")
    CERTIFICATE_READY = "certificate.ready", _("Certificat disponible")
    DECISION_RECORDED = "decision.recorded", _("Décision du jury enregistrée")
    REFERRAL_SENT = "referral.sent", _("Orientation France Travail envoyée")
    REFERRAL_ANSWERED = "referral.answered", _("Orientation acceptée ou déclinée")


# Sent by the « Tester » button only; never chosen in the list.
PING = "ping"


LOCAL_SUFFIXES = (".localhost", ".local", ".internal")


def validate_webhook_url(value: str) -> None:
    """HTTPS only, to a public host: a delivery carries a signature, not a secret, but plain HTTP would let anyone on
    the way read which dossiers move, and an address on the platform's own network would make it a relay.
    settings.WEBHOOK_ALLOW_HTTP (DEBUG, and the tests' receiver on 127.0.0.1) lifts both rules."""
    parts = urlsplit(value)
    if settings.WEBHOOK_ALLOW_HTTP:
        if parts.scheme not in {"http", "https"}:
            raise ValidationError(_("Indiquez une adresse http:// ou https://."), code="scheme")
        return
    if parts.scheme != "https":
        raise ValidationError(_("L'adresse doit commencer par https://."), code="scheme")
    host = (parts.hostname or "").lower().rstrip(".")
    # Names that only a local resolver answers (RFC 6761, 6762; ICANN's .internal): the cloud's metadata service,
    # the platform's own machines. Any other name is checked again, resolved, at each send (webhook_deliver).
    if host == "localhost" or host.endswith(LOCAL_SUFFIXES):
        raise ValidationError(_("L'adresse doit être joignable depuis Internet."), code="host")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return
    if not address.is_global:
        raise ValidationError(_("L'adresse doit être joignable depuis Internet."), code="host")


class PauseReason(models.TextChoices):
    MANUAL = "manual", _("Mis en pause par un administrateur")
    FAILURES = "failures", _("Mis en pause automatiquement après des échecs répétés")


class WebhookSubscriptionQuerySet(TenantQuerySet):
    # Managed by the organisation's administrators; Certif'Pro sees every organisation's.
    organisation_roles = frozenset({Role.ORG_ADMIN})

    def active(self) -> WebhookSubscriptionQuerySet:
        """Not paused, its membership, user and organisation active: what an event is sent to."""
        return self.filter(
            paused_at__isnull=True,
            membership__is_active=True,
            membership__user__is_active=True,
            organisation__is_active=True,
        )


class WebhookSubscription(models.Model):
    """A URL that receives some events, about the objects its membership may read (like an API token acting under
    that membership): an organisation administrator's, their organisation's; Certif'Pro's, every organisation's."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("organisation")
    )
    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="+", verbose_name=_("droits de lecture de")
    )
    name = models.CharField(_("nom"), max_length=100)
    url = models.URLField(_("adresse de réception"), max_length=500, validators=[validate_webhook_url])
    # The Standard Webhooks secret ("whsec_" + base64 of 32 random bytes). Kept as is: an HMAC needs the secret itself
    # to sign (docs/security.md). Shown once, at creation.
    secret = models.CharField(_("secret de signature"), max_length=100, editable=False)
    event_types = models.JSONField(_("événements"), default=list)
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("créé par"),
    )
    paused_at = models.DateTimeField(_("en pause depuis le"), null=True, blank=True)
    pause_reason = models.CharField(_("motif de la pause"), max_length=10, choices=PauseReason.choices, blank=True)
    # Failed attempts in a row (reset by a success) and since when: the automatic pause reads both.
    consecutive_failures = models.PositiveIntegerField(_("échecs consécutifs"), default=0)
    failing_since = models.DateTimeField(_("en échec depuis le"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("dernier envoi réussi"), null=True, blank=True)

    objects = WebhookSubscriptionQuerySet.as_manager()

    class Meta:
        verbose_name = _("abonnement aux webhooks")
        verbose_name_plural = _("abonnements aux webhooks")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None

    def wants(self, event_type: str) -> bool:
        return event_type in self.event_types

    def event_type_labels(self) -> list[str]:
        return [str(label) for value, label in EventType.choices if value in self.event_types]

    def failures_to_pause(self, now: datetime.datetime) -> bool:
        """Whether this many failures in a row, or failing this long, should pause it (settings.WEBHOOK_PAUSE_*)."""
        if self.consecutive_failures >= settings.WEBHOOK_PAUSE_AFTER_FAILURES:
            return True
        limit = datetime.timedelta(days=settings.WEBHOOK_PAUSE_AFTER_DAYS)
        return self.failing_since is not None and now - self.failing_since >= limit


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("En cours")
    DELIVERED = "delivered", _("Reçu")
    FAILED = "failed", _("Abandonné après plusieurs échecs")
    CANCELLED = "cancelled", _("Non envoyé : abonnement en pause")


class WebhookDeliveryQuerySet(models.QuerySet["WebhookDelivery"]):
    def visible_to(self, membership: Membership | None) -> WebhookDeliveryQuerySet:
        return self.filter(subscription__in=WebhookSubscription.objects.visible_to(membership))

    def past_retention(self, cutoff: datetime.datetime) -> WebhookDeliveryQuerySet:
        return self.filter(created_at__lt=cutoff)


class WebhookDelivery(models.Model):
    """One event for one subscription: the message (its payload fixed when the event happened) and its state. The
    message id (`Webhook-Id`) stays the same across retries, so a receiver can ignore a duplicate."""

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("abonnement")
    )
    message_id = models.UUIDField(_("identifiant du message"), default=uuid.uuid4, unique=True, editable=False)
    # What happened (the same for every subscriber): its type and a key that makes a repeated signal harmless.
    event_id = models.UUIDField(_("identifiant de l'événement"))
    event_type = models.CharField(_("événement"), max_length=40)
    event_key = models.CharField(_("clé de l'événement"), max_length=120)
    payload = models.JSONField(_("contenu"))
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)
    status = models.CharField(_("état"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    delivered_at = models.DateTimeField(_("reçu le"), null=True, blank=True)

    objects = WebhookDeliveryQuerySet.as_manager()
    tenant_path = "subscription__organisation"

    class Meta:
        verbose_name = _("envoi de webhook")
        verbose_name_plural = _("envois de webhooks")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event_key"], name="webhook_one_delivery_per_event"),
        ]
        indexes = [models.Index(fields=["subscription", "-created_at"], name="webhook_delivery_recent")]

    def __str__(self) -> str:
        return f"{self.event_type} {self.message_id}"

    @property
    def webhook_id(self) -> str:
        return f"msg_{self.message_id.hex}"


class WebhookAttempt(models.Model):
    """One POST of a delivery: when, the answer's status (none when the receiver could not be reached), how long it
    took, the error, the start of the answer's body."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempts", verbose_name=_("envoi")
    )
    at = models.DateTimeField(_("date"), default=timezone.now)
    status_code = models.PositiveSmallIntegerField(_("code de réponse"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("durée (ms)"))
    error = models.CharField(_("erreur"), max_length=500, blank=True)
    response_body = models.TextField(_("début de la réponse"), blank=True)

    tenant_path = "delivery__subscription__organisation"

    class Meta:
        verbose_name = _("tentative d'envoi de webhook")
        verbose_name_plural = _("tentatives d'envoi de webhooks")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def attempt_fields(**fields: Any) -> dict[str, Any]:
    """An attempt's fields cut to their columns."""
    fields["error"] = str(fields.get("error", ""))[:500]
    fields["response_body"] = str(fields.get("response_body", ""))[: settings.WEBHOOK_RESPONSE_KEPT_CHARS]
    return fields
