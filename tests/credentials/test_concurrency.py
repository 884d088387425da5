"""Two processes at once: the first signing key is created once, and two issuances never share a status index
(PostgreSQL: SQLite, the embedded mode, runs one writing transaction at a time)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection

from credentials.models import IssuedCredential, SigningKey
from credentials.services import credential_issue, signing_key
from juries.models import Certificate
from tests.concurrency import race
from tests.credentials.factories import issued

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite (the embedded mode) runs one writing transaction at a time"
    ),
    pytest.mark.django_db(transaction=True),
]


def test_two_processes_creating_the_first_key_at_once_share_one():
    outcome = race(signing_key, signing_key)
    assert isinstance(outcome["first"], SigningKey), outcome
    assert outcome["second"] == outcome["first"]
    assert SigningKey.objects.count() == 1


def test_two_issuances_at_once_take_distinct_status_indexes():
    first_certificate, first = issued()
    second_certificate, second = issued()
    IssuedCredential.objects.all().delete()  # both certificates as if issued before the app

    def issue(certificate: Certificate) -> Callable[[], object]:
        return lambda: credential_issue(certificate=certificate)

    outcome = race(issue(first_certificate), issue(second_certificate))
    assert isinstance(outcome["first"], IssuedCredential), outcome
    assert isinstance(outcome["second"], IssuedCredential), outcome
    assert sorted(IssuedCredential.objects.values_list("status_index", flat=True)) == [0, 1]
