from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from organisations.models import User
from organisations.services import audit_record, user_session_forget, user_session_start


@receiver(user_logged_in)
def audit_login(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    audit_record(action="auth.login", actor=user, obj=user, request=request)


@receiver(user_logged_in)
def session_listed(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    user_session_start(request=request, user=user)


@receiver(user_logged_out)
def audit_logout(sender: Any, request: HttpRequest, user: User | None, **kwargs: Any) -> None:
    user_session_forget(request=request)
    if user is None:
        return
    # A session ended by its idle or absolute limit (organisations/middleware.py) says so.
    reason = getattr(request, "session_end_reason", None)
    if reason is None:
        audit_record(action="auth.logout", actor=user, obj=user, request=request)
    else:
        audit_record(action="auth.session_expired", actor=user, obj=user, request=request, details={"reason": reason})


@receiver(user_login_failed)
def audit_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Never the password: only which address was tried.
    audit_record(
        action="auth.login_failed",
        actor=None,
        request=request,
        details={"email": str(credentials.get("username", ""))[:254]},
    )
