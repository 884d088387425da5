from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets
from typing import Any

import pgtrigger
from axes.handlers.proxy import AxesProxyHandler
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone

from clea_platform.locks import serialise_on
from clea_platform.request_meta import client_ip
from clea_platform.tenancy import SESSION_KEY
from organisations import audit_chain
from organisations.models import (
    API_TOKEN_MAX_LIFETIME,
    AUDIT_APPEND_ONLY_TRIGGER,
    AUDIT_CHAIN_LOCK,
    ApiToken,
    AuditLog,
    Membership,
    Organisation,
    Site,
    User,
)


def audit_record(
    *,
    action: str,
    actor: User | None,
    organisation: Organisation | int | None = None,
    obj: models.Model | None = None,
    request: HttpRequest | None = None,
    details: dict[str, Any] | None = None,
) -> AuditLog:
    """Append one row to the audit log (`organisation` as an instance or an id), chained to the last one. Call it
    inside the service's transaction so that both land or neither; from then on, until that transaction ends, any
    other transaction writing an audit row waits (AuditLog.save).

    The row is kept, unalterable, for the audit log's retention period: `details` says what changed (field names,
    ids, counts), never a person's identity; a model whose str() names a person gives an `audit_label()` instead."""
    if obj is None:
        label = ""
    else:
        label = obj.audit_label() if hasattr(obj, "audit_label") else str(obj)
    return AuditLog.objects.create(
        action=action,
        actor=actor if actor is not None and actor.is_authenticated else None,
        organisation_id=organisation.pk if isinstance(organisation, Organisation) else organisation,
        object_type=ContentType.objects.get_for_model(obj) if obj is not None else None,
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=label[:255],
        ip_address=client_ip(request),
        details=details or {},
    )


# The action of the row a purge leaves: it names the last row removed and its hash, where the chain now starts.
AUDIT_PURGE_ACTION = "audit.purge"


def audit_chain_verify() -> audit_chain.ChainReport:
    """Recompute the audit log's chain from its first row (or from the anchor the last purge recorded) to its last,
    and report the first row whose link or hash does not hold."""
    anchor = (
        AuditLog.objects.filter(action=AUDIT_PURGE_ACTION).order_by("-id").values_list("details", flat=True).first()
    )
    start = anchor["through_hash"] if anchor else audit_chain.GENESIS
    return audit_chain.verify(AuditLog.objects.chain().iterator(chunk_size=2000), start=start)


@transaction.atomic
def audit_purge(*, before: datetime.datetime, by: User | None = None) -> int:
    """Remove the audit rows written before `before` (the retention period's end) and write one chained row that
    records the purge: how many rows, up to which, and the last one's hash, from which audit_verify starts.
    The only path past the table's trigger; returns the number of rows removed.

    The chain is cut at its start only: from the first row written on or after `before`, every row stays, even
    one that a clock set back would have dated earlier."""
    serialise_on(AUDIT_CHAIN_LOCK)
    first_kept = AuditLog.objects.filter(created_at__gte=before).order_by("id").values_list("id", flat=True).first()
    doomed = AuditLog.objects.filter(id__lt=first_kept) if first_kept is not None else AuditLog.objects.all()
    last = doomed.order_by("-id").only("id", "hash").first()
    if last is None:
        return 0
    with pgtrigger.ignore(f"organisations.AuditLog:{AUDIT_APPEND_ONLY_TRIGGER}"):
        # A plain QuerySet: AuditLogQuerySet.delete() refuses, which is what every other caller must meet.
        removed, _by_model = models.QuerySet(AuditLog).filter(id__lte=last.pk).delete()
    # With every row gone, this one starts the chain where the removed rows ended (see AuditLog.save).
    AuditLog(
        action=AUDIT_PURGE_ACTION,
        actor=by,
        previous_hash=last.hash,
        details={"count": removed, "before": before.isoformat(), "through_id": last.pk, "through_hash": last.hash},
    ).save()
    return removed


