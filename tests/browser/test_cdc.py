"""The declarations to the Caisse des Dépôts in a real browser (README « Déclaration des certificats à la Caisse des
Dépôts »): on a phone, Certif'Pro opens « Caisse des Dépôts » from the funding screens, completes the holder listed
« à compléter » (born abroad), produces the flux, downloads its XML (the stored bytes, valid against the schema),
imports the Caisse's report that rejects one holder and finds it in the queue to correct. Screenshots in
test-artifacts/cdc/ at 375 and 1280 px; axe on every page."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from playwright.sync_api import expect

from candidates.models import Candidate
from funding.cdc import flux_errors, report_render
from funding.models import CdcFlux
from funding.references import funding_references_load
from tests.browser.support import PHONE, assert_accessible, log_in, shoot
from tests.funding.support import awarded_certificate
from tests.juries.factories import make_certifpro

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_certifpro_completes_a_holder_produces_the_flux_and_imports_the_report(page, live_server, tmp_path):
    page.set_default_timeout(10_000)
    base = live_server.url
    funding_references_load()
    ready, unknown = awarded_certificate(days_ago=100), awarded_certificate(days_ago=5)
    Candidate.objects.filter(dossiers__certificate=ready).update(sex="F", birth_insee_code="59350")
    Candidate.objects.filter(dossiers__certificate=unknown).update(sex="", birth_insee_code="")
    certifpro = make_certifpro()
    page.set_viewport_size(PHONE)
    log_in(page, base, certifpro.user.email)

    page.goto(f"{base}/financements/national/")
    page.get_by_role("navigation", name="Financements").get_by_role("link", name="Caisse des Dépôts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Déclaration des certificats à la Caisse des Dépôts")
    to_complete = page.get_by_role("table", name="Certificats dont le titulaire est à compléter")
    expect(to_complete.get_by_role("row")).to_have_count(2)
    expect(to_complete).to_contain_text("sexe (état civil)")
    assert_accessible(page, "Caisse des Dépôts, avant le flux")
    shoot(page, "cdc", "list-before")

    # The holder listed to complete: born abroad, so a country's INSEE code and the place.
    to_complete.get_by_role("link", name="Compléter").click()
    page.get_by_label("Féminin").check()
    page.get_by_role("checkbox", name="Naissance à l'étranger").check()
    page.get_by_label("Code INSEE du pays de naissance (naissance à l'étranger)").fill("99350")
    assert_accessible(page, "état civil du titulaire")
    shoot(page, "cdc", "holder")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator(".error-summary")).to_contain_text("Indiquez le lieu de naissance à l'étranger")
    page.get_by_label("Lieu de naissance à l'étranger (ville, pays)").fill("Casablanca (Maroc)")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator(".messages")).to_contain_text("sera déclaré dans le prochain flux")

    page.get_by_role("button", name="Produire le flux").click()
    expect(page.locator(".messages")).to_contain_text("Flux CLEA-CDC-000001 produit et validé : 2 certificats")
    flux = CdcFlux.objects.get()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="CLEA-CDC-000001").click()
    content = Path(download_info.value.path()).read_bytes()
    assert hashlib.sha256(content).hexdigest() == flux.sha256 and flux_errors(content) == []

    # The Caisse's report: the first accepted, the second rejected.
    report = tmp_path / "compte-rendu.xml"
    lines = [(ready.number, True, ""), (unknown.number, False, "Aucun titulaire ne correspond")]
    report.write_bytes(report_render(flux.flux_id, lines))
    page.get_by_role("link", name="Importer un compte rendu de la Caisse").click()
    page.get_by_label("Compte rendu de traitement de la Caisse des Dépôts (XML)").set_input_files(str(report))
    assert_accessible(page, "import du compte rendu")
    shoot(page, "cdc", "report")
    page.get_by_role("button", name="Importer").click()
    expect(page.locator(".messages")).to_contain_text("1 déclaration acceptée, 1 rejetée")
    rejected = page.get_by_role("table", name="Déclarations rejetées par la Caisse des Dépôts")
    expect(rejected).to_contain_text("Aucun titulaire ne correspond")
    fluxes = page.get_by_role("table", name="Flux transmis à la Caisse des Dépôts, du plus récent au plus ancien")
    # Obtentions, withdrawals, accepted, rejected.
    expect(fluxes.get_by_role("row", name="CLEA-CDC-000001").get_by_role("cell").nth(1)).to_have_text("2")
    expect(fluxes.get_by_role("row", name="CLEA-CDC-000001").get_by_role("cell").nth(4)).to_have_text("1")
    assert_accessible(page, "Caisse des Dépôts, après le compte rendu")
    shoot(page, "cdc", "list-after")
