from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from organisations.models import Membership
from organisations.services import api_token_create


@pytest.fixture(autouse=True)
def _fresh_throttles() -> None:
    # Throttle counters live in the cache, which outlives a test.
    cache.clear()


@pytest.fixture
def token_client() -> Callable[..., Client]:
    """A client sending `Authorization: Token <key>` for a new token of the membership (no session)."""

    def make(membership: Membership, keyword: str = "Token") -> Client:
        _token, key = api_token_create(
            membership=membership, name="Logiciel", expires_at=timezone.now() + datetime.timedelta(days=30)
        )
        return Client(HTTP_AUTHORIZATION=f"{keyword} {key}")

    return make
