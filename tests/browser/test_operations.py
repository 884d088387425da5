"""The operators' page in a real browser: a Certif'Pro administrator finds an attestation that failed, reads the
worker's error, retries it, and finds it done; on a phone's width as on a desktop's."""

import datetime
import re
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from evaluations.models import Attestation
from organisations.models import Role
from outbox.models import SideEffect, SideEffectState, overdue_after
from tests.browser.support import log_in
from tests.factories import OrganisationFactory
from tests.outbox.support import failed_attestation, side_effect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}


def page_width(page) -> tuple[int, int]:
    """How wide the page is, and how wide the window: a wide table scrolls in its own box, never the page."""
    return tuple(page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"))


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"opspage-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000


def test_certifpro_retries_a_failed_attestation_and_finds_it_done(page, live_server, make_member):
    page.set_default_timeout(10_000)
    base = live_server.url
    certifpro = make_member(role=Role.CERTIFPRO_ADMIN, email="operatrice@certifpro.fr", first_name="Inès")
    # What a morning after a full disk looks like: an attestation and an e-mail failed, a directory sheet late.
    row, dossier = failed_attestation(OrganisationFactory(name="Évaluateur Nord"), last_name="Martin-Dupré")
    side_effect(OrganisationFactory(name="Évaluateur Sud"), label="Courriel « Votre orientation »")
    side_effect(
        OrganisationFactory(name="Agence France Travail Lille"),
        kind="directory_sheet",
        label="Fiche annuaire du Nord (59)",
        state=SideEffectState.PENDING,
        age=overdue_after() + datetime.timedelta(minutes=3),
        attempts=1,
    )
    label = f"Attestation du dossier {dossier.reference}"

    log_in(page, base, certifpro.user.email)
    page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="Documents et courriels"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Suivi des documents et courriels")
    expect(page.locator(".outbox-summary")).to_contain_text("2 en échec")
    expect(page.locator(".outbox-summary")).to_contain_text("1 en attente (dont 1 en retard)")
    attestation_row = page.get_by_role("row", name=re.compile(re.escape(label)))
    expect(attestation_row.get_by_role("cell").first).to_contain_text("En échec")
    expect(attestation_row).to_contain_text("Évaluateur Nord")

    # The worker's error, unfolded on demand.
    attestation_row.get_by_text("Voir l'erreur").click()
    expect(attestation_row.locator("pre")).to_contain_text("Not a directory")

    page.set_viewport_size(DESKTOP)
    shoot(page, "desktop-failed")
    # From the keyboard, the retry button comes just before the error, and its focus shows.
    page.set_viewport_size(PHONE)
    page.keyboard.press("Shift+Tab")
    expect(attestation_row.get_by_role("button", name=f"Relancer « {label} »")).to_be_focused()
    assert page_width(page) == (375, 375)
    shoot(page, "phone-failed")
    page.set_viewport_size(DESKTOP)

    attestation_row.get_by_role("button", name=f"Relancer « {label} »").click()
    page.wait_for_load_state()

    # Tasks run in the web process here: the attestation is rendered by the time the page comes back.
    expect(page.locator(".messages[role=status]")).to_contain_text(f"Relance de « {label} » : c'est fait.")
    expect(page.locator(".outbox-summary")).to_contain_text("1 en échec")
    expect(page.get_by_role("row", name=re.compile(re.escape(label)))).to_have_count(0)
    assert Attestation.objects.filter(dossier=dossier).exists()
    assert SideEffect.objects.get(pk=row.pk).state == SideEffectState.DONE
    shoot(page, "desktop-after-retry")

    page.get_by_label("État").select_option(label="Fait")
    page.get_by_role("button", name="Filtrer").click()
    page.wait_for_load_state()
    done_row = page.get_by_role("row", name=re.compile(re.escape(label)))
    expect(done_row).to_contain_text("Fait")
    expect(done_row.get_by_role("button")).to_have_count(0)
    page.set_viewport_size(PHONE)
    assert page_width(page) == (375, 375)
    shoot(page, "phone-done")
