"""Backups and their proof. A backup is a directory: the PostgreSQL dump (`pg_dump --format=custom`), the row
count of every table read in the very snapshot the dump was taken from, then an archive of the media files, and
last a manifest (its presence marks a complete backup). The check restores the dump into a scratch database
created for the purpose and dropped after, compares the row counts, and verifies every document row against the
files: the file exists and its SHA-256 is the one recorded beside it.

The database goes first and the files after: a file written after the dump has no row in it (harmless, and
collected as an orphan); the other order would let a row point at a file the archive does not hold.

Generic on purpose (clea_platform imports no app): the documents are found through the app registry, each
FileField with its SHA-256 field beside it (`file` → `sha256`, `csv_file` → `csv_sha256`)."""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import secrets
import shutil
import subprocess
import tarfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Protocol

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.utils import load_backend
from django.utils.module_loading import import_string

from clea_platform.documents import file_columns

DUMP = "database.dump"
MEDIA_ARCHIVE = "media.tar"
MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
# PostgreSQL's identifier limit is 63 bytes: the source's name is cut to leave room for the suffix.
SCRATCH_SUFFIX = "_restore_check_"


class BackupError(Exception):
    """A backup or a restore could not be made (a client tool missing or failing, not PostgreSQL...)."""


# -- Documents ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentField:
    """A FileField and the field that records its file's SHA-256 (None when the model keeps none)."""

    model: str
    field: str
    table: str
    pk_column: str
    file_column: str
    sha256_column: str | None

    @property
    def label(self) -> str:
        return f"{self.model}.{self.field}"


def sha256_field_name(file_field: str) -> str:
    """`file` → `sha256`, `csv_file` → `csv_sha256`, anything else `<name>_sha256`."""
    return f"{file_field.removesuffix('file')}sha256" if file_field.endswith("file") else f"{file_field}_sha256"


def column_of(field: Any) -> str:
    # django-stubs types `column` as optional: only fields without a column of their own (relations seen from
    # the other side, generic keys) lack one, and those are never files, sha256 or primary keys.
    if not isinstance(field, models.Field) or field.column is None:
        raise BackupError(f"{field} n'a pas de colonne.")
    return field.column


def document_fields() -> list[DocumentField]:
    """Every concrete FileField of the installed models (clea_platform.documents finds them), with the columns a
    restored database is read by, in a stable order."""
    found = []
    for column in file_columns():
        meta, file_field = column.model._meta, column.field
        if not meta.managed:
            continue
        try:
            sha256_column: str | None = column_of(meta.get_field(sha256_field_name(file_field.name)))
        except FieldDoesNotExist:
            sha256_column = None
        found.append(
            DocumentField(
                model=meta.label,
                field=file_field.name,
                table=meta.db_table,
                pk_column=column_of(meta.pk),
                file_column=column_of(file_field),
                sha256_column=sha256_column,
            )
        )
    return sorted(found, key=lambda document: document.label)


def file_sha256(handle: IO[bytes]) -> str:
    digest = hashlib.sha256()
    while chunk := handle.read(1 << 20):
        digest.update(chunk)
    return digest.hexdigest()


def normalised_name(name: str) -> str:
    """A storage name or an archive member name, in one spelling: `./a//b.pdf` → `a/b.pdf`."""
    return posixpath.normpath(name).removeprefix("./")


class MediaFiles(Protocol):
    """Where the check reads the files: a directory (MEDIA_ROOT, an rsync copy) or a backup's archive."""

    description: str

    def sha256(self, name: str) -> str | None:
        """The SHA-256 of the file stored under `name`, None when there is no such file."""


class MediaDirectory:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.description = f"répertoire {root}"

    def sha256(self, name: str) -> str | None:
        path = (self.root / normalised_name(name)).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            return None
        with path.open("rb") as handle:
            return file_sha256(handle)


class MediaArchive:
    """A tar archive, read once from start to end (no seeking back, so a compressed one is read as fast)."""

    def __init__(self, path: Path) -> None:
        self.description = f"archive {path}"
        self.digests: dict[str, str] = {}
        with tarfile.open(path, "r|*") as archive:
            for member in archive:
                handle = archive.extractfile(member) if member.isfile() else None
                if handle is not None:
                    self.digests[normalised_name(member.name)] = file_sha256(handle)

    def sha256(self, name: str) -> str | None:
        return self.digests.get(normalised_name(name))


def media_files(path: Path) -> MediaFiles:
    return MediaArchive(path) if path.is_file() else MediaDirectory(path)


def media_archive_write(*, root: Path, archive: Path) -> tuple[int, int]:
    """Archive every file under `root` by its storage name; (files, bytes). An absent root gives an empty
    archive: a platform that has produced no document yet."""
    files = size = 0
    with tarfile.open(archive, "w") as tar:
        for directory, subdirectories, names in os.walk(root):
            subdirectories.sort()
            for name in sorted(names):
                path = Path(directory) / name
                if not path.is_file():
                    continue
                tar.add(path, arcname=path.relative_to(root).as_posix(), recursive=False)
                files += 1
                size += path.stat().st_size
    return files, size


