"""The audit log's hash chain: each row carries the SHA-256 of its own fields and of the previous row's hash, so that
a row altered, removed or inserted afterwards (by someone who can get past the database's triggers: a superuser, a
restored dump) breaks the chain from that row on, and `manage.py audit_verify` names it.

The serialisation below is frozen: every stored hash was computed with it. A change to it (a new field in the
hash) is a new version (`v`), computed for new rows only, with the old version kept for the rows before.

Pure functions of a row's attributes: the migration that chains the existing rows runs them on historical models.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import json
from dataclasses import dataclass
from typing import Any, Protocol

VERSION = 1
# The previous hash of the first row ever written.
GENESIS = ""


class ChainedRow(Protocol):
    pk: Any
    created_at: datetime.datetime
    actor_id: int | None
    organisation_id: int | None
    action: str
    object_type_id: int | None
    object_id: str
    object_repr: str
    ip_address: str | None
    details: Any
    previous_hash: str
    hash: str


def check_details(value: Any, path: str = "details") -> None:
    """Details hold what reads back from JSON exactly as written: strings, integers, booleans, None, lists and
    objects with string keys. A float is refused: PostgreSQL's jsonb reads 1e20 back as an integer, and the row's
    hash, computed on what was written, would no longer match what is stored."""
    if value is None or isinstance(value, bool | int | str):
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            check_details(item, f"{path}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{path}: audit details keys are strings, not {type(key).__name__}")
            check_details(item, f"{path}.{key}")
        return
    raise TypeError(f"{path}: audit details hold no {type(value).__name__} (store it as a string)")


def _ip(value: str | None) -> str | None:
    # The same text whether the database normalised it (PostgreSQL's inet) or not (SQLite).
    return str(ipaddress.ip_address(value)) if value else None


def canonical(row: ChainedRow) -> bytes:
    """The row's fields and its previous hash as one JSON text: keys sorted, no spaces, UTF-8, the date in UTC
    to the microsecond (what both databases store)."""
    created_at = row.created_at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    payload = {
        "v": VERSION,
        "created_at": created_at,
        "actor": row.actor_id,
        "organisation": row.organisation_id,
        "action": row.action,
        "object_type": row.object_type_id,
        "object_id": row.object_id,
        "object_repr": row.object_repr,
        "ip_address": _ip(row.ip_address),
        "details": row.details,
        "previous": row.previous_hash,
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def row_hash(row: ChainedRow) -> str:
    return hashlib.sha256(canonical(row)).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    count: int
    head: str  # the last row's hash: written down elsewhere, it also proves that no row was removed at the end
    broken_id: int | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_id is None


def verify(rows: Any, *, start: str = GENESIS) -> ChainReport:
    """Walk `rows` (oldest first) and report the first one whose link or hash does not hold. `start` is the
    previous hash the first row must carry: GENESIS, or the anchor a purge recorded."""
    previous, count = start, 0
    for row in rows:
        if row.previous_hash != previous:
            return ChainReport(count=count, head=previous, broken_id=row.pk, reason="link")
        if row.hash != row_hash(row):
            return ChainReport(count=count, head=previous, broken_id=row.pk, reason="hash")
        previous, count = row.hash, count + 1
    return ChainReport(count=count, head=previous)
