"""The stored files against the rows that name them (clea_platform.documents): the orphans a killed worker leaves
are collected after a grace period, a file a row names never is, and the rows whose file is gone are reported."""

import datetime
import io
import os
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from clea_platform.documents import (
    MissingFile,
    file_columns,
    missing_files,
    orphan_files,
    orphan_files_collect,
    upload_directory,
)
from juries.models import Certificate
from juries.services import minutes_generate
from organisations.tasks import documents_collect_orphans_task
from tests.juries.factories import certified

pytestmark = pytest.mark.django_db

TASK = "organisations.tasks.documents_collect_orphans_task"


def stored(name: str, *, minutes_ago: float) -> str:
    """A real file in the media storage, last written `minutes_ago` minutes ago; returns its stored name."""
    name = default_storage.save(name, ContentFile(b"%PDF-1.7 orphan"))
    age(name, minutes_ago=minutes_ago)
    return name


def age(name: str, *, minutes_ago: float) -> None:
    moment = time.time() - minutes_ago * 60
    os.utime(default_storage.path(name), (moment, moment))


def exists(name: str) -> bool:
    return Path(default_storage.path(name)).is_file()


@pytest.mark.parametrize(
    ("upload_to", "directory"),
    [
        ("certificats/%Y/", "certificats"),
        ("financements/lots/%Y/", "financements/lots"),
        ("exports", "exports"),
        ("exports/%Y-%m/%d", "exports"),
        ("%Y/", ""),
        ("", ""),
        (lambda instance, filename: filename, ""),
    ],
)
def test_a_field_directory_is_the_fixed_part_of_its_upload_to(upload_to, directory):
    assert upload_directory(upload_to) == directory


def test_every_document_field_of_the_apps_is_found_with_its_directory():
    directories = {column.label: column.directory for column in file_columns()}
    assert directories["juries.Certificate.file"] == "certificats"
    assert directories["juries.SessionMinutes.file"] == "proces-verbaux"
    assert directories["evaluations.Attestation.file"] == "attestations"
    assert directories["funding.ClaimBatch.pdf_file"] == "financements/lots"
    assert directories["funding.Statement.csv_file"] == "financements/releves"
    assert directories["funding.FundingProof.file"] == "financements/justificatifs"
    assert directories["directory.DirectorySheet.file"] == "directory_sheets"
    # An earlier version's file stays in its document's directory: no directory of its own to walk, only names.
    assert directories["outbox.DocumentVersion.file"] == ""


def test_an_old_file_no_row_names_is_removed_and_reported_and_the_documents_stay():
    _jury, _submission, certificate = certified()
    age(certificate.file.name, minutes_ago=600)
    stray = stored("certificats/2024/CLEA-2024-0000007.pdf", minutes_ago=120)
    stray_batch = stored("financements/lots/2023/LOT-1.csv", minutes_ago=60 * 24 * 30)

    removed = orphan_files_collect()

    assert [orphan.name for orphan in removed] == [stray_batch, stray]  # oldest first
    assert not exists(stray) and not exists(stray_batch)
    assert exists(certificate.file.name)
    assert orphan_files_collect() == []  # a second run finds nothing more


def test_a_file_younger_than_the_grace_period_is_kept(settings):
    being_committed = stored("certificats/2025/CLEA-2025-0000001.pdf", minutes_ago=30)
    assert settings.ORPHAN_FILES_GRACE_MINUTES == 60
    assert orphan_files_collect() == []
    assert exists(being_committed)
    settings.ORPHAN_FILES_GRACE_MINUTES = 20
    assert [orphan.name for orphan in orphan_files_collect()] == [being_committed]
    assert not exists(being_committed)


def test_a_file_a_row_names_is_never_removed_however_old():
    jury, _submission, certificate = certified()
    minutes = minutes_generate(session_id=jury.session.pk)
    for name in (certificate.file.name, minutes.file.name):
        age(name, minutes_ago=60 * 24 * 365)
    assert orphan_files_collect(grace=datetime.timedelta(0)) == []
    assert exists(certificate.file.name) and exists(minutes.file.name)


def test_a_dry_run_reports_the_orphans_and_removes_nothing():
    stray = stored("attestations/2024/ATT-X-1.pdf", minutes_ago=90)
    assert [orphan.name for orphan in orphan_files_collect(dry_run=True)] == [stray]
    assert exists(stray)


def test_files_outside_the_document_directories_are_never_touched():
    elsewhere = [stored("autre/vieux.pdf", minutes_ago=6000), stored("racine.pdf", minutes_ago=6000)]
    assert orphan_files(grace=datetime.timedelta(0)) == []
    assert orphan_files_collect(grace=datetime.timedelta(0)) == []
    assert all(exists(name) for name in elsewhere)


def test_missing_files_names_the_rows_whose_file_is_gone():
    jury, _submission, certificate = certified()
    minutes = minutes_generate(session_id=jury.session.pk)
    assert missing_files() == []
    os.remove(certificate.file.path)
    assert missing_files() == [MissingFile("juries.Certificate", certificate.pk, "file", certificate.file.name)]
    assert str(missing_files()[0]) == f"juries.Certificate {certificate.pk} file: {certificate.file.name}"
    # A row without a file (a certificate left by the code before issue 13) names none: nothing is missing.
    Certificate.objects.filter(pk=certificate.pk).update(file="", sha256="")
    assert missing_files() == []
    assert exists(minutes.file.name)


def test_the_command_lists_in_a_dry_run_and_takes_the_grace_period_in_minutes():
    stray = stored("proces-verbaux/2024/PV-1.pdf", minutes_ago=90)
    out = io.StringIO()
    call_command("documents_collect_orphans", "--dry-run", stdout=out)
    assert f"would remove {stray}" in out.getvalue()
    assert "Orphan files found: 1 (dry run: none removed)." in out.getvalue()
    assert exists(stray)

    out = io.StringIO()
    call_command("documents_collect_orphans", "--grace-minutes", "120", stdout=out)
    assert out.getvalue() == "Orphan files removed: 0.\n"
    assert exists(stray)

    out = io.StringIO()
    call_command("documents_collect_orphans", stdout=out)
    assert f"removed {stray}" in out.getvalue()
    assert not exists(stray)

    with pytest.raises(CommandError):
        call_command("documents_collect_orphans", "--grace-minutes", "-1")


def test_the_daily_task_collects_the_orphans_once():
    [entry] = [e for e in django_settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == TASK]
    assert entry["schedule"] == 60 * 60 * 24
    stored("directory_sheets/2024/fiche.pdf", minutes_ago=120)
    assert documents_collect_orphans_task.delay().get() == 1
    assert documents_collect_orphans_task.delay().get() == 0
