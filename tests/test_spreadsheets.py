"""The platform's spreadsheet writer (clea_platform.spreadsheets), on which every CSV and XLSX export stands."""

import csv
import datetime
import io
import zipfile
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from openpyxl import load_workbook

from clea_platform.spreadsheets import MONEY_FORMAT, Money, neutralise, to_csv, to_xlsx

DCTERMS = "http://purl.org/dc/terms/"
HEADERS = ["Nom", "Né le", "Heures", "Montant", "Solde", "Commentaire"]
ROWS = [
    ['=HYPERLINK("http://evil","x")', datetime.date(1985, 4, 12), 35, Decimal("12.50"), -5, None],
    ["+33 6 12 34 56 78", datetime.date(2001, 1, 2), 0, Decimal("0"), 7, "@SUM(A1)"],
    ["Dupont", datetime.date(1970, 12, 31), 120, Decimal("1234.5"), 0, "-2+3"],
]


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_text_starting_like_a_formula_gets_a_quote(start):
    assert neutralise(f"{start}1+1") == f"'{start}1+1"
    assert neutralise(f"a{start}1") == f"a{start}1"


@pytest.mark.parametrize("spaces", [" ", "   ", "\u00a0", "\n", " \t"])
@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_spaces_before_a_formula_do_not_hide_it(spaces, start):
    """An import that trims spaces (LibreOffice's "Trim spaces") would leave the formula first."""
    assert neutralise(f"{spaces}{start}1+1") == f"'{spaces}{start}1+1"
    assert neutralise(f"{spaces}Dupont") == f"{spaces}Dupont"


def test_an_amount_is_a_number_in_both_formats_negative_or_not():
    rows = [["Avoir", Money(-1250)], ["Facture", Money(123450)], ["Centimes", Money(-5)]]
    assert [row[1] for row in read_csv(to_csv(["Libellé", "Montant"], rows))[1:]] == ["-12,50", "1234,50", "-0,05"]
    sheet = load_workbook(io.BytesIO(to_xlsx(["Libellé", "Montant"], rows, title="Montants")))["Montants"]
    amounts = [row[1] for row in sheet.iter_rows(min_row=2)]
    assert [cell.data_type for cell in amounts] == ["n", "n", "n"]
    assert [cell.value for cell in amounts] == [-12.5, 1234.5, -0.05]
    assert {cell.number_format for cell in amounts} == {MONEY_FORMAT}


@pytest.mark.parametrize(
    ("cents", "csv_text", "euros"),
    [
        (0, "0,00", Decimal("0.00")),
        (5, "0,05", Decimal("0.05")),
        (123450, "1234,50", Decimal("1234.50")),
        (100000000, "1000000,00", Decimal("1000000.00")),
        (-4000, "-40,00", Decimal("-40.00")),
    ],
)
def test_an_amount_in_cents_is_written_in_euros_with_two_decimals(cents, csv_text, euros):
    """The one place where cents become a file's number: the claim batches and statements write through it."""
    assert Money(cents).csv() == csv_text
    assert Money(cents).euros() == euros and Money(cents).euros().as_tuple().exponent == -2


def test_the_csv_neutralises_formulas_and_keeps_numbers_and_dates():
    rows = read_csv(to_csv(HEADERS, ROWS))
    assert rows[0] == HEADERS
    assert rows[1] == ['\'=HYPERLINK("http://evil","x")', "12/04/1985", "35", "12,5", "-5", ""]
    assert rows[2] == ["'+33 6 12 34 56 78", "02/01/2001", "0", "0", "7", "'@SUM(A1)"]
    assert rows[3][3:] == ["1234,5", "0", "'-2+3"]


def test_the_xlsx_header_is_bold_frozen_and_filters_the_data():
    sheet = load_workbook(io.BytesIO(to_xlsx(HEADERS, ROWS, title="Dossiers")))["Dossiers"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:F4"
    assert all(cell.font.b for cell in sheet[1])
    widths = {letter: sheet.column_dimensions[letter].width for letter in "ABCDEF"}
    assert widths["A"] > widths["C"] >= 8  # fitted to the content, never narrower than 8


def test_the_xlsx_keeps_numbers_and_dates_and_runs_no_formula():
    sheet = load_workbook(io.BytesIO(to_xlsx(HEADERS, ROWS, title="Dossiers")))["Dossiers"]
    first = sheet[2]
    assert first[0].data_type == "s" and first[0].value == '\'=HYPERLINK("http://evil","x")'
    assert first[1].is_date and first[1].value.date() == datetime.date(1985, 4, 12)
    assert first[1].number_format == "DD/MM/YYYY"
    assert first[2].value == 35 and first[3].value == 12.5 and first[4].value == -5
    assert not any(cell.data_type == "f" for row in sheet.iter_rows() for cell in row)


@pytest.mark.parametrize("day", [None, datetime.date(2025, 3, 31)], ids=["default", "given"])
def test_the_xlsx_package_is_dated_by_its_day_never_by_the_clock(day):
    """Two files built within the same 2 seconds share their ZIP timestamps anyway: the dates are read instead,
    on every entry and in the document's properties."""
    expected = day or datetime.date(1980, 1, 1)
    content = to_xlsx(HEADERS, ROWS, title="Dossiers", **({"day": day} if day else {}))
    package = zipfile.ZipFile(io.BytesIO(content))
    assert {info.date_time for info in package.infolist()} == {(expected.year, expected.month, expected.day, 0, 0, 0)}
    core = ElementTree.fromstring(package.read("docProps/core.xml"))  # noqa: S314 (the writer's own output)
    dates = {name: core.findtext(f"{{{DCTERMS}}}{name}") for name in ("created", "modified")}
    assert dates == dict.fromkeys(("created", "modified"), f"{expected:%Y-%m-%d}T00:00:00Z")


def test_an_empty_table_still_has_its_filterable_header():
    sheet = load_workbook(io.BytesIO(to_xlsx(HEADERS, [], title="Vide")))["Vide"]
    assert [cell.value for cell in sheet[1]] == HEADERS
    assert sheet.auto_filter.ref == "A1:F1"
