"""Pix results in a real browser (README « Résultats Pix »): on a phone, an evaluator opens « Résultats Pix » from
the menu, uploads the file Pix gave (one line matched, one that names the person differently), reads the counts,
filters the line to match, chooses the dossier the page suggests (never chosen for them), then records the results:
both dossiers get their prior evaluation, closed, with the file's line as its source. Screenshots in
test-artifacts/pix/ at 375 and 1280 px; axe on each page."""

from __future__ import annotations

import datetime
import re

import pytest
from playwright.sync_api import expect

from candidates.models import DossierState
from clea_platform.certifications import Certification
from evaluations.models import EvaluationStatus, PixImport, PixRowStatus
from evaluations.services import pix_mapping_load_provisional
from organisations.models import Role
from tests.browser.support import PHONE, assert_accessible, log_in, shoot
from tests.evaluations.support import line, pix_file
from tests.journey import DossierFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_evaluator_uploads_resolves_a_line_and_records_the_results(page, live_server, org_a, make_member):
    page.set_default_timeout(15_000)
    base = live_server.url
    pix_mapping_load_provisional()  # the migration's rows are flushed between transactional tests
    evaluator = make_member(org_a, Role.EVALUATOR, email="eva@evaluateur-a.fr", first_name="Éva")
    numerique = {"organisation": org_a, "certification": Certification.CLEA_NUMERIQUE, "state": "opened"}
    roux = DossierFactory(first_name="Paul", last_name="Roux", birth_date=datetime.date(1985, 4, 12), **numerique)
    martin = DossierFactory(
        first_name="Léa", last_name="Martin-Dupuis", birth_date=datetime.date(1990, 3, 15), **numerique
    )
    content = pix_file(line("100", "Paul", "ROUX", "12/04/1985"), line("101", "Léa", "MARTIN", "15/03/1990"))
    page.set_viewport_size(PHONE)

    log_in(page, base, evaluator.user.email)
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Résultats Pix").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Résultats Pix pour CléA numérique")
    expect(page.get_by_text("Aucun fichier importé pour le moment.")).to_be_visible()
    assert_accessible(page, "liste des imports Pix")
    shoot(page, "pix", "list")

    page.get_by_label("Fichier de résultats Pix (CSV)").set_input_files(
        files=[{"name": "resultats-pix.csv", "mimeType": "text/csv", "buffer": content}]
    )
    page.get_by_role("button", name="Importer et rapprocher").click()
    pix_import = PixImport.objects.get()
    expect(page).to_have_url(f"{base}/evaluations/pix/{pix_import.pk}/")
    expect(page.locator(".messages[role=status]")).to_contain_text("2 lignes (rapprochées : 1, à rapprocher : 1)")
    expect(
        page.get_by_text("correspondance entre les niveaux Pix et les domaines CléA numérique est provisoire")
    ).to_be_visible()
    assert_accessible(page, "détail de l'import")
    shoot(page, "pix", "detail")

    page.get_by_role("link", name="À rapprocher").click()
    expect(page.get_by_role("heading", level=2, name="1 ligne")).to_be_visible()
    page.get_by_role("link", name="Rapprocher la ligne 3").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rapprocher la ligne 3")
    suggestion = page.get_by_label(re.compile(r"Léa Martin-Dupuis – 15/03/1990"))
    expect(suggestion).not_to_be_checked()  # offered, never chosen for the evaluator
    assert_accessible(page, "rapprocher une ligne")
    shoot(page, "pix", "resolve")
    suggestion.check()
    page.get_by_role("button", name="Rapprocher de ce dossier").click()
    expect(page.locator(".messages[role=status]")).to_contain_text(f"rapprochée du dossier {martin.reference}")

    page.get_by_role("link", name="Toutes").click()
    page.get_by_role("button", name="Enregistrer 2 résultats comme évaluations préalables").click()
    expect(page.locator(".messages[role=status]")).to_contain_text("2 résultats enregistrés")
    expect(page.locator(".badge--success")).to_have_count(2)
    assert_accessible(page, "import enregistré")
    shoot(page, "pix", "applied")

    for dossier in (roux, martin):
        dossier.refresh_from_db()
        evaluation = dossier.evaluations.get()
        assert evaluation.status == EvaluationStatus.CLOSED and evaluation.evaluator_id == evaluator.user_id
        assert evaluation.pix_row.pix_import == pix_import
        assert dossier.state == DossierState.PARTIALLY_VALIDATED
    assert set(pix_import.rows.values_list("status", flat=True)) == {PixRowStatus.APPLIED}

    # The evaluation's grid names its source.
    page.goto(f"{base}/evaluations/{martin.evaluations.get().pk}/grille/")
    expect(
        page.get_by_text("Enregistrée depuis les résultats Pix : fichier resultats-pix.csv, ligne 3")
    ).to_be_visible()
