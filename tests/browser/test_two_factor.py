"""Two factors in a browser at 375 px (issue 16): an organisation administrator enrols through the real screens
(QR code, secret in text, a code computed from that text, the recovery codes), then logs in again with a recovery
code; the account page lists the sessions and logs out everywhere. axe-core checks each screen."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from django.conf import settings
from django_otp.oath import TOTP

from organisations.models import Role
from tests.browser.axe import axe_violations, describe
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts" / "two-factor"
SCROLLS_SIDEWAYS = "document.documentElement.scrollWidth > window.innerWidth"


def password_step(page, base: str, email: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/compte/connexion/")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


def test_an_administrator_enrols_at_375_px_then_logs_in_with_a_recovery_code(page, live_server, org_a, make_member):
    page.set_default_timeout(10_000)
    page.set_viewport_size({"width": 375, "height": 800})
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    admin = make_member(org_a, role=Role.ORG_ADMIN, email="direction@exemple.fr")
    found: list[str] = []

    def check(name: str) -> None:
        assert not page.evaluate(SCROLLS_SIDEWAYS), f"{name} scrolls sideways at 375 px"
        found.extend(describe(axe_violations(page), where=name))
        page.screenshot(path=str(ARTIFACTS / f"{name}-375.png"), full_page=True)

    password_step(page, base, admin.user.email)
    page.wait_for_url(re.compile(r"/compte/deux-facteurs/activer/\?next=/$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Activer la double authentification"
    assert page.locator(".two-factor-qr svg title").count() == 1
    check("enrol")
    secret = page.locator("#two-factor-secret").inner_text().replace(" ", "")
    code = page.get_by_label("Code à 6 chiffres")
    assert code.get_attribute("autocomplete") == "one-time-code"
    assert code.get_attribute("inputmode") == "numeric"

    code.fill("000000")
    page.get_by_role("button", name="Confirmer et activer").click()
    summary = page.locator(".error-summary")
    assert summary.is_visible()
    assert page.evaluate("document.activeElement.id") == "erreurs", "the error summary takes the focus"
    assert page.title().startswith("Erreur")
    check("enrol-error")

    page.wait_for_timeout(1100)  # django-otp's back-off after one wrong code: 1 s
    page.get_by_label("Code à 6 chiffres").fill(f"{TOTP(base64.b32decode(secret)).token():06d}")
    page.get_by_role("button", name="Confirmer et activer").click()
    page.get_by_role("heading", name="Vos codes de secours").wait_for()
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    check("recovery-codes")
    page.get_by_role("link", name="J'ai noté mes codes, continuer").click()
    page.wait_for_url(f"{base}/")

    # A second login, the phone left at home: a recovery code.
    password_step(page, base, admin.user.email)
    page.wait_for_url(re.compile(r"/compte/deux-facteurs/\?next=/$"))
    # No menu until the code is given: not in the page at all (at 375 px a signed-in page folds its navigation
    # behind "Menu", so that the navigation is not visible would prove nothing).
    assert page.get_by_role("navigation", name="Navigation principale", include_hidden=True).count() == 0
    assert page.get_by_role("button", name="Menu").count() == 0
    check("verify")
    page.get_by_text("Je n'ai pas mon téléphone : utiliser un code de secours").click()
    page.get_by_label("Code de secours").fill(codes[0])
    page.get_by_role("button", name="Valider le code de secours").click()
    page.wait_for_url(f"{base}/")
    assert page.get_by_text("Code de secours utilisé").is_visible()

    page.goto(f"{base}/compte/")
    assert page.get_by_text("Il vous reste 9 codes de secours.").is_visible()
    assert page.locator("tbody tr").count() == 2  # the first login's session and this one
    assert page.get_by_text("Cette session").count() == 1
    check("account")
    page.get_by_role("button", name="Se déconnecter partout").click()
    page.wait_for_url(re.compile(r"/compte/connexion/"))
    assert page.get_by_text("Toutes vos sessions sont fermées").is_visible()
    assert not found, "axe-core violations (WCAG 2.0/2.1 A, AA):\n" + "\n".join(found)
