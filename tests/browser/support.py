"""What the browser tests share: signing in as a person does, through the login form."""

from __future__ import annotations

from tests.factories import TEST_PASSWORD


def log_in(page, base: str, email: str, password: str = TEST_PASSWORD) -> None:
    """A fresh session for `email`, landed on the home page (cookies of an earlier person cleared first)."""
    page.context.clear_cookies()
    page.goto(f"{base}/compte/connexion/")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{base}/")
