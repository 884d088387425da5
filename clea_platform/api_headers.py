"""The API's HTTP headers around every view of /api/ (README, "API REST"), rather than in each view:

- `ETag` on each JSON read (a hash of the body the client receives, so it moves with any change to what it
  shows, children included), `If-None-Match` answered 304;
- `If-Match` on writes to one resource (PUT/PATCH on /api/v1/<resources>/<id>/, POST on its actions such as
  /api/v1/dossiers/<id>/transitions/): the resource's row is locked and it is read as its GET would answer, in
  the write's transaction; a tag that is not its current one, or a read that fails (RFC 9110: a precondition
  that cannot be evaluated is not met), is a 412 in the shared error shape, except a 401 or 404, answered as such
  (the write's own answer; nothing said of another organisation's resource). A write that passes runs under that
  lock and answers with the resource's new `ETag`. Optional: without it the write proceeds (last write wins);
- `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (draft-ietf-httpapi-ratelimit-headers) and
  `RateLimit-Policy` from the throttles the view ran (clea_platform.ratelimit.PlatformThrottleMixin records them);
  DRF adds `Retry-After` to a 429;
- `Deprecation` (RFC 9745), `Sunset` (RFC 8594) and a `Link` to the notice for views or actions marked `deprecated`.
"""

from __future__ import annotations

import copy
import datetime
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import models, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.urls import Resolver404, ResolverMatch, resolve
from django.utils.cache import get_conditional_response
from django.utils.http import http_date, parse_etags
from django.utils.translation import gettext as _

from clea_platform.api_errors import json_error

API_PREFIX = "/api/"
# A resource of the API is /api/v1/<resources>/<id>/ (in the schema, /api/v1/<resources>/{id}/); its actions live
# under it.
RESOURCE = re.compile(r"^/api/v1/[^/]+/[^/]+/")
JSON_TYPES = ("application/json", "application/problem+json")
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Set on the read that checks a write's If-Match: the detail view locks the resource's row before reading it.
LOCK_FOR_WRITE = "api_lock_for_write"

V = TypeVar("V")


@dataclass(frozen=True)
class RateLimit:
    """What a throttle allows the client in its window, after counting this request."""

    limit: int
    remaining: int
    reset: int  # seconds until the window frees a request
    window: int  # seconds


def rate_limit_record(request: Any, limit: RateLimit) -> None:
    """Keep the tightest of the limits the request was counted against, for the response's headers."""
    django_request = getattr(request, "_request", request)
    current: RateLimit | None = getattr(django_request, "rate_limit", None)
    if current is None or limit.remaining < current.remaining:
        django_request.rate_limit = limit


@dataclass(frozen=True)
class Deprecation:
    since: datetime.datetime
    sunset: datetime.datetime | None = None
    # The notice: the changelog's entry, or the operation that replaces this one.
    link: str | None = None


def deprecated(
    *, since: datetime.datetime, sunset: datetime.datetime | None = None, link: str | None = None
) -> Callable[[V], V]:
    """Mark an API view, viewset or viewset action (method) deprecated since `since`, removed at `sunset`: its
    answers carry `Deprecation`, `Sunset` and `Link` (README, "Versions et dépréciations")."""

    def mark(view: V) -> V:
        view.api_deprecation = Deprecation(since=since, sunset=sunset, link=link)  # type: ignore[attr-defined]
        return view

    return mark


def _deprecation_of(request: HttpRequest, view_func: Callable[..., Any]) -> Deprecation | None:
    view_class = getattr(view_func, "cls", None)
    actions: dict[str, str] = getattr(view_func, "actions", None) or {}
    handler = actions.get((request.method or "").lower())
    if view_class is not None and handler:
        found = getattr(getattr(view_class, handler, None), "api_deprecation", None)
        if found is not None:
            return found
    return getattr(view_class, "api_deprecation", None) or getattr(view_func, "api_deprecation", None)


def etag_of(content: bytes) -> str:
    return '"' + hashlib.sha256(content).hexdigest()[:32] + '"'


def _is_json(response: HttpResponse) -> bool:
    return not response.streaming and response.get("Content-Type", "").split(";")[0].strip() in JSON_TYPES


def _resource_read(request: HttpRequest) -> ResolverMatch | None:
    """The GET of the resource a write concerns (its `-detail` view); None when the path names no resource with a
    GET (a list, a public endpoint), which If-Match then leaves alone."""
    match = RESOURCE.match(request.path_info)
    if match is None:
        return None
    try:
        found = resolve(match.group(0))
    except Resolver404:
        return None
    if not (found.url_name or "").endswith("-detail") or "get" not in (getattr(found.func, "actions", None) or {}):
        return None
    return found


