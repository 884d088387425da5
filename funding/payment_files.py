"""The funder's payment file (remittance advice as CSV), read for import: its layout, its decoding, each row's
errors in French. Reading writes nothing; `funding.services.payment_import_plan` then checks the rows against the
batch and `payment_import` records them.

The layout, one row per line paid, a header first (column names in any order, case and accents ignored):

    reference_ligne;lot;montant;date;reference_paiement
    FT-59-2026-0342;LOT-13002526500019-2026-0001;540,00;15/03/2026;VIR-2026-0415

- `reference_ligne`: the funder's reference of the line (the batch file's "Référence financeur"), required;
- `lot`: the batch's number, optional; when given, it must be the batch the file is imported on;
- `montant`: the amount paid for the line, including VAT, in euros ("540,00", "540.00", "1 234,50 €");
- `date`: the day the transfer was received (DD/MM/YYYY or YYYY-MM-DD), not in the future;
- `reference_paiement`: the transfer's reference; one file may hold several transfers, each recorded once.

Semicolon or comma separated (with commas, amounts with a decimal comma are quoted, as spreadsheets write them),
UTF-8 with or without a byte order mark.
"""

from __future__ import annotations

import csv
import datetime
import io
import unicodedata
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from funding.money import MAX_CENTS, parse_euros

MAX_BYTES = 1024 * 1024
MAX_ROWS = 5000

# Canonical column → the names a funder's file may give it (after `_header_key`).
COLUMNS: dict[str, tuple[str, ...]] = {
    "reference_ligne": ("reference_ligne", "reference_financeur", "reference_du_financeur", "reference_dossier"),
    "lot": ("lot", "reference_lot", "numero_lot", "numero_de_lot", "n_lot", "n_de_lot"),
    "montant": ("montant", "montant_ttc", "montant_paye", "montant_paye_ttc"),
    "date": (
        "date",
        "date_paiement",
        "date_de_paiement",
        "date_du_paiement",
        "date_virement",
        "date_du_virement",
        "date_reception",
        "date_de_reception",
    ),
    "reference_paiement": (
        "reference_paiement",
        "reference_du_paiement",
        "reference_virement",
        "reference_du_virement",
        "virement",
    ),
}
REQUIRED = ("reference_ligne", "montant", "date", "reference_paiement")


@dataclass(frozen=True)
class FileRow:
    number: int  # the row's line in the file, the header being line 1
    line_reference: str
    batch_reference: str
    amount_cents: int
    paid_on: datetime.date
    payment_reference: str


@dataclass(frozen=True)
class RowError:
    number: int | None  # None: the file as a whole
    column: str
    message: str


