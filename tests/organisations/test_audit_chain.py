"""The audit log cannot be altered by the application, and any alteration from outside it is found: PostgreSQL's
trigger refuses UPDATE and DELETE, and each row chains the hash of the previous one, which `audit_verify` checks."""

import datetime
import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from clea_platform import locks
from organisations import audit_chain
from organisations.models import AUDIT_CHAIN_LOCK, AuditLog
from organisations.services import (
    AUDIT_PURGE_ACTION,
    audit_chain_head,
    audit_chain_verify,
    audit_purge,
    audit_record,
)
from tests.factories import OrganisationFactory, UserFactory

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the trigger and the advisory lock are PostgreSQL's: set DATABASE_URL to a postgres:// URL (CI does)",
)


def _rows(count: int, **kwargs) -> list[AuditLog]:
    organisation, actor = OrganisationFactory(), UserFactory()
    return [
        audit_record(action=f"test.step_{n}", actor=actor, organisation=organisation, obj=organisation, **kwargs)
        for n in range(count)
    ]


@contextmanager
def behind_the_trigger() -> Iterator[None]:
    """Write as someone who gets past the trigger: a PostgreSQL superuser, whose session skips ordinary triggers
    (session_replication_role = replica); SQLite has no trigger to get past."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
        yield


def _verify() -> tuple[int, str]:
    """audit_verify's exit code and what it printed."""
    out = io.StringIO()
    try:
        call_command("audit_verify", stdout=out)
    except CommandError as error:
        return error.returncode, str(error)
    return 0, out.getvalue()


# -- The chain --------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_row_carries_the_hash_of_the_one_before_it():
    first, second, third = _rows(3)
    assert first.previous_hash == audit_chain.GENESIS
    assert second.previous_hash == first.hash and third.previous_hash == second.hash
    # The hash is the one of the row as stored, read back from the database.
    stored = AuditLog.objects.get(pk=second.pk)
    assert stored.hash == audit_chain.row_hash(stored) == second.hash
    assert len({first.hash, second.hash, third.hash}) == 3


@pytest.mark.django_db
def test_audit_verify_proves_an_intact_chain_and_counts_its_rows():
    rows = _rows(3, details={"fields": ["name"], "count": 2, "nested": {"ok": True, "none": None}})
    code, output = _verify()
    assert code == 0
    assert output.startswith("Journal d'audit intègre : 3 entrées chaînées.")
    assert rows[-1].hash in output


@pytest.mark.django_db
def test_an_empty_log_verifies():
    code, output = _verify()
    assert (code, output.strip()) == (0, "Journal d'audit intègre : 0 entrée chaînée. Dernière empreinte : -")


@pytest.mark.django_db
def test_a_row_altered_behind_the_trigger_is_named_by_audit_verify():
    first, second, third = _rows(3)
    with behind_the_trigger(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {AuditLog._meta.db_table} SET action = %s WHERE id = %s",  # noqa: S608  (a table name)
            ["test.rewritten", second.pk],
        )
    code, output = _verify()
    assert code == 1
    assert f"Journal d'audit altéré à l'entrée n° {second.pk} : son contenu ne correspond plus" in output
    assert "1 entrée vérifiée avant elle" in output


@pytest.mark.django_db
def test_a_row_removed_behind_the_trigger_is_found_at_the_next_one():
    first, second, third = _rows(3)
    with behind_the_trigger(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditLog._meta.db_table} WHERE id = %s", [second.pk])  # noqa: S608
    report = audit_chain_verify()
    assert (report.broken_id, report.reason, report.count) == (third.pk, "link", 1)
    code, output = _verify()
    assert code == 1 and f"n° {third.pk} : elle ne suit pas l'entrée précédente" in output


@pytest.mark.django_db
def test_a_rehashed_row_still_breaks_the_link_of_the_next_one():
    # Whoever alters a row and recomputes its hash must recompute every hash after it: the last one, written down
    # elsewhere (audit_verify prints it), then no longer matches.
    first, second, third = _rows(3)
    second.action = "test.rewritten"
    new_hash = audit_chain.row_hash(second)
    with behind_the_trigger(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {AuditLog._meta.db_table} SET action = %s, hash = %s WHERE id = %s",  # noqa: S608
            ["test.rewritten", new_hash, second.pk],
        )
    assert (audit_chain_verify().broken_id, audit_chain_verify().reason) == (third.pk, "link")


@pytest.mark.django_db
def test_details_that_would_not_read_back_as_written_are_refused():
    with pytest.raises(TypeError, match="float"):
        audit_record(action="test.float", actor=None, details={"hours": 1.5})
    with pytest.raises(TypeError, match="keys are strings"):
        audit_record(action="test.key", actor=None, details={"by_id": {1: "a"}})
    assert not AuditLog.objects.exists()


