"""The grid in a real browser: keyboard use, "Tout acquis" and the live counters (progressive enhancement)."""

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import expect

from evaluations.models import CriterionResultValue
from tests.browser.support import log_in
from tests.journey import DossierFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"


def test_the_evaluator_fills_the_grid_with_the_keyboard(page, live_server):
    evaluation = DossierFactory(state="prior_evaluation").evaluations.get()
    evaluator = evaluation.dossier.team.evaluator.user
    log_in(page, live_server.url, evaluator.email)
    page.goto(f"{live_server.url}{reverse('evaluations:grid', args=[evaluation.pk])}")

    first_group = page.locator("[data-subdomain]").nth(0)
    first_group.get_by_role("button", name="Tout acquis").click()
    assert first_group.locator("[data-acquired]").inner_text() == "2"
    assert first_group.locator("[data-status]").text_content() == "Sous-domaine validé"

    # Sub-domain 1.2: its toolbar is one Tab stop, an arrow key goes from "Tout acquis" to "Ajouter un commentaire",
    # which shows the comment boxes. Arrows move within one criterion's radios, Tab goes on to its comment, then
    # to the next criterion.
    lines = {line.criterion.code: line.criterion_id for line in evaluation.results.select_related("criterion")}
    second_group = page.locator("[data-subdomain]").nth(1)
    comment = page.locator(f"#c{lines['1.2.1']}")
    assert not comment.is_visible()
    second_group.get_by_role("button", name="Tout acquis").focus()
    page.keyboard.press("ArrowRight")
    toggle = second_group.get_by_role("button", name="Ajouter un commentaire")
    assert page.evaluate("document.activeElement.dataset.commentsToggle") == ""
    assert toggle.get_attribute("aria-expanded") == "false"
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true" and comment.is_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == f"result-{lines['1.2.1']}"
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    assert page.locator(f"#r{lines['1.2.1']}-acquired").is_checked()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == f"comment-{lines['1.2.1']}"
    page.keyboard.type("Très à l'aise")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == f"result-{lines['1.2.2']}"
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    assert second_group.locator("[data-acquired]").inner_text() == "2"
    assert second_group.locator("[data-status]").text_content() == "Sous-domaine validé"

    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer le brouillon").click()
    expect(page.locator("#contenu").get_by_role("status")).to_have_text("Brouillon enregistré (4 critères modifiés).")
    # Back on the last changed criterion, its comment in sight.
    assert page.evaluate("document.activeElement.name") == f"result-{lines['1.2.2']}"
    assert page.locator(f"#c{lines['1.2.1']}").is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "evaluation-grid.png"), full_page=True)
    acquired = set(
        evaluation.results.filter(result=CriterionResultValue.ACQUIRED).values_list("criterion__code", flat=True)
    )
    assert acquired == {"1.1.1", "1.1.2", "1.2.1", "1.2.2"}
    assert evaluation.results.get(criterion__code="1.2.1").comment == "Très à l'aise"


def test_a_failed_close_is_summarised_at_the_top_and_the_summary_takes_the_focus(page, live_server):
    evaluation = DossierFactory(state="prior_evaluation").evaluations.get()
    evaluator = evaluation.dossier.team.evaluator.user
    page.set_viewport_size({"width": 375, "height": 667})
    log_in(page, live_server.url, evaluator.email)
    page.goto(f"{live_server.url}{reverse('evaluations:grid', args=[evaluation.pk])}")

    # The confirmation box left unticked: the form at the foot of the grid is refused.
    page.get_by_role("button", name="Clôturer l'évaluation").click()
    page.wait_for_load_state()

    summary = page.locator("[data-error-summary]")
    summary.wait_for()
    assert page.evaluate("document.activeElement.id") == "erreurs"
    box = summary.bounding_box()
    viewport = page.viewport_size
    assert box is not None and 0 <= box["y"] and box["y"] + 40 <= viewport["height"]
    assert "L'évaluation n'est pas clôturée" in summary.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "evaluation-close-error-summary.png"))

    # Its link takes the focus to the field concerned, at the foot of the page.
    summary.get_by_role("link", name="Cochez la case pour confirmer la clôture.").click()
    assert page.evaluate("document.activeElement.id") == "id_confirm"
    evaluation.refresh_from_db()
    assert not evaluation.is_closed
