"""A funder's payment file (CSV) imported on a batch (issue 14): read in French or spreadsheet formats, previewed
without writing anything, recorded all or nothing, and never twice. The files are in tests/funding/files/."""

import datetime
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from funding.models import ClaimBatch, FundingLine, LineState, Payment
from funding.payment_files import read_payment_file
from funding.services import PaymentImportRefused, payment_import, payment_import_plan
from organisations.models import AuditLog, Organisation
from tests.clients import page_text
from tests.funding.support import granted_line, issued_batch, org_admin
from tests.journey import DossierFactory

FILES = Path(__file__).parent / "files"
TODAY = datetime.date(2026, 12, 2)


def content(name: str) -> bytes:
    return (FILES / name).read_bytes()


def upload(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content(name), content_type="text/csv")


# -- Reading the file ------------------------------------------------------------------------------------------


def test_a_semicolon_file_with_a_byte_order_mark_and_decimal_commas_is_read():
    parsed = read_payment_file(content("paiement-point-virgule-bom.csv"), today=TODAY)

    assert parsed.errors == []
    assert [
        (row.number, row.line_reference, row.amount_cents, row.paid_on, row.payment_reference) for row in parsed.rows
    ] == [
        (2, "FT-2026-0001", 54000, datetime.date(2026, 11, 2), "VIR-2026-0415"),
        (3, "FT-2026-0002", 50000, datetime.date(2026, 11, 2), "VIR-2026-0415"),
        (5, "FT-2026-0002", 4000, datetime.date(2026, 11, 16), "VIR-2026-0470"),
    ]


def test_a_comma_file_with_quoted_decimal_commas_iso_dates_and_french_headers_is_read():
    parsed = read_payment_file(content("paiement-virgule.csv"), today=TODAY)

    assert parsed.errors == []
    assert [(row.line_reference, row.amount_cents, row.paid_on) for row in parsed.rows] == [
        ("FT-2026-0001", 54000, datetime.date(2026, 11, 2)),
        ("ft 2026 0003", 54000, datetime.date(2026, 11, 2)),
    ]


def test_an_unquoted_decimal_comma_in_a_comma_file_is_explained():
    [error] = read_payment_file(content("paiement-virgule-sans-guillemets.csv"), today=TODAY).errors
    assert error.number == 2
    assert error.message.startswith("5 colonnes au lieu de 4.")
    assert "mettez les montants entre guillemets" in error.message


def test_a_file_not_in_utf8_or_without_its_columns_is_refused_as_a_whole():
    [error] = read_payment_file(content("paiement-latin1.csv"), today=TODAY).errors
    assert (error.number, error.message) == (
        None,
        "Le fichier n'est pas en UTF-8 : enregistrez-le au format « CSV UTF-8 ».",
    )

    [error] = read_payment_file(b"reference;montant\nFT-1;10\n", today=TODAY).errors
    assert error.message.startswith("Colonnes manquantes dans l'en-tête : reference_ligne, date, reference_paiement")


def test_a_payment_dated_after_today_is_a_row_error():
    parsed = read_payment_file(content("paiement-virgule.csv"), today=datetime.date(2026, 11, 1))
    assert [(error.number, error.column) for error in parsed.errors] == [(2, "date"), (3, "date")]


# -- Against the batch -------------------------------------------------------------------------------------------


def batch_of_three(organisation: Organisation) -> ClaimBatch:
    """Three lines of 450 € HT (540 € TTC), FT-2026-0001 to 0003, claimed in one France Travail batch."""
    for number in (1, 2, 3):
        dossier = DossierFactory(organisation=organisation, state="partially_validated")
        granted_line(dossier, reference=f"FT-2026-{number:04d}")
    return issued_batch(organisation)


def states(batch: ClaimBatch) -> dict[str, tuple[str, int | None]]:
    return {
        line.funder_reference: (line.state, line.remainder_cents) for line in FundingLine.objects.filter(batch=batch)
    }


@pytest.mark.django_db
@pytest.mark.usefixtures("references")
def test_the_preview_lists_what_will_be_recorded_and_writes_nothing(org_a):
    batch = batch_of_three(org_a)

    plan = payment_import_plan(batch=batch, content=content("paiement-point-virgule-bom.csv"))

    assert plan.errors == []
    assert [(p.reference, p.received_on, p.total_cents) for p in plan.payments] == [
        ("VIR-2026-0415", datetime.date(2026, 11, 2), 104000),
        ("VIR-2026-0470", datetime.date(2026, 11, 16), 4000),
    ]
    # The second transfer finds the line as the first one leaves it: 40 € still due.
    assert [(e.row.line_reference, e.due_before_cents, e.remainder_cents) for e in plan.payments[1].entries] == [
        ("FT-2026-0002", 4000, 0)
    ]
    assert not Payment.objects.exists()
    assert set(FundingLine.objects.filter(batch=batch).values_list("state", flat=True)) == {LineState.INVOICED}


