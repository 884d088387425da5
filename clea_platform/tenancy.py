"""The current membership: which organisation, under which role, a request acts for.

A user may belong to several organisations; the one they work for is kept in the session and every scoped
queryset is asked with it (`Model.objects.visible_to(request.membership)`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

if TYPE_CHECKING:
    from organisations.models import Membership

SESSION_KEY = "current_membership_id"


class CurrentMembershipMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.membership = None  # type: ignore[attr-defined]
        request.memberships = []  # type: ignore[attr-defined]
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            memberships = user.request_memberships()
            wanted = request.session.get(SESSION_KEY)
            current = next((m for m in memberships if m.pk == wanted), memberships[0] if memberships else None)
            request.memberships = memberships  # type: ignore[attr-defined]
            request.membership = current  # type: ignore[attr-defined]
        return self.get_response(request)


def membership_context(request: HttpRequest) -> dict[str, Any]:
    return {
        "current_membership": getattr(request, "membership", None),
        "memberships": getattr(request, "memberships", []),
    }


def membership_required(*roles: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Log in, have a current membership, and (if roles are named) hold one of them; 403 otherwise.

    What a role may see is the scoped queryset's business: another organisation's object is a 404 there.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            membership: Membership | None = request.membership  # type: ignore[attr-defined]
            if membership is None:
                return render(request, "no_membership.html", status=403)
            if roles and membership.role not in roles:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
