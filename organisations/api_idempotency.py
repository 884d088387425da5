"""`Idempotency-Key` on the API's POSTs: a client that sends a create or an action again (a timeout, a lost answer)
gets the first answer back instead of a second training session, funding line or dossier.

Once for every POST of /api/v1/ rather than in each view: the middleware authenticates the request with the view's
own authentication classes (a replay is given only to the token, or the membership's session, that made the first
request, and only while it may still sign in), then

- first use of the key: a row is written (committed at once: it marks the key as in flight), the view runs, and a
  success (2xx) is stored with its status, body and headers, once the write has committed (a process killed in
  between leaves the key in flight until IN_FLIGHT_TIMEOUT, after which a retry runs the write again); any other
  answer deletes the row, since a refused or failed operation wrote nothing (the services are atomic) and may be
  sent again with the same key;
- the same key and the same request (method, path, body) again: the stored answer, with `Idempotent-Replayed: true`;
- the same key with another request: 422; while the first request runs: 409.

Keys live settings.IDEMPOTENCY_KEY_HOURS (24 h), then the retention job deletes them (settings.DATA_RETENTION).
Public endpoints (no authentication class) and requests without the header are left alone.
"""

from __future__ import annotations

import datetime
import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.exceptions import APIException
from rest_framework.request import Request

from clea_platform.api_errors import json_error
from organisations.models import ApiToken, IdempotencyKey, Membership

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# What a replay gives back besides the body; the rate-limit headers are the current request's own.
REPLAYED_HEADERS = ("Content-Type", "Location", "ETag", "Deprecation", "Sunset", "Link")
KEY_MAX_LENGTH = 255
# A row still in flight after this long belongs to a request that died (a killed worker): the key is free again.
IN_FLIGHT_TIMEOUT = datetime.timedelta(minutes=5)


@dataclass(frozen=True)
class Owner:
    """Who sends the request: "token-12" or "membership-3", and the authenticated request its view would see."""

    name: str
    membership: Membership
    token: ApiToken | None
    request: Request


def _owner(request: HttpRequest, view_func: Callable[..., Any]) -> Owner | None:
    """The sender, by the view's own authentication: a token, or a session under its current membership; None when
    nobody is signed in (the view then answers 401 or 403)."""
    view_class = getattr(view_func, "cls", None)
    authenticators = [auth() for auth in getattr(view_class, "authentication_classes", [])]
    if not authenticators:
        return None
    drf_request = Request(request, authenticators=authenticators)
    try:
        user, auth = drf_request.user, drf_request.auth
    except APIException:
        return None
    membership = getattr(request, "membership", None)
    if not user or not user.is_authenticated or membership is None:
        return None
    if isinstance(auth, ApiToken):
        return Owner(f"token-{auth.pk}", auth.membership, auth, drf_request)
    return Owner(f"membership-{membership.pk}", membership, None, drf_request)


def _throttled(owner: Owner, view_func: Callable[..., Any]) -> HttpResponse | None:
    """A replay skips the view, not its rate limit: counted by the view's throttles (which record the RateLimit-*
    headers), 429 beyond, as the view would answer."""
    view_class = view_func.cls  # type: ignore[attr-defined]
    view = view_class()
    for throttle in view.get_throttles():
        if not throttle.allow_request(owner.request, view):
            wait = throttle.wait()
            exc = exceptions.Throttled(wait)
            response = json_error(429, "throttled", str(exc.detail))
            if wait is not None:
                response["Retry-After"] = str(math.ceil(wait))
            return response
    return None


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    for part in (request.method or "", request.get_full_path()):
        digest.update(part.encode() + b"\n")
    digest.update(request.body)
    return digest.hexdigest()


def _replay(row: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(bytes(row.body), status=row.status_code)
    for name, value in row.headers.items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


class IdempotencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        row: IdempotencyKey | None = getattr(request, "_idempotency_row", None)
        if row is None or response.get(REPLAYED_HEADER):
            return response
        if 200 <= response.status_code < 300 and not response.streaming:
            # After the write's commit, not in its transaction (the view's services commit their own): a process
            # killed between the two leaves the key in flight, and a retry after IN_FLIGHT_TIMEOUT runs the write
            # again. An update, not save(): a row taken over meanwhile (deleted) updates nothing, and the client
            # still gets the answer of a write that succeeded, not a 500.
            IdempotencyKey.objects.filter(pk=row.pk).update(
                status_code=response.status_code,
                body=response.content,
                headers={name: response[name] for name in REPLAYED_HEADERS if response.has_header(name)},
            )
        else:
            IdempotencyKey.objects.filter(pk=row.pk).delete()
        return response

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        key = request.headers.get(HEADER)
        if key is None or request.method != "POST" or not request.path.startswith("/api/v1/"):
            return None
        if not key or len(key) > KEY_MAX_LENGTH or not key.isascii() or not key.isprintable():
            return json_error(
                400,
                "idempotency_key_invalid",
                _("L'en-tête Idempotency-Key doit compter de 1 à %(max)s caractères ASCII imprimables.")
                % {"max": KEY_MAX_LENGTH},
            )
        owner = _owner(request, view_func)
        if owner is None:
            return None
        name, membership, token = owner.name, owner.membership, owner.token
        fingerprint = _fingerprint(request)
        now = timezone.now()
        try:
            with transaction.atomic():
                row = IdempotencyKey.objects.create(
                    owner=name, key=key, membership=membership, token=token, fingerprint=fingerprint, created_at=now
                )
        except IntegrityError:
            row_or_answer = self._seen(
                name=name, key=key, membership=membership, token=token, fingerprint=fingerprint, now=now
            )
            if isinstance(row_or_answer, HttpResponse):
                return _throttled(owner, view_func) or row_or_answer
            row = row_or_answer
        request._idempotency_row = row  # type: ignore[attr-defined]
        return None

    def _seen(
        self,
        *,
        name: str,
        key: str,
        membership: Membership,
        token: ApiToken | None,
        fingerprint: str,
        now: datetime.datetime,
    ) -> IdempotencyKey | HttpResponse:
        """The key was used before: replay, refuse, or take it over when its earlier use is over or dead."""
        with transaction.atomic():
            row = IdempotencyKey.objects.select_for_update().filter(owner=name, key=key).first()
            if row is None:  # deleted meanwhile (the first request failed): this one runs
                return IdempotencyKey.objects.create(
                    owner=name, key=key, membership=membership, token=token, fingerprint=fingerprint, created_at=now
                )
            if row.expired(now) or (row.status_code is None and row.created_at < now - IN_FLIGHT_TIMEOUT):
                # A fresh start: the earlier answer is too old to replay, or its request died.
                row.delete()
                return IdempotencyKey.objects.create(
                    owner=name, key=key, membership=membership, token=token, fingerprint=fingerprint, created_at=now
                )
            if row.fingerprint != fingerprint:
                return json_error(
                    422,
                    "idempotency_key_reused",
                    _(
                        "Cette clé d'idempotence a déjà servi pour une autre requête (autre adresse ou autre corps) : "
                        "utilisez une nouvelle clé pour chaque opération."
                    ),
                )
            if row.status_code is None:
                return json_error(
                    409,
                    "idempotency_key_in_flight",
                    _(
                        "Une requête avec cette clé d'idempotence est en cours : attendez sa réponse avant de "
                        "réessayer."
                    ),
                )
            return _replay(row)