@transaction.atomic
def user_password_reset_complete(*, user: User, request: HttpRequest) -> int:
    """After a password reset by e-mail link: lift the login lockout and audit it. Returns the number of axes
    attempts cleared.

    Whoever holds the link proved they own the address, the same proof a reset needs; keeping the account locked
    out for the rest of the cool-off would refuse the password they just chose. Axes counts failures under the
    address as typed in the login form; the backend matches it exactly against the stored, lower-cased address,
    so a lockout that matters is recorded under `user.email`."""
    cleared = AxesProxyHandler.reset_attempts(username=user.email)
    audit_record(
        action="auth.password_reset", actor=user, obj=user, request=request, details={"lockouts_cleared": cleared}
    )
    return cleared


def membership_switch(*, request: HttpRequest, membership_id: int) -> Membership:
    """Make one of the user's own memberships the current one. Raises Membership.DoesNotExist otherwise."""
    # Only logged-in users switch (the view requires login): request.user is a User, not AnonymousUser.
    membership = request.user.active_memberships().get(pk=membership_id)  # type: ignore[union-attr]
    request.session[SESSION_KEY] = membership.pk
    audit_record(
        action="membership.switch",
        actor=request.user,  # type: ignore[arg-type]  # logged in, as above
        organisation=membership.organisation,
        obj=membership,
        request=request,
    )
    return membership


@transaction.atomic
def site_update(*, site: Site, changes: dict[str, Any], by: User, request: HttpRequest | None = None) -> Site:
    """Save the given field values of a site and log which fields changed."""
    changed = sorted(changes)
    for name in changed:
        setattr(site, name, changes[name])
    if changed:
        site.save(update_fields=changed)
        audit_record(
            action="site.update",
            actor=by,
            organisation=site.organisation,
            obj=site,
            request=request,
            details={"fields": changed},
        )
    return site


# -- Personal API tokens ------------------------------------------------------------------------------------


def api_token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_token_create(
    *, membership: Membership, name: str, expires_at: datetime.datetime, request: HttpRequest | None = None
) -> tuple[ApiToken, str]:
    """Create a token acting under `membership`; returns it with the full key, which is never stored (only the
    SHA-256 of its secret): the caller shows it once. Expiry is required, at most one year ahead."""
    now = timezone.now()
    if not now < expires_at <= now + API_TOKEN_MAX_LIFETIME:
        raise ValueError("expires_at must be in the future, at most one year ahead")
    secret = secrets.token_urlsafe(32)
    while True:
        prefix = secrets.token_hex(4)
        if not ApiToken.objects.filter(prefix=prefix).exists():
            break
    token = ApiToken.objects.create(
        membership=membership, name=name.strip(), prefix=prefix, key_hash=api_token_hash(secret), expires_at=expires_at
    )
    audit_record(
        action="api_token.create",
        actor=membership.user,
        organisation=membership.organisation_id,
        obj=token,
        request=request,
        details={"expires_at": expires_at.isoformat()},
    )
    return token, f"{prefix}.{secret}"


@transaction.atomic
def api_token_revoke(*, token: ApiToken, by: User, request: HttpRequest | None = None) -> ApiToken:
    """Revoke a token at once (idempotent); only its owner may."""
    if token.membership.user_id != by.pk:
        raise PermissionDenied
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            action="api_token.revoke",
            actor=by,
            organisation=token.membership.organisation_id,
            obj=token,
            request=request,
        )
    return token


def api_token_authenticate(key: str) -> ApiToken | None:
    """The usable token for a key "<prefix>.<secret>", or None; records its use (at most once a minute)."""
    prefix, _sep, secret = key.partition(".")
    if len(prefix) != 8 or not secret:
        return None
    token = (
        ApiToken.objects.usable()
        .select_related("membership__user", "membership__organisation")
        .filter(prefix=prefix)
        .first()
    )
    if token is None or not hmac.compare_digest(token.key_hash, api_token_hash(secret)):
        return None
    if not token.membership.is_active or not token.membership.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > datetime.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
