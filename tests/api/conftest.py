from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable

import pytest
from django.test import Client
from django.utils import timezone

from organisations.models import Membership
from organisations.services import api_token_create


@pytest.fixture(autouse=True)
def _fresh_throttles(settings) -> None:
    """Throttle counters live in the cache, which outlives a test: each test counts under a key prefix of its own.
    Not `cache.clear()`: on Redis that is FLUSHDB, which would also drop the Celery messages and results of the
    xdist worker running beside this one (broker, results and cache share REDIS_URL)."""
    cache = settings.CACHES["default"]
    settings.CACHES = {
        **settings.CACHES,
        "default": {**cache, "KEY_PREFIX": f"{cache.get('KEY_PREFIX', '')}-{uuid.uuid4().hex[:8]}"},
    }


@pytest.fixture
def token_client() -> Callable[..., Client]:
    """A client sending `Authorization: Token <key>` for a new token of the membership (no session)."""

    def make(membership: Membership, keyword: str = "Token") -> Client:
        _token, key = api_token_create(
            membership=membership, name="Logiciel", expires_at=timezone.now() + datetime.timedelta(days=30)
        )
        return Client(HTTP_AUTHORIZATION=f"{keyword} {key}")

    return make
