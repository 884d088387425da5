"""Documents promised before the outbox and never produced are asked for again, once (issue 13)."""

import pytest
from django.core.management import call_command

from evaluations.models import Attestation
from juries.models import Certificate, DecisionKind, SessionMinutes
from juries.services import decision_record
from outbox.models import SideEffect, SideEffectState
from outbox.services import side_effect_run
from tests.journey import PRIOR_WITH_GAPS, DossierFactory, evaluate
from tests.juries.factories import close, deliberating, make_jury

pytestmark = pytest.mark.django_db


def lost_before_the_outbox(django_capture_on_commit_callbacks):
    """An evaluation closed with gaps and a jury session closed with one award, whose messages were lost: no
    document, and no side effect (they predate the outbox)."""
    dossier = DossierFactory(state="prior_evaluation")
    evaluation = dossier.evaluations.get()
    jury = make_jury()
    [submission] = deliberating(jury, DossierFactory(state="ready_for_jury"))
    with django_capture_on_commit_callbacks(execute=False):
        evaluate(evaluation, dossier.team.evaluator, acquired=PRIOR_WITH_GAPS)
        decision_record(submission=submission, by=jury.president, kind=DecisionKind.AWARDED)
        session = close(jury)
    SideEffect.objects.all().delete()
    return evaluation, session


def test_missing_documents_are_promised_again_once(django_capture_on_commit_callbacks, capsys):
    evaluation, session = lost_before_the_outbox(django_capture_on_commit_callbacks)

    call_command("side_effects_backfill", "--dry-run")
    assert not SideEffect.objects.exists()
    assert "Documents à redemander : 3" in capsys.readouterr().out

    with django_capture_on_commit_callbacks(execute=False):
        call_command("side_effects_backfill")
        call_command("side_effects_backfill")
    assert "Documents redemandés : 0" in capsys.readouterr().out.splitlines()[-1]
    assert sorted(SideEffect.objects.values_list("kind", "state")) == [
        ("attestation", SideEffectState.PENDING),
        ("certificate", SideEffectState.PENDING),
        ("minutes", SideEffectState.PENDING),
    ]

    for side_effect in SideEffect.objects.all():
        side_effect_run(side_effect.pk)
    assert Attestation.objects.filter(evaluation=evaluation).exists()
    assert Certificate.objects.produced().filter(session=session).count() == 1
    assert SessionMinutes.objects.filter(session=session).exists()
    call_command("side_effects_backfill")
    assert "Documents redemandés : 0" in capsys.readouterr().out
