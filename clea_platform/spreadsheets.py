"""Tables written as spreadsheets: CSV for any tool, XLSX for Excel and LibreOffice users.

One writer for every export, so that each gets the same guarantees:
- CSV: semicolon-separated (what French spreadsheets expect), UTF-8 with a BOM (so they read the accents), CRLF,
  dates as "31/12/2025", decimals with a comma.
- XLSX: one sheet, a bold header frozen on scroll with a filter over the data, column widths fitted to the
  content, dates as real date cells (sortable, filterable by month), numbers as numbers.
- Formula injection: a text cell starting with "=", "+", "-", "@", a tab or a carriage return is one Excel or
  LibreOffice would evaluate (a candidate named "=HYPERLINK(...)"); so is one where spaces come first, since
  an import may trim them (LibreOffice's "Trim spaces"). It is written with a leading "'" (OWASP's advice).
  Only text is touched: an int, a Decimal, an amount (`Money`) or a date stays a number or a date, negative
  ones included.
- Deterministic: the same rows give the same bytes (fixed package dates and ZIP timestamps), so a file can be
  fingerprinted and compared.

Imports no application: callers pass plain values (str, int, Decimal, float, bool, date, datetime, None) and
`Money`. Every export writes through here: the list of dossiers, Certif'Pro's export of the certified, the Caisse
des Dépôts list, and the claim batches' and fee statements' files (funding/documents.py, which keeps its own sheet
layout, a total row without a filter, but writes each cell with `csv_text` and `xlsx_value`). Callers hand
the bytes to `attachment` for the download.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CONTENT_TYPES = {"csv": CSV_CONTENT_TYPE, "xlsx": XLSX_CONTENT_TYPE}

# The first characters that make a spreadsheet read a cell as a formula (or, for tab and CR, let one through
# once the cell is pasted or re-imported).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A money format for amounts in euros: "1 234,50 €" in a French spreadsheet.
MONEY_FORMAT = '#,##0.00 "€"'
# ZIP cannot store dates before 1980; any fixed date would do, this one says "not a real date".
FIXED_DAY = datetime.date(1980, 1, 1)
DATE_FORMAT = "DD/MM/YYYY"
DATETIME_FORMAT = "DD/MM/YYYY HH:MM"
MIN_WIDTH, MAX_WIDTH = 8, 60
# Control characters XML 1.0 cannot hold (openpyxl refuses the whole file over one): a vertical tab or an escape
# pasted with a name. An XLSX cell shows a space in their place; a CSV keeps the text as typed.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# Sheet names are at most 31 characters and may not hold these.
_SHEET_FORBIDDEN = re.compile(r"[\\/*?:\[\]]")


@dataclass(frozen=True)
class Money:
    """An amount in cents, written as a number: "-1234,50" in CSV (two decimals and the decimal comma, which
    French spreadsheets read as a number), a number of euros with MONEY_FORMAT in XLSX. Never text, so never
    neutralised: a negative amount keeps its sign and stays summable."""

    cents: int

    def csv(self) -> str:
        sign = "-" if self.cents < 0 else ""
        units, rest = divmod(abs(self.cents), 100)
        return f"{sign}{units},{rest:02d}"

    def euros(self) -> Decimal:
        return (Decimal(self.cents) / 100).quantize(Decimal("0.01"))


def neutralise(value: str) -> str:
    """The text as a cell no spreadsheet evaluates: a leading "'" before a formula's first character, and before
    spaces that an import would trim down to one."""
    return "'" + value if value.startswith(FORMULA_STARTS) or value.lstrip().startswith(FORMULA_STARTS) else value


def _local(value: datetime.datetime) -> datetime.datetime:
    """Spreadsheets know no time zones: an aware datetime is written in the platform's local time."""
    return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value