@pytest.mark.django_db
def test_rows_are_written_one_at_a_time():
    with pytest.raises(PermissionError):
        AuditLog.objects.bulk_create([AuditLog(action="test.bulk")])


@pytest.mark.django_db
def test_a_candidates_row_names_no_one():
    from tests.journey import DossierFactory

    candidate = DossierFactory(last_name="Lefèvre", first_name="Hélène").candidate
    row = audit_record(action="test.candidate", actor=None, obj=candidate)
    assert row.object_repr == f"Personne candidate n° {candidate.pk}"
    assert "Lef" not in "".join(AuditLog.objects.values_list("object_repr", flat=True))


# -- The retention purge ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_purge_removes_the_old_rows_and_chains_a_row_that_verify_starts_from():
    long_ago = timezone.now() - datetime.timedelta(days=400)
    old = [AuditLog(action=f"test.old_{n}", created_at=long_ago) for n in range(2)]
    for row in old:
        row.save()
    kept = _rows(1)[0]
    assert audit_chain_verify().intact

    assert audit_purge(before=timezone.now() - datetime.timedelta(days=365)) == 2

    assert not AuditLog.objects.filter(pk__in=[r.pk for r in old]).exists()
    purge = AuditLog.objects.get(action=AUDIT_PURGE_ACTION)
    assert purge.previous_hash == kept.hash
    assert purge.details["count"] == 2
    assert (purge.details["through_id"], purge.details["through_hash"]) == (old[1].pk, old[1].hash)
    report = audit_chain_verify()
    assert report.intact and report.count == 2  # the row kept and the purge's own
    _rows(1)
    assert audit_chain_verify().intact


@pytest.mark.django_db
def test_a_purge_of_every_row_leaves_its_own_row_chained_to_the_last_one_removed():
    rows = _rows(2)
    assert audit_purge(before=timezone.now() + datetime.timedelta(seconds=1)) == 2
    purge = AuditLog.objects.get()
    assert purge.action == AUDIT_PURGE_ACTION and purge.previous_hash == rows[-1].hash
    _rows(1)
    report = audit_chain_verify()
    assert report.intact and report.count == 2
    assert audit_purge(before=timezone.now() - datetime.timedelta(days=1)) == 0


@pytest.mark.django_db
def test_the_purge_command_takes_a_past_date():
    _rows(1)
    out = io.StringIO()
    call_command("audit_purge", "--before", "2000-01-01", stdout=out)
    assert out.getvalue().strip() == "0 entrée du journal d'audit supprimée (écrite avant le 01/01/2000)."
    with pytest.raises(CommandError, match="passée"):
        call_command("audit_purge", "--before", f"{timezone.localdate() + datetime.timedelta(days=1):%Y-%m-%d}")
    assert AuditLog.objects.count() == 1


# -- PostgreSQL: the trigger and concurrent writers -------------------------------------------------------------


@on_postgresql
@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {table} SET action = 'test.rewritten' WHERE id = %s",
        "UPDATE {table} SET details = '{{}}', hash = hash WHERE id = %s",
        "DELETE FROM {table} WHERE id = %s",
    ],
)
def test_the_database_refuses_to_update_or_delete_a_row(statement):
    row = _rows(1)[0]
    with pytest.raises(DatabaseError, match="Cannot update or delete rows"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement.format(table=AuditLog._meta.db_table), [row.pk])
    assert AuditLog.objects.get().action == "test.step_0"
    assert audit_chain_verify().intact