# -- PostgreSQL -----------------------------------------------------------------------------------------------


def require_postgresql(database: dict[str, Any]) -> None:
    if "postgresql" not in database["ENGINE"]:
        raise BackupError(
            f"La sauvegarde et sa vérification demandent PostgreSQL (base configurée : {database['ENGINE']})."
        )


def pg_environment(database: dict[str, Any]) -> dict[str, str]:
    """The libpq variables of the client tools, from Django's settings: no password on a command line."""
    env = dict(os.environ)
    for key, variable in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if database.get(key):
            env[variable] = str(database[key])
    if sslmode := database.get("OPTIONS", {}).get("sslmode"):
        env["PGSSLMODE"] = str(sslmode)
    return env


def pg_run(tool: str, *arguments: str, database: dict[str, Any]) -> None:
    executable = shutil.which(tool)
    if executable is None:
        raise BackupError(f"{tool} est introuvable : installez le client PostgreSQL (même version que le serveur).")
    # The arguments are ours: file paths and database names, never a user's input.
    result = subprocess.run(  # noqa: S603
        [executable, *arguments], env=pg_environment(database), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BackupError(f"{tool} a échoué (code {result.returncode}) : {result.stderr.strip()}")


def database_connection(database: dict[str, Any], name: str | None = None) -> BaseDatabaseWrapper:
    """A connection of its own (not the thread's), to the configured database or to another on its server."""
    name = name or database["NAME"]
    return load_backend(database["ENGINE"]).DatabaseWrapper({**database, "NAME": name}, alias=f"backup:{name}")


def table_row_counts(connection: BaseDatabaseWrapper) -> dict[str, int]:
    """The row count of every table of the database's own schemas, by `schema.table`."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p') AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%' "
            "ORDER BY 1, 2"
        )
        counts = {}
        for schema, table in cursor.fetchall():
            cursor.execute(f"SELECT count(*) FROM {quote(schema)}.{quote(table)}")  # noqa: S608 - catalog names
            counts[f"{schema}.{table}"] = cursor.fetchone()[0]
    return counts


def manifest_anchors(connection: BaseDatabaseWrapper) -> dict[str, Any]:
    """What the apps ask the manifest to record, read in the dump's snapshot (settings.BACKUP_MANIFEST_ANCHORS: a name
    and the dotted path of a function of the connection): e.g. the audit chain's last row and hash, so that the
    manifest, kept away from the database, anchors the chain (`audit_verify --expect`). clea_platform imports no
    app: the apps are named in the settings."""
    return {name: import_string(path)(connection) for name, path in settings.BACKUP_MANIFEST_ANCHORS.items()}


# -- Taking a backup --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Backup:
    directory: Path
    manifest: dict[str, Any]

    @property
    def dump(self) -> Path:
        return self.directory / self.manifest["dump"]["file"]

    @property
    def media_archive(self) -> Path | None:
        media = self.manifest.get("media")
        return self.directory / media["file"] if media else None

    @property
    def row_counts(self) -> dict[str, int]:
        return self.manifest["tables"]

    def dump_problem(self) -> str | None:
        """Why the dump is not the one the manifest describes (missing, truncated, altered), None when it is."""
        if not self.dump.is_file():
            return f"{self.dump} : fichier absent"
        with self.dump.open("rb") as handle:
            found = file_sha256(handle)
        if found != self.manifest["dump"]["sha256"]:
            return f"{self.dump} : empreinte différente (enregistrée {self.manifest['dump']['sha256']}, lue {found})"
        return None


def backup_read(directory: Path) -> Backup:
    """A backup directory, refused without its manifest: the manifest is written last, so its absence means a
    backup that did not finish."""
    manifest = directory / MANIFEST
    if not manifest.is_file():
        raise BackupError(f"{directory} n'est pas une sauvegarde complète : {MANIFEST} manque.")
    return Backup(directory=directory, manifest=json.loads(manifest.read_text()))


def backup_take(*, destination: Path, database: dict[str, Any], media_root: Path | None, now: datetime) -> Backup:
    """Dump the database, then archive the media files under `media_root` (none: the database alone), then write
    the manifest. The row counts are read in the transaction whose snapshot pg_dump exports: they are those of
    the dump to the row, however busy the platform."""
    require_postgresql(database)
    directory = destination / f"clea-{database['NAME']}-{now:%Y%m%d-%H%M%S}"
    try:
        directory.mkdir(parents=True)
    except FileExistsError:
        raise BackupError(f"{directory} existe déjà : une sauvegarde ne remplace jamais une autre.") from None
    started = time.monotonic()
    connection = database_connection(database)
    try:
        with connection.cursor() as cursor:
            cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            counts = table_row_counts(connection)
            anchors = manifest_anchors(connection)
            # pg_dump imports the snapshot at its start; the transaction must stay open until then, so until the end.
            pg_run(
                "pg_dump",
                "--format=custom",
                f"--snapshot={snapshot}",
                f"--file={directory / DUMP}",
                f"--dbname={database['NAME']}",
                database=database,
            )
            cursor.execute("COMMIT")
    finally:
        connection.close()
    with (directory / DUMP).open("rb") as handle:
        dump_sha256 = file_sha256(handle)
    manifest: dict[str, Any] = {
        "format": MANIFEST_FORMAT,
        "created_at": now.isoformat(),
        "database": database["NAME"],
        "dump": {
            "file": DUMP,
            "bytes": (directory / DUMP).stat().st_size,
            "sha256": dump_sha256,
            "seconds": round(time.monotonic() - started, 1),
        },
        "tables": counts,
        "anchors": anchors,
        "media": None,
    }
    if media_root is not None:
        started = time.monotonic()
        files, size = media_archive_write(root=media_root, archive=directory / MEDIA_ARCHIVE)
        seconds = round(time.monotonic() - started, 1)
        manifest["media"] = {"file": MEDIA_ARCHIVE, "files": files, "bytes": size, "seconds": seconds}
    written = directory / f"{MANIFEST}.partial"
    written.write_text(json.dumps(manifest, indent=2, sort_keys=True))
    written.rename(directory / MANIFEST)
    return Backup(directory=directory, manifest=manifest)


# -- Checking a restore -----------------------------------------------------------------------------------------


@dataclass
class RestoreReport:
    scratch_database: str
    media: str
    tables: int = 0
    rows: int = 0
    table_problems: list[str] = field(default_factory=list)
    documents: Counter[str] = field(default_factory=Counter)
    document_problems: list[str] = field(default_factory=list)
    without_sha256: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.table_problems and not self.document_problems


def row_count_problems(expected: dict[str, int], restored: dict[str, int]) -> list[str]:
    problems = []
    for table in sorted(expected.keys() | restored.keys()):
        if table not in restored:
            problems.append(f"table {table} : absente de la base restaurée (attendu {expected[table]})")
        elif table not in expected:
            problems.append(f"table {table} : inattendue dans la base restaurée")
        elif expected[table] != restored[table]:
            problems.append(f"table {table} : attendu {expected[table]}, restauré {restored[table]}")
    return problems


def document_rows(connection: BaseDatabaseWrapper, document: DocumentField) -> Iterator[tuple[Any, str, str | None]]:
    """(pk, storage name, recorded SHA-256) of every row whose file is set."""
    quote = connection.ops.quote_name
    sha256 = quote(document.sha256_column) if document.sha256_column else "NULL"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote(document.pk_column)}, {quote(document.file_column)}, {sha256} "  # noqa: S608 - model names
            f"FROM {quote(document.table)} WHERE {quote(document.file_column)} <> '' ORDER BY 1"
        )
        yield from cursor.fetchall()


def document_problems(
    connection: BaseDatabaseWrapper, document: DocumentField, media: MediaFiles, report: RestoreReport
) -> None:
    for pk, name, recorded in document_rows(connection, document):
        report.documents[document.label] += 1
        where = f"{document.label} #{pk} ({name})"
        found = media.sha256(name)
        if found is None:
            report.document_problems.append(f"{where} : fichier absent")
        elif document.sha256_column is not None and not recorded:
            report.document_problems.append(f"{where} : aucune empreinte enregistrée")
        elif document.sha256_column is not None and found != recorded:
            report.document_problems.append(f"{where} : empreinte différente (enregistrée {recorded}, lue {found})")


def restore_check(
    *, dump: Path, database: dict[str, Any], expected_counts: dict[str, int], media: MediaFiles, jobs: int = 4
) -> RestoreReport:
    """Restore `dump` into a new database beside `database` on its server, compare its row counts with
    `expected_counts` and its documents with `media`, and drop it, whatever happened. Reads only: nothing is
    written to the source database nor to the files."""
    require_postgresql(database)
    started = time.monotonic()
    scratch = f"{database['NAME'][:40]}{SCRATCH_SUFFIX}{secrets.token_hex(4)}"
    report = RestoreReport(scratch_database=scratch, media=media.description)
    pg_run("createdb", "--template=template0", scratch, database=database)
    try:
        pg_run(
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            f"--jobs={jobs}",
            f"--dbname={scratch}",
            str(dump),
            database=database,
        )
        restored = database_connection(database, scratch)
        try:
            counts = table_row_counts(restored)
            report.tables, report.rows = len(counts), sum(counts.values())
            report.table_problems = row_count_problems(expected_counts, counts)
            for document in document_fields():
                if f"public.{document.table}" not in counts:
                    report.document_problems.append(f"{document.label} : table {document.table} absente")
                    continue
                if document.sha256_column is None:
                    report.without_sha256.append(document.label)
                document_problems(restored, document, media, report)
        finally:
            restored.close()
    finally:
        pg_run("dropdb", "--if-exists", "--force", scratch, database=database)
    report.seconds = round(time.monotonic() - started, 1)
    return report
