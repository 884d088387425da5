"""Two bookings of the same person's slot at once: one is booked, the other refused (PostgreSQL's advisory lock)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from scheduling.models import Appointment
from tests.concurrency import race
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
    outcome = race(
        lambda: book(first, starts_at=starts, remote=True),
        lambda: book(second, starts_at=starts.replace(minute=30), remote=True),
    )
    assert isinstance(outcome["first"], Appointment), outcome
    assert isinstance(outcome["second"], ValidationError), outcome
    assert Appointment.objects.filter(with_membership=first.team.evaluator).count() == 1
