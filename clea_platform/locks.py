"""Serialising a check-then-insert that no unique constraint can express (e.g. "one dossier in progress per
person and certification, platform-wide", where the person is a folded name and a birth date)."""

from __future__ import annotations

from django.db import connection

# The first key of PostgreSQL's two-key advisory locks taken here, distinct from the outbox's (0x0B0C).
_LOCK_CLASS = 0x0D05


def serialise_on(key: str) -> None:
    """Hold, until the current transaction ends, a lock that every other transaction calling this with the same
    key waits for; the caller checks and writes after it, so two concurrent requests cannot both pass the check.

    PostgreSQL only: SQLite (the embedded mode) already runs one writing transaction at a time."""
    if not connection.in_atomic_block:
        raise RuntimeError("serialise_on() holds its lock until the transaction ends: call it inside one.")
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [_LOCK_CLASS, key])
