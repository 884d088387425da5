"""What the browser tests share: signing in as a person does, through the login form.

The pages run under the Content-Security-Policy (README, "Sécurité"), which refuses eval: give
`page.wait_for_function` a function ("() => ..."), which Playwright calls through the DevTools protocol; a bare
expression is eval'd in the page and fails. Likewise `page.add_script_tag` and `page.add_style_tag` are inline code:
evaluate a script's text instead (tests/browser/axe.py), and add a stylesheet with `add_stylesheet` below."""

from __future__ import annotations

from tests.factories import TEST_PASSWORD


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


def log_in(page, base: str, email: str, password: str = TEST_PASSWORD) -> None:
    """A fresh session for `email`, landed on the home page (cookies of an earlier person cleared first)."""
    page.context.clear_cookies()
    page.goto(f"{base}/compte/connexion/")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{base}/")
