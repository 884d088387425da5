"""What each person is told, and how they want to hear it (issue 17).

A Notification is written in the transaction of the event it tells (its receiver runs inside it), once per
(event, recipient): the unique constraints make a signal sent twice harmless. Platform users read theirs in the
notification centre; a candidate, who has no account yet, gets e-mail-only rows (`recipient_email`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clea_platform.changes import TracksChanges
from organisations.models import Membership, Organisation


class EmailMode(models.TextChoices):
    IMMEDIATE = "immediate", _("Un courriel à chaque notification")
    DIGEST = "digest", _("Un récapitulatif par jour")
    NEVER = "never", _("Aucun courriel (seulement sur la plateforme)")


class EmailDelivery(models.TextChoices):
    """How this notification leaves by e-mail, fixed when it is written (the recipient's preference then)."""

    NONE = "none", _("Pas de courriel")
    IMMEDIATE = "immediate", _("Courriel immédiat")
    DIGEST = "digest", _("Récapitulatif du jour")


class NotificationQuerySet(models.QuerySet["Notification"]):
    def visible_to(self, membership: Membership | None) -> NotificationQuerySet:
        """Only the person's own, and only those of the organisation they work for now: the link of another
        organisation's notification leads to what the current membership may not see. Certif'Pro is no exception:
        a notification is personal."""
        if membership is None:
            return self.none()
        return self.filter(recipient_id=membership.user_id, organisation_id=membership.organisation_id)

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)

    def for_centre(self) -> NotificationQuerySet:
        """Unread first, then newest first (the index notification_centre)."""
        return self.order_by(models.F("read_at").asc(nulls_first=True), "-created_at", "-pk")


class Notification(TracksChanges, models.Model):
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Celle pour laquelle la personne reçoit la notification."),
    )
    # A platform user, or (a candidate, without an account yet) only an e-mail address: exactly one of the two.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("destinataire"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    recipient_email = models.EmailField(_("adresse e-mail du destinataire"), blank=True)
    kind = models.CharField(_("nature"), max_length=40)
    title = models.CharField(_("titre"), max_length=200)
    body = models.TextField(_("texte"), blank=True)
    # A path on the platform (the site's address is added in e-mails).
    url = models.CharField(_("lien"), max_length=300, blank=True)
    # The event, e.g. "decision_recorded:42": with the recipient, what makes the notification unique.
    event_key = models.CharField(_("événement"), max_length=120)
    created_at = models.DateTimeField(_("créée le"), default=timezone.now)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True, db_index=True)
    read_at = models.DateTimeField(_("lue le"), null=True, blank=True)
    email_delivery = models.CharField(
        _("envoi par courriel"), max_length=10, choices=EmailDelivery.choices, default=EmailDelivery.NONE
    )
    # Set in the transaction that sends its e-mail (alone or in a digest): a second run sends nothing.
    emailed_at = models.DateTimeField(_("envoyée par courriel le"), null=True, blank=True)
    # Files joined to its e-mail: [{"provider": name, "arguments": {...}}] (notifications.attachments).
    attachments = models.JSONField(_("pièces jointes"), default=list, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(recipient__isnull=False) & Q(recipient_email=""))
                | (Q(recipient__isnull=True) & ~Q(recipient_email="")),
                name="notification_one_recipient",
            ),
            models.UniqueConstraint(
                fields=["event_key", "recipient"],
                condition=Q(recipient__isnull=False),
                name="notification_once_per_user",
            ),
            models.UniqueConstraint(
                fields=["event_key", "recipient_email"],
                condition=Q(recipient__isnull=True),
                name="notification_once_per_email",
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "organisation", "read_at", "-created_at"], name="notification_centre"),
            models.Index(
                fields=["email_delivery", "created_at"],
                condition=Q(emailed_at__isnull=True),
                name="notification_email_pending",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def email_address(self) -> str:
        return self.recipient.email if self.recipient is not None else self.recipient_email

    def link(self) -> str:
        """The absolute address of its object, for e-mails."""
        return f"{settings.SITE_URL.rstrip('/')}{self.url}" if self.url else ""

    def mark_read(self, *, now: Any = None) -> None:
        if self.read_at is None:
            self.read_at = now or timezone.now()
            self.save(update_fields=["read_at"])


class NotificationPreference(models.Model):
    """How a person wants to hear of their notifications by e-mail. Without a row: at once (EmailMode.IMMEDIATE).

    At once by default because these are hand-offs (« à vous de jouer ») that wait for the person; most people
    receive a few a week, and a digest would delay each hand-off by up to a day. Whoever receives many (a
    counsellor with a large file) chooses the daily digest; the notification centre shows them all either way."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("utilisateur"),
        on_delete=models.CASCADE,
        related_name="notification_preference",
    )
    email_mode = models.CharField(_("courriels"), max_length=10, choices=EmailMode.choices, default=EmailMode.IMMEDIATE)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    class Meta:
        verbose_name = _("préférence de notification")
        verbose_name_plural = _("préférences de notification")

    def __str__(self) -> str:
        return f"{self.user} – {self.get_email_mode_display()}"
