"""The stored files of every model FileField against the rows that name them (issue 13: nothing promised is lost).

Every producer stores a document's file before it commits the row that names it, so a worker killed in between
leaves a file no row names, never a row without its file. `orphan_files_collect` removes those files once they are
older than a grace period; `missing_files` reports the opposite, rows whose file is gone (a restore to check, a
disk that lost files).

Generic over the app registry, since clea_platform imports no app: each FileField's directory is the fixed part of
its `upload_to` ("certificats/%Y/" → "certificats"), and only those directories are walked, never the whole
MEDIA_ROOT.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
from collections.abc import Iterator

from django.apps import apps
from django.conf import settings
from django.core.files.storage import Storage
from django.db import models
from django.utils import timezone

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class FileColumn:
    """One FileField of one model."""

    model: type[models.Model]
    field: models.FileField

    @property
    def label(self) -> str:
        return f"{self.model._meta.label}.{self.field.name}"

    @property
    def directory(self) -> str:
        return upload_directory(self.field.upload_to)

    def names(self) -> Iterator[str]:
        """The file names its rows hold (all rows: the base manager, which no default manager's filter narrows)."""
        attname = self.field.attname
        rows = self.model._base_manager.exclude(**{f"{attname}__isnull": True}).exclude(**{attname: ""})
        yield from rows.values_list(attname, flat=True).iterator(chunk_size=5000)


@dataclasses.dataclass(frozen=True)
class OrphanFile:
    name: str
    modified_at: datetime.datetime
    storage: Storage = dataclasses.field(repr=False, compare=False)

    def __str__(self) -> str:
        return self.name


@dataclasses.dataclass(frozen=True)
class MissingFile:
    """A row whose FileField names a file the storage does not have."""

    model: str
    pk: object
    field: str
    name: str

    def __str__(self) -> str:
        return f"{self.model} {self.pk} {self.field}: {self.name}"


def upload_directory(upload_to: object) -> str:
    """The directory every file of an `upload_to` lies under: "certificats/%Y/" → "certificats", "docs" → "docs".
    Empty when there is none to rely on (a callable, a date first): such a field's files are never collected."""
    if callable(upload_to) or not isinstance(upload_to, str):
        return ""
    if "%" not in upload_to:
        return upload_to.strip("/")
    return upload_to.split("%", 1)[0].rpartition("/")[0].strip("/")


def file_columns() -> list[FileColumn]:
    """Every concrete FileField (and ImageField) of the installed models; proxies share their model's table."""
    return [
        FileColumn(model, column)
        for model in apps.get_models()
        if not model._meta.proxy
        for column in model._meta.concrete_fields
        if isinstance(column, models.FileField)
    ]


def _walk(storage: Storage, directory: str) -> Iterator[str]:
    try:
        subdirectories, files = storage.listdir(directory)
    except FileNotFoundError:  # nothing stored there yet
        return
    for name in files:
        yield f"{directory}/{name}"
    for subdirectory in subdirectories:
        yield from _walk(storage, f"{directory}/{subdirectory}")


def _by_storage(columns: list[FileColumn]) -> list[tuple[Storage, list[FileColumn]]]:
    # The fields share `default_storage` unless one names its own: each storage is walked and read once.
    groups: dict[int, tuple[Storage, list[FileColumn]]] = {}
    for column in columns:
        groups.setdefault(id(column.field.storage), (column.field.storage, []))[1].append(column)
    return list(groups.values())


def default_grace() -> datetime.timedelta:
    return datetime.timedelta(minutes=settings.ORPHAN_FILES_GRACE_MINUTES)


def orphan_files(*, grace: datetime.timedelta | None = None) -> list[OrphanFile]:
    """The files under the FileFields' directories that no row names and that were stored more than `grace` ago
    (settings.ORPHAN_FILES_GRACE_MINUTES by default), oldest first.

    The grace period is what keeps a file being committed now: a producer stores its file, then commits the row
    within seconds (a task is killed after settings.LONG_TASK_TIME_LIMIT, and its transaction then rolls back).
    The files are listed before the rows are read, so a row committed meanwhile is seen; and no code gives a row
    a file that already exists (the storage never overwrites: a new document gets a new name), so a file no row
    names past the grace period will never be named by one.
    """
    grace = default_grace() if grace is None else grace
    cutoff = timezone.now() - grace
    orphans: list[OrphanFile] = []
    for storage, columns in _by_storage(file_columns()):
        directories = {column.directory for column in columns} - {""}
        stored = {name for directory in sorted(directories) for name in _walk(storage, directory)}
        if not stored:
            continue
        old = {}
        for name in stored:
            modified_at = storage.get_modified_time(name)
            if modified_at <= cutoff:
                old[name] = modified_at
        if not old:
            continue
        # Read after listing: one pass over each file column (a set of names: tens of MB at national scale).
        named = {name for column in columns for name in column.names()}
        orphans += [OrphanFile(name, modified_at, storage) for name, modified_at in old.items() if name not in named]
    return sorted(orphans, key=lambda orphan: (orphan.modified_at, orphan.name))


def orphan_files_collect(*, grace: datetime.timedelta | None = None, dry_run: bool = False) -> list[OrphanFile]:
    """Delete the files `orphan_files` finds (none with `dry_run`) and return them; each removal is logged.
    Idempotent: a second run finds nothing more to remove."""
    orphans = orphan_files(grace=grace)
    for orphan in orphans:
        if dry_run:
            logger.info("Orphan file (dry run, kept): %s, stored %s", orphan.name, orphan.modified_at.isoformat())
            continue
        orphan.storage.delete(orphan.name)
        logger.warning("Orphan file removed: %s, stored %s", orphan.name, orphan.modified_at.isoformat())
    return orphans


def missing_files() -> list[MissingFile]:
    """The rows whose FileField names a file their storage does not have, by model, field and primary key."""
    missing = []
    for column in file_columns():
        attname, storage = column.field.attname, column.field.storage
        rows = (
            column.model._base_manager.exclude(**{f"{attname}__isnull": True})
            .exclude(**{attname: ""})
            .values_list("pk", attname)
            .order_by("pk")
        )
        for pk, name in rows.iterator(chunk_size=5000):
            if not storage.exists(name):
                missing.append(MissingFile(column.model._meta.label, pk, column.field.name, name))
    return missing
