"""The funding screens of the counsellor, the organisation administrator and Certif'Pro."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from funding.models import (
    BatchStatus,
    ClaimBatch,
    FundingLine,
    LineState,
    Payment,
    Statement,
    previous_quarter,
)
from funding.services import batch_generate, batch_request, funding_line_transition
from organisations.models import Role
from tests.clients import page_text
from tests.factories import MembershipFactory
from tests.funding.support import (
    TODAY,
    batch_with_lines,
    draft_line,
    funder,
    granted_line,
    issued_batch,
    org_admin,
)
from tests.funding.test_fees import a_day_in_previous_quarter
from tests.journey import DossierFactory
from tests.juries.factories import make_certifpro
from tests.spoken import spoken

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("references")]


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def dossier_url(dossier) -> str:
    return reverse("journey:dossier_detail", kwargs={"pk": dossier.pk})


# -- The counsellor: the dossier's funding section and its lines ------------------------------------------------


def test_the_dossier_page_lists_its_funding_lines_with_the_buttons_the_state_allows(client_for):
    dossier = DossierFactory(state="partially_validated")
    draft = draft_line(dossier)
    granted = granted_line(dossier, code="cpf")

    page = page_text(client_for(dossier.team.counsellor).get(dossier_url(dossier)))

    assert "Financements" in page and "Brouillon" in page and "Accordé" in page
    assert reverse("funding:line_transition", args=[draft.pk, "request"]) in page
    assert reverse("funding:line_transition", args=[granted.pk, "invoice"]) in page
    assert reverse("funding:line_transition", args=[granted.pk, "request"]) not in page
    assert reverse("funding:line_create", args=[dossier.pk]) in page


def test_an_evaluator_sees_no_funding_section(client_for):
    dossier = DossierFactory(state="partially_validated")
    draft_line(dossier)
    page = page_text(client_for(dossier.team.evaluator).get(dossier_url(dossier)))
    assert 'id="funding-title"' not in page


def test_the_dossier_page_costs_the_same_with_one_or_five_funding_lines(client_for, django_assert_num_queries):
    dossier = DossierFactory(state="partially_validated")
    draft_line(dossier)
    client = client_for(dossier.team.counsellor)
    expected = queries_for(client, dossier_url(dossier))
    for _ in range(4):
        granted_line(dossier)
    with django_assert_num_queries(expected):
        client.get(dossier_url(dossier))


def test_a_counsellor_creates_a_line_with_an_amount_in_french_format(client_for):
    dossier = DossierFactory(state="opened")
    response = client_for(dossier.team.counsellor).post(
        reverse("funding:line_create", args=[dossier.pk]),
        {
            "step": "prior_evaluation",
            "funder": funder("cpf").pk,
            "requested_cents": "1 234,50",
            "vat_rate": "20",
            "hours": "3,5",
            "funder_reference": "",
            "note": "",
        },
    )
    line = FundingLine.objects.get()
    assert response.status_code == 302 and response.url == reverse("funding:line_detail", args=[line.pk])
    assert (line.requested_cents, line.requested_incl_vat_cents, line.state) == (123450, 148140, LineState.DRAFT)


def test_an_invalid_amount_is_refused_and_the_input_kept(client_for):
    dossier = DossierFactory(state="opened")
    response = client_for(dossier.team.counsellor).post(
        reverse("funding:line_create", args=[dossier.pk]),
        {"step": "prior_evaluation", "funder": funder().pk, "requested_cents": "douze", "vat_rate": "20"},
    )
    assert response.status_code == 200
    page = page_text(response)
    assert "Saisissez un montant en euros" in page and 'value="douze"' in page
    assert not FundingLine.objects.exists()


def test_an_amount_beyond_what_the_database_holds_is_refused(client_for):
    dossier = DossierFactory(state="opened")
    response = client_for(dossier.team.counsellor).post(
        reverse("funding:line_create", args=[dossier.pk]),
        {"step": "prior_evaluation", "funder": funder().pk, "requested_cents": "99999999999", "vat_rate": "20"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["requested_cents"] == [
        "Le montant dépasse 10\u00a0000\u00a0000\u00a0000,00\u00a0€."
    ]
    assert not FundingLine.objects.exists()


def test_the_line_page_shows_its_amounts_in_euros_and_its_history(client_for):
    dossier = DossierFactory(state="partially_validated")
    line = granted_line(dossier, cents=123450)
    page = page_text(client_for(dossier.team.counsellor).get(reverse("funding:line_detail", args=[line.pk])))
    assert "1\u00a0234,50\u00a0€ HT, 1\u00a0481,40\u00a0€ TTC" in page
    assert "Demandé vers Accordé" in spoken(page)


def test_a_transition_button_moves_the_line_and_the_page_says_so(client_for):
    dossier = DossierFactory(state="opened")
    line = draft_line(dossier)
    client = client_for(dossier.team.counsellor)

    response = client.post(reverse("funding:line_transition", args=[line.pk, "request"]), follow=True)

    line.refresh_from_db()
    assert line.state == LineState.REQUESTED
    assert "La ligne est maintenant « Demandé »." in page_text(response)


def test_granting_through_the_form_records_the_amount_and_reference(client_for):
    dossier = DossierFactory(state="opened")
    line = funding_line_transition(line=draft_line(dossier), name="request", by=dossier.team.counsellor)
    client = client_for(dossier.team.counsellor)
    url = reverse("funding:line_transition", args=[line.pk, "grant"])
    assert "N° de convention France Travail" in page_text(client.get(url))

    client.post(url, {"granted_cents": "400", "funder_reference": "FT-77", "granted_on": f"{TODAY():%Y-%m-%d}"})

    line.refresh_from_db()
    assert (line.state, line.granted_cents, line.funder_reference) == (LineState.GRANTED, 40000, "FT-77")


def test_granting_more_than_requested_on_screen_asks_for_a_reason_on_the_fields_and_keeps_the_input(client_for):
    dossier = DossierFactory(state="opened")
    line = funding_line_transition(line=draft_line(dossier, cents=45000), name="request", by=dossier.team.counsellor)
    client = client_for(dossier.team.counsellor)
    url = reverse("funding:line_transition", args=[line.pk, "grant"])
    # The reason's field is there for the script, hidden until the grant departs from the request.
    assert 'data-grant-override data-requested-cents="45000"' in page_text(client.get(url))
    assert "funding/grant-override.js" in page_text(client.get(url))
    assert " hidden>" in page_text(client.get(url))
    data = {"granted_cents": "480,00", "funder_reference": "FT-77", "granted_on": f"{TODAY():%Y-%m-%d}"}

    response = client.post(url, data)

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["granted_cents"] == [
        "Le montant accordé (480,00\u00a0€ HT) dépasse le montant demandé (450,00\u00a0€ HT) : corrigez-le, "
        "ou indiquez le motif de cette dérogation."
    ]
    assert form.errors["override_reason"] == ["Indiquez le motif de la dérogation."]
    page = page_text(response)
    assert 'value="480,00"' in page and 'value="FT-77"' in page
    assert 'aria-describedby="id_override_reason_helptext id_override_reason_errors"' in page
    assert " hidden>" not in page
    assert FundingLine.objects.get(pk=line.pk).state == LineState.REQUESTED

    client.post(url, {**data, "override_reason": "Avenant à la convention"})

    line.refresh_from_db()
    assert (line.state, line.granted_cents) == (LineState.GRANTED, 48000)
    assert "Motif : Avenant à la convention" in page_text(client.get(reverse("funding:line_detail", args=[line.pk])))


def test_a_grant_dated_tomorrow_on_screen_is_refused_on_its_date_field(client_for):
    dossier = DossierFactory(state="opened")
    line = funding_line_transition(line=draft_line(dossier), name="request", by=dossier.team.counsellor)
    tomorrow = TODAY() + datetime.timedelta(days=1)
    response = client_for(dossier.team.counsellor).post(
        reverse("funding:line_transition", args=[line.pk, "grant"]),
        {"granted_cents": "450", "funder_reference": "FT-77", "granted_on": f"{tomorrow:%Y-%m-%d}"},
    )
    assert list(response.context["form"].errors) == ["granted_on", "override_reason"]
    assert f"La date de l'accord ({tomorrow:%d/%m/%Y}) est dans le futur" in page_text(response)


def test_invoicing_before_the_step_is_refused_with_the_reason_and_the_input_kept(client_for):
    dossier = DossierFactory(state="prior_evaluation")
    line = granted_line(dossier)
    client = client_for(dossier.team.counsellor)
    url = reverse("funding:line_transition", args=[line.pk, "invoice"])

    # Not offered: the page sends back to the line.
    assert client.get(url).status_code == 302
    response = client.post(url, {"invoiced_cents": "321,00", "invoiced_on": f"{TODAY():%Y-%m-%d}"})

    assert response.status_code == 200
    page = page_text(response)
    assert "une fois l'évaluation préalable clôturée" in page
    assert 'value="321,00"' in page
    line.refresh_from_db()
    assert line.state == LineState.GRANTED


def test_a_draft_is_edited_on_its_form(client_for):
    dossier = DossierFactory(state="opened")
    line = draft_line(dossier, cents=45000)
    url = reverse("funding:line_edit", args=[line.pk])
    client = client_for(dossier.team.counsellor)
    assert 'value="450,00"' in page_text(client.get(url))

    data = {"step": line.step, "funder": line.funder_id, "requested_cents": "480", "vat_rate": "0", "hours": "4"}
    assert client.post(url, data).status_code == 302

    line.refresh_from_db()
    assert (line.requested_cents, line.requested_incl_vat_cents, line.vat_rate) == (48000, 48000, 0)


def test_a_line_no_longer_in_draft_cannot_be_edited(client_for):
    dossier = DossierFactory(state="opened")
    line = funding_line_transition(line=draft_line(dossier), name="request", by=dossier.team.counsellor)
    response = client_for(dossier.team.counsellor).get(reverse("funding:line_edit", args=[line.pk]))
    assert response.status_code == 302


def test_a_proof_is_attached_and_downloaded_and_a_wrong_type_refused(client_for):
    dossier = DossierFactory(state="opened")
    line = draft_line(dossier)
    client = client_for(dossier.team.counsellor)
    url = reverse("funding:proof_add", args=[line.pk])

    pdf = SimpleUploadedFile("accord.pdf", b"%PDF-1.4 accord", content_type="application/pdf")
    client.post(url, {"label": "Accord France Travail", "file": pdf})
    exe = SimpleUploadedFile("virus.exe", b"MZ", content_type="application/octet-stream")
    response = client.post(url, {"label": "Autre", "file": exe}, follow=True)

    assert "PDF, PNG ou JPEG" in page_text(response)
    [proof] = line.proofs.all()
    download = client.get(reverse("funding:proof_download", args=[proof.pk]))
    assert b"".join(download.streaming_content) == b"%PDF-1.4 accord"


@pytest.mark.parametrize(
    "name, content",
    [
        ("accord.pdf", b"<html><script>alert(1)</script></html>"),
        ("scan.png", b"MZ\x90\x00 a program"),
        ("scan.jpg", b"%PDF-1.4 not a picture"),
    ],
)
def test_a_proof_whose_content_is_not_of_its_extensions_type_is_refused(client_for, name, content):
    dossier = DossierFactory(state="opened")
    line = draft_line(dossier)
    client = client_for(dossier.team.counsellor)
    upload = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    response = client.post(
        reverse("funding:proof_add", args=[line.pk]), {"label": "Accord", "file": upload}, follow=True
    )
    assert "Le contenu du fichier n'est pas celui d'un fichier" in page_text(response)
    assert not line.proofs.exists()
    # The real thing goes through.
    png = SimpleUploadedFile("scan.png", b"\x89PNG\r\n\x1a\n image", content_type="image/png")
    client.post(reverse("funding:proof_add", args=[line.pk]), {"label": "Accord", "file": png})
    assert line.proofs.count() == 1


def test_the_line_list_costs_the_same_for_one_or_five_lines(client_for, django_assert_num_queries):
    dossier = DossierFactory(state="opened")
    draft_line(dossier)
    client = client_for(dossier.team.counsellor)
    url = reverse("funding:line_list")
    expected = queries_for(client, url)
    for _ in range(4):
        draft_line(dossier)
    with django_assert_num_queries(expected):
        response = client.get(url)
    assert len(response.context["page"]) == 5


@pytest.mark.parametrize("role", [Role.TRAINER, Role.EVALUATOR, Role.JURY_MEMBER])
def test_other_roles_may_not_open_the_funding_screens(role, org_a, make_member, client_for):
    client = client_for(make_member(org_a, role=role))
    assert client.get(reverse("funding:line_list")).status_code == 403
    assert client.get(reverse("funding:claim_list")).status_code == 403


# -- The organisation administrator: claims, batches, payments ---------------------------------------------------


def test_the_claim_list_shows_what_each_funder_owes_at_constant_cost(org_a, client_for, django_assert_num_queries):
    granted_line(DossierFactory(organisation=org_a, state="partially_validated"))
    client = client_for(org_admin(org_a))
    url = reverse("funding:claim_list")
    expected = queries_for(client, url)
    for _ in range(4):
        granted_line(DossierFactory(organisation=org_a, state="partially_validated"))
    with django_assert_num_queries(expected):
        response = client.get(url)
    assert [(row["funder__name"], row["count"], row["amount"]) for row in response.context["summary"]] == [
        ("France Travail", 5, 5 * 54000)
    ]
    assert "2\u00a0700,00\u00a0€" in page_text(response)


def test_generating_a_batch_from_the_screen_queues_it_and_shows_its_progress(
    org_a, client_for, django_capture_on_commit_callbacks
):
    granted_line(DossierFactory(organisation=org_a, state="partially_validated"))
    client = client_for(org_admin(org_a))
    data = {
        "funder": funder().pk,
        "period_start": f"{TODAY() - datetime.timedelta(days=31):%Y-%m-%d}",
        "period_end": f"{TODAY():%Y-%m-%d}",
    }

    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(reverse("funding:batch_create"), data)
    batch = ClaimBatch.objects.get()
    assert response.url == reverse("funding:batch_detail", args=[batch.pk])
    status_url = reverse("funding:batch_status", args=[batch.pk])
    fragment = page_text(client.get(status_url))
    assert f'hx-get="{status_url}?poll=1&step=0"' in fragment and "<progress" in fragment and "En attente" in fragment

    for callback in queued:  # the worker's part
        callback()
    fragment = page_text(client.get(status_url))
    assert "hx-get" not in fragment
    assert reverse("funding:batch_download", args=[batch.pk, "xlsx"]) in fragment
    assert "Émis" in fragment and "1 ligne" in fragment


def queued_batch(organisation, capture) -> ClaimBatch:
    """A requested batch that no worker has started (its task captured, not run)."""
    granted_line(DossierFactory(organisation=organisation, state="partially_validated"))
    with capture(execute=False):
        return batch_request(
            organisation=organisation,
            funder=funder(),
            period_start=TODAY() - datetime.timedelta(days=31),
            period_end=TODAY(),
            by=org_admin(organisation),
        )


def running(batch: ClaimBatch, done: int, total: int = 40) -> None:
    ClaimBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.RUNNING, total_lines=total, processed_lines=done)


def test_a_running_batch_shows_how_many_lines_are_done(org_a, client_for, django_capture_on_commit_callbacks):
    batch = queued_batch(org_a, django_capture_on_commit_callbacks)
    running(batch, 10)
    fragment = page_text(client_for(org_admin(org_a)).get(reverse("funding:batch_status", args=[batch.pk])))
    assert f'<progress max="100" value="25" aria-label="Production du lot {batch.number}">' in fragment
    assert "10 lignes sur 40" in fragment and "hx-get" in fragment


def test_the_polled_progress_is_announced_at_each_quarter_and_at_the_end_not_at_every_poll(
    org_a, client_for, django_capture_on_commit_callbacks
):
    batch = queued_batch(org_a, django_capture_on_commit_callbacks)
    client = client_for(org_admin(org_a))
    url = reverse("funding:batch_status", args=[batch.pk])

    def poll(poll: int, step: int) -> str:
        return page_text(client.get(url, {"poll": poll, "step": step}, HTTP_HX_REQUEST="true"))

    def said(fragment: str) -> str:
        return fragment.split('<div id="live-status" hx-swap-oob="innerHTML"><p>')[1].split("</p>")[0]

    # Waiting for the worker: a bar without a value (busy, not 0 %), and nothing to say.
    fragment = poll(1, 0)
    assert f'<progress max="100" aria-label="Production du lot {batch.number}">' in fragment
    assert "hx-swap-oob" not in fragment and f'hx-get="{url}?poll=2&step=0"' in fragment

    running(batch, 11)  # 27 %: the first quarter passed, said once
    fragment = poll(2, 0)
    assert said(fragment) == f"Lot {batch.number} : 27 % des lignes produites."
    assert f'hx-get="{url}?poll=3&step=25"' in fragment
    running(batch, 19)  # 47 %: same quarter, nothing new to say
    assert "hx-swap-oob" not in poll(3, 25)
    running(batch, 31)  # 77 %: a jump over a quarter is said once, with what is done
    assert said(poll(4, 25)) == f"Lot {batch.number} : 77 % des lignes produites."
    assert "<a " not in poll(5, 75)  # nothing focusable in a box replaced every 2 s

    ClaimBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.FAILED, error="Financeur inconnu")
    fragment = poll(6, 75)
    assert said(fragment) == f"La production du lot {batch.number} a échoué."
    assert "hx-get" not in fragment and "hx-trigger" not in fragment


def test_the_polled_batch_announces_its_end_and_stops(org_a, client_for, django_capture_on_commit_callbacks):
    batch = queued_batch(org_a, django_capture_on_commit_callbacks)
    running(batch, 1, total=1)
    client = client_for(org_admin(org_a))
    url = reverse("funding:batch_status", args=[batch.pk])
    batch_generate(batch_id=batch.pk)

    fragment = page_text(client.get(url, {"poll": 7, "step": 75}, HTTP_HX_REQUEST="true"))
    ended = f"<p>Le lot {batch.number} est émis : 1 ligne.</p></div>"
    assert f'<div id="live-status" hx-swap-oob="innerHTML">{ended}' in fragment
    assert "hx-get" not in fragment and "<progress" not in fragment
    page = page_text(client.get(reverse("funding:batch_detail", args=[batch.pk])))
    assert "hx-swap-oob" not in page  # the full page says nothing: nothing changed under the reader
    assert page.count("aria-live") == 1  # base.html's #live-status, not a region around the polled box


def test_the_batch_polling_stops_after_its_limit_with_a_refresh_link(
    org_a, client_for, django_capture_on_commit_callbacks
):
    batch = queued_batch(org_a, django_capture_on_commit_callbacks)
    running(batch, 10)
    client = client_for(org_admin(org_a))
    url = reverse("funding:batch_status", args=[batch.pk])
    detail = reverse("funding:batch_detail", args=[batch.pk])
    assert f'hx-get="{url}?poll=1&step=25"' in page_text(client.get(detail))  # the page opened polls from the start

    polling = page_text(client.get(url, {"poll": 59, "step": 25}, HTTP_HX_REQUEST="true"))
    assert f'hx-get="{url}?poll=60&step=25"' in polling and "<a " not in polling

    listing = f"http://testserver{reverse('funding:batch_list')}?page=1"
    stopped = page_text(client.get(url, {"poll": 60, "step": 25}, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=listing))
    assert "hx-get" not in stopped and "hx-trigger" not in stopped
    assert "cette page ne se met plus à jour toute seule." in stopped
    assert f'<a href="{reverse("funding:batch_list")}?page=1">Rafraîchir</a>' in stopped  # the page that polled
    assert f"Le lot {batch.number} est toujours en production" in stopped.split("hx-swap-oob")[1]
    # Asked outside a page (no current URL, or another site's): the link goes to the batch's page.
    elsewhere = page_text(
        client.get(url, {"poll": 60}, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="https://ailleurs.example/")
    )
    assert f'<a href="{detail}">Rafraîchir</a>' in elsewhere


def test_bulk_generation_from_the_screen_makes_one_batch_per_funder(
    org_a, client_for, django_capture_on_commit_callbacks
):
    dossier = DossierFactory(organisation=org_a, state="partially_validated")
    granted_line(dossier)
    granted_line(dossier, code="cpf")
    data = {"funder": "", "period_start": f"{TODAY():%Y-%m-%d}", "period_end": f"{TODAY():%Y-%m-%d}"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(org_admin(org_a)).post(reverse("funding:batch_create"), data, follow=True)
    assert ClaimBatch.objects.filter(status=BatchStatus.ISSUED).count() == 2
    assert "2 lots sont en production." in page_text(response)


def test_the_batch_files_download_as_stored(org_a, client_for):
    batch = batch_with_lines(org_a, count=1)
    client = client_for(org_admin(org_a))
    for fmt, content_type in (("csv", "text/csv"), ("xlsx", "application/vnd.openxml"), ("pdf", "application/pdf")):
        response = client.get(reverse("funding:batch_download", args=[batch.pk, fmt]))
        assert response["Content-Type"].startswith(content_type)
        assert b"".join(response.streaming_content) == getattr(batch, f"{fmt}_file").open("rb").read()
        assert batch.number in response["Content-Disposition"]
    assert client.get(reverse("funding:batch_download", args=[batch.pk, "exe"])).status_code == 404


def test_the_batch_list_costs_the_same_for_one_or_five_batches(org_a, client_for, django_assert_num_queries):
    batch_with_lines(org_a, count=1)
    client = client_for(org_admin(org_a))
    url = reverse("funding:batch_list")
    expected = queries_for(client, url)
    for _ in range(4):
        granted_line(DossierFactory(organisation=org_a, state="partially_validated"))
        issued_batch(org_a)
    with django_assert_num_queries(expected):
        response = client.get(url)
    assert len(response.context["page"]) == 5


def test_recording_a_payment_on_screen_shows_the_reconciliation(org_a, client_for):
    batch = batch_with_lines(org_a, count=3)
    first, second, third = batch.lines.order_by("id")
    client = client_for(org_admin(org_a))
    lines = f"{first.funder_reference} ; 540,00\n{second.funder_reference};500\n\nINCONNU-9 ; 12,34"

    response = client.post(
        reverse("funding:payment_create", args=[batch.pk]),
        {"received_on": f"{TODAY():%Y-%m-%d}", "reference": "VIR-42", "lines": lines},
        follow=True,
    )

    page = page_text(response)
    payment = Payment.objects.get()
    assert response.redirect_chain[-1][0] == reverse("funding:payment_detail", args=[payment.pk])
    assert "Écarts de montant" in page and "-40,00\u00a0€" in page
    assert "INCONNU-9" in page and third.funder_reference in page
    states = dict(FundingLine.objects.values_list("pk", "state"))
    assert (states[first.pk], states[second.pk], states[third.pk]) == ("paid", "partially_paid", "invoiced")


def test_the_line_and_the_lists_show_what_remains_to_be_received(org_a, client_for):
    batch = batch_with_lines(org_a, count=1)
    [line] = batch.lines.all()
    admin = org_admin(org_a)
    client = client_for(admin)
    client.post(
        reverse("funding:payment_create", args=[batch.pk]),
        {
            "received_on": f"{TODAY():%Y-%m-%d}",
            "reference": "VIR-1",
            "lines": f"{line.funder_reference} ; {(line.invoiced_incl_vat_cents - 4000) / 100:.2f}",
        },
    )

    for url in (
        reverse("funding:line_detail", args=[line.pk]),
        reverse("funding:line_list"),
        reverse("funding:batch_detail", args=[batch.pk]),
        reverse("journey:dossier_detail", args=[line.dossier_id]),
    ):
        page = page_text(client.get(url))
        assert "Reste à percevoir" in page and "40,00\u00a0€" in page and "Payé en partie" in page, url

    detail = page_text(client.get(reverse("funding:line_detail", args=[line.pk])))
    assert reverse("funding:line_transition", args=[line.pk, "write_off"]) in detail
    client.post(reverse("funding:line_transition", args=[line.pk, "write_off"]), {"note": "Plafond atteint"})
    line.refresh_from_db()
    assert (line.state, line.written_off_cents) == ("written_off", 4000)


def test_an_overpayment_on_screen_is_refused_on_the_lines_field_and_the_input_kept(org_a, client_for):
    batch = batch_with_lines(org_a, count=1)
    [line] = batch.lines.all()
    typed = f"{line.funder_reference} ; 9999"
    response = client_for(org_admin(org_a)).post(
        reverse("funding:payment_create", args=[batch.pk]),
        {"received_on": f"{TODAY():%Y-%m-%d}", "reference": "VIR-1", "lines": typed},
    )
    assert response.status_code == 200
    assert "ne peut dépasser ce qui reste dû" in response.context["form"].errors["lines"][0]
    assert typed in page_text(response)
    assert not Payment.objects.exists()


def test_a_malformed_payment_line_is_reported_by_its_number_and_the_input_kept(org_a, client_for):
    batch = batch_with_lines(org_a, count=1)
    response = client_for(org_admin(org_a)).post(
        reverse("funding:payment_create", args=[batch.pk]),
        {"received_on": f"{TODAY():%Y-%m-%d}", "reference": "VIR-42", "lines": "FT-1 ; 540\nFT-2 sans montant"},
    )
    page = page_text(response)
    assert "Ligne 2 :" in page and "FT-2 sans montant" in page
    assert not Payment.objects.exists()


def test_the_payment_list_costs_the_same_for_one_or_five_payments(org_a, client_for, django_assert_num_queries):
    from funding.services import PaymentInput, payment_record

    batch = batch_with_lines(org_a, count=1)
    admin = org_admin(org_a)

    def pay(n: int) -> None:
        payment_record(batch=batch, by=admin, received_on=TODAY(), reference=f"V{n}", lines=[PaymentInput("X", 1)])

    pay(0)
    client = client_for(admin)
    url = reverse("funding:payment_list")
    expected = queries_for(client, url)
    for n in range(1, 5):
        pay(n)
    with django_assert_num_queries(expected):
        response = client.get(url)
    assert len(response.context["page"]) == 5


def test_a_counsellor_may_not_open_batches_or_payments(org_a, client_for):
    batch = batch_with_lines(org_a, count=1)
    counsellor = MembershipFactory(organisation=org_a, role=Role.COUNSELLOR)
    client = client_for(counsellor)
    assert client.get(reverse("funding:batch_detail", args=[batch.pk])).status_code == 403
    assert client.get(reverse("funding:payment_create", args=[batch.pk])).status_code == 403


# -- Fees, statements, Certif'Pro --------------------------------------------------------------------------------


def test_an_administrator_sees_only_the_fees_of_their_organisation(org_a, org_b, client_for, django_assert_num_queries):
    DossierFactory(organisation=org_a, state="partially_validated")
    DossierFactory(organisation=org_b, state="partially_validated")
    client = client_for(org_admin(org_a))
    url = reverse("funding:fee_list")
    expected = queries_for(client, url)
    for _ in range(2):
        DossierFactory(organisation=org_a, state="partially_validated")
    with django_assert_num_queries(expected):
        response = client.get(url)
    assert {entry.organisation_id for entry in response.context["page"]} == {org_a.pk}


def test_certifpro_produces_the_quarters_statements_and_organisations_download_theirs(
    org_a, org_b, client_for, django_capture_on_commit_callbacks
):
    day = a_day_in_previous_quarter()
    DossierFactory(organisation=org_a, state="partially_validated", evaluated_on=day)
    DossierFactory(organisation=org_b, state="partially_validated", evaluated_on=day)
    certifpro = client_for(make_certifpro())
    year, quarter = previous_quarter(timezone.localdate())

    with django_capture_on_commit_callbacks(execute=True):
        certifpro.post(reverse("funding:statement_request"), {"quarter": f"{year}-{quarter}"})

    assert Statement.objects.count() == 2
    page = page_text(certifpro.get(reverse("funding:statement_list")))
    assert org_a.name in page and org_b.name in page
    own = page_text(client_for(org_admin(org_a)).get(reverse("funding:statement_list")))
    assert org_b.siret not in own and f"RLV-{year}-T{quarter}-{org_a.siret}" in own
    statement = Statement.objects.get(organisation=org_a)
    response = client_for(org_admin(org_a)).get(reverse("funding:statement_download", args=[statement.pk, "csv"]))
    assert b"".join(response.streaming_content) == statement.csv_file.open("rb").read()


def test_the_national_view_totals_the_fees_of_every_organisation(org_a, org_b, client_for):
    DossierFactory(organisation=org_a, state="partially_validated")
    DossierFactory(organisation=org_b, state="partially_validated")
    response = client_for(make_certifpro()).get(reverse("funding:national"))
    rows = {row["organisation__name"]: row["incl_vat"] for row in response.context["fees_by_organisation"]}
    assert rows[org_a.name] >= 2400 and rows[org_b.name] >= 2400
    assert response.context["fee_totals"].incl_vat_cents == sum(rows.values())
    assert client_for(org_admin(org_a)).get(reverse("funding:national")).status_code == 403


def test_the_funding_home_sends_each_role_to_its_screen(org_a, make_member, client_for):
    index = reverse("funding:index")
    assert client_for(make_member(org_a, role=Role.COUNSELLOR)).get(index).url == reverse("funding:line_list")
    assert client_for(make_member(org_a, role=Role.ORG_ADMIN)).get(index).url == reverse("funding:claim_list")
    assert client_for(make_certifpro()).get(index).url == reverse("funding:national")


def test_a_zero_payment_or_a_payment_received_tomorrow_is_refused_on_its_field(org_a, client_for):
    batch = batch_with_lines(org_a, count=1)
    [line] = batch.lines.all()
    client = client_for(org_admin(org_a))
    url = reverse("funding:payment_create", args=[batch.pk])
    tomorrow = TODAY() + datetime.timedelta(days=1)

    zero = client.post(
        url, {"received_on": f"{TODAY():%Y-%m-%d}", "reference": "VIR-1", "lines": f"{line.funder_reference} ; 0"}
    )
    tomorrows = client.post(
        url, {"received_on": f"{tomorrow:%Y-%m-%d}", "reference": "VIR-1", "lines": f"{line.funder_reference} ; 1"}
    )

    assert zero.context["form"].errors["lines"][0].startswith("Ligne 1 :")
    # The service's rule, shown on the field.
    assert tomorrows.context["form"].errors == {"received_on": ["La date de réception ne peut être dans le futur."]}
    assert 'id="id_received_on_errors"' in tomorrows.content.decode()
    assert not Payment.objects.exists()


def test_invoicing_on_screen_with_a_date_in_the_future_is_refused_on_the_date(client_for):
    dossier = DossierFactory(state="partially_validated")
    line = granted_line(dossier)
    tomorrow = TODAY() + datetime.timedelta(days=1)
    response = client_for(dossier.team.counsellor).post(
        reverse("funding:line_transition", args=[line.pk, "invoice"]),
        {"invoiced_cents": "450", "invoiced_on": f"{tomorrow:%Y-%m-%d}"},
    )
    assert response.context["form"].errors["invoiced_on"] == ["La date de facturation ne peut être dans le futur."]
    assert 'id="id_invoiced_on_errors"' in response.content.decode()
    assert FundingLine.objects.get(pk=line.pk).state == LineState.GRANTED


def test_the_national_view_no_longer_counts_the_grant_of_a_cancelled_line(org_a, client_for):
    from funding.selectors import funding_by_funder

    dossier = DossierFactory(organisation=org_a, state="opened")
    granted_line(dossier, granted=40000)
    funding_line_transition(
        line=granted_line(dossier, granted=30000), name="cancel", by=dossier.team.counsellor, note="Doublon"
    )

    [row] = funding_by_funder(FundingLine.objects.filter(organisation=org_a))

    assert row["granted"] == 48000  # 400 € HT with its VAT; the cancelled 300 € no longer counts
