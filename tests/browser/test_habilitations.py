"""Habilitations in a real browser (README « Habilitations »): on a phone (375 px), an evaluator organisation's
administrator opens « Habilitations » from the menu and applies for CléA numérique at one of its sites; on a desktop
(1280 px), Certif'Pro finds the application in its « À faire », opens it from the queue and grants it; the
administrator then reads the habilitation granted. axe on each page; screenshots in test-artifacts/habilitations/."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from organisations.models import Habilitation, HabilitationApplication, Role
from tests.browser.axe import axe_violations, describe
from tests.browser.support import log_in
from tests.factories import OrganisationFactory, SiteFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts" / "habilitations"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}


def shoot(page, name: str, size: dict[str, int], label: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"{name} at {label} px scrolls sideways: {widths}"
    path = ARTIFACTS / f"{name}-{label}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000


def assert_accessible(page, where: str) -> None:
    assert not (violations := axe_violations(page)), "\n".join(describe(violations, where=where))


def test_an_administrator_applies_on_a_phone_and_certifpro_grants_on_a_desktop(page, live_server, org_a, make_member):
    page.set_default_timeout(10_000)
    base = live_server.url
    SiteFactory(organisation=org_a, name="Site de Roubaix", postcode="59100", city="Roubaix")
    admin = make_member(org_a, Role.ORG_ADMIN, email="admin@evaluateur-a.fr", first_name="Claire")
    certifpro = make_member(
        OrganisationFactory(certifpro=True), Role.CERTIFPRO_ADMIN, email="admin@certifpro.fr", first_name="Hélène"
    )
    start = timezone.localdate() + datetime.timedelta(days=10)
    end = start + datetime.timedelta(days=3 * 365)

    page.set_viewport_size(PHONE)
    log_in(page, base, admin.user.email)
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Habilitations").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Habilitations")
    expect(page.get_by_text("Aucune habilitation pour le moment.")).to_be_visible()
    page.get_by_role("main").get_by_role("link", name="Demander une habilitation").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Demander une habilitation")
    page.get_by_label("CléA numérique").check()
    page.get_by_label("Site de Roubaix (59100 Roubaix)").check()
    page.get_by_label("Début souhaité").fill(f"{start:%Y-%m-%d}")
    page.get_by_label("Fin souhaitée").fill(f"{end:%Y-%m-%d}")
    assert_accessible(page, "demande d'habilitation")
    shoot(page, "apply", PHONE, "375")
    page.get_by_role("button", name="Envoyer la demande").click()

    application = HabilitationApplication.objects.get()
    expect(page).to_have_url(f"{base}/organisation/habilitations/demandes/{application.pk}/")
    expect(page.locator(".messages")).to_contain_text("Votre demande est envoyée à Certif'Pro")
    expect(page.get_by_role("heading", name="Accorder")).to_have_count(0)
    assert_accessible(page, "demande envoyée")
    shoot(page, "applied", PHONE, "375")

    page.set_viewport_size(DESKTOP)
    log_in(page, base, certifpro.user.email)
    page.get_by_role("link", name=re.compile("Instruire 1 demande d'habilitation")).click()
    row = page.get_by_role("row", name=re.compile(f"N° {application.pk}"))
    expect(row).to_contain_text("En attente d'instruction")
    assert_accessible(page, "file des demandes")
    shoot(page, "queue", DESKTOP, "1280")
    row.get_by_role("link", name=f"N° {application.pk}").click()
    expect(page.get_by_label("Valable du")).to_have_value(f"{start:%Y-%m-%d}")
    assert_accessible(page, "demande à instruire")
    shoot(page, "instruct", DESKTOP, "1280")
    page.get_by_role("button", name="Accorder l'habilitation").click()
    expect(page.locator(".messages")).to_contain_text("La demande est accordée")
    habilitation = Habilitation.objects.get(organisation=org_a)
    assert (habilitation.certification, habilitation.valid_from, habilitation.valid_until) == (
        "clea_numerique",
        start,
        end,
    )
    shoot(page, "granted", DESKTOP, "1280")

    page.set_viewport_size(PHONE)
    log_in(page, base, admin.user.email)
    page.goto(f"{base}/organisation/habilitations/")
    page.get_by_role("link", name="CléA numérique").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Habilitation CléA numérique")
    expect(page.get_by_role("heading", name="Suspendre")).to_have_count(0)
    assert_accessible(page, "habilitation accordée")
    shoot(page, "habilitation", PHONE, "375")
