"""Text spacing and 200 % zoom (issue 15; WCAG 1.4.12, 1.4.4 and 1.4.10, RGAA 10.12, 10.4 and 10.11).

A representative set of pages, each loaded once in a context of device scale factor 2:
- at 640 px, what a 1280 px screen shows at 200 % zoom (Chromium zoomed to 200 % lays the page out in half the CSS
  pixels, at twice the device pixels): the page does not scroll sideways and every control of the header is on
  screen, inside the width;
- then with the text spacing bookmarklet's overrides (line height 1.5, letter spacing 0.12em, word spacing 0.16em,
  paragraphs followed by 2em) at 320 and at 1280 px: no text is cut by a box that hides its overflow or that is
  too small for it, and nothing but the data tables' own scroll boxes scrolls sideways.

The pages are those where text is densest or squeezed: the dossier page, the evaluation grid, the dossier creation
form posted empty (its error summary and field errors), the jury session page and the directory's search with
results; and the home page of each role signed in for them, where signing in lands (no load of its own): Certif'Pro's
cards of national figures are the narrowest boxes of the platform. Screenshots with the spacing go to
test-artifacts/text-spacing/.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from directory.places import communes_load, read_communes
from tests.browser.support import add_stylesheet
from tests.browser.test_small_screens import (
    ACCOUNTS,
    CULPRITS,
    SCROLLS_SIDEWAYS,
    log_in,
    role_pages,
    seed_demo,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts" / "text-spacing"
SHOT_HEIGHT = 6000  # CSS pixels

# The text spacing bookmarklet (Steve Faulkner's, which WCAG's understanding document points to), as a stylesheet.
TEXT_SPACING = """
* { line-height: 1.5 !important; letter-spacing: 0.12em !important; word-spacing: 0.16em !important; }
p { margin-bottom: 2em !important; }
"""

# Boxes whose text no longer fits them: either the box hides its overflow (the text is cut), or the text spills out
# of it (it overlaps what follows). Scroll boxes are not counted (their text is reached by scrolling), nor what is
# visually hidden on purpose (1 px boxes) nor form controls, which the browser draws itself.
CLIPPED_TEXT = """() => {
  const found = [];
  const skipped = "select, option, input, textarea, svg, svg *, img";
  for (const element of document.querySelectorAll("body *")) {
    if (element.matches(skipped) || !element.checkVisibility()) continue;
    const style = getComputedStyle(element);
    if (style.display === "inline" || style.display === "contents") continue;
    if ([style.overflowX, style.overflowY].some(value => value === "auto" || value === "scroll")) continue;
    if (element.clientWidth <= 1 || element.clientHeight <= 1 || !element.innerText.trim()) continue;
    if (element.scrollHeight > element.clientHeight + 1 || element.scrollWidth > element.clientWidth + 1) {
      found.push(element);
    }
  }
  // The innermost only: a box whose child spills out spills too, and names nothing more to fix.
  return found.filter(element => !found.some(other => other !== element && element.contains(other))).map(element => {
    const style = getComputedStyle(element);
    const cuts = [style.overflowX, style.overflowY].some(value => value === "hidden" || value === "clip");
    const name = [element.tagName.toLowerCase(), ...element.classList].join(".");
    const size = `${element.scrollWidth}×${element.scrollHeight} in ${element.clientWidth}×${element.clientHeight}`;
    return `${name} ${cuts ? "cuts" : "spills"} ${JSON.stringify(element.innerText.trim().slice(0, 40))} (${size})`;
  });
}"""

# Every control of the header, with its box: on screen and within the width.
HEADER_CONTROLS_OUT = """() => {
  const width = window.innerWidth, found = [];
  const controls = Array.from(document.querySelectorAll("header a, header button, header select"))
    .filter(control => !control.matches(".skip-link, .site-header__toggle"));
  for (const control of controls) {
    const box = control.getBoundingClientRect();
    if (!control.checkVisibility() || box.width === 0 || box.left < -0.5 || box.right > width + 0.5) {
      const name = (control.innerText || control.getAttribute("aria-label") || control.name).trim();
      found.push(`${name} (${Math.round(box.left)}–${Math.round(box.right)}px)`);
    }
  }
  return [controls.length, found];
}"""


# A box of fixed height and a box that hides its overflow, each too small for its text once spaced; and a third
# that fits: what CLIPPED_TEXT must and must not report (it is no blind eye).
SAMPLE = """<html lang="fr"><title>t</title><main style="width: 20rem">
<p id="fixed" style="height: 1.2em; margin: 0">Deux lignes une fois espacées, car le texte est long.</p>
<div id="hidden" style="overflow: hidden; white-space: nowrap">Une ligne qui ne tient plus dans sa boîte étroite</div>
<p id="fits">Court.</p></main></html>"""


def spaced_problems(page, where: str, width: int) -> list[str]:
    """The text spacing's cut or spilt text at `width`, and at 320 px the page's own sideways scroll."""
    page.set_viewport_size({"width": width, "height": 800})
    problems = [f"{where} @{width}px spaced: {line}" for line in page.evaluate(CLIPPED_TEXT)]
    if width == 320 and page.evaluate(SCROLLS_SIDEWAYS):
        width_now = page.evaluate("document.documentElement.scrollWidth")
        problems.append(f"{where} @320px spaced: {width_now}px wide, {page.evaluate(CULPRITS)}")
    return problems


def zoom_problems(page, where: str) -> list[str]:
    """At 640 px, a 1280 px screen at 200 %: no sideways scroll, every control of the header on screen."""
    page.set_viewport_size({"width": 640, "height": 800})
    problems = []
    if page.evaluate(SCROLLS_SIDEWAYS):
        width_now = page.evaluate("document.documentElement.scrollWidth")
        problems.append(f"{where} @640px (200 %): {width_now}px wide, {page.evaluate(CULPRITS)}")
    controls, out = page.evaluate(HEADER_CONTROLS_OUT)
    assert controls >= 3, f"{where}: only {controls} controls in the header"  # Accueil, a page, Se déconnecter
    if out:
        problems.append(f"{where} @640px (200 %): header controls hidden or off screen: {out}")
    return problems


def test_text_spacing_and_200_percent_zoom_cut_nothing_and_scroll_only_the_tables(browser, live_server):
    started = time.monotonic()
    context = browser.new_context(viewport={"width": 640, "height": 800}, device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.set_content(SAMPLE)
    add_stylesheet(page, TEXT_SPACING)
    sample = page.evaluate(CLIPPED_TEXT)
    assert [line.split(" ", 2)[:2] for line in sample] == [["p", "spills"], ["div", "cuts"]], sample

    seed_demo()
    communes_load(read_communes(codes=["59350"]))  # Lille, where the demo's northern evaluator sites are
    pages = role_pages()
    base = live_server.url
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    by_name = {account.name: account for account in ACCOUNTS}
    create = reverse("candidates:dossier_create")
    # Each role's home page (where signing in lands), then its pages of the set.
    walk = {
        "counsellor": [create, f"{reverse('directory:search')}?commune=59350", pages["counsellor"][0]],  # + dossier
        "evaluator": [pages["evaluator"][1]],  # the grid, editable
        "certifpro-admin": [pages["president"][0]],  # the jury session page, with the administrator's actions
    }
    problems: list[str] = []
    loads = 0
    for who, paths in walk.items():
        page.set_viewport_size({"width": 640, "height": 800})
        log_in(page, base, by_name[who])
        loads += 2
        for path in ["/", *paths]:
            if path != "/":
                page.set_viewport_size({"width": 640, "height": 800})
                response = page.goto(base + path)
                assert response is not None and response.ok, f"{who}: {path} answers {response and response.status}"
                loads += 1
            if path == create:
                with page.expect_navigation():
                    page.get_by_role("button", name="Créer le dossier").click()
                assert page.locator("[data-error-summary]").is_visible(), "the form posted empty shows no errors"
                loads += 1
            where = f"{who} {path}"
            problems.extend(zoom_problems(page, where))
            # The text spacing, on the same document.
            # A constructed stylesheet: the Content-Security-Policy refuses a <style> element (add_style_tag).
            add_stylesheet(page, TEXT_SPACING)
            assert page.evaluate("getComputedStyle(document.body).wordSpacing") != "0px", f"{where}: no spacing"
            name = re.sub(r"[^\w]+", "-", path).strip("-") or "accueil"
            for width in (320, 1280):
                problems.extend(spaced_problems(page, where, width))
                # The whole page but the grid's 107 criteria, 37,000 px at 320 px: its first domains tell as much.
                height = min(page.evaluate("document.documentElement.scrollHeight"), SHOT_HEIGHT)
                clip = {"x": 0, "y": 0, "width": width, "height": height}
                page.screenshot(
                    path=str(ARTIFACTS / f"{who}-{name}-{width}.png"), full_page=True, clip=clip, scale="css"
                )
    context.close()
    print(f"text spacing and 200 % zoom: {loads} page loads in {time.monotonic() - started:.1f} s")
    assert not problems, "Text cut or pages too wide:\n" + "\n".join(problems)
