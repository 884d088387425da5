"""axe-core on every role's pages (issue 15): the public pages, then each role of the demo logged in once, its home
page, its header's links and its own object pages, each loaded at 320 px, checked, then resized to 1280 px and checked
again. Any violation of WCAG 2.0 / 2.1 A or AA fails the test, with one line per rule and page.

The accounts, pages and demo data are those of the small-screens test. Half of its time goes to axe itself, the
evaluation grid's 107 criteria the longest.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse, reverse_lazy

from tests.browser.axe import axe_violations, describe
from tests.browser.test_small_screens import ACCOUNTS, header_links, log_in, role_pages, seed_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts" / "axe"
WIDTHS = (320, 1280)
UNKNOWN_CODE = reverse_lazy("certificate_verify", args=["ABCD2345"])  # well formed, unknown: the page answers 404


def public_pages() -> list[str]:
    return [
        reverse("login"),
        reverse("password_reset"),
        reverse("certificate_verify_form"),
        str(UNKNOWN_CODE),
        reverse("directory:search"),
        reverse("accessibility"),
    ]


def searched_pages() -> dict[str, list[str]]:
    """States the header's links do not show: a search with results, one without."""
    dossiers = reverse("candidates:dossier_list")
    return {"counsellor": [f"{dossiers}?q=girard", f"{dossiers}?q=zzzz"]}


def test_axe_finds_no_violation_on_any_page_of_any_role(page, live_server):
    page.set_default_timeout(10_000)
    started = time.monotonic()
    seed_demo()
    pages = role_pages()
    base = live_server.url
    found: list[str] = []
    loads = 0

    def check(who: str, paths: list[str]) -> None:
        nonlocal loads
        for path in dict.fromkeys(paths):
            # One load per page, at 320 px, then the same document resized to 1280 px: the layout (menu, tables,
            # reflow) is recomputed on resize, and a reload would double the test's time for nothing it sees.
            page.set_viewport_size({"width": WIDTHS[0], "height": 800})
            response = page.goto(base + path)
            expected = 404 if path == str(UNKNOWN_CODE) else 200
            assert response is not None and response.status == expected, f"{who}: {path} answers {response}"
            loads += 1
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 800})
                found.extend(describe(axe_violations(page), where=f"{who} {path} @{width}px"))
                if path == reverse("accessibility"):
                    ARTIFACTS.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(ARTIFACTS / f"accessibilite-{width}.png"), full_page=True)

    check("anonymous", public_pages())
    for account in ACCOUNTS:
        log_in(page, base, account)
        check(account.name, ["/", *header_links(page), *pages[account.name], *searched_pages().get(account.name, [])])
    print(f"axe over every role's pages: {loads} page loads in {time.monotonic() - started:.1f} s")
    assert not found, "axe-core violations (WCAG 2.0/2.1 A, AA):\n" + "\n".join(found)


def test_axe_reports_what_it_finds_by_rule_and_element(page):
    """The helper is not a blind eye: a field without a label and an image without alternative fail, named."""
    page.set_content('<html lang="fr"><title>t</title><main><img src="x.png"><input id="q"></main></html>')
    lines = describe(axe_violations(page), where="sample")
    assert any("image-alt" in line and "img" in line for line in lines), lines
    assert any("label" in line and "#q" in line for line in lines), lines
