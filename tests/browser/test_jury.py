"""Step 4 in a real browser: a juror reviews a dossier, the president awards it and closes the session, and the
public verification page shows the certificate as valid."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from juries.models import Certificate
from juries.services import dossier_submit_to_jury, jury_session_convene
from tests.factories import TEST_PASSWORD
from tests.journey import DossierFactory
from tests.juries.factories import make_jury

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"


def log_in(page, base: str, email: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/compte/connexion/")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{base}/")


def test_a_juror_reviews_the_president_awards_and_the_certificate_verifies(page, live_server):
    page.set_default_timeout(10_000)
    base = live_server.url
    jury = make_jury()
    dossier = DossierFactory(state="ready_for_jury", last_name="Delcourt", first_name="Noémie")
    submission = dossier_submit_to_jury(dossier=dossier, session=jury.session, by=dossier.team.counsellor)
    jury_session_convene(session=jury.session, by=jury.admin)

    # The employees' juror reads the dossier: the result grid, not the timeline nor the candidate's contact.
    log_in(page, base, jury.employee.user.email)
    page.goto(f"{base}/jurys/dossiers/{submission.pk}/")
    assert page.get_by_role("heading", level=1).inner_text().find("Delcourt") >= 0
    assert page.get_by_text("Historique").count() == 0
    assert page.get_by_text("candidate@exemple.fr").count() == 0

    # The president opens the deliberation, awards the certificate and closes the session.
    log_in(page, base, jury.employer.user.email)
    page.goto(f"{base}/jurys/{jury.session.pk}/")
    page.get_by_role("button", name="Ouvrir la délibération").click()
    page.get_by_role("link", name=re.compile("^Examiner et décider")).click()
    page.get_by_label("Certification délivrée").check()
    page.get_by_role("button", name="Enregistrer la décision").click()
    page.wait_for_load_state()
    page.goto(f"{base}/jurys/{jury.session.pk}/")
    page.get_by_role("button", name="Clore la session").click()
    page.wait_for_load_state()

    certificate = Certificate.objects.get(dossier=dossier)
    dossier.refresh_from_db()
    assert dossier.state == "certified"

    # Anyone, without logging in, checks the code printed on the certificate.
    page.context.clear_cookies()
    page.goto(f"{base}/verifier/")
    page.get_by_label(re.compile("Code de vérification")).fill(certificate.verification_code.lower())
    page.get_by_role("button", name="Vérifier").click()
    page.get_by_text("Certificat valide").wait_for()
    assert page.get_by_text("Noémie DELCOURT").is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "certificate-verified.png"), full_page=True)
