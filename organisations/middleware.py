"""Two rules every signed-in request passes: its session is still within its limits (shared office PCs), and its
user has given the second factor their roles require (or that they chose to have).

Neither asks the database on an ordinary request: what they need is in the session (start, last activity, whether
the user had a device at login) or already loaded (the user, the memberships of clea_platform.tenancy). The session's
activity is written at most once per SESSION_ACTIVITY_GRANULARITY_SECONDS.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, get_user
from django.contrib.auth import SESSION_KEY as USER_SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.functional import SimpleLazyObject
from django.utils.translation import ngettext

from organisations.identity import identity_load
from organisations.models import User, session_limits
from organisations.services import (
    SESSION_SEEN_KEY,
    SESSION_STARTED_KEY,
    TWO_FACTOR_ENROLLED_KEY,
    SessionEnd,
    session_two_factor_verified,
    two_factor_device,
    user_session_expire,
    user_session_start,
    user_session_touch,
)

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def cached_user(request: HttpRequest) -> User | AnonymousUser:
    """django.contrib.auth.get_user, with the user (and their active memberships, for clea_platform.tenancy) read
    through organisations.identity: no query while the cached entry is current. Whatever is not the plain case (no
    user, another backend, a session hash that does not match the current secret) goes to Django's own get_user,
    which flushes the session or rotates its hash as it always does."""
    session = request.session
    try:
        user_id = session[USER_SESSION_KEY]
        backend_path = session[BACKEND_SESSION_KEY]
    except KeyError:
        return AnonymousUser()
    if backend_path != MODEL_BACKEND or backend_path not in settings.AUTHENTICATION_BACKENDS:
        return get_user(request)
    identity = identity_load(user_id)
    if identity is not None:
        session_hash = session.get(HASH_SESSION_KEY)
        # Against the hash computed when the identity was read (the cached user has no password hash to compute it).
        if (
            ModelBackend().user_can_authenticate(identity.user)
            and session_hash
            and constant_time_compare(session_hash, identity.session_hash)
        ):
            identity.user.loaded_active_memberships = identity.memberships  # type: ignore[attr-defined]
            return identity.user
    return get_user(request)


class CachedAuthenticationMiddleware(AuthenticationMiddleware):
    """Django's, with the user read by `cached_user`."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _request_user(request))


def _request_user(request: HttpRequest) -> User | AnonymousUser:
    if not hasattr(request, "_cached_user"):
        request._cached_user = cached_user(request)  # type: ignore[attr-defined]
    return request._cached_user  # type: ignore[attr-defined]


# What a session waiting for its second factor may still open: the two-factor pages themselves, logging out, and
# the pages that need no account. The API refuses such a session on its own (api_auth.TwoFactorSessionAuthentication).
OPEN_BEFORE_SECOND_FACTOR = frozenset(
    {
        "two_factor_verify",
        "two_factor_enrol",
        "logout",
        "login",
        "password_reset",
        "password_reset_done",
        "password_reset_confirm",
        "password_reset_complete",
        "accessibility",
        "certificate_verify_form",
        "certificate_verify",
        "healthz",
        "healthz_live",
        "healthz_ready",
        "ping",
    }
)


class SessionLifetimeMiddleware:
    """Log out a session idle for SESSION_IDLE_TIMEOUT_MINUTES, or opened SESSION_ABSOLUTE_LIFETIME_HOURS ago."""

    # The clock: tests travel in time by replacing it.
    now: Callable[[], Any] = staticmethod(timezone.now)

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            self.check(request)
        return self.get_response(request)

    def check(self, request: HttpRequest) -> None:
        now = self.now()
        stamp = int(now.timestamp())
        session = request.session
        started = session.get(SESSION_STARTED_KEY)
        if started is None:
            # Opened before sessions were listed: listed from now on, and timed from now.
            user_session_start(request=request, user=request.user, now=now, adopt=True)  # type: ignore[arg-type]
            return
        seen = session.get(SESSION_SEEN_KEY, started)
        idle, lifetime = session_limits()
        idle_minutes = settings.SESSION_IDLE_TIMEOUT_MINUTES
        lifetime_hours = settings.SESSION_ABSOLUTE_LIFETIME_HOURS
        if stamp - started >= lifetime.total_seconds():
            user_session_expire(request=request, reason=SessionEnd.LIFETIME)
            message = ngettext(
                "Votre session a atteint sa durée maximale de %(hours)d heure : reconnectez-vous.",
                "Votre session a atteint sa durée maximale de %(hours)d heures : reconnectez-vous.",
                lifetime_hours,
            ) % {"hours": lifetime_hours}
        elif stamp - seen >= idle.total_seconds():
            user_session_expire(request=request, reason=SessionEnd.IDLE)
            message = ngettext(
                "Votre session a pris fin après %(minutes)d minute d'inactivité : reconnectez-vous.",
                "Votre session a pris fin après %(minutes)d minutes d'inactivité : reconnectez-vous.",
                idle_minutes,
            ) % {"minutes": idle_minutes}
        else:
            if stamp - seen >= settings.SESSION_ACTIVITY_GRANULARITY_SECONDS:
                user_session_touch(request=request, now=now)
            return
        if not request.path.startswith("/api/"):
            messages.info(request, message)


class TwoFactorMiddleware:
    """After the password, a user with an authenticator gives a code before any page; a user whose roles require
    one and who has none sets it up first. Sets `request.two_factor_pending` ("verify", "enrol" or None)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.two_factor_pending = self.pending(request)  # type: ignore[attr-defined]
        return self.get_response(request)

    @staticmethod
    def pending(request: HttpRequest) -> str | None:
        user = request.user
        if not user.is_authenticated or session_two_factor_verified(request.session):
            return None
        enrolled = request.session.get(TWO_FACTOR_ENROLLED_KEY)
        if enrolled is None:
            enrolled = request.session[TWO_FACTOR_ENROLLED_KEY] = two_factor_device(user) is not None  # type: ignore[arg-type]
        if enrolled:
            return "verify"
        if user.two_factor_required(request.memberships):  # type: ignore[attr-defined,union-attr]
            return "enrol"
        return None

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        pending = request.two_factor_pending  # type: ignore[attr-defined]
        if pending is None or request.path.startswith("/api/"):
            return None
        match = request.resolver_match
        if match is not None and match.view_name in OPEN_BEFORE_SECOND_FACTOR:
            return None
        target = reverse("two_factor_verify" if pending == "verify" else "two_factor_enrol")
        return redirect_to_login(request.get_full_path(), login_url=target)
