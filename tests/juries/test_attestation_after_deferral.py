"""An attestation after a jury's deferral states what the dossier holds then: the domains the jury sent back are
to acquire again, whatever an earlier evaluation had acquired in them (evaluations.acquisitions)."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from pypdf import PdfReader

from evaluations.services import evaluation_start
from juries.models import DecisionKind
from juries.services import decision_record
from tests.evaluations.support import complete_training
from tests.journey import DossierFactory, evaluate
from tests.juries.factories import deliberating, make_jury
from training.services import training_plan_create

pytestmark = pytest.mark.django_db


def test_the_attestation_after_a_deferral_lists_the_reopened_domain_as_still_to_acquire(
    django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    jury = make_jury()
    dossier = DossierFactory(state="ready_for_jury")  # every criterion acquired at the prior evaluation
    [submission] = deliberating(jury, dossier)
    decision_record(
        submission=submission, by=jury.president, kind=DecisionKind.DEFERRED, reason="Calcul", missing_domains=["2"]
    )
    dossier.refresh_from_db()
    today = timezone.localdate()
    training_plan_create(
        dossier=dossier,
        by=dossier.team.counsellor,
        trainer=dossier.team.trainer,
        planned_hours=Decimal("20"),
        starts_on=today,
        ends_on=today + datetime.timedelta(days=60),
    )
    complete_training(dossier)
    dossier.refresh_from_db()
    final = evaluation_start(dossier=dossier, by=dossier.team.final_evaluator, started_on=today)
    with django_capture_on_commit_callbacks(execute=True):
        evaluate(final, dossier.team.final_evaluator, acquired={"2.1.1"})

    attestation = dossier.attestations.get()
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(attestation.file.path).pages).split())
    acquired, _, to_acquire = text.partition("Ce qui reste à acquérir")
    assert "1. Communication en français" in acquired and "Calcul" not in acquired
    assert "2. Calcul" in to_acquire
    assert all(f"Critère 2.1.{i}" in to_acquire for i in (2, 3, 4))
