"""axe-core on every role's pages (issue 15): the public pages, then each role of the demo logged in once, its home
page, its header's links and its own object pages, each loaded at 320 px, checked, then resized to 1280 px and checked
again. Any violation of WCAG 2.0 / 2.1 A or AA fails the test, with one line per rule and page. At 320 px the walk
also checks what the small-screens test (issue 14) asks of every page: nothing scrolls sideways but the tables, and
those take the keyboard and have a name.

A second test reaches, once each, the states that only a post or a query shows: the dossier creation form posted
empty, the evaluation grid's close refused, the jury attendance refused before the session's day, a payment file's
preview with errors, the directory searched with results and without.

The accounts, pages and demo data are those of the small-screens test. Half of its time goes to axe itself, the
evaluation grid's 107 criteria the longest.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse, reverse_lazy

from directory.places import communes_load, read_communes
from funding.models import BatchStatus, ClaimBatch
from juries.models import JurySession, SessionState
from tests.browser.axe import axe_violations, describe
from tests.browser.test_small_screens import (
    ACCOUNTS,
    CULPRITS,
    SCROLLS_SIDEWAYS,
    UNREACHABLE_SCROLL_BOXES,
    header_links,
    log_in,
    role_pages,
    seed_demo,
    switch_membership,
)

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


# One test per role (and the public pages), so that the walk's minute and a half spreads over the test processes.
@pytest.mark.parametrize("who", ["anonymous", *(account.name for account in ACCOUNTS)])
def test_axe_finds_no_violation_on_any_page_of_any_role(page, live_server, who):
    page.set_default_timeout(10_000)
    started = time.monotonic()
    seed_demo()
    pages = role_pages()
    base = live_server.url
    found: list[str] = []
    too_wide: list[str] = []
    unreachable: list[str] = []
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
            # At 320 px, before axe: what the small-screens test asks of every page (it walks only each role's
            # own pages, at 375 px: one load of each page for both tests).
            if page.evaluate(SCROLLS_SIDEWAYS):
                width_now = page.evaluate("document.documentElement.scrollWidth")
                too_wide.append(f"{who} {path}: {width_now}px wide, {page.evaluate(CULPRITS)}")
            if boxes := page.evaluate(UNREACHABLE_SCROLL_BOXES):
                unreachable.append(f"{who} {path}: {boxes}")
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 800})
                found.extend(describe(axe_violations(page), where=f"{who} {path} @{width}px"))
                if path == reverse("accessibility"):
                    ARTIFACTS.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(ARTIFACTS / f"accessibilite-{width}.png"), full_page=True)

    if who == "anonymous":
        check(who, public_pages())
    else:
        account = next(account for account in ACCOUNTS if account.name == who)
        log_in(page, base, account)
        check(who, ["/", *header_links(page), *pages[who], *searched_pages().get(who, [])])
    print(f"axe over the pages of {who}: {loads} page loads in {time.monotonic() - started:.1f} s")
    assert not found, "axe-core violations (WCAG 2.0/2.1 A, AA):\n" + "\n".join(found)
    assert not too_wide, f"Pages wider than {WIDTHS[0]}px:\n" + "\n".join(too_wide)
    assert not unreachable, "Scrolling tables without a keyboard stop or a name:\n" + "\n".join(unreachable)


def test_axe_finds_no_violation_in_the_states_a_walk_does_not_show(page, live_server):
    """What only a post shows (error summaries and field errors, a service's refusal, a file's errors) and the
    directory's searches: each state reached once, at 320 px, checked, then resized to 1280 px and checked again."""
    page.set_default_timeout(10_000)
    started = time.monotonic()
    seed_demo()
    communes_load(read_communes(codes=["59350", "97302"]))  # Lille, near the demo's sites; Cayenne, far from all
    pages = role_pages()
    base = live_server.url
    by_name = {account.name: account for account in ACCOUNTS}
    found: list[str] = []
    loads = 0

    def go(path: str) -> None:
        nonlocal loads
        page.set_viewport_size({"width": WIDTHS[0], "height": 800})
        response = page.goto(base + path)
        assert response is not None and response.ok, f"{path} answers {response and response.status}"
        loads += 1

    def post(button: str) -> None:
        nonlocal loads
        with page.expect_navigation():
            page.get_by_role("button", name=button, exact=True).click()
        loads += 1

    def check(where: str, shown: str) -> None:
        # The state is there before axe judges it: an empty page would pass.
        assert page.locator(shown).first.is_visible(), f"{where}: {shown} is not shown"
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 800})
            found.extend(describe(axe_violations(page), where=f"{where} @{width}px"))

    log_in(page, base, by_name["counsellor"])
    loads += 2
    go(reverse("candidates:dossier_create"))
    post("Créer le dossier")
    check("dossier creation posted empty", "[data-error-summary] li >> nth=1")
    search = reverse("directory:search")
    go(f"{search}?commune=59350")
    check("directory search with results", "main li.card")
    go(f"{search}?commune=97302")
    assert page.locator("main li.card").count() == 0, "Cayenne has evaluator sites nearby"
    check("directory search without result", "#results-title")

    # The same person as the organisation's administrator.
    switch_membership(page, by_name["org-admin"])
    loads += 1
    batch = ClaimBatch.objects.get(status=BatchStatus.ISSUED)
    go(reverse("funding:payment_import", args=[batch.pk]))
    csv = (
        f"reference_ligne;lot;montant;date;reference_paiement\nFT-00-0000-0000;{batch.number};douze;31/02/2026;VIR-1\n"
    )
    page.get_by_label("Fichier de paiement du financeur (CSV)").set_input_files(
        files=[{"name": "paiement.csv", "mimeType": "text/csv", "buffer": csv.encode()}]
    )
    post("Prévisualiser")
    check("payment file preview with errors", "caption >> text=Erreurs du fichier")

    log_in(page, base, by_name["evaluator"])
    loads += 2
    go(pages["evaluator"][1])
    post("Clôturer l'évaluation")  # without the confirmation box ticked
    check("evaluation grid, failed close", "[data-error-summary] >> text=L'évaluation n'est pas clôturée")

    log_in(page, base, by_name["president"])
    loads += 2
    session = JurySession.objects.get(state=SessionState.CONVENED)
    go(reverse("juries:session_deliberate", args=[session.pk]))
    present = page.get_by_role("radio", name="Présence", exact=True).all()
    assert len(present) >= 2, "no member to mark present"
    for radio in present:
        radio.check()
    post("Enregistrer les présences et ouvrir la délibération")  # before the session's day: refused
    check("jury attendance refused", "[data-error-summary] >> text=La délibération n'est pas ouverte")

    print(f"axe over the states a walk does not show: {loads} page loads in {time.monotonic() - started:.1f} s")
    assert not found, "axe-core violations (WCAG 2.0/2.1 A, AA):\n" + "\n".join(found)


def test_axe_reports_what_it_finds_by_rule_and_element(page):
    """The helper is not a blind eye: a field without a label and an image without alternative fail, named."""
    page.set_content('<html lang="fr"><title>t</title><main><img src="x.png"><input id="q"></main></html>')
    lines = describe(axe_violations(page), where="sample")
    assert any("image-alt" in line and "img" in line for line in lines), lines
    assert any("label" in line and "#q" in line for line in lines), lines
