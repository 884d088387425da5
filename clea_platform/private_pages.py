"""Pages and files for a signed-in person are never stored by a browser or a proxy: the platform runs on shared office
PCs, where the next person's Back button or the disk cache would show the last one's candidates."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import add_never_cache_headers


class NoStoreForSignedInMiddleware:
    """`Cache-Control: no-store` (and Django's other never-cache headers) on every response to a signed-in user:
    pages, htmx fragments, downloads, exports, the API (a token's user too: DRF sets it on the request) and the
    page that shows a new API token once. Anonymous pages (login, certificate verification, directory) keep
    their own headers; static files never reach this middleware (whitenoise answers them first)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response
