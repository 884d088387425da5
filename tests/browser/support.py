"""What the browser tests share: signing in as a person does, through the login form and, for a person with an
authenticator (or whose roles require one), the code page.

The pages run under the Content-Security-Policy (README, "Sécurité"), which refuses eval: give
`page.wait_for_function` a function ("() => ..."), which Playwright calls through the DevTools protocol; a bare
expression is eval'd in the page and fails. Likewise `page.add_script_tag` and `page.add_style_tag` are inline code:
evaluate a script's text instead (tests/browser/axe.py), and add a stylesheet with `add_stylesheet` below."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.test import Client

from candidates.models import Dossier
from organisations.models import User
from tests.browser.axe import axe_violations, describe
from tests.factories import TEST_PASSWORD
from tests.two_factor import provision_device, totp_code, verify_session


def add_stylesheet(page, css: str) -> None:
    """`css` applied to the page as a constructed stylesheet (CSSOM), which the Content-Security-Policy allows, where
    a <style> element (`page.add_style_tag`) is refused."""
    page.evaluate(
        """css => {
          const sheet = new CSSStyleSheet();
          sheet.replaceSync(css);
          document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
        }""",
        css,
    )


def log_in(page, base: str, email: str) -> None:
    """A fresh session for `email`, landed on the home page (cookies of an earlier person cleared first), without the
    login form: Django's test client logs in (the same `user_logged_in` signal as the form: the audit row, the listed
    session), a person who owes a second factor has it given as the code page would record it, and the browser gets
    the session as its cookie. Two page loads and a password check fewer per login, which the browser tests do about
    fifty times; the form and the code page are walked by `log_in_through_form` (tests/browser/test_csp.py,
    test_small_screens.py) and by test_login.py and test_two_factor.py, which fill them themselves."""
    user = User.objects.get(email=email)
    client = Client()
    client.force_login(user)
    session = client.session
    if user.two_factor_required(user.active_memberships()) or user.totpdevice_set.filter(confirmed=True).exists():
        verify_session(session, user)
    session.save()
    page.context.clear_cookies()
    # Production's cookie ("__Host-sessionid" where cookies are Secure) must be Secure, or the browser drops it;
    # Chromium treats the local live server as a secure origin.
    cookie = {"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "path": "/", "httpOnly": True}
    host = urlsplit(base).hostname or ""
    page.context.add_cookies([{**cookie, "domain": host, "secure": settings.SESSION_COOKIE_SECURE}])
    response = page.goto(f"{base}/")
    assert response is not None and response.ok and page.url == f"{base}/", f"{email}: not logged in ({page.url})"


def log_in_through_form(page, base: str, email: str, password: str = TEST_PASSWORD) -> None:
    """What `log_in` does, through the login form and, for a person with an authenticator (or whose roles require
    one), the code page: the code their authenticator shows now, computed from the device's key; one whose roles
    require it and who has none gets one first, as enrolment would leave it (the enrolment screens have their own
    test: tests/browser/test_two_factor.py)."""
    user = User.objects.get(email=email)
    device = None
    if user.two_factor_required(user.active_memberships()) or user.totpdevice_set.filter(confirmed=True).exists():
        device = provision_device(user)
    page.context.clear_cookies()
    page.goto(f"{base}/compte/connexion/")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    if device is not None:
        page.wait_for_url(f"{base}/compte/deux-facteurs/?next=/")
        page.get_by_label("Code à 6 chiffres").fill(totp_code(device))
        page.get_by_role("button", name="Valider le code").click()
    page.wait_for_url(f"{base}/")


def fill_grid(page, dossier: Dossier, acquired: set[str]) -> None:
    """On the grid of the dossier's draft evaluation: each criterion acquired or not, the draft saved, then closed
    (3 hours). Shared by the journey's tests (test_journey.py, test_hand_offs.py)."""
    evaluation = dossier.evaluations.filter(status="draft").get()
    for line in evaluation.results.select_related("criterion"):
        choice = "acquired" if line.criterion.code in acquired else "not_acquired"
        page.locator(f"#r{line.criterion_id}-{choice}").check()
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    page.get_by_label("Durée (heures)").fill("3")
    page.get_by_label("Je confirme la clôture").check()
    page.get_by_role("button", name="Clôturer l'évaluation").click()
    page.wait_for_load_state()


PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}


def shoot(page, folder: str, name: str, *, end: dict[str, int] = PHONE) -> None:
    """The page at a phone's width and a desktop's, saved under test-artifacts/<folder>/ to be looked at; neither
    scrolls sideways. The viewport is left at `end`."""
    artifacts = Path(settings.BASE_DIR) / "test-artifacts" / folder
    artifacts.mkdir(parents=True, exist_ok=True)
    for label, size in (("375", PHONE), ("1280", DESKTOP)):
        page.set_viewport_size(size)
        widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert widths[0] <= widths[1], f"{name} at {label} px scrolls sideways: {widths}"
        path = artifacts / f"{name}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 1000
    page.set_viewport_size(end)


def assert_accessible(page, where: str) -> None:
    assert not (violations := axe_violations(page)), "\n".join(describe(violations, where=where))
