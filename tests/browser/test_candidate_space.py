"""Issue 18, on a phone (375 px): a candidate like the demo's asks for a link on /mon-espace/connexion/, reads the
e-mail, opens the link, presses « Me connecter », sees the four steps, and downloads their attestation. axe-core finds
no violation of WCAG 2.1 A/AA on any candidate page, at 375 px and at 1280 px; each is photographed at both widths
(/tmp/space-shots/, not committed).

Then a certified person downloads their signed credential (the same issue's « A credential that cannot be forged »),
and an employer without an account checks it on /verifier/: authentic; changed by one byte, refused."""

from __future__ import annotations

import datetime
import re
import tempfile
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from candidates.models import CorrectionRequest
from clea_platform.certifications import Certification
from evaluations.models import Evaluation
from evaluations.services import attestation_generate
from journey.demo import _demo_gaps_acquired
from organisations.models import Organisation
from referentiels.models import Referentiel
from scheduling.models import AppointmentPurpose
from tests.browser.axe import axe_violations, describe
from tests.credentials.factories import with_signature_byte_flipped
from tests.journey import DossierFactory
from tests.juries.factories import certified
from tests.scheduling import book
from tests.space.support import link_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Beside the other browser tests' artifacts, in the system's temporary directory (/tmp/space-shots here).
SHOTS = Path(tempfile.gettempdir()) / "space-shots"
PHONE, DESKTOP = 375, 1280
EMAIL = "julie.fontaine@exemple.fr"


def demo_like_dossier():
    """In training after a prior evaluation that left calculation and the web to learn (the demo's Julie
    Fontaine), with an attestation and an appointment for her final evaluation."""
    call_command("load_referentiels", verbosity=0)
    referentiel = Referentiel.objects.current_for(Certification.CLEA)
    dossier = DossierFactory(
        state="in_training",
        first_name="Julie",
        last_name="Fontaine",
        prior_acquired=_demo_gaps_acquired(referentiel),
        email=EMAIL,
        birth_date=datetime.date(1995, 5, 30),
    )
    Organisation.objects.filter(pk=dossier.organisation_id).update(phone="03 20 00 00 00", email="accueil@exemple.fr")
    attestation = attestation_generate(evaluation_id=Evaluation.objects.filter(dossier=dossier).earliest("pk").pk)
    book(dossier, with_membership=dossier.team.final_evaluator, purpose=AppointmentPurpose.FINAL_EVALUATION)
    return dossier, attestation


