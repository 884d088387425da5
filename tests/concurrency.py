"""Two writers at once, on PostgreSQL (SQLite, the embedded mode, runs one writing transaction at a time): the
tests of the locks that keep a slot, a link or a status index to one of them."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection, transaction


def race(first: Callable[[], object], second: Callable[[], object]) -> dict[str, object]:
    """`first` runs in a transaction left open until `second` has finished or waited two seconds for it (blocked on
    the row `first` wrote), then commits; what each returned, or the exception it raised."""
    outcome: dict[str, object] = {}
    first_done, second_done = threading.Event(), threading.Event()

    def run_first() -> None:
        try:
            with transaction.atomic():
                outcome["first"] = first()
                first_done.set()
                second_done.wait(2)
        except Exception as exc:  # shown by the caller's assertion
            outcome["first"] = exc
            first_done.set()
        finally:
            connection.close()

    def run_second() -> None:
        try:
            with transaction.atomic():  # as inside a caller's transaction
                outcome["second"] = second()
        except Exception as exc:
            outcome["second"] = exc
        finally:
            second_done.set()
            connection.close()

    a = threading.Thread(target=run_first)
    a.start()
    assert first_done.wait(10)
    b = threading.Thread(target=run_second)
    b.start()
    a.join(15)
    b.join(15)
    return outcome


def sessions_waiting_on_a_lock() -> int:
    """How many sessions of this test database wait on a lock (a row, or the audit chain's advisory lock)."""
    with connection.cursor() as cursor:
        # Inside a transaction, pg_stat_activity is read once and kept until it ends: read it afresh each time.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        row = cursor.fetchone()
        return int(row[0]) if row else 0


def someone_waits_on_a_lock() -> bool:
    return sessions_waiting_on_a_lock() > 0


def in_a_thread(target: Callable[[], object], errors: list[BaseException]) -> threading.Thread:
    """Start `target` in a thread with its own connection, closed at the end; what it raises (a deadlock among
    others) goes to `errors` for the test to report."""

    def run() -> None:
        try:
            target()
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread
