"""Issue 18 in a real browser, at a phone's width: a counsellor downloads a certificate's Open Badges credential
from the dossier page, and an employer, without an account, drops the file on /verifier/ and reads that it is
authentic; a file changed by one byte is refused. axe-core finds no WCAG 2.1 A/AA violation on either page."""

import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from organisations.models import Role
from tests.browser.axe import axe_violations, describe
from tests.browser.support import log_in
from tests.credentials.factories import issued, with_signature_byte_flipped
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(os.environ.get("SCREENSHOTS_DIR") or Path(settings.BASE_DIR) / "test-artifacts")
PHONE = {"width": 375, "height": 812}


def test_a_downloaded_credential_verifies_on_the_public_page_and_a_changed_one_does_not(page, live_server):
    page.set_default_timeout(15_000)
    base = live_server.url
    certificate, credential = issued(last_name="Delcourt", first_name="Noémie")
    counsellor = MembershipFactory(organisation=certificate.dossier.organisation, role=Role.COUNSELLOR)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.set_viewport_size(PHONE)

    log_in(page, base, counsellor.user.email)
    page.goto(base + reverse("journey:dossier_detail", args=[certificate.dossier.pk]))
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Attestation numérique du certificat")).click()
    assert download.value.suggested_filename == f"clea-{certificate.number}.jwt"
    downloaded = Path(download.value.path())
    assert downloaded.read_text() == credential.token

    page.context.clear_cookies()
    page.goto(f"{base}/verifier/")
    violations = describe(axe_violations(page), where="/verifier/ @375px")
    page.get_by_label(re.compile("Fichier de l'attestation numérique")).set_input_files(str(downloaded))
    page.get_by_role("button", name="Contrôler le fichier").click()
    page.get_by_text("Authentique et non modifiée").wait_for()
    assert page.get_by_text("Noémie").first.is_visible()
    assert page.get_by_text(certificate.number).is_visible()
    violations += describe(axe_violations(page), where="verdict @375px")
    page.screenshot(path=str(SCREENSHOTS / "credential-verified-375.png"), full_page=True)

    page.goto(f"{base}/verifier/")
    page.get_by_label(re.compile("Fichier de l'attestation numérique")).set_input_files(
        files=[
            {
                "name": "clea.jwt",
                "mimeType": "application/jwt",
                "buffer": with_signature_byte_flipped(credential.token).encode(),
            }
        ]
    )
    page.get_by_role("button", name="Contrôler le fichier").click()
    page.get_by_text("Signature invalide : le fichier a été modifié ou ne vient pas de la plateforme").wait_for()
    violations += describe(axe_violations(page), where="refused verdict @375px")
    assert not violations, "\n".join(violations)
