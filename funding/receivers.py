"""Funding follows the journey: it listens to what the steps below it announce, in their transaction."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from candidates.signals import dossier_withdrawal_started, dossier_withdrawn
from evaluations.models import EvaluationKind
from evaluations.signals import evaluation_closed
from funding.models import FeeKind
from funding.services import fee_entry_record, funding_lines_lock_for_stop, funding_lines_stop
from juries.signals import certificate_created
from organisations.signals import habilitation_changed


@receiver(dossier_withdrawal_started, dispatch_uid="funding.lock_lines")
def lock_lines_of_withdrawing_dossier(sender: Any, *, dossier: Any, **kwargs: Any) -> None:
    funding_lines_lock_for_stop(dossier=dossier)


@receiver(dossier_withdrawn, dispatch_uid="funding.stop_lines")
def stop_lines_of_withdrawn_dossier(sender: Any, *, dossier: Any, by: Any, reason: str, **kwargs: Any) -> None:
    funding_lines_stop(dossier=dossier, by=by, reason=reason)


@receiver(evaluation_closed, dispatch_uid="funding.prior_evaluation_fee")
def record_prior_evaluation_fee(sender: Any, *, evaluation: Any, **kwargs: Any) -> None:
    """Certif'Pro's fee per closed prior evaluation, exactly once (unique per source)."""
    if evaluation.kind == EvaluationKind.PRIOR:
        fee_entry_record(kind=FeeKind.PRIOR_EVALUATION, source=evaluation)


@receiver(certificate_created, dispatch_uid="funding.certificate_fee")
def record_certificate_fee(sender: Any, *, certificate: Any, **kwargs: Any) -> None:
    """Certif'Pro's fee per certificate, exactly once (unique per source)."""
    fee_entry_record(kind=FeeKind.CERTIFICATE, source=certificate)


@receiver(habilitation_changed, dispatch_uid="funding.habilitation_fees")
def record_habilitation_fees(sender: Any, *, event: str, habilitations: list[Any], **kwargs: Any) -> None:
    """A habilitation granted or renewed starts a period: its establishment fee; and the application fee once per
    application that granted it (first or renewal), none for Certif'Pro's renewal without an application.
    Unique per source, as the daily catch-up keys them (funding.services._fee_facts)."""
    if event not in ("granted", "renewed"):
        return
    for habilitation in habilitations:
        for kind in (FeeKind.APPLICATION, FeeKind.ESTABLISHMENT):
            fee_entry_record(kind=kind, source=habilitation)
