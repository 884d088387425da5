"""What the apps below announce, turned into webhook events (issue 20). Each receiver runs inside the event's
transaction (`send`, not `send_robust`): the deliveries and their side effects commit with the event or not at all.
A payload names objects by id and API address only; the subscriber reads the rest with its token."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from candidates.models import Dossier
from candidates.signals import dossier_state_changed, dossier_transferred
from evaluations.signals import attestation_ready
from juries.signals import certificate_created, decision_recorded
from referrals.signals import referral_answered, referral_sent
from webhooks.models import EventType
from webhooks.services import WebhookEvent, webhook_event_emit


@receiver(dossier_state_changed, dispatch_uid="webhooks.dossier_state_changed")
def on_dossier_state_changed(sender: Any, *, dossier: Dossier, event: Any, **kwargs: Any) -> None:
    if event.transition == "transfer":  # told as `dossier.transferred`, to both organisations
        return
    webhook_event_emit(
        WebhookEvent(
            type=EventType.DOSSIER_STATE_CHANGED,
            key=f"dossier_event:{event.pk}",
            resource="dossier",
            resource_id=dossier.pk,
            checked_id=dossier.pk,
            organisation_id=dossier.organisation_id,
            organisations={dossier.organisation_id},
            data={"state": event.to_state, "previous_state": event.from_state or None, "transition": event.transition},
            occurred_at=event.at,
        )
    )


@receiver(dossier_transferred, dispatch_uid="webhooks.dossier_transferred")
def on_dossier_transferred(sender: Any, *, dossier: Dossier, transfer: Any, **kwargs: Any) -> None:
    webhook_event_emit(
        WebhookEvent(
            type=EventType.DOSSIER_TRANSFERRED,
            key=f"dossier_transfer:{transfer.pk}",
            resource="dossier_transfer",
            resource_id=dossier.pk,
            checked_id=transfer.pk,
            organisation_id=dossier.organisation_id,
            organisations={transfer.from_organisation_id, transfer.to_organisation_id},
            data={
                "from_organisation": transfer.from_organisation_id,
                "to_organisation": transfer.to_organisation_id,
                "state": dossier.state,
            },
            occurred_at=transfer.at,
        )
    )


@receiver(attestation_ready, dispatch_uid="webhooks.attestation_ready")
def on_attestation_ready(sender: Any, *, attestation: Any, **kwargs: Any) -> None:
    dossier = attestation.dossier
    webhook_event_emit(
        WebhookEvent(
            type=EventType.ATTESTATION_READY,
            key=f"attestation:{attestation.pk}",
            resource="attestation",
            resource_id=attestation.pk,
            checked_id=attestation.pk,
            organisation_id=dossier.organisation_id,
            organisations={dossier.organisation_id, attestation.organisation_id},
            data={"dossier": dossier.pk},
        )
    )


@receiver(certificate_created, dispatch_uid="webhooks.certificate_ready")
def on_certificate_created(sender: Any, *, certificate: Any, **kwargs: Any) -> None:
    dossier = certificate.dossier
    webhook_event_emit(
        WebhookEvent(
            type=EventType.CERTIFICATE_READY,
            key=f"certificate:{certificate.pk}",
            resource="certificate",
            resource_id=certificate.pk,
            checked_id=certificate.pk,
            organisation_id=dossier.organisation_id,
            # The dossier's organisation (the certificate's), and the jury body whose session awarded it.
            organisations={dossier.organisation_id, certificate.organisation_id, certificate.session.organisation_id},
            data={"dossier": dossier.pk},
        )
    )


@receiver(decision_recorded, dispatch_uid="webhooks.decision_recorded")
def on_decision_recorded(sender: Any, *, decision: Any, dossier: Dossier, **kwargs: Any) -> None:
    session_organisation_id = decision.submission.session.organisation_id
    webhook_event_emit(
        WebhookEvent(
            type=EventType.DECISION_RECORDED,
            key=f"decision:{decision.pk}",
            resource="decision",
            resource_id=decision.pk,
            checked_id=decision.pk,
            organisation_id=dossier.organisation_id,
            organisations={dossier.organisation_id, session_organisation_id},
            data={"dossier": dossier.pk, "kind": decision.kind},
        )
    )


def _referral_event(referral: Any, event_type: str) -> WebhookEvent:
    return WebhookEvent(
        type=event_type,
        key=f"{event_type}:{referral.pk}",
        resource="referral",
        resource_id=referral.pk,
        checked_id=referral.pk,
        organisation_id=referral.organisation_id,
        # The organisation it was sent to, and the France Travail agency that sent it.
        organisations={referral.organisation_id, referral.from_organisation_id},
        data={"state": referral.state},
    )


@receiver(referral_sent, dispatch_uid="webhooks.referral_sent")
def on_referral_sent(sender: Any, *, referral: Any, **kwargs: Any) -> None:
    webhook_event_emit(_referral_event(referral, EventType.REFERRAL_SENT))


@receiver(referral_answered, dispatch_uid="webhooks.referral_answered")
def on_referral_answered(sender: Any, *, referral: Any, **kwargs: Any) -> None:
    webhook_event_emit(_referral_event(referral, EventType.REFERRAL_ANSWERED))