def test_a_candidate_signs_in_from_an_emailed_link_and_downloads_the_attestation(page, live_server, settings):
    settings.SITE_URL = live_server.url
    dossier, attestation = demo_like_dossier()
    base = live_server.url
    page.set_default_timeout(10_000)
    page.set_viewport_size({"width": PHONE, "height": 800})
    SHOTS.mkdir(parents=True, exist_ok=True)
    found: list[str] = []

    def check(name: str) -> None:
        """axe at both widths, a screenshot at each; the page is left at the phone's width."""
        for width in (PHONE, DESKTOP):
            page.set_viewport_size({"width": width, "height": 800})
            found.extend(describe(axe_violations(page), where=f"{name} @{width}px"))
            page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        page.set_viewport_size({"width": PHONE, "height": 800})

    # Asking for a link: the e-mail address and the birth date.
    page.goto(f"{base}{reverse('space:sign_in_request')}")
    check("1-connexion")
    page.get_by_role("button", name="Recevoir mon lien").click()  # empty: the errors, in French
    expect(page.get_by_role("alert")).to_contain_text("Écrivez votre adresse e-mail.")
    check("1b-connexion-erreurs")
    page.get_by_label("Mon adresse e-mail").fill(EMAIL)
    page.get_by_label("Ma date de naissance").fill("30/05/1995")
    page.get_by_role("button", name="Recevoir mon lien").click()
    page.wait_for_url(f"{base}{reverse('space:sign_in_requested')}")
    expect(page.locator("main")).to_contain_text("Si ces informations correspondent à un dossier")
    check("2-lien-demande")

    # The e-mail, sent through the outbox once the request committed.
    [message] = [m for m in mail.outbox if EMAIL.lower() in (address.lower() for address in m.to)]
    link = re.search(r"http\S+/mon-espace/lien/\S+/", message.body)[0]
    assert link.startswith(base)

    # Opening the link shows a button; pressing it signs in.
    page.goto(link)
    check("3-lien")
    page.get_by_role("button", name="Me connecter").click()
    page.wait_for_url(f"{base}{reverse('space:dossier', args=[dossier.pk])}")

    # The four steps, the current one marked.
    steps = page.get_by_role("list").filter(has_text="L'entretien")
    expect(steps.get_by_role("listitem")).to_have_count(4)
    current = page.locator('[aria-current="step"]')
    expect(current).to_have_count(1)
    expect(current).to_contain_text("La formation")
    expect(page.locator("main")).to_contain_text("Je suis en formation.")
    check("4-mon-parcours")

    page.get_by_role("link", name="Ce que j'ai acquis").click()
    expect(page.get_by_role("heading", name="Ce qu'il me reste à apprendre")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Compter et calculer")
    check("5-acquis")

    page.get_by_role("link", name="Mon accord").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon accord")
    check("6-accord")
    page.get_by_role("link", name="Retirer mon accord").click()
    expect(page.locator("main")).to_contain_text("Mon parcours s'arrête")
    check("7-retirer-accord")

    # The attestation, downloaded as a PDF.
    page.get_by_role("navigation", name="Mon espace").get_by_role("link", name="Mes documents").click()
    check("8-documents")
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("^Attestation du")).click()
    download = download_info.value
    assert download.suggested_filename == attestation.filename
    assert Path(download.path()).read_bytes().startswith(b"%PDF")

    # My data: a request to correct it, which the counsellor will answer.
    page.get_by_role("navigation", name="Mon espace").get_by_role("link", name="Mes données").click()
    page.get_by_label("Ce qui est faux dans mes données").fill("Mon nom s'écrit Fontaine-Leroy.")
    page.get_by_role("button", name="Envoyer ma demande").click()
    expect(page.locator("main")).to_contain_text("Pas encore de réponse.")
    assert CorrectionRequest.objects.get().dossier_id == dossier.pk
    check("9-donnees")

    page.get_by_role("button", name="Me déconnecter").click()
    page.wait_for_url(f"{base}{reverse('space:signed_out')}")
    check("10-a-bientot")

    # The link is spent: opened again, it says so and offers a new one.
    page.goto(link)
    page.get_by_role("button", name="Me connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ce lien ne marche plus")
    check("11-lien-use")

    # A certified person followed by two organisations: the list of their dossiers, the steps of one that needed no
    # training, and the certificate with its QR code for an employer.
    _jury, _submission, certificate = certified(email="paul.roussel@exemple.fr", birth_date=datetime.date(1981, 8, 19))
    DossierFactory(opened=True, email="PAUL.ROUSSEL@exemple.fr", birth_date=datetime.date(1981, 8, 19))
    page.goto(f"{base}{reverse('space:sign_in', args=[link_for(certificate.dossier)])}")
    page.get_by_role("button", name="Me connecter").click()
    page.wait_for_url(f"{base}{reverse('space:home')}")
    expect(page.get_by_role("listitem").filter(has=page.get_by_role("link"))).not_to_have_count(0)
    check("12-mes-dossiers")
    page.goto(f"{base}{reverse('space:dossier', args=[certificate.dossier_id])}")
    expect(page.locator("main")).to_contain_text("Pas besoin : je savais déjà tout.")
    check("13-parcours-certifie")
    page.goto(f"{base}{reverse('space:documents')}")
    expect(page.locator("main svg")).to_have_count(1)
    check("14-documents-certifie")

    # The signed credential (Open Badges 3.0), downloaded, then checked by an employer without an account on
    # /verifier/: authentic; the same file changed by one byte is refused.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger mon certificat numérique").click()
    credential = Path(download_info.value.path())
    assert download_info.value.suggested_filename == f"clea-{certificate.number}.jwt"
    page.context.clear_cookies()
    page.goto(f"{base}{reverse('certificate_verify_form')}")
    check("15-verifier")
    page.get_by_label(re.compile("Fichier du certificat numérique")).set_input_files(str(credential))
    page.get_by_role("button", name="Contrôler le fichier").click()
    expect(page.locator("main")).to_contain_text("Authentique et non modifié")
    expect(page.locator("main")).to_contain_text(certificate.number)
    check("16-verdict")
    page.goto(f"{base}{reverse('certificate_verify_form')}")
    changed = with_signature_byte_flipped(credential.read_text()).encode()
    page.get_by_label(re.compile("Fichier du certificat numérique")).set_input_files(
        files=[{"name": "clea.jwt", "mimeType": "application/jwt", "buffer": changed}]
    )
    page.get_by_role("button", name="Contrôler le fichier").click()
    expect(page.locator("main")).to_contain_text("Signature invalide")
    check("17-verdict-refuse")

    assert not found, "\n".join(found)
