"""A fixed-window rate limit on the shared cache (Redis in production), for the public pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clea_platform.request_meta import client_ip


def rate_limited(
    *, scope: str, limit: int, period: int
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """At most `limit` requests per client address per `period` seconds; 429 with a French page beyond."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            key = f"ratelimit:{scope}:{client_ip(request) or 'unknown'}"
            cache.add(key, 0, timeout=period)
            try:
                count = cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, timeout=period)
                count = 1
            if count > limit:
                response = render(request, "rate_limited.html", {"period": period}, status=429)
                response["Retry-After"] = str(period)
                return response
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