def _read_as_get(request: HttpRequest, found: ResolverMatch, *, lock: bool = False) -> HttpResponse:
    """The resource as its GET answers the write's sender now (without the write's query string, which the GET does
    not declare); with `lock`, its row is locked first (`lock_for_write`), until the caller's transaction ends."""
    probe = copy.copy(request)
    probe.method = "GET"
    probe.META = {
        name: value
        for name, value in request.META.items()
        if name not in {"HTTP_IF_MATCH", "HTTP_IF_NONE_MATCH", "CONTENT_TYPE", "CONTENT_LENGTH"}
    }
    probe.META["REQUEST_METHOD"] = "GET"
    probe.META["QUERY_STRING"] = ""
    probe.GET = QueryDict()
    probe.__dict__.pop("headers", None)  # a cached view of the write's META
    # The check is part of the write: not counted again against the client's rate limit.
    probe.rate_limit_exempt = True  # type: ignore[attr-defined]
    setattr(probe, LOCK_FOR_WRITE, lock)
    response: HttpResponse = found.func(probe, *found.args, **found.kwargs)
    if hasattr(response, "render"):
        response.render()
    return response


def lock_for_write(request: Any, model: type[models.Model], pk: Any) -> None:
    """Called by a detail view's `get_object` (clea_platform.api_feed.FeedViewSetMixin): when the read is the
    If-Match check of a write, lock the resource's row before it is read, so that no other write runs between the
    check and this one. A row of another organisation is locked a moment, and answered 404 as before."""
    django_request = getattr(request, "_request", request)
    if getattr(django_request, LOCK_FOR_WRITE, False):
        list(model._base_manager.select_for_update().filter(pk=pk).values_list("pk", flat=True))


def _precondition_failed() -> JsonResponse:
    return json_error(
        412,
        "precondition_failed",
        _("La ressource a changé depuis votre lecture (If-Match) : relisez-la, puis renvoyez votre modification."),
    )


def _add_rate_limit(request: HttpRequest, response: HttpResponse) -> None:
    limit: RateLimit | None = getattr(request, "rate_limit", None)
    if limit is None:
        return
    response["RateLimit-Limit"] = str(limit.limit)
    response["RateLimit-Remaining"] = str(limit.remaining)
    response["RateLimit-Reset"] = str(limit.reset)
    response["RateLimit-Policy"] = f"{limit.limit};w={limit.window}"


def _add_deprecation(deprecation: Deprecation, response: HttpResponse) -> None:
    response["Deprecation"] = f"@{int(deprecation.since.timestamp())}"
    if deprecation.sunset is not None:
        response["Sunset"] = http_date(deprecation.sunset.timestamp())
    if deprecation.link:
        response["Link"] = f'<{deprecation.link}>; rel="deprecation"; type="text/html"'


class ApiHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        response = self.get_response(request)
        if request.method in ("GET", "HEAD") and response.status_code == 200 and _is_json(response):
            etag = etag_of(response.content)
            response["ETag"] = etag
            response = get_conditional_response(request, etag=etag, response=response) or response
        elif request.method in UNSAFE and request.headers.get("If-Match") and 200 <= response.status_code < 300:
            # A client that writes conditionally gets the resource's new tag for its next write, without reading it.
            found = _resource_read(request)
            read = _read_as_get(request, found) if found is not None else None
            if read is not None and read.status_code == 200 and _is_json(read):
                response["ETag"] = etag_of(read.content)
        deprecation: Deprecation | None = getattr(request, "api_deprecation", None)
        if deprecation is not None:
            _add_deprecation(deprecation, response)
        _add_rate_limit(request, response)
        return response

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        if not request.path_info.startswith(API_PREFIX):
            return None
        request.api_deprecation = _deprecation_of(request, view_func)  # type: ignore[attr-defined]
        if_match = request.headers.get("If-Match")
        if request.method not in UNSAFE or not if_match:
            return None
        found = _resource_read(request)
        if found is None:
            return None
        # The check and the write in one transaction, the resource's row locked from the check on: two writes sent
        # with the same tag cannot both pass it (the second one reads the first one's result, and gets a 412).
        with transaction.atomic():
            read = _read_as_get(request, found, lock=True)
            if read.status_code in (401, 404):
                # Not signed in, or not theirs (another organisation's, or none): the answer the write would give,
                # nothing told about the resource.
                return read
            if read.status_code != 200 or not _is_json(read):
                # RFC 9110, 13.1.1: a precondition that cannot be evaluated is not met.
                return _precondition_failed()
            tags = parse_etags(if_match)
            if "*" not in tags and etag_of(read.content) not in tags:
                return _precondition_failed()
            response: HttpResponse = view_func(request, *args, **kwargs)
            return response
