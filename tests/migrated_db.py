"""The embedded (SQLite) test database copied from a migrated one kept between runs, instead of migrated again by
every test process: applying the ~80 migrations costs 12 to 20 s of processor per process (Django renders the
models again for nearly each operation), paid by each xdist worker and by each run of a single file.

The copy is keyed by the bytes of every migration of every installed app, the models' names (the content types and
permissions that post_migrate creates), Django's and SQLite's versions: a new or edited migration makes a new key,
hence one full migration again. PostgreSQL (CI) is migrated as before. `CLEA_TEST_DB_CACHE=off` turns it off.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import sys
import tempfile
from pathlib import Path

import django
from django.apps import apps
from django.db import connections
from django.db.migrations.loader import MigrationLoader

# One folder per user: another user's would refuse our writes, or hand us a database of theirs.
CACHE = Path(tempfile.gettempdir()) / f"clea-migrated-test-db-{os.getuid()}"


def _key() -> str:
    digest = hashlib.sha256(f"{django.__version__} {sqlite3.sqlite_version}".encode())
    loader = MigrationLoader(None, ignore_no_migrations=True)
    for key in sorted(loader.disk_migrations):
        migration = loader.disk_migrations[key]
        digest.update(repr(key).encode())
        digest.update(Path(sys.modules[migration.__module__].__file__ or "").read_bytes())
    digest.update(" ".join(sorted(model._meta.label for model in apps.get_models())).encode())
    return digest.hexdigest()[:24]


def install(alias: str = "default") -> None:
    """Wraps the creation of the in-memory SQLite test database of `alias` (before pytest-django creates it)."""
    connection = connections[alias]
    if connection.vendor != "sqlite" or os.environ.get("CLEA_TEST_DB_CACHE") == "off":
        return
    creation = connection.creation
    if not creation.is_in_memory_db(creation._get_test_db_name()):
        return
    migrated = CACHE / f"{_key()}.sqlite3"
    create_test_db = creation.create_test_db

    def create_from_copy(verbosity=1, autoclobber=False, serialize=True, keepdb=False) -> str:
        if not _usable(migrated):
            name = create_test_db(verbosity=verbosity, autoclobber=autoclobber, serialize=serialize, keepdb=keepdb)
            try:
                _save(connection.connection, migrated)
            except OSError:
                pass  # no cache this time: the next run migrates again
            return name
        # What BaseDatabaseCreation.create_test_db does, with a copy of the migrated database for `migrate`.
        name = creation._get_test_db_name()
        creation._create_test_db(verbosity, autoclobber, keepdb)
        connection.close()
        connection.settings_dict["NAME"] = name
        from django.conf import settings

        settings.DATABASES[alias]["NAME"] = name
        connection.ensure_connection()
        source = sqlite3.connect(f"file:{migrated}?mode=ro", uri=True)
        try:
            source.backup(connection.connection)
        finally:
            source.close()
        if serialize:
            connection._test_serialized_contents = creation.serialize_db_to_string()
        from django.core.management import call_command

        call_command("createcachetable", database=alias)
        return name

    creation.create_test_db = create_from_copy  # type: ignore[method-assign]


def _usable(path: Path) -> bool:
    """A saved copy that opens read-only and holds its migrations; a truncated or foreign file is deleted, so that
    this run migrates and saves a good one instead of every later run failing on missing tables."""
    if not path.exists():
        return False
    try:
        database = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            ok = database.execute("PRAGMA quick_check").fetchone() == ("ok",)
            ok = ok and database.execute("SELECT COUNT(*) FROM django_migrations").fetchone()[0] > 0
        finally:
            database.close()
    except sqlite3.DatabaseError:
        ok = False
    if not ok:
        path.unlink(missing_ok=True)
    return ok


def _save(database: sqlite3.Connection, path: Path) -> None:
    """Written under a name of this process's own, then renamed: two xdist workers may save the same key at once."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.partial")
    copy = sqlite3.connect(partial)
    try:
        database.backup(copy)
    finally:
        copy.close()
    os.replace(partial, path)
