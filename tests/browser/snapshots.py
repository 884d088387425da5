"""A copy of a seeded database kept for the next test of the same process.

Browser tests run with `django_db(transaction=True)`: each starts from an empty database (the previous one's rows
are flushed), so each seeding of the demo used to cost its full 6 s (10 s on PostgreSQL). The first test seeds and
takes the copy, the next ones restore it, with the documents the seeding wrote into that test's MEDIA_ROOT. What the
copy saves is time, never a different starting point (same rows, same ids, same sequences, same files).

- On the embedded SQLite, the online backup copies the whole in-memory database in a few milliseconds, both ways.
- On PostgreSQL (CI), the copy is a database made from the test database as a template, and a restore makes the test
  database again from the copy (CREATE DATABASE ... TEMPLATE copies files, well under a second). Both need the
  source without sessions: this process's own are closed first, and those another thread of it keeps (the live
  server's) are ended by the server; Django's connection health checks open new ones on their next request.
"""

from __future__ import annotations

import atexit
import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, connections

_copies: dict[str, tuple[Any, Path]] = {}


def _sqlite_usable() -> bool:
    """An in-memory SQLite outside any transaction (a transaction=True test): a backup may replace it whole."""
    return connection.vendor == "sqlite" and connection.is_in_memory_db() and not connection.in_atomic_block


def _postgresql_usable() -> bool:
    return connection.vendor == "postgresql" and not connection.in_atomic_block


def _copy_postgresql_database(source: str, target: str) -> None:
    """Make `target` a copy of `source` (replacing it), from a session on the maintenance database."""
    connections.close_all()
    with connection._nodb_cursor() as cursor:  # Django's own way to reach the server outside the test database
        quote = connection.ops.quote_name
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [source],
        )
        cursor.execute(f"DROP DATABASE IF EXISTS {quote(target)} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {quote(target)} TEMPLATE {quote(source)}")


def _drop_postgresql_database(name: str) -> None:
    with connection._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(name)} WITH (FORCE)")


def _keep_media() -> Path:
    media = Path(tempfile.mkdtemp(prefix="snapshot-"))
    shutil.copytree(settings.MEDIA_ROOT, media, dirs_exist_ok=True)
    return media


def take_snapshot(name: str) -> None:
    if _sqlite_usable():
        copy = sqlite3.connect(":memory:", check_same_thread=False)
        connection.ensure_connection()
        connection.connection.backup(copy)
        _copies[name] = (copy, _keep_media())
    elif _postgresql_usable():
        database = connection.settings_dict["NAME"]
        copy_name = f"{database}_snapshot_{name}"
        _copy_postgresql_database(database, copy_name)
        atexit.register(_drop_postgresql_database, copy_name)
        _copies[name] = (copy_name, _keep_media())


def restore_snapshot(name: str) -> bool:
    """Put the copy `name` back (database and documents); False when there is none to restore."""
    if name not in _copies:
        return False
    copy, media = _copies[name]
    if _sqlite_usable():
        connection.ensure_connection()
        copy.backup(connection.connection)
    elif _postgresql_usable():
        _copy_postgresql_database(copy, connection.settings_dict["NAME"])
    else:
        return False
    shutil.copytree(media, settings.MEDIA_ROOT, dirs_exist_ok=True)
    # The cache may hold the content types of the database before: the copy's are the ones that count now.
    ContentType.objects.clear_cache()
    return True
