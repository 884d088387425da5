"""Funding in a real browser (issue 14): the grant form asks for an override reason as soon as the grant departs
from the request, and a funder's payment file is previewed then recorded, at 375 px wide. Issue 15: a batch's
production is announced at each quarter and at its end, and its polling never takes the focus."""

import datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from funding.models import BatchStatus, ClaimBatch, FundingLine, FundingLineEvent, LineState, Payment
from funding.references import funding_references_load
from funding.services import funding_line_transition
from tests.browser.support import log_in
from tests.factories import OrganisationFactory
from tests.funding.support import draft_line, funder, granted_line, issued_batch, org_admin
from tests.journey import DossierFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
SMALL_SCREEN = {"width": 375, "height": 812}


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_override_reason_appears_when_the_grant_exceeds_the_request_and_is_kept_in_the_history(page, live_server):
    page.set_default_timeout(10_000)
    page.set_viewport_size(SMALL_SCREEN)
    funding_references_load()
    dossier = DossierFactory(state="opened")
    line = funding_line_transition(line=draft_line(dossier, cents=45000), name="request", by=dossier.team.counsellor)
    log_in(page, live_server.url, dossier.team.counsellor.user.email)
    page.goto(f"{live_server.url}/financements/lignes/{line.pk}/statut/grant/")

    reason = page.get_by_label("Motif de la dérogation")
    assert not reason.is_visible()
    page.get_by_label("Montant accordé HT (€)").fill("480,00")
    reason.wait_for(state="visible")
    page.get_by_label("Montant accordé HT (€)").fill("450")
    reason.wait_for(state="hidden")
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    page.get_by_label("Accordé le").fill(f"{tomorrow:%Y-%m-%d}")
    reason.wait_for(state="visible")
    page.get_by_label("Référence du financeur").fill("FT-2026-77")
    reason.fill("Convention signée pour le début du mois prochain.")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "funding-grant-override-375.png"), full_page=True)
    assert no_sideways_scroll(page)
    page.get_by_role("button", name="Enregistrer l'accord").click()
    page.get_by_text("La ligne est maintenant « Accordé ».").wait_for()

    line.refresh_from_db()
    assert (line.state, line.granted_on) == (LineState.GRANTED, tomorrow)
    note = FundingLineEvent.objects.get(line=line, to_state=LineState.GRANTED).note
    assert note.endswith("Motif : Convention signée pour le début du mois prochain.")
    assert page.get_by_text("Motif : Convention signée").is_visible()


def test_a_payment_file_is_previewed_then_recorded_at_375_px(page, live_server, tmp_path):
    page.set_default_timeout(10_000)
    page.set_viewport_size(SMALL_SCREEN)
    funding_references_load()
    dossier = DossierFactory(state="partially_validated")
    granted_line(dossier, reference="FT-2026-0001")
    batch = issued_batch(dossier.organisation)
    received = timezone.localdate() - datetime.timedelta(days=1)
    payment_file = tmp_path / "paiement.csv"
    payment_file.write_bytes(
        "\ufeffreference_ligne;montant;date;reference_paiement\r\n"
        f"FT-2026-0001;500,00;{received:%d/%m/%Y};VIR-2026-0415\r\n".encode()
    )
    log_in(page, live_server.url, org_admin(dossier.organisation).user.email)
    page.goto(f"{live_server.url}/financements/lots/{batch.pk}/")
    page.get_by_role("link", name="Importer le fichier de paiement").click()

    page.get_by_label("Fichier de paiement du financeur (CSV)").set_input_files(str(payment_file))
    page.get_by_role("button", name="Prévisualiser").click()
    page.get_by_text("Aperçu de l'import").wait_for()
    assert not Payment.objects.exists()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "funding-payment-import-preview-375.png"), full_page=True)
    page.get_by_role("button", name="Confirmer l'enregistrement").click()
    page.get_by_text("1 paiement enregistré et rapproché du lot.").wait_for()
    page.screenshot(path=str(ARTIFACTS / "funding-batch-after-import-375.png"), full_page=True)

    line = FundingLine.objects.get(batch=batch)
    assert (line.state, line.remainder_cents) == (LineState.PARTIALLY_PAID, 4000)


def test_a_batch_in_production_is_announced_by_quarters_without_taking_the_focus(page, live_server, settings):
    page.set_default_timeout(10_000)
    # Polls every half second rather than production's 2 s: what is waited for is a number of polls, not a time.
    settings.POLL_INTERVAL_MS = 500
    organisation = OrganisationFactory()
    admin = org_admin(organisation)
    # The state a worker leaves a batch in, a quarter of its lines done (tests/directory/support.make_sheet does
    # the same for a sheet): requested through the service, the batch would be produced at once, in-process.
    batch = ClaimBatch.objects.create(
        organisation=organisation,
        funder=funder(),
        number="LOT-TEST-2026-0001",
        period_start=timezone.localdate() - datetime.timedelta(days=31),
        period_end=timezone.localdate(),
        requested_by=admin.user,
        status=BatchStatus.RUNNING,
        total_lines=40,
        processed_lines=10,
    )
    log_in(page, live_server.url, admin.user.email)
    polls = []
    page.on("request", lambda request: polls.append(request.url) if "poll=" in request.url else None)
    page.goto(f"{live_server.url}/financements/lots/{batch.pk}/")
    live = page.locator("#live-status")
    assert page.get_by_role("progressbar", name=f"Production du lot {batch.number}").get_attribute("value") == "25"

    page.get_by_role("link", name="Vérifier un certificat").focus()  # the reader has tabbed on to a link

    ClaimBatch.objects.filter(pk=batch.pk).update(processed_lines=21)
    page.wait_for_function("() => document.getElementById('live-status').textContent.includes('52 %')")
    assert live.inner_text().strip() == f"Lot {batch.number} : 52 % des lignes produites."
    ClaimBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.ISSUED, processed_lines=40)
    page.wait_for_function("() => document.getElementById('live-status').textContent.includes('émis')")
    assert live.inner_text().strip() == f"Le lot {batch.number} est émis : 40 lignes."
    assert page.evaluate("document.activeElement.textContent") == "Vérifier un certificat"
    count = len(polls)
    page.wait_for_timeout(2.5 * settings.POLL_INTERVAL_MS)  # longer than two intervals between polls
    assert len(polls) == count  # an issued batch is not polled any more