def _in_a_thread(target, *args) -> threading.Thread:
    def run() -> None:
        try:
            target(*args)
        finally:
            connection.close()  # the thread's own connection

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _waiting_on_the_chain_lock() -> bool:
    """Whether a session waits for the chain's advisory lock in this database (pg_locks lists the whole cluster's:
    other test processes' databases too). A two-key lock shows its first key as classid and its second as objid."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objsubid = 2"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND classid = %s AND objid = hashtext(%s)::oid",
            [locks._LOCK_CLASS, AUDIT_CHAIN_LOCK],
        )
        return cursor.fetchone()[0] > 0


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_writer_waits_for_the_uncommitted_row_before_it_instead_of_forking_the_chain():
    organisation = OrganisationFactory()
    first_inserted, second_done = threading.Event(), threading.Event()

    def first() -> None:
        with transaction.atomic():
            audit_record(action="test.first", actor=None, organisation=organisation)
            first_inserted.set()
            # Commit only once the second writer is waiting for this transaction, or (without the lock) done.
            deadline = timezone.now() + datetime.timedelta(seconds=10)
            while not second_done.is_set() and not _waiting_on_the_chain_lock() and timezone.now() < deadline:
                second_done.wait(0.02)

    def second() -> None:
        first_inserted.wait(10)
        audit_record(action="test.second", actor=None, organisation=organisation)
        second_done.set()

    threads = [_in_a_thread(first), _in_a_thread(second)]
    for thread in threads:
        thread.join(20)

    rows = list(AuditLog.objects.chain())
    assert [row.action for row in rows] == ["test.first", "test.second"]
    assert rows[1].previous_hash == rows[0].hash
    assert audit_chain_verify().intact


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_threads_writing_at_once_keep_one_chain():
    organisation = OrganisationFactory()
    start = threading.Barrier(2)

    def write(name: str) -> None:
        start.wait(10)
        for n in range(25):
            with transaction.atomic():
                audit_record(action=f"test.{name}_{n}", actor=None, organisation=organisation)

    threads = [_in_a_thread(write, "a"), _in_a_thread(write, "b")]
    for thread in threads:
        thread.join(60)

    report = audit_chain_verify()
    assert report.intact and report.count == 50
    assert len(set(AuditLog.objects.values_list("previous_hash", flat=True))) == 50


# -- Anchors written down outside the database ------------------------------------------------------------------


def _verify_with(*arguments: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("audit_verify", *arguments, stdout=out)
    except CommandError as error:
        return error.returncode, str(error)
    return 0, out.getvalue()


@pytest.mark.django_db
def test_audit_verify_head_prints_the_last_rows_id_and_hash():
    rows = _rows(3)
    assert _verify_with("--head") == (0, f"{rows[-1].pk}:{rows[-1].hash}\n")
    assert audit_chain_head() == {"id": rows[-1].pk, "hash": rows[-1].hash}
    code, output = _verify()
    assert f"Ancre à noter hors de la base : {rows[-1].pk}:{rows[-1].hash}" in output


@pytest.mark.django_db
def test_an_anchor_still_in_the_chain_is_found():
    rows = _rows(3)
    _rows(2)  # written after the anchor was noted
    code, output = _verify_with("--expect", f"{rows[-1].pk}:{rows[-1].hash.upper()}")
    assert code == 0, output
    assert f"Ancre retrouvée : l'entrée n° {rows[-1].pk} est inchangée." in output


@pytest.mark.django_db
def test_the_last_rows_removed_pass_the_chain_but_not_the_anchor():
    rows = _rows(3)
    anchor = f"{rows[-1].pk}:{rows[-1].hash}"
    with behind_the_trigger(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditLog._meta.db_table} WHERE id = %s", [rows[-1].pk])  # noqa: S608
    # What remains is a valid chain: only the anchor shows the loss.
    assert audit_chain_verify().intact
    code, output = _verify_with("--expect", anchor)
    assert code == 1
    assert f"Ancre non retrouvée, entrée n° {rows[-1].pk} : elle n'est plus dans le journal" in output


@pytest.mark.django_db
def test_a_chain_rewritten_from_its_start_passes_the_chain_but_not_the_anchor():
    rows = _rows(3)
    anchor = f"{rows[-1].pk}:{rows[-1].hash}"
    # Someone past the trigger alters the first row and recomputes every hash after it: a consistent chain.
    with behind_the_trigger(), connection.cursor() as cursor:
        previous = audit_chain.GENESIS
        for row in AuditLog.objects.chain():
            if row.pk == rows[0].pk:
                row.action = "test.rewritten"
            row.previous_hash = previous
            row.hash = previous = audit_chain.row_hash(row)
            cursor.execute(
                f"UPDATE {AuditLog._meta.db_table} SET action = %s, previous_hash = %s, hash = %s WHERE id = %s",  # noqa: S608
                [row.action, row.previous_hash, row.hash, row.pk],
            )
    assert audit_chain_verify().intact
    code, output = _verify_with("--expect", anchor)
    assert code == 1 and "son empreinte a changé (journal réécrit)" in output


@pytest.mark.django_db
def test_an_anchor_before_a_purge_is_checked_against_the_purge_row_or_said_unverifiable():
    old = _rows(2)
    audit_purge(before=timezone.now() + datetime.timedelta(seconds=1))
    assert _verify_with("--expect", f"{old[-1].pk}:{old[-1].hash}")[0] == 0
    code, output = _verify_with("--expect", f"{old[0].pk}:{old[0].hash}")
    assert code == 1 and "précède la dernière purge de conservation" in output


@pytest.mark.django_db
def test_a_malformed_anchor_is_refused():
    with pytest.raises(CommandError, match="--expect"):
        call_command("audit_verify", "--expect", "12:abc")
