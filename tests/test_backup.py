"""Backups and their proof (issue 13): pg_dump, the media archive, and `restore_check`, which restores into a scratch
database and checks row counts and every document's file against its recorded SHA-256. The PostgreSQL tests run the
real client tools against the test database, whose rows must be committed for pg_dump to see them."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from clea_platform.backup import (
    SCRATCH_SUFFIX,
    BackupError,
    MediaArchive,
    MediaDirectory,
    backup_take,
    document_fields,
    manifest_anchors,
    sha256_field_name,
)
from evaluations.models import Attestation
from juries.models import Certificate, SessionMinutes
from organisations.services import audit_record
from tests.factories import OrganisationFactory
from tests.journey import DossierFactory
from tests.juries.factories import certified

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="pg_dump and pg_restore need PostgreSQL: set DATABASE_URL to a postgres:// URL (CI does)",
)

# Every document the platform keeps, with where its SHA-256 is recorded. A new FileField lands here, or the test says
# which model forgot to record its file's fingerprint.
DOCUMENTS = {
    "directory.DirectorySheet.file": "sha256",
    "evaluations.Attestation.file": "sha256",
    # A Pix results file as it was received (issue 21).
    "evaluations.PixImport.file": "sha256",
    # The Caisse des Dépôts' fluxes as sent and its processing reports as received (issue 21).
    "funding.CdcFlux.file": "sha256",
    "funding.CdcReportImport.file": "sha256",
    "funding.ClaimBatch.csv_file": "csv_sha256",
    "funding.ClaimBatch.pdf_file": "pdf_sha256",
    "funding.ClaimBatch.xlsx_file": "xlsx_sha256",
    "funding.FundingProof.file": "sha256",
    "funding.Statement.csv_file": "csv_sha256",
    "funding.Statement.pdf_file": "pdf_sha256",
    "juries.Certificate.file": "sha256",
    "juries.SessionMinutes.file": "sha256",
    # The earlier files of documents rendered again (issue 13), still where their document stored them.
    "outbox.DocumentVersion.file": "sha256",
}


def test_every_file_field_is_found_with_the_sha256_recorded_beside_it():
    assert {document.label: document.sha256_column for document in document_fields()} == DOCUMENTS


def test_the_sha256_field_is_named_after_the_file_field():
    assert [sha256_field_name(name) for name in ("file", "csv_file", "scan")] == ["sha256", "csv_sha256", "scan_sha256"]


def test_media_sources_read_a_file_by_its_storage_name_and_nothing_outside(tmp_path):
    root = tmp_path / "media"
    (root / "attestations").mkdir(parents=True)
    (root / "attestations" / "a.pdf").write_bytes(b"%PDF-1.7 attestation")
    (tmp_path / "secret.txt").write_bytes(b"outside")
    expected = hashlib.sha256(b"%PDF-1.7 attestation").hexdigest()
    directory = MediaDirectory(root)
    assert directory.sha256("attestations/a.pdf") == expected
    assert directory.sha256("attestations/b.pdf") is None
    assert directory.sha256("../secret.txt") is None
    archive_path = tmp_path / "media.tar.gz"
    with tarfile.open(archive_path, "w:gz") as archive:
        archive.add(root, arcname=".")
    archive = MediaArchive(archive_path)
    assert archive.sha256("attestations/a.pdf") == expected
    assert archive.sha256("attestations/b.pdf") is None


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the refusal concerns other databases")
@pytest.mark.django_db
def test_backup_refuses_a_database_other_than_postgresql(tmp_path):
    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command("backup", str(tmp_path), stdout=io.StringIO())


# -- On PostgreSQL, with the client tools ------------------------------------------------------------------------


def run_restore_check(*args: str) -> tuple[bool, str]:
    out = io.StringIO()
    try:
        call_command("restore_check", *args, stdout=out)
    except CommandError as error:
        return False, f"{out.getvalue()}{error}"
    return True, out.getvalue()


def take_backup(destination: Path) -> Path:
    out = io.StringIO()
    call_command("backup", str(destination), stdout=out)
    [directory] = destination.iterdir()
    assert f"Sauvegarde : {directory}" in out.getvalue()
    return directory


def leftover_scratch_databases() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s",
            [f"{connection.settings_dict['NAME'][:40]}{SCRATCH_SUFFIX}%"],
        )
        return [name for (name,) in cursor.fetchall()]


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_with_its_rows_and_documents_and_a_damaged_file_is_reported(settings, tmp_path):
    DossierFactory(state="partially_validated")  # its attestation is produced once committed
    certified()  # a certificate, and the closed session's minutes
    attestation, certificate, minutes = (
        Attestation.objects.get(),
        Certificate.objects.get(),
        SessionMinutes.objects.get(),
    )
    media = Path(settings.MEDIA_ROOT)

    backup = take_backup(tmp_path / "backups")
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["tables"]["public.juries_certificate"] == 1
    assert manifest["media"]["files"] == 3
    ok, report = run_restore_check(str(backup))
    assert ok, report
    assert f"Fichiers lus dans : archive {backup / 'media.tar'}" in report
    assert "Documents vérifiés : 3 ; écarts : 0" in report
    assert "evaluations.Attestation.file : 1" in report and "juries.Certificate.file : 1" in report
    assert f"Tables comparées : {len(manifest['tables'])} ; lignes : {sum(manifest['tables'].values())} ;" in report

    # One byte changed in the certificate's file: a fresh dump checked against MEDIA_ROOT names that document.
    path = media / certificate.file.name
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0x01
    path.write_bytes(bytes(content))
    ok, report = run_restore_check()
    assert not ok
    assert f"juries.Certificate.file #{certificate.pk} ({certificate.file.name}) : empreinte différente" in report
    assert "Documents vérifiés : 3 ; écarts : 1" in report
    assert report.endswith("Restauration non conforme : écarts : 1.")

    # The attestation's file gone: reported missing, the minutes still fine.
    (media / attestation.file.name).unlink()
    ok, report = run_restore_check()
    assert not ok
    assert f"evaluations.Attestation.file #{attestation.pk} ({attestation.file.name}) : fichier absent" in report
    assert minutes.file.name not in report
    assert "Documents vérifiés : 3 ; écarts : 2" in report

    # The backup's own archive still holds both intact: the backup is good whatever happened since.
    ok, report = run_restore_check(str(backup))
    assert ok, report
    assert not leftover_scratch_databases()


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_row_counts_that_differ_from_the_manifest_and_an_altered_dump_are_reported(tmp_path):
    OrganisationFactory.create_batch(2)
    backup = take_backup(tmp_path / "backups")
    manifest_path = backup / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["tables"]["public.organisations_organisation"] += 1
    manifest_path.write_text(json.dumps(manifest))
    ok, report = run_restore_check(str(backup))
    assert not ok
    assert "table public.organisations_organisation : attendu 3, restauré 2" in report
    assert "Tables comparées" in report and "écarts : 1" in report

    # A bare dump has no manifest: it is compared with the database as it is now, here one organisation more.
    OrganisationFactory()
    ok, report = run_restore_check(str(backup / "database.dump"), "--media", str(tmp_path))
    assert not ok
    assert "table public.organisations_organisation : attendu 3, restauré 2" in report

    with (backup / "database.dump").open("r+b") as dump:
        dump.seek(-1, 2)
        dump.write(b"\x00" if dump.read(1) != b"\x00" else b"\x01")
    ok, report = run_restore_check(str(backup))
    assert not ok
    assert "Dump inutilisable" in report and "empreinte différente" in report
    assert not leftover_scratch_databases()


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_backup_never_overwrites_another_taken_the_same_second(tmp_path):
    now = timezone.localtime()
    first = backup_take(destination=tmp_path, database=connection.settings_dict, media_root=None, now=now)
    dump = first.dump.read_bytes()
    with pytest.raises(BackupError, match="existe déjà"):
        backup_take(destination=tmp_path, database=connection.settings_dict, media_root=None, now=now)
    assert first.dump.read_bytes() == dump


@pytest.mark.django_db
def test_the_manifest_anchors_are_read_on_the_backups_connection():
    row = audit_record(action="test.anchor", actor=None)
    assert manifest_anchors(connection) == {"audit_chain": {"id": row.pk, "hash": row.hash}}


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_manifest_records_the_audit_chain_head_that_audit_verify_expects(tmp_path):
    audit_record(action="test.before", actor=None)
    last = audit_record(action="test.last", actor=None)
    backup = take_backup(tmp_path / "backups")
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["anchors"] == {"audit_chain": {"id": last.pk, "hash": last.hash}}
    call_command("audit_verify", "--expect", f"{last.pk}:{last.hash}", stdout=io.StringIO())
