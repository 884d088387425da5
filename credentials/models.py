"""The platform's signing keys and the Open Badges 3.0 credential issued with each certificate."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SigningKeyQuerySet(models.QuerySet["SigningKey"]):
    def published(self) -> SigningKeyQuerySet:
        """Every key ever used, retired ones included: a credential signed before a rotation must still verify."""
        return self.order_by("created_at", "pk")


class SigningKey(models.Model):
    """An Ed25519 key pair of the platform. One signs (`signing` is True, unique: two processes creating the first
    key at once cannot both succeed); a rotation retires it from signing and keeps it published."""

    kid = models.CharField(_("identifiant"), max_length=64, unique=True)  # the RFC 7638 thumbprint of the public key
    private_key_pem = models.TextField(_("clé privée (PEM)"))
    public_jwk = models.JSONField(_("clé publique (JWK)"))
    # True for the key that signs, NULL for the others: NULLs never collide under the unique constraint.
    signing = models.BooleanField(_("signe les attestations"), null=True, unique=True)
    created_at = models.DateTimeField(_("créée le"), default=timezone.now)
    retired_at = models.DateTimeField(_("retirée le"), null=True, blank=True)

    objects = SigningKeyQuerySet.as_manager()

    class Meta:
        verbose_name = _("clé de signature")
        verbose_name_plural = _("clés de signature")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(signing__isnull=True) | models.Q(signing=True, retired_at__isnull=True),
                name="signing_key_signs_until_retired",
            )
        ]

    def __str__(self) -> str:
        return self.kid


class IssuedCredentialQuerySet(models.QuerySet["IssuedCredential"]):
    def in_status_list(self, number: int) -> IssuedCredentialQuerySet:
        from credentials.status_list import index_range

        first, last = index_range(number)
        return self.filter(status_index__gte=first, status_index__lte=last)


class IssuedCredential(models.Model):
    """The signed credential (compact JWS) of one certificate, as the holder downloads it. Its revocation is not
    stored here: it is the certificate's, published in the status list at `status_index`."""

    certificate = models.OneToOneField(
        "juries.Certificate", on_delete=models.PROTECT, related_name="credential", verbose_name=_("certificat")
    )
    credential_id = models.UUIDField(_("identifiant de l'attestation"), default=uuid.uuid4, unique=True)
    status_index = models.PositiveIntegerField(_("position dans la liste de statut"), unique=True)
    key = models.ForeignKey(
        SigningKey, on_delete=models.PROTECT, related_name="credentials", verbose_name=_("clé de signature")
    )
    issued_at = models.DateTimeField(_("émise le"))
    token = models.TextField(_("certificat signé (JWS compact)"))
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64)

    objects = IssuedCredentialQuerySet.as_manager()

    tenant_path = "certificate__organisation"

    class Meta:
        verbose_name = _("certificat numérique")
        verbose_name_plural = _("certificats numériques")

    def __str__(self) -> str:
        return f"urn:uuid:{self.credential_id}"

    @property
    def filename(self) -> str:
        return f"clea-{self.certificate.number}.jwt"
