"""The single-use links that open a candidate's own space (issue 18). A candidate has no account and no password:
a link sent to the e-mail address their dossier holds proves that the address is theirs, once, for 30 minutes."""

from __future__ import annotations

import datetime
import hashlib

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# How long a link opens the space after it is made: long enough to read one's mail, short enough that a link left
# in a forwarded or stolen mailbox is soon worth nothing.
LINK_VALIDITY = datetime.timedelta(minutes=30)


def token_hash(token: str) -> str:
    """What the database keeps of a link's token: its SHA-256, so that a copy of the database opens no space."""
    return hashlib.sha256(token.encode()).hexdigest()


class LinkOrigin(models.TextChoices):
    SELF_REQUEST = "self_request", _("Demandé par la personne")
    COUNSELLOR = "counsellor", _("Envoyé par son conseiller ou sa conseillère")
    SUPPORT = "support", _("Créé par le support (commande)")


class SignInLinkQuerySet(models.QuerySet["SignInLink"]):
    def usable(self, now: datetime.datetime | None = None) -> SignInLinkQuerySet:
        return self.filter(used_at__isnull=True, expires_at__gt=now or timezone.now())


class SignInLink(models.Model):
    candidate = models.ForeignKey(
        "candidates.Candidate",
        on_delete=models.CASCADE,
        related_name="sign_in_links",
        verbose_name=_("personne candidate"),
    )
    token_sha256 = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)
    expires_at = models.DateTimeField(_("valable jusqu'au"))
    used_at = models.DateTimeField(_("utilisé le"), null=True, blank=True)
    origin = models.CharField(_("origine"), max_length=20, choices=LinkOrigin.choices)
    # The counsellor who sent it (LinkOrigin.COUNSELLOR).
    sent_by = models.ForeignKey(
        "organisations.Membership",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("envoyé par"),
    )

    objects = SignInLinkQuerySet.as_manager()
    tenant_path = "candidate__organisation"

    class Meta:
        verbose_name = _("lien de connexion")
        verbose_name_plural = _("liens de connexion")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"SignInLink {self.pk}"

    def is_usable(self, now: datetime.datetime | None = None) -> bool:
        return self.used_at is None and self.expires_at > (now or timezone.now())
