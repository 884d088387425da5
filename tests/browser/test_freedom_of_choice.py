"""Issue 19, "Done when": the whole of the candidate's freedom of choice in one browser test. A person asks
organisation A for an information interview from the directory; A books it, opens the dossier, and its prior
evaluation closes with gaps; the candidate, signed in to their space by an e-mailed link, moves to organisation B;
B trains them on what remains, evaluates that only, and submits the dossier to a Transitions Pro's jury; A then reads
only its own part.

Everything a person does goes through the screens; the organisations, their people, the référentiel and the jury
session are set up beforehand. Each person has a browser context of their own, signed in once. Screenshots:
/tmp/i19-e2e-*.png (375 px for the candidate's pages, 1280 px for the staff's; not committed)."""

from __future__ import annotations

import datetime
import re
import tempfile
from pathlib import Path

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from candidates.models import Dossier, DossierState
from organisations.models import Membership
from tests.browser.support import fill_grid, log_in
from tests.directory.support import load_sample_communes
from tests.factories import OrganisationFactory
from tests.intake.support import listed_site
from tests.journey import small_referentiel, team_for
from tests.juries.factories import make_jury

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE, DESKTOP = 375, 1280
SHOTS = Path(tempfile.gettempdir())
EMAIL = "lea.martin@exemple.fr"
WHO = "MARTIN Léa"
# The prior evaluation at A leaves sub-domain 2.1 short (2 of 4 criteria, 75 % needed): B's final covers only it.
PRIOR_ACQUIRED = {"1.1.1", "1.1.2", "1.2.1", "1.2.2", "2.1.1", "2.1.2"}
REMAINING = ["2.1.3", "2.1.4"]


def literal(text: str) -> str:
    """`text` as a regular expression Playwright passes to the page (slashes escaped too)."""
    return re.escape(text).replace("/", r"\/")


def weekday_after(day: datetime.date, days: int) -> datetime.date:
    """`days` after `day`, moved on to a Monday if it falls on a weekend (the form takes a Sunday, a person would
    not offer one)."""
    day += datetime.timedelta(days=days)
    return day + datetime.timedelta(days=(7 - day.weekday()) % 7 if day.weekday() >= 5 else 0)


def link_in_last_mail(pattern: str) -> str:
    mine = [m for m in mail.outbox if EMAIL in (address.lower() for address in m.to)]
    return re.search(rf"http\S+/{pattern}/\S+/", mine[-1].body)[0]


class Person:
    """One person's browser context (signed in once when `membership` is given)."""

    def __init__(self, browser, base: str, membership: Membership | None = None, width: int = DESKTOP) -> None:
        self.base = base
        self.page: Page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
        self.page.set_default_timeout(10_000)
        if membership is not None:
            log_in(self.page, base, membership.user.email)

    def todo(self, action: str, subject: str = WHO) -> Locator:
        """The item of the home page's « À faire » that says `action` about `subject`."""
        self.page.goto(f"{self.base}/")
        return self.page.get_by_role("region", name=re.compile("^À faire")).get_by_role(
            "link", name=re.compile(f"^{literal(action)} – .*{literal(subject)}")
        )

    def follow_todo(self, action: str, lands_on: str) -> None:
        item = self.todo(action)
        expect(item).to_have_count(1)
        item.click()
        self.page.wait_for_url(f"{self.base}{lands_on}")

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(SHOTS / f"i19-e2e-{name}.png"), full_page=True)


@pytest.fixture
def contexts(browser):
    """Each person's context closed with the test (see tests/browser/test_hand_offs.py)."""
    before = set(browser.contexts)
    yield
    for context in browser.contexts:
        if context not in before:
            context.close()


