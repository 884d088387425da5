"""French communes: the folding that searches compare, and the loading of the committed commune table.

The table (directory/data/communes.csv.gz) is built by hand with directory/data/build_communes.py;
the platform only reads it. This module imports no model at load time: directory.models uses it.
"""

from __future__ import annotations

import csv
import gzip
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

COMMUNES_FILE = Path(__file__).resolve().parent / "data" / "communes.csv.gz"

# An INSEE code or a postcode: 5 digits, or 2A/2B and 3 digits (Corsica's INSEE codes).
COMMUNE_CODE_RE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
# "Saint-Denis (974)", as the completion writes a commune.
COMMUNE_WITH_DEPARTEMENT_RE = re.compile(r"^(?P<name>.+?)\s*\((?P<departement>\d{2,3}|2[ABab])\)$")

_ABBREVIATIONS = {"st": "saint", "ste": "sainte"}


def fold_name(text: str) -> str:
    """ "Saint-Étienne", "saint etienne" and "ST ETIENNE" all give "saint etienne"."""
    text = text.replace("œ", "oe").replace("Œ", "Oe").replace("æ", "ae").replace("Æ", "Ae")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return " ".join(_ABBREVIATIONS.get(word, word) for word in re.sub(r"[^a-z0-9]+", " ", text).split())


def read_communes(path: Path = COMMUNES_FILE, codes: Iterable[str] | None = None) -> list[dict[str, str]]:
    """The rows of the commune table (all of them, or those of the given INSEE codes)."""
    wanted = set(codes) if codes is not None else None
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        return [row for row in csv.DictReader(handle) if wanted is None or row["insee_code"] in wanted]


@dataclass(frozen=True)
class LoadReport:
    created: int
    updated: int
    deleted: int
    unchanged: int
    approximate: int

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


def _chunks(items: list[int], size: int = 500) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _CommuneValues(TypedDict):
    """A commune's fields from one row of the table (all but the INSEE code, its key)."""

    name: str
    name_folded: str
    departement: str
    departement_name: str
    region: str
    region_name: str
    postcodes: str
    population: int
    latitude: float
    longitude: float
    is_approximate: bool


def _values(row: dict[str, str]) -> _CommuneValues:
    return {
        "name": row["name"],
        "name_folded": fold_name(row["name"]),
        "departement": row["departement"],
        "departement_name": row["departement_name"],
        "region": row["region"],
        "region_name": row["region_name"],
        "postcodes": row["postcodes"],
        "population": int(row["population"] or 0),
        "latitude": float(row["latitude"]),
        "longitude": float(row["longitude"]),
        "is_approximate": bool(row["approximation"]),
    }


def communes_load(rows: list[dict[str, str]], *, delete_missing: bool = True) -> LoadReport:
    """Bring the Commune table to exactly these rows, in bulk. Idempotent: a second run changes nothing.

    Communes that left the Code officiel géographique (mergers) are deleted when `delete_missing`; nothing
    points at a commune by foreign key (sites and sheets keep the INSEE code), so that is always safe.
    """
    from django.db import transaction

    from directory.models import Commune, CommunePostcode

    fields = list(_values(rows[0]).keys()) if rows else []
    wanted = {row["insee_code"]: _values(row) for row in rows}
    with transaction.atomic():
        # Tuples, not 35,000 model instances: a run that changes nothing (each `make run`) costs a third as much.
        existing = {
            code: (pk, dict(zip(fields, current, strict=True)))
            for code, pk, *current in Commune.objects.values_list("insee_code", "pk", *fields)
        }
        to_create, to_update, postcodes_changed = [], [], []
        for code, values in wanted.items():
            if code not in existing:
                to_create.append(Commune(insee_code=code, **values))
                continue
            pk, current = existing[code]
            if current != values:
                if current["postcodes"] != values["postcodes"]:
                    postcodes_changed.append(pk)
                to_update.append(Commune(pk=pk, insee_code=code, **values))
        missing = [pk for code, (pk, _current) in existing.items() if code not in wanted] if delete_missing else []
        # In chunks: SQLite caps the number of parameters of one statement.
        for chunk in _chunks(missing):
            CommunePostcode.objects.filter(commune_id__in=chunk).delete()
            Commune.objects.filter(pk__in=chunk).delete()
        Commune.objects.bulk_create(to_create, batch_size=2000)
        if to_update:
            Commune.objects.bulk_update(to_update, fields, batch_size=2000)
        # Postcode rows of new communes and of those whose postcodes changed are written afresh.
        for chunk in _chunks(postcodes_changed):
            CommunePostcode.objects.filter(commune_id__in=chunk).delete()
        changed = set(postcodes_changed)
        refreshed = {c.insee_code for c in to_create} | {c.insee_code for c in to_update if c.pk in changed}
        if refreshed:
            ids = dict(Commune.objects.values_list("insee_code", "pk"))
            CommunePostcode.objects.bulk_create(
                [
                    CommunePostcode(commune_id=ids[code], postcode=postcode)
                    for code in sorted(refreshed)
                    for postcode in wanted[code]["postcodes"].split()
                ],
                batch_size=5000,
            )
    from directory.spelling import commune_name_index_forget

    commune_name_index_forget()
    return LoadReport(
        created=len(to_create),
        updated=len(to_update),
        deleted=len(missing),
        unchanged=len(wanted) - len(to_create) - len(to_update),
        approximate=sum(1 for values in wanted.values() if values["is_approximate"]),
    )
