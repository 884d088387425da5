"""Issue 19, coming directly: a person asks a site of the directory for an information interview, confirms it from
the e-mailed link; the counsellor finds it in « À faire » and proposes a meeting; the person accepts it from the
e-mail; after the meeting the counsellor opens the information dossier, filled in from the request."""

from __future__ import annotations

import datetime
import re
import tempfile
from pathlib import Path

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from candidates.models import Dossier, DossierState, Origin
from intake.models import InterviewRequest, InterviewRequestState
from organisations.models import Role
from tests.browser.axe import axe_violations, describe
from tests.browser.support import log_in
from tests.directory.support import load_sample_communes
from tests.factories import MembershipFactory
from tests.intake.support import listed_site
from tests.journey import small_referentiel

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = 375
EMAIL = "lea.martin@exemple.fr"
# Screenshots at 375 px of the public form and of the organisation's request page (not committed).
SHOTS = Path(tempfile.gettempdir())


def link_in_last_mail(kind: str) -> str:
    mine = [m for m in mail.outbox if EMAIL in m.to]
    return re.search(rf"http\S+/entretien/{kind}/\S+/", mine[-1].body)[0]


@pytest.fixture
def contexts(browser):
    """Each browser context closed with the test (see tests/browser/test_hand_offs.py)."""
    before = set(browser.contexts)
    yield
    for context in browser.contexts:
        if context not in before:
            context.close()


def new_page(browser) -> Page:
    page = browser.new_context(viewport={"width": PHONE, "height": 800}).new_page()
    page.set_default_timeout(10_000)
    return page


def test_a_person_comes_directly_from_the_directory_to_an_information_dossier(browser, live_server, settings, contexts):
    settings.SITE_URL = live_server.url
    base = live_server.url
    load_sample_communes()
    small_referentiel("clea")
    site = listed_site(name="Site de Lille-Centre")
    counsellor = MembershipFactory(organisation=site.organisation, role=Role.COUNSELLOR)
    problems: list[str] = []

    # The person, on a phone: the directory, the site's button, the form.
    person = new_page(browser)
    person.goto(f"{base}{reverse('directory:search')}?commune=59350")
    person.get_by_role("link", name=re.compile("^Demander un entretien d'information")).first.click()
    person.wait_for_url(f"{base}{reverse('intake:create', args=[site.pk])}")
    person.get_by_role("button", name="Envoyer ma demande").click()  # empty: the errors, in French
    expect(person.get_by_role("alert")).to_contain_text("Indiquez votre prénom.")
    problems += describe(axe_violations(person), where="form with errors")
    person.locator("[name=first_name]").fill("Léa")
    person.locator("[name=last_name]").fill("Martin")
    person.get_by_label("Adresse e-mail").fill(EMAIL)
    person.get_by_label("Le matin").check()
    person.get_by_label("Précisions sur vos disponibilités (facultatif)").fill("pas le mercredi")
    person.get_by_label("J'accepte que cet organisme me contacte pour fixer un entretien").check()
    person.screenshot(path=str(SHOTS / "i19-direct-form-375.png"), full_page=True)
    problems += describe(axe_violations(person), where="form")
    person.get_by_role("button", name="Envoyer ma demande").click()
    person.wait_for_url(f"{base}{reverse('intake:sent')}")
    assert InterviewRequest.objects.get().state == InterviewRequestState.UNCONFIRMED

    # The e-mailed link shows a button; pressing it sends the request to the organisation.
    person.goto(link_in_last_mail("confirmer"))
    person.get_by_role("button", name="Confirmer ma demande").click()
    expect(person.get_by_role("heading", level=1)).to_have_text("Votre demande est envoyée")

    # The counsellor finds it in « À faire » and proposes a meeting.
    desk = browser.new_context().new_page()
    desk.set_default_timeout(10_000)
    log_in(desk, base, counsellor.user.email)
    request = InterviewRequest.objects.get()
    detail = reverse("intake:detail", args=[request.pk])
    desk.goto(f"{base}/")
    desk.get_by_role("region", name=re.compile("^À faire")).get_by_role(
        "link", name=re.compile("^Proposer un rendez-vous à la personne venue par l'annuaire – .*MARTIN Léa")
    ).click()
    desk.wait_for_url(f"{base}{detail}")
    desk.get_by_role("link", name="Proposer un rendez-vous").click()
    day = timezone.localdate() + datetime.timedelta(days=3)
    desk.get_by_label("Avec").select_option(str(counsellor.pk))
    desk.get_by_label("Date").fill(day.isoformat())
    desk.get_by_label("Heure de début").fill("10:00")
    desk.get_by_label("Durée (minutes)").fill("45")
    desk.get_by_role("button", name="Envoyer la proposition").click()
    desk.wait_for_url(f"{base}{detail}")
    assert InterviewRequest.objects.get().state == InterviewRequestState.PROPOSED

    # The person accepts from the e-mail.
    person.goto(link_in_last_mail("reponse"))
    expect(person.locator("main")).to_contain_text("Site de Lille-Centre")
    person.get_by_role("button", name="Je viendrai").click()
    expect(person.get_by_role("heading", level=1)).to_have_text("Votre réponse est envoyée")

    # The counsellor sees the answer in « À faire »; after the meeting, opens the dossier filled in from the request.
    desk.goto(f"{base}/")
    desk.get_by_role("region", name=re.compile("^À faire")).get_by_role(
        "link", name=re.compile("^Recevoir la personne, puis ouvrir son dossier – .*MARTIN Léa")
    ).click()
    desk.wait_for_url(f"{base}{detail}")
    desk.set_viewport_size({"width": PHONE, "height": 800})
    desk.screenshot(path=str(SHOTS / "i19-direct-request-375.png"), full_page=True)
    problems += describe(axe_violations(desk), where="request page")
    desk.get_by_role("link", name="L'entretien a eu lieu : ouvrir le dossier").click()
    expect(desk.locator("[name=last_name]")).to_have_value("Martin")
    expect(desk.locator("[name=email]")).to_have_value(EMAIL)
    expect(desk.locator("[name=origin]")).to_have_value(Origin.OWN_INITIATIVE)
    desk.locator("[name=civility]").select_option("mme")
    desk.locator("[name=birth_date]").fill("1985-04-02")
    desk.locator("[name=birth_place]").fill("Lille")
    desk.locator("[name=registration_status]").select_option(index=1)
    desk.locator("[name=education_level]").select_option(index=1)
    desk.get_by_role("button", name="Créer le dossier").click()
    desk.wait_for_url(re.compile(r"/dossiers/\d+/$"))
    dossier = Dossier.objects.get()
    assert desk.url == f"{base}{reverse('journey:dossier_detail', args=[dossier.pk])}"
    assert dossier.state == DossierState.INFORMATION
    request.refresh_from_db()
    assert request.state == InterviewRequestState.CONVERTED and request.dossier == dossier
    assert problems == []
