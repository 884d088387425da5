"""What the browser tests share: signing in as a person does, through the login form and, for a person with an
authenticator (or whose roles require one), the code page."""

from __future__ import annotations

from organisations.models import User
from tests.factories import TEST_PASSWORD
from tests.two_factor import provision_device, totp_code


def log_in(page, base: str, email: str, password: str = TEST_PASSWORD) -> None:
    """A fresh session for `email`, landed on the home page (cookies of an earlier person cleared first). A person
    who owes a second factor types the code their authenticator shows now, computed from the device's key; one
    whose roles require it and who has none gets one first, as enrolment would leave it (the enrolment screens have
    their own test: tests/browser/test_two_factor.py)."""
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
