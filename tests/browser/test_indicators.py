"""The statistics in a real browser (README « Statistiques »): Certif'Pro filters the national dashboard by
certification and region and downloads a chart's CSV, which holds the table shown; an evaluator organisation's
counsellor filters its own figures and sees no other organisation's. Screenshots in test-artifacts/indicators/ at
375 and 1280 px; axe on the dashboard."""

from __future__ import annotations

import csv
import datetime
import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

from indicators.cube import cube_rebuild
from indicators.models import DossierFact, DossierFactGap
from organisations.models import Region, Role
from tests.browser.axe import axe_violations, describe
from tests.browser.support import DESKTOP, log_in, shoot
from tests.factories import OrganisationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def facts(organisation, n: int, *, start: int, certification: str) -> None:
    months = [datetime.date(2025, m, 1) for m in range(1, 13)]
    rows = []
    for i in range(n):
        month = months[i % 12]
        full = i % 4 == 0
        rows.append(
            DossierFact(
                dossier_id=start + i,
                organisation=organisation,
                region=organisation.region,
                departement="59",
                certification=certification,
                registration_status="job_seeker" if i % 3 else "employee",
                opened_month=month,
                opened_on=month,
                prior_closed_on=month + datetime.timedelta(days=12 + i % 9),
                prior_outcome="full" if full else "partial",
                days_to_prior=12 + i % 9,
                training_started_on=None if full else month + datetime.timedelta(days=40),
                jury_on=month + datetime.timedelta(days=60) if i % 2 == 0 else None,
                certified_on=month + datetime.timedelta(days=70) if i % 2 == 0 else None,
                days_to_certificate=70 if i % 2 == 0 else None,
            )
        )
    DossierFact.objects.bulk_create(rows)
    DossierFactGap.objects.bulk_create(
        DossierFactGap(
            fact_id=f.dossier_id,
            organisation=organisation,
            region=f.region,
            certification=f.certification,
            opened_month=f.opened_month,
            domain_code=str(1 + f.dossier_id % 3),
            domain_title=["Communication en français", "Calcul", "Numérique"][f.dossier_id % 3],
            subdomain_code=f"{1 + f.dossier_id % 3}.1",
            subdomain_title="Premier sous-domaine",
        )
        for f in rows
        if f.prior_outcome == "partial"
    )


def test_certifpro_and_an_organisation_filter_their_statistics_and_download_a_chart(page, live_server, make_member):
    page.set_default_timeout(10_000)
    base = live_server.url
    north = OrganisationFactory(name="Évaluateur du Nord", region=Region.HAUTS_DE_FRANCE)
    south = OrganisationFactory(name="Évaluateur du Sud", region=Region.OCCITANIE)
    facts(north, 36, start=1, certification="clea")
    facts(north, 12, start=100, certification="clea_numerique")
    facts(south, 24, start=200, certification="clea")
    cube_rebuild()
    certifpro = make_member(role=Role.CERTIFPRO_ADMIN, email="national@certifpro.fr")
    counsellor = make_member(north, Role.COUNSELLOR, email="conseil@nord.fr")

    page.set_viewport_size(DESKTOP)
    log_in(page, base, certifpro.user.email)
    page.get_by_role("link", name="Statistiques nationales : parcours, domaines manquants, délais").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Statistiques")
    funnel = page.get_by_role("table", name="Le parcours, de l'ouverture au certificat")
    expect(funnel.locator("tbody tr").first).to_contain_text("72")
    page.get_by_label("Certification").select_option(label="CléA")
    page.get_by_label("Région").select_option(label="Hauts-de-France")
    page.get_by_role("button", name="Filtrer").click()
    expect(funnel.locator("tbody tr").first).to_contain_text("36")
    assert not (violations := axe_violations(page)), "\n".join(describe(violations, where="statistiques"))
    shoot(page, "indicators", "national-filtered", end=DESKTOP)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="CSV : Le parcours, de l'ouverture au certificat").click()
    text = Path(download_info.value.path()).read_text(encoding="utf-8-sig")
    lines = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert lines[0] == ["Étape atteinte", "Dossiers", "Part des dossiers ouverts (%)"]
    assert lines[1] == ["Dossiers ouverts", "36", "100"]
    assert lines[8][:2] == ["Certifiés", "18"]

    page.context.clear_cookies()
    log_in(page, base, counsellor.user.email)
    page.goto(f"{base}/statistiques/")
    expect(funnel.locator("tbody tr").first).to_contain_text("48")
    expect(page.get_by_label("Organisme évaluateur")).to_have_count(0)
    page.get_by_label("Certification").select_option(label="CléA numérique")
    page.get_by_role("button", name="Filtrer").click()
    expect(funnel.locator("tbody tr").first).to_contain_text("12")
    # Asking for the south's organisation in the address is refused: the figures stay the organisation's.
    page.goto(f"{base}/statistiques/?organisation={south.pk}")
    expect(funnel.locator("tbody tr").first).to_contain_text("48")
    assert not (violations := axe_violations(page)), "\n".join(describe(violations, where="statistiques organisme"))
    shoot(page, "indicators", "organisation", end=DESKTOP)
