"""Reads of evaluations for the screens (the public check of an attestation). The evaluator's drafts to close are
in their "À faire" (journey.selectors)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from evaluations.acquisitions import attestation_outcome
from evaluations.models import Attestation


@dataclass(frozen=True)
class AttestationCheck:
    """What the public verification page shows of an attestation: enough to check it, nothing to reach the person
    (no birth date, no contact details, no organisation, no number: it holds the dossier's reference)."""

    holder_name: str
    certification: str
    issued_on: datetime.date
    acquired_domains: list[str]
    # The day the holder's identity was erased with the dossier's personal data, past their retention
    # (settings.DATA_RETENTION, privacy.services): the attestation was issued, its holder can no longer be named
    # (`holder_name` is then empty). None while the identity is kept.
    holder_erased_on: datetime.date | None = None


def attestation_check(code: str) -> AttestationCheck | None:
    """The attestation with this verification code (already normalised), or None."""
    attestation = (
        Attestation.objects.filter(verification_code=code)
        .select_related("dossier__candidate", "dossier__referentiel", "evaluation")
        .first()
    )
    if attestation is None:
        return None
    dossier = attestation.dossier
    attestation.evaluation.dossier = dossier  # loaded already
    outcome = attestation_outcome(attestation.evaluation)
    erased_at = dossier.candidate.anonymised_at
    return AttestationCheck(
        holder_name="" if erased_at is not None else dossier.candidate.holder_name,
        holder_erased_on=timezone.localdate(erased_at) if erased_at is not None else None,
        certification=dossier.get_certification_display(),
        issued_on=timezone.localdate(attestation.generated_at),
        acquired_domains=[f"{d.code}. {d.title}" for d in outcome.validated_domains],
    )
