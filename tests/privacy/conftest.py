from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def fresh_rate_limit(settings) -> Iterator[None]:
    """The public verification page counts its visits in the cache: a private one, emptied for each test."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "privacy"}}
    cache.clear()
    yield
    cache.clear()
