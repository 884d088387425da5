from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from django.http import HttpRequest

from organisations.identity import enabled, identity_changed
from organisations.models import Membership, Organisation, User
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


# The cached identity of the signed-in (organisations.identity): replaced once a change of what it holds commits.
@receiver(post_save, sender=User)
@receiver(post_delete, sender=User)
def user_identity_changed(sender: Any, instance: User, **kwargs: Any) -> None:
    identity_changed(instance.pk)


@receiver(pre_save, sender=Membership)
def membership_previous_user(sender: Any, instance: Membership, **kwargs: Any) -> None:
    # A membership given to another user (the admin allows it) changes the identity of the one who loses it too.
    if enabled() and instance.pk is not None:
        previous = Membership._base_manager.filter(pk=instance.pk).values_list("user_id", flat=True).first()
        instance.__dict__["_identity_previous_user_id"] = previous


@receiver(post_save, sender=Membership)
@receiver(post_delete, sender=Membership)
def membership_identity_changed(sender: Any, instance: Membership, **kwargs: Any) -> None:
    previous = instance.__dict__.pop("_identity_previous_user_id", None)
    identity_changed(*{instance.user_id, previous} - {None})


@receiver(post_save, sender=Organisation)
@receiver(post_delete, sender=Organisation)
def organisation_identity_changed(sender: Any, instance: Organisation, **kwargs: Any) -> None:
    # Its name and whether it is active are read with every membership of it.
    if enabled():
        identity_changed(*Membership.objects.filter(organisation_id=instance.pk).values_list("user_id", flat=True))
