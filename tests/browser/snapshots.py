"""A copy of a seeded database kept for the next test of the same process, on the embedded SQLite only.

Browser tests run with `django_db(transaction=True)`: each starts from an empty database (the previous one's rows
are flushed), so each seeding of the demo used to cost its full 6 s. SQLite's online backup copies the whole
in-memory database in a few milliseconds, both ways: the first test seeds and takes the copy, the next ones restore
it, with the documents the seeding wrote into that test's MEDIA_ROOT. On PostgreSQL (CI) nothing is kept and every
test seeds: what the copy saves is time, never a different starting point (same rows, same ids, same files).
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection

_copies: dict[str, tuple[sqlite3.Connection, Path]] = {}


def _usable() -> bool:
    """An in-memory SQLite outside any transaction (a transaction=True test): a backup may replace it whole."""
    return connection.vendor == "sqlite" and connection.is_in_memory_db() and not connection.in_atomic_block


def take_snapshot(name: str) -> None:
    if not _usable():
        return
    copy = sqlite3.connect(":memory:", check_same_thread=False)
    connection.ensure_connection()
    connection.connection.backup(copy)
    media = Path(tempfile.mkdtemp(prefix=f"snapshot-{name}-"))
    shutil.copytree(settings.MEDIA_ROOT, media, dirs_exist_ok=True)
    _copies[name] = (copy, media)


def restore_snapshot(name: str) -> bool:
    """Put the copy `name` back (database and documents); False when there is none to restore."""
    if name not in _copies or not _usable():
        return False
    copy, media = _copies[name]
    connection.ensure_connection()
    copy.backup(connection.connection)
    shutil.copytree(media, settings.MEDIA_ROOT, dirs_exist_ok=True)
    # The cache may hold the content types of the database before: the copy's are the ones that count now.
    ContentType.objects.clear_cache()
    return True
