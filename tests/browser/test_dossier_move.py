"""Issue 19, changing organisation with the dossier, in a browser: a dossier whose prior evaluation at organisation A
closed with gaps; the candidate moves it to organisation B from their space, on a phone; B's counsellor sees the
dossier and its attestation and entrusts the training; A then reads only its own part, « Parti vers B ». The space
pages and A's read-only page are photographed at 375 px (/tmp/i19-move-*.png, not committed) and checked by axe."""

from __future__ import annotations

import datetime
import re
import tempfile
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from candidates.models import Dossier
from evaluations.models import Evaluation
from evaluations.services import attestation_generate
from tests.browser.axe import axe_violations, describe
from tests.browser.support import log_in
from tests.candidates.transfer_support import new_organisation
from tests.factories import SiteFactory
from tests.journey import DossierFactory
from tests.space.support import link_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = 375


def test_the_candidate_moves_to_b_who_continues_and_a_keeps_its_own_part(page, live_server):
    base = live_server.url
    page.set_default_timeout(10_000)
    dossier = DossierFactory(
        partially_validated=True,
        first_name="Léa",
        last_name="Martin",
        email="lea.martin@exemple.fr",
        birth_date=datetime.date(1990, 3, 3),
    )
    team_a, org_a = dossier.team, dossier.organisation
    attestation = attestation_generate(evaluation_id=Evaluation.objects.get(dossier=dossier).pk)
    org_b, team_b = new_organisation()
    org_b.name = "Formations du Nord"
    org_b.save(update_fields=["name"])
    SiteFactory(organisation=org_b, name="Site de Roubaix", city="Roubaix", postcode="59100")
    found: list[str] = []

    def shot(name: str) -> None:
        found.extend(describe(axe_violations(page), where=name))
        page.screenshot(path=str(Path(tempfile.gettempdir()) / f"i19-move-{name}.png"), full_page=True)

    # The candidate, on a phone, from their space.
    page.set_viewport_size({"width": PHONE, "height": 800})
    page.goto(f"{base}{reverse('space:sign_in', args=[link_for(dossier)])}")
    page.get_by_role("button", name="Me connecter").click()
    page.wait_for_url(f"{base}{reverse('space:dossier', args=[dossier.pk])}")
    page.get_by_role("link", name="Changer d'organisme").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Changer d'organisme")
    expect(page.locator("main")).to_contain_text("Site de Roubaix")
    shot("space-changer-d-organisme")
    page.get_by_role("link", name="Choisir Formations du Nord").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Aller chez Formations du Nord")
    page.get_by_role("button", name="Oui, je change d'organisme").click()  # not agreed yet: the summary says so
    expect(page.locator(".error-summary")).to_contain_text("Cochez la case pour dire que vous êtes d'accord.")
    shot("space-confirmer")
    page.get_by_label("J'ai lu ce texte et je suis d'accord").check()
    page.get_by_label("Pourquoi je change (si je veux)").fill("Je déménage à Roubaix.")
    page.get_by_role("button", name="Oui, je change d'organisme").click()
    page.wait_for_url(f"{base}{reverse('space:dossier', args=[dossier.pk])}")
    expect(page.locator("main")).to_contain_text("Mon dossier est maintenant suivi par Formations du Nord.")
    shot("space-apres")
    assert Dossier.objects.get(pk=dossier.pk).organisation == org_b

    # B's counsellor: the dossier, its attestation, and the training to define.
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, base, team_b.counsellor.user.email)
    page.goto(f"{base}{reverse('journey:dossier_detail', args=[dossier.pk])}")
    expect(page.get_by_role("link", name=re.compile(f"^Attestation {attestation.number}"))).to_be_visible()
    page.get_by_role("link", name="Définir le parcours de formation").click()
    page.get_by_label("Formation assurée par").select_option(str(team_b.trainer.pk))
    page.get_by_label("Durée prévue (heures)").fill("20")
    page.get_by_label("Début").fill(f"{timezone.localdate():%Y-%m-%d}")
    page.get_by_label("Fin prévue").fill(f"{timezone.localdate() + datetime.timedelta(days=30):%Y-%m-%d}")
    page.get_by_role("button", name="Confier le parcours").click()
    page.wait_for_load_state()
    assert Dossier.objects.get(pk=dossier.pk).state == "in_training"

    # A: only its own part, read only.
    log_in(page, base, team_a.counsellor.user.email)
    page.set_viewport_size({"width": PHONE, "height": 800})
    page.goto(f"{base}{reverse('journey:dossier_detail', args=[dossier.pk])}")
    main = page.locator("main")
    expect(main).to_contain_text(f"Parti vers Formations du Nord le {timezone.localdate():%d/%m/%Y}")
    expect(page.get_by_role("link", name=re.compile(f"^Attestation {attestation.number}"))).to_be_visible()
    expect(main).not_to_contain_text("Vos actions")
    expect(main).not_to_contain_text("Parcours 1")
    expect(main).not_to_contain_text(team_b.trainer.user.get_full_name())
    shot("a-lecture-seule")
    assert page.goto(f"{base}{reverse('candidates:dossier_withdraw', args=[dossier.pk])}").status == 404
    assert org_a.name != org_b.name
    assert not found, "\n".join(found)
