"""The error and live-region conventions of issue 15, with real key presses: an error reached from the summary,
an htmx answer that leaves the focus where the person carries on, and a polled status that never takes it."""

import datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from directory.models import DirectorySheet, SheetStatus
from organisations.models import Role
from tests.browser.support import log_in
from tests.directory.support import make_sheet
from tests.factories import MembershipFactory, OrganisationFactory
from tests.journey import DossierFactory
from training.models import TrainingPlan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
# Polls every half second rather than production's 2 s: what is waited for is a number of polls, not a time.
POLL_MS = 500
ACTIVE = "document.activeElement"


def test_an_error_is_found_by_keyboard_from_the_summary(page, live_server, org_a, make_member):
    page.set_default_timeout(10_000)
    base = live_server.url
    log_in(page, base, make_member(org_a, email="camille@exemple.fr").user.email)
    page.goto(f"{base}{reverse('password_change')}")

    page.locator("#id_old_password").focus()
    page.keyboard.press("Enter")  # posted empty
    page.locator("[data-error-summary]").wait_for()

    # The page comes back with the focus on the summary, not on <body> at the top.
    assert page.evaluate(f"{ACTIVE}.id") == "erreurs"
    page.keyboard.press("Tab")
    assert page.evaluate(f"{ACTIVE}.getAttribute('href')") == "#id_old_password"
    page.keyboard.press("Tab")
    assert page.evaluate(f"{ACTIVE}.getAttribute('href')") == "#id_new_password1"
    page.keyboard.press("Enter")
    assert page.evaluate(f"{ACTIVE}.id") == "id_new_password1"
    page.keyboard.type("x")
    assert page.locator("#id_new_password1").input_value() == "x"
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 375, "height": 800})
    page.screenshot(path=str(ARTIFACTS / "error-summary-password.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_an_htmx_answer_keeps_the_focus_on_the_invalid_field_then_on_the_message(page, live_server):
    page.set_default_timeout(10_000)
    base = live_server.url
    dossier = DossierFactory(state="in_training")
    plan = TrainingPlan.objects.get(dossier=dossier)
    log_in(page, base, dossier.team.trainer.user.email)
    page.goto(f"{base}{reverse('training:plan_detail', args=[plan.pk])}")

    # Nothing typed: the fragment comes back with its errors, the focus on the first invalid field.
    page.get_by_role("button", name="Ajouter la séance").focus()
    page.keyboard.press("Enter")
    page.locator("#seances [aria-invalid='true']").first.wait_for()
    page.wait_for_function(f"() => {ACTIVE}.getAttribute('aria-invalid') === 'true'")
    assert page.evaluate(f"{ACTIVE}.id") == "id_session-date"
    assert page.evaluate(f"!!{ACTIVE}.closest('#seances')")

    # Filled in and sent with Enter: the focus goes to the message, which the live region announces.
    day = max(plan.starts_on, timezone.localdate()) + datetime.timedelta(days=1)
    page.locator("#id_session-date").fill(f"{day:%Y-%m-%d}")
    page.locator("#id_session-duration_hours").fill("3")
    page.locator("#id_session-topic").fill("Règle de trois")
    page.locator("#id_session-topic").press("Enter")
    page.get_by_text("La séance est ajoutée au calendrier.").first.wait_for()
    page.wait_for_function(f"() => {ACTIVE}.hasAttribute('data-swap-focus')")
    assert "La séance est ajoutée au calendrier." in page.locator("#live-status").inner_text()
    # The next Tab carries on inside the calendar, not from the top of the page.
    page.keyboard.press("Tab")
    assert page.evaluate(f"!!{ACTIVE}.closest('#seances')")
    assert page.evaluate(f"{ACTIVE}.textContent").startswith("Marquer comme réalisée")
    assert plan.sessions.count() == 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "htmx-session-focus.png"), full_page=True)


def test_the_polled_sheet_status_never_takes_the_focus_and_announces_the_ready_sheet(page, live_server, settings):
    page.set_default_timeout(10_000)
    settings.POLL_INTERVAL_MS = POLL_MS
    base = live_server.url
    membership = MembershipFactory(organisation=OrganisationFactory(france_travail=True), role=Role.FT_ADVISOR)
    sheet = make_sheet(membership.organisation)
    log_in(page, base, membership.user.email)
    polls = []
    page.on("request", lambda request: polls.append(request.url) if "poll=" in request.url else None)
    page.goto(f"{base}{reverse('directory:sheet_detail', args=[sheet.pk])}")

    # The reader has tabbed on to a link; two polls later, the focus is still there. The third poll's address
    # comes with the second's answer: asked for, the second answer has been swapped in.
    link = page.get_by_role("link", name="Vérifier un certificat")
    link.focus()
    if not any("poll=3" in url for url in polls):
        with page.expect_request(lambda request: "poll=3" in request.url):
            pass
    assert page.evaluate(f"{ACTIVE}.textContent") == "Vérifier un certificat"

    DirectorySheet.objects.filter(pk=sheet.pk).update(status=SheetStatus.READY, site_count=2)
    page.wait_for_function("() => document.getElementById('live-status').textContent.includes('La fiche est prête')")
    assert page.locator("#live-status").inner_text().strip() == "La fiche est prête : 2 sites."
    assert page.evaluate(f"{ACTIVE}.textContent") == "Vérifier un certificat"
    count = len(polls)
    page.wait_for_timeout(2.5 * POLL_MS)
    assert len(polls) == count  # a ready sheet is not polled any more
    page.keyboard.press("Shift+Tab")  # the keyboard goes on from where the reader was
    assert page.evaluate(f"!!{ACTIVE}.closest('footer')") or page.evaluate(f"!!{ACTIVE}.closest('main')")
