"""The grid of the national référentiel (107 criteria) filled and saved with the keyboard alone, by real key presses
(issue 15): how many it takes, and where the focus comes back after a save."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from evaluations.models import CriterionResultValue
from evaluations.services import grid_rows
from tests.browser.support import log_in
from tests.journey import DossierFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"

ACTIVE = """() => {
  const e = document.activeElement;
  return {tag: e.tagName.toLowerCase(), type: e.type || "", name: e.name || "", text: (e.textContent || "").trim()};
}"""


@dataclass
class Presses:
    tab: int = 0
    other: int = 0

    @property
    def total(self) -> int:
        return self.tab + self.other


# The 107 radio groups, one toolbar per sub-domain (28), the domains' table of contents (7), the page's header.
CEILING_TAB = 160


def open_grid(page, live_server):
    call_command("load_referentiels", stdout=io.StringIO())
    evaluation = DossierFactory(state="prior_evaluation").evaluations.get()
    assert evaluation.results.count() == 107
    log_in(page, live_server.url, evaluation.dossier.team.evaluator.user.email)
    page.goto(f"{live_server.url}{reverse('evaluations:grid', args=[evaluation.pk])}")
    return evaluation


def fill_by_keyboard(page, presses: Presses, limit: int = 1000) -> None:
    """From the top of the page: Tab on, each criterion's radio group set to "Non acquis" (one arrow up from
    "Non évalué"), until the save button has the focus; then Enter."""
    while presses.tab < limit:
        page.keyboard.press("Tab")
        presses.tab += 1
        active = page.evaluate(ACTIVE)
        if active["type"] == "radio":
            page.keyboard.press("ArrowUp")
            presses.other += 1
        elif active["tag"] == "button" and active["text"] == "Enregistrer le brouillon":
            break
    else:
        pytest.fail(f"the save button not reached in {limit} Tab presses")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    presses.other += 1


def test_the_whole_grid_is_filled_and_saved_by_keyboard(page, live_server):
    evaluation = open_grid(page, live_server)
    presses = Presses()
    fill_by_keyboard(page, presses)
    print(f"\nwhole grid: {presses.tab} Tab presses, {presses.total} presses in all")
    # 253 Tab presses before issue 15 (a comment box per criterion, "Tout acquis" in each sub-domain's header).
    assert presses.tab <= CEILING_TAB
    assert not evaluation.results.exclude(result=CriterionResultValue.NOT_ACQUIRED).exists()


def test_after_a_save_the_focus_is_back_on_the_last_changed_criterion(page, live_server):
    page.set_viewport_size({"width": 375, "height": 667})
    evaluation = open_grid(page, live_server)
    fortieth = [line for _domain, subs in grid_rows(evaluation) for _sub, lines in subs for line in lines][39]
    page.locator(f"#r{fortieth.criterion_id}-not_assessed").focus()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer le brouillon").click()
    # Written again into the status region once the page is up, so that screen readers read it out.
    expect(page.locator("#contenu").get_by_role("status")).to_have_text("Brouillon enregistré (1 critère modifié).")

    presses = 0
    while page.evaluate("document.activeElement.name") != f"result-{fortieth.criterion_id}" and presses < 300:
        page.keyboard.press("Tab")
        presses += 1
    print(f"\nback to criterion 40 ({fortieth.criterion.code}): {presses} Tab presses")
    assert presses == 0  # 100 before issue 15: the page came back at its top, focus on body
    assert page.evaluate("document.activeElement.value") == "acquired"
    assert page.evaluate("location.hash") == f"#criterion-{fortieth.criterion_id}"
    box = page.locator(f"#criterion-{fortieth.criterion_id}").bounding_box()
    assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= 667
    # Tab goes on to the next criterion; on a phone, the grid does not scroll sideways.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('fieldset').id") != f"criterion-{fortieth.criterion_id}"
    assert page.evaluate("document.activeElement.type") == "radio"
    assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "evaluation-grid-after-save-375.png"))
