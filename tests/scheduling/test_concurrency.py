"""Two bookings of the same person's slot at once: one is booked, the other refused (PostgreSQL's advisory lock)."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from scheduling.models import Appointment
from tests.journey import DossierFactory
from tests.scheduling import book, next_weekday_at


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite (the embedded mode) runs one writing transaction at a time"
)
@pytest.mark.django_db(transaction=True)
def test_two_counsellors_booking_the_same_evaluator_at_once_make_one_appointment():
    """A's booking is written but not committed when B books the same evaluator at the same hour: B must wait for
    A's commit and be refused, not pass the overlap check on a database that does not show A's row yet."""
    first = DossierFactory(state="opened")
    second = DossierFactory(organisation=first.organisation, state="opened")
    starts = next_weekday_at(9, days=2)
    outcome: dict[str, str] = {}
    a_booked, b_done = threading.Event(), threading.Event()

    def a_slow_commit() -> None:
        try:
            with transaction.atomic():
                book(first, starts_at=starts, remote=True)
                a_booked.set()
                b_done.wait(2)  # without the lock B finishes meanwhile; with it, B waits for this commit
            outcome["a"] = "booked"
        except Exception as exc:  # shown by the final assertion
            outcome["a"] = repr(exc)
            a_booked.set()
        finally:
            connection.close()

    def b_books() -> None:
        try:
            book(second, starts_at=starts.replace(minute=30), remote=True)
            outcome["b"] = "booked"
        except ValidationError:
            outcome["b"] = "refused"
        finally:
            b_done.set()
            connection.close()

    a = threading.Thread(target=a_slow_commit)
    a.start()
    assert a_booked.wait(10)
    b = threading.Thread(target=b_books)
    b.start()
    a.join(15)
    b.join(15)
    assert outcome == {"a": "booked", "b": "refused"}
    assert Appointment.objects.filter(with_membership=first.team.evaluator).count() == 1
