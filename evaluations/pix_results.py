"""Reading the results file Pix gives to organisations for its certifications (issue 21): a CSV with one line per
certification, the candidate's identity, its status, its Pix score, a level per competence (1.1 … 5.2) and the day
it was taken. Format and source: README, « Résultats Pix ». Pure functions: no database here.

Tolerant of what a spreadsheet does to the file on its way: « ; » (Pix's own) or « , » or a tab between cells,
UTF-8 with or without its BOM (Windows-1252 as a last resort), headers in any case and with or without accents,
dates as 31/12/1990, 31-12-1990 or 1990-12-31. Nothing is lost: each line keeps its raw cells beside what was read,
and a line that cannot be read carries a French error instead of being dropped."""

from __future__ import annotations

import csv
import datetime
import io
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from evaluations.models import PIX_COMPETENCES, PIX_MAX_LEVEL

# The header each field is read from, folded (see `fold`). Pix writes « Identifiant Externe »; older files had no
# « Statut » column (every line listed was then a delivered certification).
COLUMNS = {
    "certification_number": "numero de certification",
    "first_name": "prenom",
    "last_name": "nom",
    "birth_date": "date de naissance",
    "birth_place": "lieu de naissance",
    "external_id": "identifiant externe",
    "pix_status": "statut",
    "pix_score": "nombre de pix",
    "taken_on": "date de passage de la certification",
}
REQUIRED = ("first_name", "last_name", "birth_date", "taken_on")
# The statuses of a delivered certification (Pix: « Validée »); the others (Rejetée, Annulée, En erreur, Démarrée)
# record nothing.
VALIDATED_STATUSES = {"validee", "valide", "validated"}
NOT_TESTED = {"", "-", "–"}
MAX_BYTES = 20 * 1024 * 1024


def fold(text: str) -> str:
    """Lower case, no accents, single spaces: headers and statuses as a spreadsheet may have retyped them."""
    text = unicodedata.normalize("NFKD", text.replace("\ufeff", "")).encode("ascii", "ignore").decode()
    return " ".join(text.lower().replace("’", "'").split())


class PixFileError(ValueError):
    """The whole file cannot be read; the message is for the user, in French."""


@dataclass
class PixLine:
    line_number: int
    raw: dict[str, str]
    certification_number: str = ""
    first_name: str = ""
    last_name: str = ""
    birth_date: datetime.date | None = None
    birth_place: str = ""
    external_id: str = ""
    pix_status: str = ""
    pix_score: int | None = None
    taken_on: datetime.date | None = None
    levels: dict[str, int | None] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def parse_date(text: str) -> datetime.date | None:
    """A French date (31/12/1990, 31-12-1990, 31.12.1990) or an ISO one; None when it is neither."""
    text = text.strip()
    match = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text)
    try:
        if match:
            return datetime.date(int(match[3]), int(match[2]), int(match[1]))
        match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?", text)
        if match:
            return datetime.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:  # 31/02/1990
        return None
    return None


def decode(content: bytes) -> str:
    if len(content) > MAX_BYTES:
        raise PixFileError(_("Le fichier dépasse 20 Mo : découpez-le en plusieurs fichiers."))
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        # Excel's "CSV (séparateur : point-virgule)" on Windows.
        return content.decode("cp1252")
    except UnicodeDecodeError:
        raise PixFileError(
            _("Le fichier n'est pas un texte lisible : enregistrez-le au format CSV (UTF-8) et importez-le de nouveau.")
        ) from None


def _delimiter(header_line: str) -> str:
    counts = {sep: header_line.count(sep) for sep in (";", ",", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    if counts[best] == 0:
        raise PixFileError(
            _("La première ligne ne contient pas d'en-têtes séparés par « ; » ou « , » : est-ce bien un fichier CSV ?")
        )
    return best


def parse(content: bytes) -> list[PixLine]:
    """Every data line of the file, read or with its errors. Raises PixFileError when the file as a whole cannot be
    read (not text, no header, required columns missing)."""
    text = decode(content)
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    if not first:
        raise PixFileError(_("Le fichier est vide."))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first))
    read_up_to = [0]  # the last physical line of the last record read
    try:
        parsed = _read(reader, read_up_to)
    except csv.Error:
        # An unclosed quote swallows the rest of the file into one cell, until the csv module's cell limit.
        raise PixFileError(
            _(
                "Le fichier ne peut pas être lu à partir de la ligne %(line)s (guillemet non refermé ou cellule trop "
                "longue) : corrigez-le ou exportez-le de nouveau depuis Pix."
            )
            % {"line": read_up_to[0] + 1}
        ) from None
    if not parsed:
        raise PixFileError(_("Le fichier ne contient aucune ligne de résultat sous ses en-têtes."))
    return parsed


def _read(reader: Any, read_up_to: list[int]) -> list[PixLine]:
    header: list[str] | None = None
    parsed: list[PixLine] = []
    for cells in reader:
        read_up_to[0] = reader.line_num
        if header is None:
            if not any(c.strip() for c in cells):
                continue
            header = cells
            positions = _positions(header)
            continue
        if not any(c.strip() for c in cells):
            continue  # a blank line a spreadsheet left at the end
        parsed.append(_line(reader.line_num, header, cells, positions))
    return parsed


def _positions(header: list[str]) -> dict[str, int]:
    folded = [fold(h) for h in header]
    # Two columns of the same name: which one holds the value cannot be told, so the file is refused.
    twice = sorted({h.strip() for h, f in zip(header, folded, strict=True) if f and folded.count(f) > 1})
    if twice:
        raise PixFileError(
            _("Colonnes en double dans l'en-tête : %(columns)s. Gardez une seule colonne de chaque nom.")
            % {"columns": ", ".join(f"« {h} »" for h in twice)}
        )
    positions = {name: folded.index(title) for name, title in COLUMNS.items() if title in folded}
    for code in PIX_COMPETENCES:
        if code in folded:
            positions[code] = folded.index(code)
    missing = [COLUMNS[name] for name in REQUIRED if name not in positions]
    labels = {
        "prenom": "Prénom",
        "nom": "Nom",
        "date de naissance": "Date de naissance",
        "date de passage de la certification": "Date de passage de la certification",
    }
    if missing:
        raise PixFileError(
            _("Colonnes manquantes : %(columns)s. Importez le fichier de résultats tel que Pix le fournit.")
            % {"columns": ", ".join(f"« {labels[m]} »" for m in missing)}
        )
    if not any(code in positions for code in PIX_COMPETENCES):
        raise PixFileError(
            _("Aucune colonne de compétence (« 1.1 » à « 5.2 ») : ce n'est pas un fichier de résultats Pix.")
        )
    return positions


def _line(number: int, header: list[str], cells: list[str], positions: dict[str, int]) -> PixLine:
    # A spreadsheet drops the empty cells at the end of a line, or adds empty ones: the line is what its cells say
    # (a cell it lacks is then read as missing, with its own error), not an error of shape.
    if len(cells) < len(header):
        cells = cells + [""] * (len(header) - len(cells))
    elif len(cells) > len(header) and not any(c.strip() for c in cells[len(header) :]):
        cells = cells[: len(header)]
    raw = {(header[i] if i < len(header) else f"colonne {i + 1}"): cell for i, cell in enumerate(cells)}
    line = PixLine(line_number=number, raw=raw)

    def cell(name: str) -> str:
        i = positions.get(name)
        return cells[i].strip() if i is not None and i < len(cells) else ""

    if len(cells) != len(header):
        line.errors.append(
            _("La ligne a %(n)s cellules, l'en-tête %(h)s colonnes.") % {"n": len(cells), "h": len(header)}
        )
    line.certification_number = cell("certification_number")[:40]
    line.first_name, line.last_name = cell("first_name")[:150], cell("last_name")[:150]
    line.birth_place, line.external_id = cell("birth_place")[:150], cell("external_id")[:150]
    line.pix_status = cell("pix_status")[:40]
    if not line.first_name or not line.last_name:
        line.errors.append(_("Prénom ou nom manquant."))
    for name, label in (("birth_date", _("Date de naissance")), ("taken_on", _("Date de passage"))):
        value = cell(name)
        day = parse_date(value)
        if day is None:
            line.errors.append(
                _("%(label)s illisible : « %(value)s » (attendu : JJ/MM/AAAA).") % {"label": label, "value": value}
                if value
                else _("%(label)s manquante.") % {"label": label}
            )
        setattr(line, name, day)
    score = cell("pix_score")
    if score.isdigit():
        line.pix_score = int(score)
    for code in PIX_COMPETENCES:
        value = cell(code)
        if value in NOT_TESTED:
            line.levels[code] = None
        elif value.isdigit() and int(value) <= PIX_MAX_LEVEL:
            line.levels[code] = int(value)
        else:
            line.levels[code] = None
            line.errors.append(
                _("Niveau illisible pour la compétence %(code)s : « %(value)s » (attendu : 0 à 8 ou « - »).")
                % {"code": code, "value": value}
            )
    if "pix_status" in positions and fold(line.pix_status) not in VALIDATED_STATUSES:
        line.errors.append(
            _("Certification Pix au statut « %(status)s » : seule une certification validée donne un résultat.")
            % {"status": line.pix_status or "—"}
        )
    return line
