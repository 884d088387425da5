"""The credential follows the certificate: issued in the transaction that issues the certificate."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from credentials.services import credential_issue
from juries.signals import certificate_created


@receiver(certificate_created, dispatch_uid="credentials.issue")
def issue_credential_with_certificate(sender: Any, *, certificate: Any, **kwargs: Any) -> None:
    """One credential per certificate (idempotent: the signal may come again for a row completed late)."""
    credential_issue(certificate=certificate)
