"""The trainer ends a training short of its planned hours, in a real browser at 375 px: a planned session is taken
off the calendar, the reason is asked for on its field, and the counsellor reads it on the dossier's timeline."""

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from tests.browser.support import log_in
from tests.journey import DossierFactory
from training.models import TrainingPlan
from training.services import training_session_add

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"


def test_the_trainer_ends_the_training_short_with_a_reason_that_the_timeline_shows(page, live_server):
    page.set_default_timeout(10_000)
    page.set_viewport_size({"width": 375, "height": 800})
    base = live_server.url
    dossier = DossierFactory(state="in_training")
    plan = TrainingPlan.objects.get(dossier=dossier)
    trainer = dossier.team.trainer
    today = timezone.localdate()
    training_session_add(plan=plan, by=trainer, date=today, duration_hours=Decimal("6"), topic="Calcul", done=True)
    later = today + datetime.timedelta(days=4)
    training_session_add(plan=plan, by=trainer, date=later, duration_hours=Decimal("3"), topic="Bilan")

    log_in(page, base, trainer.user.email)
    page.goto(f"{base}{reverse('training:plan_detail', args=[plan.pk])}")
    page.get_by_role("button", name=f"Retirer du calendrier (séance du {later:%d/%m/%Y})").click()
    page.locator("#seances").get_by_text(f"La séance du {later:%d/%m/%Y} est retirée du calendrier.").wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "training-sessions.png"), full_page=True)

    page.get_by_role("link", name="Terminer la formation").click()
    page.get_by_role("button", name="Confirmer : la formation est terminée").click()
    page.locator("#id_shortfall_reason_errors").get_by_text("indiquez pourquoi la formation se termine").wait_for()
    reason = page.get_by_label("Motif des heures non réalisées")
    assert "_errors" in (reason.get_attribute("aria-describedby") or "")
    page.screenshot(path=str(ARTIFACTS / "training-complete-reason.png"), full_page=True)
    reason.fill("Le candidat a repris un emploi à temps plein.")
    page.get_by_role("button", name="Confirmer : la formation est terminée").click()
    page.get_by_text("La formation est terminée").first.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    log_in(page, base, dossier.team.counsellor.user.email)
    page.goto(f"{base}{reverse('journey:dossier_detail', args=[dossier.pk])}")
    timeline = page.locator("ol.timeline")
    assert "6 h réalisées sur 35 h prévues. Motif : Le candidat a repris un emploi à temps plein." in (
        timeline.inner_text()
    )
