"""Issue 13 in a real browser: a Certif'Pro administrator has a certificate rendered again from the jury session's
page, finds the earlier version kept under it with the reason, and the certificate still verifies with its code."""

import os
import re
from pathlib import Path

import pytest
from django.conf import settings

from juries.models import Certificate
from outbox.models import DocumentVersion
from tests.browser.support import log_in
from tests.juries.factories import certified, make_certifpro

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Screenshots to look at, a phone's width and a desktop's: in test-artifacts/, or where SCREENSHOTS_DIR says.
SCREENSHOTS = Path(os.environ.get("SCREENSHOTS_DIR") or Path(settings.BASE_DIR) / "test-artifacts")
PHONE, DESKTOP = {"width": 375, "height": 812}, {"width": 1280, "height": 900}


def test_a_certifpro_administrator_regenerates_a_certificate_and_keeps_the_earlier_one(page, live_server):
    page.set_default_timeout(15_000)
    base = live_server.url
    jury, _submission, certificate = certified(last_name="Delcourt", first_name="Noémie")
    earlier_name, earlier_sha256 = certificate.file.name, certificate.sha256
    certifpro = make_certifpro()
    SCREENSHOTS.mkdir(exist_ok=True)

    log_in(page, base, certifpro.user.email)
    page.set_viewport_size(PHONE)
    page.goto(f"{base}/jurys/{jury.session.pk}/")
    item = page.get_by_role("listitem").filter(has_text=f"Certificat {certificate.number}")
    item.get_by_text("Régénérer").click()  # the disclosure opens the form
    reason = item.get_by_label("Motif")
    assert reason.get_attribute("required") is not None
    reason.fill("Le nom de la candidate était mal orthographié dans le gabarit.")
    page.screenshot(path=str(SCREENSHOTS / "regen-form-375.png"), full_page=True)
    item.get_by_role("button", name="Produire une nouvelle version").click()

    page.get_by_text("La nouvelle version sera produite dans un instant ; l'ancienne est conservée.").wait_for()
    # The embedded mode runs the side effect as the request commits: the new version is there on the next load.
    page.reload()
    item = page.get_by_role("listitem").filter(has_text=f"Certificat {certificate.number}")
    item.get_by_text("1 version précédente conservée").wait_for()
    assert item.get_by_text(re.compile("motif : « Le nom de la candidate était mal orthographié")).is_visible()
    page.screenshot(path=str(SCREENSHOTS / "regen-versions-375.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    item.get_by_text("Régénérer").click()
    page.screenshot(path=str(SCREENSHOTS / "regen-versions-desktop.png"), full_page=True)

    certificate.refresh_from_db()
    version = DocumentVersion.objects.get()
    assert (version.file.name, version.sha256) == (earlier_name, earlier_sha256)
    assert certificate.file.name != earlier_name
    with page.expect_download() as download:
        item.get_by_role("link", name=re.compile("^PDF")).click()
    assert Path(download.value.path()).read_bytes() == Path(version.file.path).read_bytes()

    # The public verification still knows the certificate by the code printed on both versions.
    page.context.clear_cookies()
    page.goto(f"{base}/verifier/{certificate.verification_code}/")
    page.get_by_text("Certificat valide").wait_for()
    assert Certificate.objects.get().verification_code == certificate.verification_code
