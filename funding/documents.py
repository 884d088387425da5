"""The files of claim batches and fee statements: CSV, XLSX and PDF, byte for byte the same when rendered again.

Nothing in them depends on when they are rendered except the document's own issue date: rows come in a stable
order, the XLSX gets fixed package dates and ZIP timestamps, and WeasyPrint writes no creation date.

They are written through the platform's spreadsheet writer (clea_platform.spreadsheets), like every export: the
CSV by `to_csv`, and each XLSX cell by `xlsx_value`, so that a text cell is never run by a spreadsheet and an
amount (`Money`) stays a number, negative or not. The XLSX keeps its own sheet layout, the document the funder and
Certif'Pro receive: a total row under the lines, which the writer's filter would sort in with them.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from clea_platform.pdf import render_pdf, sha256_hex
from clea_platform.spreadsheets import (
    CSV_CONTENT_TYPE,
    DATE_FORMAT,
    MONEY_FORMAT,
    XLSX_CONTENT_TYPE,
    Money,
    csv_text,
    normalised_xlsx,
    to_csv,
    xlsx_value,
)
from funding.money import format_euros

PDF_CONTENT_TYPE = "application/pdf"
CONTENT_TYPES = {"csv": CSV_CONTENT_TYPE, "xlsx": XLSX_CONTENT_TYPE, "pdf": PDF_CONTENT_TYPE}

TOTAL_LABEL = "TOTAL"


@dataclass(frozen=True)
class Column:
    label: str
    money: bool = False


@dataclass(frozen=True)
class Table:
    """A document's lines: cells are str, int (cents, in money columns), Decimal or dates."""

    title: str
    columns: Sequence[Column]
    rows: Sequence[Sequence[Any]]
    total_label_column: int = 0

    def total_row(self) -> list[Any]:
        row: list[Any] = ["" for _ in self.columns]
        row[self.total_label_column] = TOTAL_LABEL
        for index, column in enumerate(self.columns):
            if column.money:
                row[index] = sum(r[index] for r in self.rows)
        return row


@dataclass(frozen=True)
class RenderedFiles:
    csv: bytes
    xlsx: bytes | None
    pdf: bytes

    def sha256(self, extension: str) -> str:
        return sha256_hex(getattr(self, extension))


def _cells(row: Sequence[Any], columns: Sequence[Column]) -> list[Any]:
    """A row for the spreadsheet writer: the cents of money columns as `Money`, an empty money cell empty."""
    return [
        Money(value) if column.money and value is not None and value != "" else value
        for value, column in zip(row, columns, strict=True)
    ]


def _rows(table: Table) -> list[list[Any]]:
    return [_cells(row, table.columns) for row in [*table.rows, table.total_row()]]


def table_to_csv(table: Table) -> bytes:
    """Semicolon-separated, UTF-8 with a BOM (spreadsheets then read the accents), amounts "1234,50", a total row."""
    return to_csv([column.label for column in table.columns], _rows(table))


def table_to_xlsx(table: Table, *, issued_on: datetime.date) -> bytes:
    """One sheet, amounts as numbers in euros formatted "# ##0,00 €", a total row. Deterministic: the package's
    created/modified dates are the issue date, and so is every ZIP entry's timestamp."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = table.title[:31]
    sheet.append([column.label for column in table.columns])
    for row in _rows(table):
        sheet.append([xlsx_value(value) for value in row])
    for index, column in enumerate(table.columns, start=1):
        if column.money:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = MONEY_FORMAT
        elif any(isinstance(row[index - 1], datetime.date) for row in table.rows):
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = DATE_FORMAT
    stamp = datetime.datetime.combine(issued_on, datetime.time())
    workbook.properties.creator = "Plateforme CléA"
    workbook.properties.created = stamp
    buffer = io.BytesIO()
    workbook.save(buffer)
    return normalised_xlsx(buffer.getvalue(), issued_on)


def _display(value: Any, money: bool) -> str:
    if money and value != "" and value is not None:
        return format_euros(value)
    return csv_text(value)


def render_files(
    table: Table, *, template: str, context: dict[str, Any], issued_on: datetime.date, xlsx: bool = True
) -> RenderedFiles:
    """The CSV, the XLSX (optional) and the PDF of a table; the PDF template receives the display strings."""
    display = {
        "columns": table.columns,
        "rows": [[_display(v, c.money) for v, c in zip(row, table.columns, strict=True)] for row in table.rows],
        "total": [_display(v, c.money) for v, c in zip(table.total_row(), table.columns, strict=True)],
        "issued_on": issued_on,
    }
    pdf = render_pdf(template, {**context, **display})
    return RenderedFiles(
        csv=table_to_csv(table), xlsx=table_to_xlsx(table, issued_on=issued_on) if xlsx else None, pdf=pdf
    )
