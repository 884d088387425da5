"""Rate limits on the shared cache (Redis in production): a fixed window for the public pages, and a base for the
API throttles, both keyed on the client's address by the platform's one rule (clea_platform.request_meta). With
Redis unreachable they count in the process instead of answering 500.

Why not fail open or closed: the limits guard the public pages (certificate verification, the evaluator
directory) and the API, which must stay available when Redis is down (a certificate is checked by an employer
on the spot; the README promises a degraded mode). Failing open would leave the 8-character verification codes
to unthrottled guessing for the length of the outage; failing closed would take the public service down with
the cache. Counting per process keeps a limit (`limit` × the number of web processes) and every page up."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

import redis.exceptions
from django.core.cache import cache
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clea_platform.api_headers import RateLimit, rate_limit_record
from clea_platform.request_meta import client_ip

logger = logging.getLogger(__name__)

# What the Redis cache backend raises when Redis is unreachable or stalls.
CACHE_ERRORS: tuple[type[Exception], ...] = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)
# After a failure the shared cache is left alone this long: each request does not wait on a dead Redis again.
SHARED_CACHE_RETRY_AFTER = 30

_local_counters = LocMemCache("clea-ratelimit-fallback", {"OPTIONS": {"MAX_ENTRIES": 10_000}})
_state = threading.Lock()
_shared_down_until = 0.0


def counters() -> BaseCache:
    """The shared cache, or this process's own counters while the shared one is known to be down."""
    return _local_counters if time.monotonic() < _shared_down_until else cache


def shared_cache_failed(exc: Exception) -> BaseCache:
    """Record a failure of the shared cache and return the local counters to use meanwhile."""
    global _shared_down_until
    with _state:
        _shared_down_until = time.monotonic() + SHARED_CACHE_RETRY_AFTER
    logger.warning("Rate-limit cache unreachable (%r): counting per process for %d s", exc, SHARED_CACHE_RETRY_AFTER)
    return _local_counters


def _hit(store: BaseCache, key: str, period: int) -> int:
    store.add(key, 0, timeout=period)
    try:
        return store.incr(key)
    except ValueError:  # expired between add and incr
        store.set(key, 1, timeout=period)
        return 1


def hit(key: str, period: int) -> int:
    """Count one request under `key` in a window of `period` seconds; the count so far."""
    store = counters()
    try:
        return _hit(store, key, period)
    except CACHE_ERRORS as exc:
        return _hit(shared_cache_failed(exc), key, period)


def over_limit(*, scope: str, ident: str, limit: int, period: int) -> bool:
    """Count one request of `ident` (a client address, a hashed account...) in `scope`: whether it goes beyond `limit`
    requests in a window of `period` seconds."""
    return hit(f"ratelimit:{scope}:{ident}", period) > limit


def rate_limited(
    *, scope: str, limit: int, period: int
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """At most `limit` requests per client address per `period` seconds; 429 with a French page beyond."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if over_limit(scope=scope, ident=client_ip(request) or "unknown", limit=limit, period=period):
                response = render(request, "rate_limited.html", {"period": period}, status=429)
                response["Retry-After"] = str(period)
                return response
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


class PlatformThrottleMixin:
    """The base of every DRF throttle of the platform (SimpleRateThrottle and its kind): the client's address by the
    platform's rule (clea_platform.request_meta), not DRF's reading of X-Forwarded-For, and the same per-process
    fallback as `rate_limited` when the shared cache is down."""

    cache: BaseCache

    def get_ident(self, request: Any) -> str:
        return client_ip(request) or "unknown"

    def allow_request(self, request: Any, view: Any) -> bool:
        if getattr(getattr(request, "_request", request), "rate_limit_exempt", False):
            return True  # the read an If-Match check makes for its write (clea_platform.api_headers)
        self.cache = counters()
        try:
            allowed = super().allow_request(request, view)  # type: ignore[misc]
        except CACHE_ERRORS as exc:
            self.cache = shared_cache_failed(exc)
            allowed = super().allow_request(request, view)  # type: ignore[misc]
        self._record(request)
        return bool(allowed)

    def _record(self, request: Any) -> None:
        """What the window leaves the client, for the RateLimit-* headers (SimpleRateThrottle's state after it
        counted: `history` holds this window's requests, newest first)."""
        limit, window = getattr(self, "num_requests", None), getattr(self, "duration", None)
        if not limit or not window or getattr(self, "key", None) is None:
            return
        history: list[float] = getattr(self, "history", [])
        now: float = getattr(self, "now", time.time())
        reset = math.ceil(history[-1] + window - now) if history else window
        rate_limit_record(
            request, RateLimit(limit=limit, remaining=max(limit - len(history), 0), reset=max(reset, 0), window=window)
        )