def test_directory_to_a_then_moved_to_b_up_to_the_jury_and_a_keeps_its_part(browser, live_server, settings, contexts):
    settings.SITE_URL = live_server.url
    base = live_server.url
    load_sample_communes()
    small_referentiel("clea")
    org_a = OrganisationFactory(name="Savoirs de Lille")
    listed_site(org_a, name="Site de Lille-Centre")
    team_a = team_for(org_a)
    org_b = OrganisationFactory(name="Formations du Nord")
    listed_site(org_b, name="Site de Roubaix", city="Roubaix", postcode="59100")
    team_b = team_for(org_b)
    jury = make_jury(body=OrganisationFactory(jury_body=True, name="Transitions Pro Hauts-de-France"))
    today = timezone.localdate()

    def dossier() -> Dossier:
        return Dossier.objects.get(candidate__last_name="Martin")

    # 1. The person, on a phone: the directory, A's site, the form; then the e-mailed confirmation link.
    person = Person(browser, base, width=PHONE)
    page = person.page
    page.goto(f"{base}{reverse('directory:search')}?commune=59350")
    page.get_by_role(
        "link", name=re.compile("^Demander un entretien d'information : Savoirs de Lille, Site de Lille-Centre")
    ).click()
    page.get_by_label(re.compile(r"^Prénom")).fill("Léa")
    page.get_by_label(re.compile(r"^Nom\b")).fill("Martin")
    page.get_by_label("Adresse e-mail").fill(EMAIL)
    page.get_by_label("Le matin").check()
    page.get_by_label("J'accepte que cet organisme me contacte pour fixer un entretien").check()
    person.shot("1-demande-375")
    page.get_by_role("button", name="Envoyer ma demande").click()
    page.wait_for_url(f"{base}{reverse('intake:sent')}")
    page.goto(link_in_last_mail("entretien/confirmer"))
    page.get_by_role("button", name="Confirmer ma demande").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre demande est envoyée")

    # 2. A's counsellor finds it in « À faire » and proposes a meeting; the person accepts from the e-mail.
    counsellor_a = Person(browser, base, team_a.counsellor)
    desk = counsellor_a.page
    counsellor_a.todo("Proposer un rendez-vous à la personne venue par l'annuaire").click()
    desk.get_by_role("link", name="Proposer un rendez-vous").click()
    desk.get_by_label("Avec").select_option(str(team_a.counsellor.pk))
    desk.get_by_label("Date").fill(f"{weekday_after(today, days=3):%Y-%m-%d}")
    desk.get_by_label("Heure de début").fill("10:00")
    desk.get_by_label("Durée (minutes)").fill("45")
    desk.get_by_role("button", name="Envoyer la proposition").click()
    desk.wait_for_load_state()
    page.goto(link_in_last_mail("entretien/reponse"))
    expect(page.locator("main")).to_contain_text("Site de Lille-Centre")
    expect(page.locator("main")).to_contain_text(team_a.counsellor.user.get_full_name())
    person.shot("2-rendez-vous-375")
    page.get_by_role("button", name="Je viendrai").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre réponse est envoyée")

    # After the meeting: the information dossier, filled in from the request, then opened with the consent.
    counsellor_a.todo("Recevoir la personne, puis ouvrir son dossier").click()
    desk.get_by_role("link", name="L'entretien a eu lieu : ouvrir le dossier").click()
    expect(desk.get_by_label("Nom d'usage")).to_have_value("Martin")
    desk.get_by_label("Civilité").select_option("mme")
    desk.get_by_label("Date de naissance").fill("1985-04-02")
    desk.get_by_label(re.compile(r"^Lieu de naissance")).fill("Lille")
    desk.get_by_label("Statut à l'inscription").select_option("job_seeker")
    desk.get_by_label("Niveau de formation").select_option("3")
    desk.get_by_role("button", name="Créer le dossier").click()
    desk.wait_for_url(re.compile(r"/dossiers/\d+/$"))
    dossier_page = reverse("journey:dossier_detail", args=[dossier().pk])
    desk.get_by_role("link", name="Ouvrir le dossier").click()
    desk.get_by_label("Le candidat a donné son accord").check()
    desk.get_by_role("button", name="Ouvrir le dossier").click()
    desk.wait_for_url(f"{base}{dossier_page}")
    assert dossier().state == DossierState.OPENED and dossier().organisation == org_a

    # 3. The counsellor entrusts the prior evaluation; A's evaluator runs it and closes it with gaps.
    counsellor_a.todo("Confier l'évaluation préalable").click()
    desk.get_by_label("Étape").select_option("prior_evaluation")
    desk.get_by_label("Confiée à").select_option(str(team_a.evaluator.pk))
    desk.get_by_role("button", name="Confier").click()
    desk.wait_for_url(f"{base}{dossier_page}")
    evaluator_a = Person(browser, base, team_a.evaluator)
    evaluator_a.follow_todo(
        "Commencer l'évaluation préalable", reverse("evaluations:evaluation_start", kwargs={"dossier_pk": dossier().pk})
    )
    evaluator_a.page.get_by_role("button", name="Commencer l'évaluation").click()
    fill_grid(evaluator_a.page, dossier(), acquired=PRIOR_ACQUIRED)
    assert dossier().state == DossierState.PARTIALLY_VALIDATED
    evaluator_a.page.context.close()
    desk.goto(f"{base}{dossier_page}")
    attestation = desk.get_by_role("link", name=re.compile("^Attestation ATT-"))
    expect(attestation).to_have_count(1)
    attestation_name = attestation.inner_text()
    counsellor_a.shot("3-a-validation-partielle")

    # 4. The candidate asks for a link to their space, opens it from the e-mail and moves to B.
    page.goto(f"{base}{reverse('space:sign_in_request')}")
    page.get_by_label("Mon adresse e-mail").fill(EMAIL)
    page.get_by_label("Ma date de naissance").fill("02/04/1985")
    page.get_by_role("button", name="Recevoir mon lien").click()
    page.wait_for_url(f"{base}{reverse('space:sign_in_requested')}")
    page.goto(link_in_last_mail("mon-espace/lien"))
    page.get_by_role("button", name="Me connecter").click()
    page.wait_for_url(f"{base}{reverse('space:dossier', args=[dossier().pk])}")
    person.shot("4-espace-375")
    page.get_by_role("link", name="Changer d'organisme").click()
    expect(page.locator("main")).to_contain_text("Site de Roubaix")
    person.shot("5-changer-375")
    page.get_by_role("link", name="Choisir Formations du Nord").click()
    page.get_by_label("J'ai lu ce texte et je suis d'accord").check()
    page.get_by_label("Pourquoi je change (si je veux)").fill("Je déménage à Roubaix.")
    person.shot("6-confirmer-375")
    page.get_by_role("button", name="Oui, je change d'organisme").click()
    page.wait_for_url(f"{base}{reverse('space:dossier', args=[dossier().pk])}")
    expect(page.locator("main")).to_contain_text("Mon dossier est maintenant suivi par Formations du Nord.")
    person.shot("7-apres-375")
    assert dossier().organisation == org_b
    page.context.close()

    # 5. B's counsellor defines the training on what remains; B's trainer (another organisation) delivers it.
    counsellor_b = Person(browser, base, team_b.counsellor)
    desk_b = counsellor_b.page
    desk_b.goto(f"{base}{dossier_page}")
    expect(desk_b.get_by_role("link", name=attestation_name)).to_be_visible()
    counsellor_b.follow_todo(
        "Définir le parcours de formation", reverse("training:plan_create", kwargs={"dossier_pk": dossier().pk})
    )
    desk_b.get_by_label("Formation assurée par").select_option(str(team_b.trainer.pk))
    desk_b.get_by_label("Durée prévue (heures)").fill("6")
    desk_b.get_by_label("Début").fill(f"{today:%Y-%m-%d}")
    desk_b.get_by_label("Fin prévue").fill(f"{today + datetime.timedelta(days=30):%Y-%m-%d}")
    desk_b.get_by_role("button", name="Confier le parcours").click()
    desk_b.wait_for_load_state()
    assert dossier().state == DossierState.IN_TRAINING
    plan = dossier().training_plans.get()
    trainer = Person(browser, base, team_b.trainer)
    trainer.follow_todo("Planifier les séances du parcours", reverse("training:plan_detail", args=[plan.pk]))
    tpage = trainer.page
    tpage.get_by_role("textbox", name="Date", exact=True).fill(f"{today:%Y-%m-%d}")
    tpage.get_by_label("Durée (heures)").fill("6")
    tpage.get_by_label("Contenu").fill("Proportions et pourcentages")
    tpage.get_by_label("Séance déjà réalisée").check()
    tpage.get_by_role("button", name="Ajouter la séance").click()
    tpage.get_by_text("Proportions et pourcentages").wait_for()
    tpage.get_by_role("link", name="Terminer la formation").click()
    tpage.get_by_role("button", name="Confirmer : la formation est terminée").click()
    tpage.wait_for_load_state()
    plan.refresh_from_db()
    assert plan.completed_at is not None
    tpage.context.close()

    # B's evaluator: the final grid shows only the criteria left short at A, and closing it readies the jury.
    evaluator_b = Person(browser, base, team_b.evaluator)
    epage = evaluator_b.page
    epage.goto(f"{base}{dossier_page}")
    epage.get_by_role("link", name="Commencer l'évaluation finale").click()
    epage.get_by_role("button", name="Commencer l'évaluation").click()
    expect(epage.locator("fieldset.criterion .criterion__code")).to_have_text(REMAINING)
    evaluator_b.shot("8-b-grille-finale")
    fill_grid(epage, dossier(), acquired=set(REMAINING))
    assert dossier().state == DossierState.READY_FOR_JURY
    epage.context.close()

    # B's counsellor submits the dossier to the Transitions Pro's session.
    desk_b.goto(f"{base}{dossier_page}")
    desk_b.get_by_role("link", name="Soumettre au jury").click()
    desk_b.locator(f"#session-{jury.session.pk}").check()
    desk_b.get_by_role("button", name="Soumettre au jury").click()
    desk_b.wait_for_load_state()
    assert dossier().state == DossierState.SUBMITTED_TO_JURY
    desk_b.goto(f"{base}{dossier_page}")
    counsellor_b.shot("9-b-soumis-au-jury")
    # What B's page shows of B's part: each must be missing from A's page below.
    session_day = f"le jury du {timezone.localtime(jury.session.date):%d/%m/%Y}"
    b_part = (
        "Vos actions",
        "Parcours 1",
        "Évaluation finale",
        "Soumis au jury",
        session_day,
        team_b.trainer.user.get_full_name(),
        team_b.evaluator.user.get_full_name(),
        team_b.counsellor.user.get_full_name(),
    )
    for text in b_part:
        expect(desk_b.locator("main")).to_contain_text(text)

    # 6. A's counsellor: the dossier among those that left, « Parti vers B », its own part and nothing of B's.
    desk.goto(f"{base}{reverse('candidates:dossier_list')}")
    desk.get_by_role("link", name="Dossiers partis vers un autre organisme").click()
    desk.get_by_role("link", name=re.compile("Léa")).click()
    desk.wait_for_url(f"{base}{dossier_page}")
    main = desk.locator("main")
    expect(main).to_contain_text(f"Parti vers Formations du Nord le {today:%d/%m/%Y}")
    expect(main).to_contain_text("Évaluation préalable")
    expect(main).to_contain_text(team_a.evaluator.user.get_full_name())
    expect(desk.get_by_role("link", name=attestation_name)).to_be_visible()
    for text in b_part:
        expect(main).not_to_contain_text(text)
    counsellor_a.shot("10-a-sa-part")
    # An action on the dossier, and B's own pages, answer 404 to A.
    final = dossier().evaluations.get(kind="final")
    for url in (
        reverse("candidates:dossier_withdraw", args=[dossier().pk]),
        reverse("evaluations:summary", args=[final.pk]),
        reverse("training:plan_detail", args=[plan.pk]),
    ):
        assert desk.goto(f"{base}{url}").status == 404, url