@dataclass
class ParsedFile:
    rows: list[FileRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def _header_key(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.strip().lower())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return "_".join(plain.replace("°", " ").replace("-", " ").replace(".", " ").split())


def _columns(header: list[str]) -> tuple[dict[str, int], list[RowError]]:
    keys = [_header_key(name) for name in header]
    positions: dict[str, int] = {}
    for column, names in COLUMNS.items():
        found = [index for index, key in enumerate(keys) if key in names]
        if found:
            positions[column] = found[0]
    missing = [column for column in REQUIRED if column not in positions]
    if not missing:
        return positions, []
    message = ngettext(
        "Colonne manquante dans l'en-tête : %(columns)s (attendu : %(layout)s).",
        "Colonnes manquantes dans l'en-tête : %(columns)s (attendu : %(layout)s).",
        len(missing),
    ) % {"columns": ", ".join(missing), "layout": ";".join(COLUMNS)}
    return positions, [RowError(1, ", ".join(missing), message)]


def parse_date(text: str) -> datetime.date:
    """ "15/03/2026" or "2026-03-15" → a date. Raises ValueError otherwise."""
    day, month, year = (text.strip().split("/") + ["", ""])[:3]
    if not year:
        year, month, day = (text.strip().split("-") + ["", ""])[:3]
    if not (len(year) == 4 and year.isdigit() and month.isdigit() and day.isdigit()):
        raise ValueError(text)
    return datetime.date(int(year), int(month), int(day))


def decode(content: bytes) -> str:
    """UTF-8, with or without the byte order mark Excel writes. Raises UnicodeDecodeError otherwise."""
    return content.decode("utf-8-sig")


def read_payment_file(content: bytes, *, today: datetime.date | None = None) -> ParsedFile:
    """The rows of a payment file and every error found, by row and column; nothing is checked against the
    batch here (see `funding.services.payment_import_plan`)."""
    parsed = ParsedFile()
    if len(content) > MAX_BYTES:
        parsed.errors.append(RowError(None, "", _("Le fichier dépasse 1 Mo : découpez-le par virement.")))
        return parsed
    try:
        text = decode(content)
    except UnicodeDecodeError:
        parsed.errors.append(
            RowError(None, "", _("Le fichier n'est pas en UTF-8 : enregistrez-le au format « CSV UTF-8 ».")),
        )
        return parsed
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = ";" if ";" in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next((row for row in reader if any(cell.strip() for cell in row)), None)
    if header is None:
        parsed.errors.append(RowError(None, "", _("Le fichier est vide.")))
        return parsed
    positions, header_errors = _columns(header)
    if header_errors:
        parsed.errors.extend(header_errors)
        return parsed
    today = today or timezone.localdate()
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        number = reader.line_num
        if len(parsed.rows) + len(parsed.errors) >= MAX_ROWS:
            parsed.errors.append(
                RowError(number, "", _("Plus de %(max)s lignes : découpez le fichier.") % {"max": MAX_ROWS})
            )
            break
        row, errors = _read_row(number, cells, positions, len(header), delimiter, today)
        parsed.errors.extend(errors)
        if row is not None:
            parsed.rows.append(row)
    if not parsed.rows and not parsed.errors:
        parsed.errors.append(RowError(None, "", _("Le fichier ne contient aucune ligne de paiement.")))
    return parsed


def _read_row(
    number: int,
    cells: list[str],
    positions: dict[str, int],
    width: int,
    delimiter: str,
    today: datetime.date,
) -> tuple[FileRow | None, list[RowError]]:
    if len(cells) != width:
        message = _("%(found)s colonnes au lieu de %(expected)s.") % {"found": len(cells), "expected": width}
        if delimiter == ",":
            message += " " + _(
                'Avec la virgule pour séparateur, mettez les montants entre guillemets ("540,00"), ou '
                "séparez les colonnes par des points-virgules."
            )
        return None, [RowError(number, "", message)]

    def cell(column: str) -> str:
        return cells[positions[column]].strip() if column in positions else ""

    errors: list[RowError] = []
    line_reference, payment_reference = cell("reference_ligne"), cell("reference_paiement")
    if not line_reference:
        errors.append(RowError(number, "reference_ligne", _("La référence de la ligne est vide.")))
    if not payment_reference:
        errors.append(RowError(number, "reference_paiement", _("La référence du paiement est vide.")))
    amount_cents = 0
    try:
        amount_cents = parse_euros(cell("montant"))
    except ValueError:
        errors.append(
            RowError(
                number,
                "montant",
                _("« %(value)s » n'est pas un montant en euros (par exemple 540,00).") % {"value": cell("montant")},
            )
        )
    else:
        if amount_cents <= 0:
            errors.append(RowError(number, "montant", _("Le montant doit être positif.")))
        elif amount_cents > MAX_CENTS:
            errors.append(RowError(number, "montant", _("Le montant est hors limites.")))
    paid_on = today
    try:
        paid_on = parse_date(cell("date"))
    except ValueError:
        errors.append(
            RowError(
                number,
                "date",
                _("« %(value)s » n'est pas une date (JJ/MM/AAAA ou AAAA-MM-JJ).") % {"value": cell("date")},
            )
        )
    else:
        if paid_on > today:
            errors.append(RowError(number, "date", _("La date du paiement est dans le futur.")))
    if errors:
        return None, errors
    return FileRow(number, line_reference, cell("lot"), amount_cents, paid_on, payment_reference), []
