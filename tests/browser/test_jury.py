"""Step 4 in a real browser: a juror reviews a dossier; the president records the attendance, which opens the
deliberation on the session's day only and with a quorum present; the president awards the dossier (the domain
boxes show for a deferral only) and closes the session; the public verification page shows the certificate as
valid, dated on the session."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from juries.models import Certificate, JurySession
from juries.services import dossier_submit_to_jury, jury_session_convene
from tests.browser.support import log_in
from tests.journey import DossierFactory
from tests.juries.factories import make_jury, session_day

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"


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

    # The president opens the deliberation step: ten days before the session, it refuses, the attendance kept.
    log_in(page, base, jury.employer.user.email)
    page.goto(f"{base}/jurys/{jury.session.pk}/")
    page.get_by_role("link", name="Ouvrir la délibération").click()
    employer_name, employee_name = jury.employer.user.get_full_name(), jury.employee.user.get_full_name()

    def attendance(name: str, status: str) -> None:
        page.get_by_role("group", name=re.compile(re.escape(name))).get_by_label(status, exact=True).check()

    attendance(employer_name, "Présence")
    attendance(employee_name, "Présence")
    page.get_by_role("button", name="Enregistrer les présences et ouvrir la délibération").click()
    refusal = page.get_by_role("alert")
    assert "ne peut pas s'ouvrir avant le jour de la session" in refusal.inner_text()
    group = page.get_by_role("group", name=re.compile(re.escape(employee_name)))
    assert group.get_by_label("Présence", exact=True).is_checked()

    # The session's day comes. The employees' member does not: no quorum, the refusal says which college lacks.
    day = session_day(jury.session).day
    page.goto(f"{base}/jurys/{jury.session.pk}/deliberer/")
    attendance(employer_name, "Présence")
    attendance(employee_name, "Absence")
    page.get_by_role("button", name="Enregistrer les présences et ouvrir la délibération").click()
    assert "Aucun membre du collège salariés n'est présent." in page.get_by_role("alert").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 375, "height": 800})
    page.screenshot(path=str(ARTIFACTS / "jury-attendance-refused.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.set_viewport_size({"width": 1280, "height": 800})

    # The member arrives: everyone present, the deliberation opens and the session page shows the attendance.
    attendance(employee_name, "Présence")
    page.get_by_role("button", name="Enregistrer les présences et ouvrir la délibération").click()
    page.get_by_text("La délibération est ouverte").wait_for()
    assert JurySession.objects.get(pk=jury.session.pk).state == "deliberating"
    composition = page.get_by_role("table", name="Membres convoqués, par collège")
    assert (
        composition.get_by_role("row", name=re.compile(re.escape(employee_name)))
        .get_by_text("Présence", exact=True)
        .count()
    )

    # The decision form shows the domains to acquire for a deferral only.
    page.get_by_role("link", name=re.compile("^Examiner et décider")).click()
    domains = page.get_by_role("group", name="Domaines restant à acquérir")
    expect(domains).to_be_hidden()  # decision_form.js runs deferred: wait for it
    page.get_by_label("Ajournement").check()
    expect(domains).to_be_visible()
    page.get_by_label("Certification délivrée").check()
    expect(domains).to_be_hidden()
    page.get_by_role("button", name="Enregistrer la décision").click()
    page.wait_for_load_state()
    page.goto(f"{base}/jurys/{jury.session.pk}/")
    # Closing produces the minutes and the certificate (WeasyPrint, in-process here): slow on a shared machine.
    page.get_by_role("button", name="Clore la session").click(timeout=60_000)
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
    # Dated on the session, the day the jury sat.
    assert certificate.awarded_on == day
    assert page.get_by_text(f"{day:%d/%m/%Y}").is_visible()
    page.screenshot(path=str(ARTIFACTS / "certificate-verified.png"), full_page=True)
