"""Every generated document is a PDF/UA-1 file a screen reader can walk (issue 15): tagged, in French, its title
shown, with real headings in order, tables whose cells know their headers, and the QR code described. Each
document is produced by its real code path, as a worker does, and read back with pypdf."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from clea_platform.pdf import DocumentNotAccessible, html_to_pdf
from clea_platform.verification import verification_url
from directory.services import directory_sheet_generate
from funding.models import previous_quarter, quarter_bounds
from funding.references import funding_references_load
from funding.services import statement_generate
from juries.services import minutes_generate
from tests.directory.support import evaluator_site, load_sample_communes, make_sheet
from tests.factories import OrganisationFactory
from tests.funding.support import batch_with_lines
from tests.journey import DossierFactory
from tests.juries.factories import certified
from tests.pdf_structure import StructElem, TaggedPdf, read_tagged

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _references(db) -> None:
    # Funders and tariffs (a transactional test elsewhere may have flushed the data migrations' rows).
    funding_references_load()


def assert_pdf_ua(pdf: TaggedPdf, *, title: str) -> None:
    """What every document carries: the tags, the PDF/UA-1 claim, French, and its own title shown by the reader."""
    assert pdf.tree is not None, "no /StructTreeRoot"
    assert pdf.marked, "no /MarkInfo /Marked true"
    assert pdf.ua_part == "1"
    assert pdf.lang == "fr"
    assert pdf.displays_title, "no /ViewerPreferences /DisplayDocTitle true"
    assert pdf.title == title


def headings(pdf: TaggedPdf) -> list[int]:
    return [int(role[1]) for role in pdf.roles() if re.fullmatch(r"H[1-6]", role)]


def assert_headings_in_order(pdf: TaggedPdf) -> None:
    """One H1 first, and no level skipped on the way down (an H3 comes under an H2)."""
    levels = headings(pdf)
    assert levels and levels[0] == 1 and levels.count(1) == 1, levels
    for before, after in zip(levels, levels[1:], strict=False):
        assert after <= before + 1, levels


def assert_tables_have_headers(pdf: TaggedPdf, *, count: int) -> list[StructElem]:
    """`count` tables, each with header cells, and every data cell pointing at its headers (/Headers)."""
    tables = pdf.find("Table")
    assert len(tables) == count
    for table in tables:
        assert table.find("TH")
        cells = table.find("TD")
        assert cells and all(cell.attributes.get("/Headers") for cell in cells)
    return tables


def assert_facts_read_with_their_labels(table: StructElem) -> None:
    """The document's facts (number, dates...): each row a label (row header) and its value, which points at it."""
    rows = table.find("TR")
    assert rows and all([cell.role for cell in row.children] == ["TH", "TD"] for row in rows)
    assert all(len(cell.attributes["/Headers"]) == 1 for cell in table.find("TD"))


def assert_total_row_headed_by_total(table: StructElem) -> None:
    """The amounts of the last row are data, each headed by its column and by "Total" (the row's header)."""
    total_row = table.find("TR")[-1]
    assert [cell.role for cell in total_row.children] == ["TH", "TD", "TD", "TD"]
    assert all(len(cell.attributes["/Headers"]) == 2 for cell in total_row.find("TD"))


def assert_qr_code_described(pdf: TaggedPdf, *, url: str) -> None:
    [figure] = pdf.find("Figure")
    assert figure.alt == f"Code QR menant à la page de vérification {url}"


def test_the_attestation_is_tagged_with_its_sections_lists_and_described_qr_code(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        dossier = DossierFactory(state="partially_validated")
    attestation = dossier.attestations.get()

    pdf = read_tagged(attestation.file.read())

    assert_pdf_ua(pdf, title=f"Attestation de validation partielle {attestation.number}")
    assert_headings_in_order(pdf)
    assert headings(pdf).count(2) == 2 and 3 in headings(pdf)  # "Domaines acquis", "Ce qui reste…", each domain
    [facts] = assert_tables_have_headers(pdf, count=1)
    assert_facts_read_with_their_labels(facts)
    # The domains acquired and the criteria left are bulleted lists: items with their label and body.
    bulleted = [item for item in pdf.find("LI") if [child.role for child in item.children] == ["Lbl", "LBody"]]
    assert len(bulleted) >= 2
    assert_qr_code_described(pdf, url=verification_url(attestation.verification_code))


def test_the_certificate_is_tagged_with_its_title_as_heading_and_described_qr_code():
    _jury, _submission, certificate = certified()

    pdf = read_tagged(certificate.file.read())

    assert_pdf_ua(pdf, title=f"Certificat {certificate.number}")
    assert_headings_in_order(pdf)
    assert_qr_code_described(pdf, url=verification_url(certificate.verification_code))


def test_the_minutes_are_tagged_with_their_sections_and_tables():
    jury, _submission, _certificate = certified()
    minutes = minutes_generate(session_id=jury.session.pk)

    pdf = read_tagged(minutes.file.read())

    assert_pdf_ua(pdf, title=f"Procès-verbal {minutes.number}")
    assert_headings_in_order(pdf)
    assert headings(pdf).count(2) == 2  # composition, decisions
    facts, composition, decisions = assert_tables_have_headers(pdf, count=3)
    assert_facts_read_with_their_labels(facts)
    assert len(composition.find("TH")) == 4 and len(decisions.find("TH")) == 5


def test_the_directory_sheet_is_tagged_with_its_table():
    communes = load_sample_communes()
    evaluator_site(communes["59512"], name="Roubaix – Gare")
    sheet = directory_sheet_generate(sheet_id=make_sheet(OrganisationFactory(france_travail=True)).pk)

    pdf = read_tagged(sheet.file.read())

    assert_pdf_ua(pdf, title="Organismes évaluateurs Nord (59)")
    assert_headings_in_order(pdf)
    [table] = assert_tables_have_headers(pdf, count=1)
    assert len(table.find("TH")) == 6


def test_the_claim_batch_is_tagged_and_its_total_row_is_headed_by_total():
    batch = batch_with_lines(count=2)

    pdf = read_tagged(batch.pdf_file.read())

    assert_pdf_ua(pdf, title=f"Lot de réclamation {batch.number}")
    assert_headings_in_order(pdf)
    facts, table = assert_tables_have_headers(pdf, count=2)
    assert_facts_read_with_their_labels(facts)
    assert_total_row_headed_by_total(table)


def test_the_fee_statement_is_tagged_and_its_total_row_is_headed_by_total():
    year, quarter = previous_quarter(timezone.localdate())
    day = quarter_bounds(year, quarter)[0] + datetime.timedelta(days=10)
    dossier = DossierFactory(state="partially_validated", evaluated_on=day)
    statement = statement_generate(organisation_id=dossier.organisation_id, year=year, quarter=quarter)

    pdf = read_tagged(statement.pdf_file.read())

    assert_pdf_ua(pdf, title=f"Relevé de redevances {statement.number}")
    assert_headings_in_order(pdf)
    facts, table = assert_tables_have_headers(pdf, count=2)
    assert_facts_read_with_their_labels(facts)
    assert_total_row_headed_by_total(table)


@pytest.mark.parametrize(
    "html",
    [
        "<html><head><title>Relevé</title></head><body><h1>Relevé</h1></body></html>",
        '<html lang="fr"><head></head><body><h1>Relevé</h1></body></html>',
    ],
    ids=["without-lang", "without-title"],
)
def test_a_document_without_its_language_or_title_is_refused_rather_than_written_untitled(html):
    with pytest.raises(DocumentNotAccessible):
        html_to_pdf(html)
