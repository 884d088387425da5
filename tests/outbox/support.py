"""Side effects for the operators' page: light rows written directly, and failed attestations of real dossiers
whose retry really renders the document."""

from __future__ import annotations

import datetime
import itertools
from typing import Any

from django.test import override_settings
from django.utils import timezone

from candidates.models import Dossier
from evaluations.models import Attestation
from organisations.models import Organisation
from outbox.models import SideEffect, SideEffectState
from tests.journey import DossierFactory

# What a worker records when the file store is full: the error the operators read before they retry.
DISK_FULL = "OSError: [Errno 28] No space left on device: '/srv/media/attestations/2026/12'"

_keys = itertools.count(1)


def side_effect(
    organisation: Organisation | None,
    *,
    label: str = "Courriel « Votre dossier »",
    state: str = SideEffectState.FAILED,
    kind: str = "email",
    age: datetime.timedelta = datetime.timedelta(hours=1),
    **fields: Any,
) -> SideEffect:
    """A row as the runner leaves it: created `age` ago, due since then; failed ones after five attempts."""
    created = timezone.now() - age
    defaults: dict[str, Any] = {
        "attempts": 5 if state == SideEffectState.FAILED else 0,
        "last_error": DISK_FULL if state == SideEffectState.FAILED else "",
        "done_at": created + datetime.timedelta(seconds=2) if state == SideEffectState.DONE else None,
        "arguments": {"subject": "Votre dossier", "body": "Bonjour", "to": ["candidate@exemple.fr"]},
        "created_at": created,
        "available_at": created,
        "dispatched_at": created,
        "key": f"test:{next(_keys)}",
    }
    return SideEffect.objects.create(
        organisation=organisation, kind=kind, label=label, state=state, **defaults | fields
    )


def failed_attestation(organisation: Organisation | None = None, **dossier_fields: Any) -> tuple[SideEffect, Dossier]:
    """A dossier whose prior evaluation closed with gaps, and whose attestation never came, its side effect left
    as the runner leaves it after five failed attempts. Where the closing's commit runs the attestation (tests
    that commit, and the browser's), the file store is out of reach then: the first attempt fails for real."""
    with override_settings(MEDIA_ROOT="/dev/null/media"):
        dossier = DossierFactory(organisation=organisation, state="partially_validated", **dossier_fields)
    evaluation = dossier.evaluations.get()
    row = SideEffect.objects.get(key=f"attestation:{evaluation.pk}")
    assert row.state == SideEffectState.PENDING and not Attestation.objects.filter(evaluation=evaluation).exists()
    SideEffect.objects.filter(pk=row.pk).update(
        state=SideEffectState.FAILED, attempts=5, last_error=row.last_error or DISK_FULL
    )
    row.refresh_from_db()
    return row, dossier
