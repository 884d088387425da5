"""Steps 1 to 3 in a real browser: the counsellor, the evaluator and the trainer take a dossier from the first
interview to "ready for the jury", downloading the attestation of partial validation on the way."""

import datetime
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from pypdf import PdfReader

from candidates.models import Dossier, add_years
from tests.browser.support import fill_grid, log_in
from tests.journey import small_referentiel, team_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"


def test_from_the_first_interview_to_ready_for_the_jury(page, live_server):
    page.set_default_timeout(10_000)
    small_referentiel()
    team = team_for()
    base = live_server.url

    # 1. The counsellor records the interview and opens the dossier with the candidate's consent.
    log_in(page, base, team.counsellor.user.email)
    page.goto(f"{base}/dossiers/nouveau/")
    page.get_by_label("Civilité").select_option("mme")
    page.get_by_label("Nom d'usage").fill("Lefèvre")
    page.get_by_label(re.compile(r"^Prénom")).fill("Amélie")
    page.get_by_label("Date de naissance").fill("1984-06-02")
    page.get_by_label(re.compile(r"^Lieu de naissance")).fill("Douai")
    page.get_by_label("Statut à l'inscription").select_option("job_seeker")
    page.get_by_label("Niveau de formation").select_option("3")
    page.get_by_label("Origine de la démarche").select_option("france_travail")
    page.get_by_label("Certification visée").select_option("clea")
    page.get_by_role("button", name="Créer le dossier").click()
    page.wait_for_url(f"{base}/dossiers/*/")
    dossier = Dossier.objects.get(candidate__last_name="Lefèvre")
    page.get_by_role("link", name="Ouvrir le dossier").click()
    page.get_by_label("Le candidat a donné son accord").check()
    page.get_by_role("button", name="Ouvrir le dossier").click()
    page.wait_for_url(f"{base}/dossiers/{dossier.pk}/")
    dossier.refresh_from_db()
    assert dossier.state == "opened"

    # 2. The evaluator records the prior evaluation: sub-domain 2.1 stays short of its threshold.
    log_in(page, base, team.evaluator.user.email)
    page.goto(f"{base}/dossiers/{dossier.pk}/")
    page.get_by_role("link", name="Commencer l'évaluation préalable").click()
    page.get_by_role("button", name="Commencer l'évaluation").click()
    fill_grid(page, dossier, acquired={"1.1.1", "1.1.2", "1.2.1", "1.2.2", "2.1.1"})
    dossier.refresh_from_db()
    assert dossier.state == "partially_validated"
    assert dossier.deadline == add_years(timezone.localdate(), 5)

    # The counsellor downloads the attestation of partial validation.
    log_in(page, base, team.counsellor.user.email)
    page.goto(f"{base}/dossiers/{dossier.pk}/")
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile(r"^Attestation ATT-")).first.click()
    pdf_path = download_info.value.path()
    text = "".join(p.extract_text() for p in PdfReader(pdf_path).pages)
    assert "Attestation de validation partielle" in text and "LEFÈVRE" in text

    # 3. The counsellor entrusts the training to a trainer of another organisation.
    page.get_by_role("link", name="Définir le parcours de formation").click()
    page.get_by_label("Formation assurée par").select_option(str(team.trainer.pk))
    page.get_by_label("Durée prévue (heures)").fill("24")
    page.get_by_label("Début").fill(f"{timezone.localdate():%Y-%m-%d}")
    page.get_by_label("Fin prévue").fill(f"{timezone.localdate() + datetime.timedelta(days=45):%Y-%m-%d}")
    page.get_by_role("button", name="Confier le parcours").click()
    page.wait_for_load_state()
    dossier.refresh_from_db()
    assert dossier.state == "in_training"

    # The trainer records a session and declares the training done, short of the planned hours.
    log_in(page, base, team.trainer.user.email)
    plan = dossier.training_plans.get()
    page.goto(f"{base}/formation/{plan.pk}/")
    page.get_by_role("textbox", name="Date", exact=True).fill(f"{timezone.localdate():%Y-%m-%d}")
    page.get_by_label("Durée (heures)").fill("3")
    page.get_by_label("Contenu").fill("Calcul de proportions")
    page.get_by_label("Séance déjà réalisée").check()
    page.get_by_role("button", name="Ajouter la séance").click()
    page.get_by_text("Calcul de proportions").wait_for()
    page.get_by_role("link", name="Terminer la formation").click()
    # 3 h done of 24: the reason is asked for (issue 14).
    page.get_by_label("Motif des heures non réalisées").fill("Objectifs atteints en une séance.")
    page.get_by_role("button", name="Confirmer : la formation est terminée").click()
    page.wait_for_load_state()
    plan.refresh_from_db()
    assert plan.completed_at is not None

    # The final evaluation covers only what was missing, and the dossier is ready for the jury.
    log_in(page, base, team.final_evaluator.user.email)
    page.goto(f"{base}/dossiers/{dossier.pk}/")
    page.get_by_role("link", name="Commencer l'évaluation finale").click()
    page.get_by_role("button", name="Commencer l'évaluation").click()
    final = dossier.evaluations.get(kind="final")
    assert set(final.results.values_list("criterion__code", flat=True)) == {"2.1.2", "2.1.3", "2.1.4"}
    fill_grid(page, dossier, acquired={"2.1.2", "2.1.3"})
    dossier.refresh_from_db()
    assert dossier.state == "ready_for_jury"
    page.goto(f"{base}/dossiers/{dossier.pk}/")
    assert page.get_by_text("Prêt pour le jury").first.is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dossier-ready-for-jury.png"), full_page=True)
