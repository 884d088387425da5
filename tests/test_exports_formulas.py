"""No export hands a spreadsheet a formula: every CSV and XLSX the platform writes, downloaded as its users do,
with a candidate, an organisation and a funder reference named like formulas (OWASP's CSV injection).

The exports: the list of dossiers (CSV, XLSX), Certif'Pro's export of the certified (CSV, XLSX), the Caisse des
Dépôts list (CSV), a claim batch's files (CSV, XLSX). A fee statement holds no typed text (amounts, dates, codes
and dossier references): it goes through the same writer (tests/funding/test_fees.py reads it back)."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from candidates.models import Candidate
from organisations.models import Organisation, Role
from tests.factories import MembershipFactory
from tests.funding.support import granted_line, issued_batch, org_admin
from tests.journey import DossierFactory
from tests.juries.factories import certified, make_certifpro

pytestmark = pytest.mark.django_db

PAYLOADS = [
    '=HYPERLINK("http://x","y")',
    "+1",
    "@SUM(1)",
    "-2+3",
    "\tx",
    "\r=1+1",
    # An import that trims spaces (LibreOffice's "Trim spaces") would leave the formula first.
    " =1+1",
    "\u00a0@SUM(1)",
    "\n-2+3",
]
# A number as the CSV writes it: an amount or a count, negative or not, is not text to neutralise.
NUMBER = re.compile(r"-?\d+(,\d+)?")
CANDIDATE_TEXT = ("last_name", "first_name", "birth_name", "birth_place", "address", "city")


def runs_as_formula(text: str) -> bool:
    """What a spreadsheet would evaluate, whether it keeps or trims the leading spaces."""
    if NUMBER.fullmatch(text):
        return False
    return text.startswith(("=", "+", "-", "@", "\t", "\r")) or text.lstrip().startswith(("=", "+", "-", "@"))


def csv_cells(content: bytes) -> list[str]:
    assert content.startswith("\ufeff".encode())
    rows = csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=";")
    return [cell for row in rows for cell in row]


def xlsx_cells(content: bytes) -> list[str]:
    sheet = load_workbook(io.BytesIO(content)).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    return [cell.value for cell in cells if isinstance(cell.value, str)]


def _same(text: str) -> str:
    # XML reads a carriage return back as a line feed; the batch writes the last name in capitals.
    return text.replace("\r", "\n").upper()


def download_every_export(client_for, name: str) -> dict[str, tuple[bytes, str]]:
    """Every export, downloaded, once a certified candidate, a claimed candidate, their organisation and the
    funder's reference are all named `name`."""
    _jury, _submission, certificate = certified()
    organisation = certificate.organisation
    Organisation.objects.filter(pk=organisation.pk).update(name=name)
    claimed = DossierFactory(organisation=organisation, state="partially_validated")
    granted_line(claimed, reference=name)
    Candidate.objects.filter(pk__in=[certificate.dossier.candidate_id, claimed.candidate_id]).update(
        **dict.fromkeys(CANDIDATE_TEXT, name)
    )
    batch = issued_batch(organisation)

    counsellor = client_for(MembershipFactory(organisation=organisation, role=Role.COUNSELLOR))
    certifpro = client_for(make_certifpro())
    admin = client_for(org_admin(organisation))
    day = f"{certificate.awarded_on:%Y-%m-%d}"
    period = {"start": day, "end": day}
    asked = {
        "dossiers.csv": (counsellor, reverse("candidates:dossier_export"), {"format": "csv"}),
        "dossiers.xlsx": (counsellor, reverse("candidates:dossier_export"), {"format": "xlsx"}),
        "certifies.csv": (certifpro, reverse("journey:certified_export"), {**period, "format": "csv"}),
        "certifies.xlsx": (certifpro, reverse("journey:certified_export"), {**period, "format": "xlsx"}),
        "lot.csv": (admin, reverse("funding:batch_download", kwargs={"pk": batch.pk, "fmt": "csv"}), {}),
        "lot.xlsx": (admin, reverse("funding:batch_download", kwargs={"pk": batch.pk, "fmt": "xlsx"}), {}),
    }
    files = {}
    for file, (client, url, query) in asked.items():
        response = client.get(url, query)
        assert response.status_code == 200, file
        files[file] = (b"".join(response) if response.streaming else response.content, file.rsplit(".", 1)[1])
    return files


def cells_of(content: bytes, kind: str) -> list[str]:
    return csv_cells(content) if kind == "csv" else xlsx_cells(content)


@pytest.mark.parametrize("payload", PAYLOADS, ids=repr)
def test_no_export_writes_a_cell_a_spreadsheet_would_run(client_for, payload):
    for file, (content, kind) in download_every_export(client_for, payload).items():
        cells = cells_of(content, kind)
        assert any(_same(payload) in _same(cell) for cell in cells), f"{file} does not show the name at all"
        assert not [cell for cell in cells if runs_as_formula(cell)], file
        # Neutralised the OWASP way: the text is kept, after a single quote.
        assert any(_same(cell).startswith("'" + _same(payload)) for cell in cells), file


def test_a_control_character_in_a_name_does_not_stop_an_export(client_for):
    """XML cannot hold a vertical tab or an escape (pasted from another document): the XLSX writer refused the
    whole file (a 500, or a batch that fails to produce). The CSV keeps the text as typed."""
    downloads = download_every_export(client_for, "Dupont\x0bMartin\x1b=1+1")
    for file, (content, kind) in downloads.items():
        cells = cells_of(content, kind)
        expected = "Dupont\x0bMartin\x1b=1+1" if kind == "csv" else "Dupont Martin =1+1"
        assert any(expected.upper() in cell.upper() for cell in cells), file
        assert not [cell for cell in cells if runs_as_formula(cell)], file