def csv_text(value: Any) -> str:
    """A value as CSV text: dates "31/12/2025", decimals "12,5", booleans "Oui"/"Non", None empty."""
    if value is None:
        return ""
    if isinstance(value, Money):
        return value.csv()
    if isinstance(value, bool):
        return _("Oui") if value else _("Non")
    if isinstance(value, datetime.datetime):
        return _local(value).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, Decimal | float):
        return f"{Decimal(str(value)).normalize():f}".replace(".", ",")
    if isinstance(value, int):
        return str(value)
    return neutralise(str(value))


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """The header line then one line per row, semicolon-separated, UTF-8 with a BOM, CRLF."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([neutralise(header) for header in headers])
    for row in rows:
        writer.writerow([csv_text(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_value(value: Any) -> Any:
    """A value as an XLSX cell: numbers, amounts and dates as such, booleans "Oui"/"Non", text neutralised."""
    if value is None:
        return ""
    if isinstance(value, Money):
        return value.euros()
    if isinstance(value, bool):
        return _("Oui") if value else _("Non")
    if isinstance(value, datetime.datetime):
        return _local(value)
    if isinstance(value, datetime.date | int | float | Decimal):
        return value
    return xlsx_text(str(value))


def xlsx_text(value: str) -> str:
    """Text as an XLSX cell: the characters XML refuses as spaces, then neutralised."""
    return neutralise(_XML_ILLEGAL.sub(" ", value))


def _width(value: Any) -> int:
    if isinstance(value, datetime.datetime):
        return 16
    if isinstance(value, datetime.date):
        return 10
    text = csv_text(value)
    return max((len(line) for line in text.splitlines()), default=0)


def sheet_title(title: str) -> str:
    return _SHEET_FORBIDDEN.sub(" ", title)[:31] or "Feuille"


def to_xlsx(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    title: str,
    day: datetime.date = FIXED_DAY,
    number_formats: dict[int, str] | None = None,
) -> bytes:
    """One sheet named `title`: a bold header, frozen and with a filter over the data; widths fitted to the
    content; dates as date cells shown "31/12/2025". `number_formats` maps a column index to a number format
    (money, for instance). The package is dated `day`, so the same rows always give the same bytes.

    Written with openpyxl's write-only mode (a national export holds tens of thousands of rows); the widths
    need every row first, so the rows are read once into a list of cells."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    formats = number_formats or {}
    given = [list(row) for row in rows]
    values = [[xlsx_value(value) for value in row] for row in given]
    widths = [len(header) for header in headers]
    for row in values:
        for index, value in enumerate(row):
            widths[index] = max(widths[index], _width(value))

    workbook = Workbook(write_only=True)
    stamp = datetime.datetime.combine(day, datetime.time())
    workbook.properties.creator = "Plateforme CléA"
    workbook.properties.created = stamp
    workbook.properties.modified = stamp
    sheet = workbook.create_sheet(sheet_title(title))
    for index, width in enumerate(widths, start=1):
        # A little room for the filter's drop-down arrow.
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, MIN_WIDTH), MAX_WIDTH)
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=xlsx_text(header))
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for original, row in zip(given, values, strict=True):
        cells = []
        for index, value in enumerate(row):
            cell = WriteOnlyCell(sheet, value=value)
            if index in formats and value != "":
                cell.number_format = formats[index]
            elif isinstance(original[index], Money):
                cell.number_format = MONEY_FORMAT
            elif isinstance(value, datetime.datetime):
                cell.number_format = DATETIME_FORMAT
            elif isinstance(value, datetime.date):
                cell.number_format = DATE_FORMAT
            cells.append(cell)
        sheet.append(cells)
    if headers:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(values) + 1}"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return normalised_xlsx(buffer.getvalue(), day)


def attachment(content: bytes, fmt: str, filename: str) -> HttpResponse:
    """A written spreadsheet as a download: its content type, and `filename` (without extension) + "." + `fmt`."""
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response


_CORE_DATES = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def normalised_xlsx(content: bytes, day: datetime.date) -> bytes:
    """Rewrite an XLSX package with fixed dates: openpyxl stamps "modified" with the clock, ZIP entries too."""
    stamp = f"{day:%Y-%m-%d}T00:00:00Z".encode()
    source = zipfile.ZipFile(io.BytesIO(content))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = _CORE_DATES.sub(lambda m: m.group(1) + stamp + m.group(3), data)
            entry = zipfile.ZipInfo(info.filename, date_time=(day.year, day.month, day.day, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            target.writestr(entry, data)
    return output.getvalue()
