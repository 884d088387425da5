from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache


@pytest.fixture
def fresh_rate_limit(settings) -> Iterator[None]:
    """The public verification's rate limit counts in the cache: a private in-memory one, emptied for each test
    (cache.clear() on the shared Redis would also drop the Celery messages of the xdist worker beside this one)."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "verify"}}
    cache.clear()
    yield
    cache.clear()
