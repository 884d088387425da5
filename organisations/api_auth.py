"""Who an API request acts for: the browser session's current membership, or the membership of a personal token.

The tenancy middleware runs before DRF authenticates, so a token request has no membership then: the token
authentication sets it on the request once the token is known. Endpoints then read `request.membership`
exactly as the screens do and start from `Model.objects.visible_to(request.membership)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication, get_authorization_header
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from clea_platform.ratelimit import PlatformThrottleMixin
from organisations.models import ApiToken
from organisations.services import api_token_authenticate

if TYPE_CHECKING:
    from organisations.models import Membership, User

KEYWORDS = (b"token", b"bearer")


class ApiTokenAuthentication(BaseAuthentication):
    """`Authorization: Token <prefix>.<secret>` (or `Bearer`): a personal token, acting under its membership."""

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("En-tête Authorization mal formé : « Token <clé> » attendu."))
        token = api_token_authenticate(parts[1].decode(errors="replace"))
        if token is None:
            raise exceptions.AuthenticationFailed(_("Jeton invalide, expiré ou révoqué."))
        if token.read_only and request.method not in SAFE_METHODS:
            raise exceptions.PermissionDenied(_("Ce jeton est en lecture seule : il ne peut rien modifier."))
        request._request.membership = token.membership  # type: ignore[attr-defined]
        request._request.memberships = [token.membership]  # type: ignore[attr-defined]
        return token.membership.user, token

    def authenticate_header(self, request: Request) -> str:
        return "Token"


class TwoFactorSessionAuthentication(SessionAuthentication):
    """The browser session, once it has given the second factor it owes (organisations.middleware.TwoFactorMiddleware
    marks the request): before that, the API treats it as anonymous."""

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        if getattr(request._request, "two_factor_pending", None):
            return None
        return super().authenticate(request)


class TwoFactorSessionScheme(OpenApiAuthenticationExtension):
    target_class = "organisations.api_auth.TwoFactorSessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        # "__Host-sessionid" in production (settings: the cookie's name follows its Secure flag).
        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "organisations.api_auth.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "Jeton personnel créé depuis /compte/jetons/ : « Authorization: Token <préfixe>.<secret> ». "
            "Un jeton en lecture seule reçoit 403 sur toute opération qui écrit (POST, PUT, PATCH, DELETE, actions "
            "comprises).",
        }


def current_membership(request: Request) -> Membership | None:
    return getattr(request._request, "membership", None)


class HasMembership(BasePermission):
    """Signed in with a current membership, holding one of the view's `allowed_roles` (all roles if unset)."""

    message = _("Votre rôle ne permet pas cette action.")

    def has_permission(self, request: Request, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        membership = current_membership(request)
        if membership is None:
            return False
        roles = getattr(view, "allowed_roles", None)
        return not roles or membership.role in roles


class TokenRateThrottle(PlatformThrottleMixin, SimpleRateThrottle):
    """Per token for token requests, per user for browser sessions, per address for anonymous ones."""

    scope = "api"

    def get_cache_key(self, request: Request, view: Any) -> str:
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"anon-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
