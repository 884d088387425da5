"""What the browser tests share: signing in as a person does, through the login form.

The pages run under the Content-Security-Policy (README, "Sécurité"), which refuses eval: give
`page.wait_for_function` a function ("() => ..."), which Playwright calls through the DevTools protocol; a bare
expression is eval'd in the page and fails. Likewise `page.add_script_tag` is inline code: evaluate the file's text
instead (tests/browser/axe.py)."""

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