@pytest.mark.django_db
@pytest.mark.usefixtures("references")
def test_importing_records_every_transfer_and_importing_again_records_nothing(org_a):
    batch = batch_of_three(org_a)
    admin = org_admin(org_a)

    plan, payments = payment_import(batch=batch, by=admin, content=content("paiement-point-virgule-bom.csv"))

    assert [payment.reference for payment in payments] == ["VIR-2026-0415", "VIR-2026-0470"]
    assert states(batch) == {
        "FT-2026-0001": (LineState.PAID, None),
        "FT-2026-0002": (LineState.PAID, None),
        "FT-2026-0003": (LineState.INVOICED, 54000),
    }
    audit = AuditLog.objects.get(action="payment.import")
    assert audit.details["payments"] == ["VIR-2026-0415", "VIR-2026-0470"]

    again, none = payment_import(batch=batch, by=admin, content=content("paiement-point-virgule-bom.csv"))

    assert none == [] and again.already_recorded == ["VIR-2026-0415", "VIR-2026-0470"]
    assert Payment.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.usefixtures("references")
def test_a_file_with_errors_records_nothing_and_names_each_row_and_column(org_a):
    batch = batch_of_three(org_a)

    with pytest.raises(PaymentImportRefused) as refusal:
        payment_import(batch=batch, by=org_admin(org_a), content=content("paiement-erreurs.csv"))

    assert str(refusal.value) == "Le fichier contient 6 erreurs : rien n'est enregistré."
    errors = [(error.number, error.column) for error in refusal.value.plan.errors]
    assert errors == [
        (2, "lot"),
        (3, "montant"),
        (4, "date"),
        (5, "reference_ligne"),
        (6, "montant"),
        (7, "reference_ligne"),
    ]
    messages = {error.number: error.message for error in refusal.value.plan.errors}
    assert messages[2] == f"Cette ligne concerne le lot LOT-AUTRE-2026-0001, pas le lot {batch.number}."
    assert messages[5] == "Aucune ligne de ce lot en attente de paiement ne porte la référence FT-2026-0009."
    assert "540,00\u00a0€ restant à percevoir" in messages[6]
    assert not Payment.objects.exists()
    assert set(FundingLine.objects.filter(batch=batch).values_list("state", flat=True)) == {LineState.INVOICED}


# -- The screens ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("references")
def test_the_administrator_previews_then_confirms_the_file_on_screen(org_a, client_for):
    batch = batch_of_three(org_a)
    client = client_for(org_admin(org_a))
    url = reverse("funding:payment_import", args=[batch.pk])
    assert url in page_text(client.get(reverse("funding:batch_detail", args=[batch.pk])))

    preview = client.post(url, {"file": upload("paiement-virgule.csv")})

    page = page_text(preview)
    assert "Aperçu de l'import" in page and "VIR-OPCO-1" in page and "Confirmer l'enregistrement" in page
    assert not Payment.objects.exists()

    done = client.post(url, {"token": preview.context["confirm"]["token"].value()}, follow=True)

    assert done.redirect_chain[-1][0] == reverse("funding:batch_detail", args=[batch.pk])
    assert "1 paiement enregistré et rapproché du lot." in page_text(done)
    assert states(batch)["FT-2026-0003"] == (LineState.PAID, None)

    # The same file again: nothing new to record, nothing recorded.
    again = page_text(client.post(url, {"file": upload("paiement-virgule.csv")}))
    assert "Déjà enregistré, ignoré : VIR-OPCO-1." in again and "Confirmer l'enregistrement" not in again
    assert Payment.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.usefixtures("references")
def test_the_preview_of_a_wrong_file_lists_its_errors_and_offers_no_confirmation(org_a, client_for):
    batch = batch_of_three(org_a)
    response = client_for(org_admin(org_a)).post(
        reverse("funding:payment_import", args=[batch.pk]), {"file": upload("paiement-erreurs.csv")}
    )
    page = page_text(response)
    assert "Le fichier contient 6 erreurs : rien ne sera enregistré." in page
    assert "« cinq cents » n'est pas un montant en euros" in page
    assert "« 31/02/2026 » n'est pas une date" in page
    assert "Confirmer l'enregistrement" not in page
    assert not Payment.objects.exists()


@pytest.mark.django_db
@pytest.mark.usefixtures("references")
def test_a_tampered_confirmation_records_nothing(org_a, client_for):
    batch = batch_of_three(org_a)
    response = client_for(org_admin(org_a)).post(
        reverse("funding:payment_import", args=[batch.pk]), {"token": "bm9wZQ:1abc:forged"}
    )
    assert "L'aperçu a expiré" in page_text(response)
    assert not Payment.objects.exists()
