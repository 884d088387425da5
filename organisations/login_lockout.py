"""Login lockouts (django-axes), per account and per client address, each with its own threshold.

Axes (6 and later) locks on each entry of AXES_LOCKOUT_PARAMETERS separately: with ["username", "ip_address"], an
account attacked from many addresses is locked, and so is an address that tries many accounts (password spraying:
one common password against every address it knows). But it compares both counts with one AXES_FAILURE_LIMIT,
while a France Travail agency or a training centre puts all its staff behind one public address: that address needs
a higher threshold than one account. This handler gives each parameter its own (settings.LOGIN_FAILURE_LIMITS), and
the lockout page says which lock applies and until when (settings.AXES_LOCKOUT_CALLABLE).

The client address is the platform's one rule (settings.AXES_CLIENT_IP_CALLABLE, clea_platform.request_meta).
"""

from __future__ import annotations

import datetime
import math
from typing import Any

from axes.conf import settings as axes_settings  # Django's settings, with axes' defaults filled in
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from organisations.services import LOCKOUT_ACCOUNT, LOCKOUT_ADDRESS, auth_lockout_record

# The audit's word for each of axes' lockout parameters.
_LOCKED = {"username": LOCKOUT_ACCOUNT, "ip_address": LOCKOUT_ADDRESS}


def failure_limits() -> dict[str, int]:
    """Each lockout parameter of AXES_LOCKOUT_PARAMETERS and the failures that lock it."""
    limits: dict[str, int] = settings.LOGIN_FAILURE_LIMITS
    return {parameter: limits[parameter] for parameter in settings.AXES_LOCKOUT_PARAMETERS}


class PerParameterLimitsHandler(AxesDatabaseHandler):
    """Axes' database handler, with a threshold per lockout parameter, and a successful login that clears only the
    account's own failures."""

    def failures_by_parameter(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> dict[str, int]:
        """The failures within the cool-off, counted for each lockout parameter (the account, the address)."""
        # get_user_attempts returns one queryset per entry of AXES_LOCKOUT_PARAMETERS, in its order.
        attempts = self.get_user_attempts(request, credentials)
        return {
            parameter: queryset.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for parameter, queryset in zip(failure_limits(), attempts, strict=True)
        }

    def locked_parameters(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> list[str]:
        """The parameters whose failures reached their threshold: "username", "ip_address", both or neither."""
        limits = failure_limits()
        return [p for p, count in self.failures_by_parameter(request, credentials).items() if count >= limits[p]]

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        """What axes compares with AXES_FAILURE_LIMIT: each parameter's failures put on that scale, the highest.

        With L that limit and l a parameter's own, floor(failures × L / l) reaches L exactly when the failures reach
        l: axes then locks, for whichever parameter got there."""
        scale = get_failure_limit(request, credentials)
        limits = failure_limits()
        failures = self.failures_by_parameter(request, credentials)
        return max(count * scale // limits[parameter] for parameter, count in failures.items())

    def user_login_failed(
        self, sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
    ) -> None:
        """Axes' recording of a failure, and one audit row for each lock this failure set: the failure that reaches
        a threshold, not the ones refused while the lock holds (a sprayer would fill the log)."""
        if request is None or getattr(request, "axes_locked_out", False):
            super().user_login_failed(sender, credentials, request, **kwargs)
            return
        self.clean_expired_user_attempts(request, credentials)
        before = set(self.locked_parameters(request, credentials))
        super().user_login_failed(sender, credentials, request, **kwargs)
        for parameter in self.locked_parameters(request, credentials):
            if parameter not in before:
                auth_lockout_record(
                    action="auth.login_lockout",
                    locked=_LOCKED[parameter],
                    username=get_client_username(request, credentials) or "",
                    request=request,
                )

    def reset_user_attempts(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        """After a successful login (AXES_RESET_ON_SUCCESS): the account's failures only. Axes would also clear every
        failure from the address, so that a sprayer holding one valid account could wipe its count by logging in."""
        count, _ = AccessAttempt.objects.filter(username=get_client_username(request, credentials)).delete()
        return count

    def lockout_ends_at(
        self, request: HttpRequest, parameters: list[str], credentials: dict[str, Any] | None = None
    ) -> datetime.datetime | None:
        """When the given locks lift: the cool-off after the last failure that counts for them."""
        cool_off = get_cool_off(request)
        attempts = dict(zip(failure_limits(), self.get_user_attempts(request, credentials), strict=True))
        last_failures = [attempts[p].aggregate(last=Max("attempt_time"))["last"] for p in parameters]
        known = [moment for moment in last_failures if moment is not None]
        if cool_off is None or not known:
            return None
        return max(known) + cool_off


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """The page of a refused login (settings.AXES_LOCKOUT_CALLABLE): which lock, and from when to try again."""
    handler = PerParameterLimitsHandler()
    locked = handler.locked_parameters(request, credentials)
    ends_at = handler.lockout_ends_at(request, locked, credentials)
    cool_off = get_cool_off(request) or datetime.timedelta(0)
    context = {
        "by_account": "username" in locked,
        "by_address": "ip_address" in locked,
        "ends_at": timezone.localtime(ends_at) if ends_at else None,
        "minutes": math.ceil(cool_off.total_seconds() / 60),
    }
    response = render(
        request, axes_settings.AXES_LOCKOUT_TEMPLATE, context, status=axes_settings.AXES_HTTP_RESPONSE_CODE
    )
    wait = (ends_at - timezone.now()).total_seconds() if ends_at else cool_off.total_seconds()
    response["Retry-After"] = str(max(math.ceil(wait), 1))
    return response
