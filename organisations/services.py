from __future__ import annotations

import datetime
import enum
import hashlib
import hmac
import re
import secrets
from importlib import import_module
from typing import Any

import django_otp
import pgtrigger
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest
from django.utils import timezone
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clea_platform.locks import serialise_on
from clea_platform.request_meta import client_ip
from clea_platform.tenancy import SESSION_KEY
from organisations import audit_chain
from organisations.models import (
    ANONYMISED_EMAIL,
    API_TOKEN_MAX_LIFETIME,
    AUDIT_APPEND_ONLY_TRIGGER,
    AUDIT_CHAIN_LOCK,
    ApiToken,
    ApiTokenScope,
    AuditLog,
    Membership,
    Organisation,
    Role,
    Site,
    User,
    UserSession,
)
from organisations.recovery_codes import recovery_code_digest


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


def audit_chain_head(connection: BaseDatabaseWrapper | None = None) -> dict[str, Any] | None:
    """The last row's id and hash ({"id", "hash"}; None for an empty log), read on `connection` (the backup's own, in
    its dump's snapshot) or the default one. Written down outside the database (a backup manifest, an operator's
    notebook), it anchors the chain: `audit_verify --expect ID:HASH` then proves that row is still there, unaltered,
    which the chain alone cannot prove of its last rows (they could be removed, or all rows rewritten)."""
    connection = connection or connections[DEFAULT_DB_ALIAS]
    table = connection.ops.quote_name(AuditLog._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, hash FROM {table} ORDER BY id DESC LIMIT 1")  # noqa: S608 - the model's table
        row = cursor.fetchone()
    return {"id": row[0], "hash": row[1]} if row else None


class AnchorCheck(enum.StrEnum):
    OK = "ok"
    MISSING = "missing"  # no row with that id: removed, or the anchor belongs to another database
    DIFFERENT = "different"  # the row is there with another hash: rewritten
    PURGED = "purged"  # before the last retention purge: the purge row proves the chain up to its own anchor only


def audit_chain_expect(*, row_id: int, row_hash: str) -> AnchorCheck:
    """Whether the log still holds the row `row_id` with the hash `row_hash` (from audit_chain_head). The caller
    verifies the chain as well: together they prove every row up to that one unchanged since it was written down."""
    stored = AuditLog.objects.filter(pk=row_id).values_list("hash", flat=True).first()
    if stored is not None:
        return AnchorCheck.OK if hmac.compare_digest(stored, row_hash) else AnchorCheck.DIFFERENT
    anchor = (
        AuditLog.objects.filter(action=AUDIT_PURGE_ACTION).order_by("-id").values_list("details", flat=True).first()
    )
    if anchor is not None and row_id <= anchor["through_id"]:
        if row_id == anchor["through_id"]:
            return AnchorCheck.OK if hmac.compare_digest(anchor["through_hash"], row_hash) else AnchorCheck.DIFFERENT
        return AnchorCheck.PURGED
    return AnchorCheck.MISSING


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


# What a lockout locked: the account tried, or the client address (AuditLog.ip_address).
LOCKOUT_ACCOUNT = "account"
LOCKOUT_ADDRESS = "address"


@transaction.atomic
def auth_lockout_record(*, action: str, locked: str, username: str, request: HttpRequest | None) -> AuditLog:
    """One audit row when a limit starts refusing (a login lockout, password-reset requests), not one per failure:
    `locked` says what (LOCKOUT_ACCOUNT or LOCKOUT_ADDRESS), the row carries the client address and the identifier
    typed (never a password). The account, when one has that address, is the row's object."""
    username = username.strip()[:254]
    user = User.objects.filter(email__iexact=username).first() if username else None
    return audit_record(
        action=action,
        actor=None,
        obj=user,
        request=request,
        details={"locked": locked, "username": username},
    )


@transaction.atomic
def user_password_reset_complete(*, user: User, request: HttpRequest) -> int:
    """After a password reset by e-mail link: lift the login lockout, end the user's sessions, and audit it. Returns
    the number of axes attempts cleared.

    Whoever holds the link proved they own the address, the same proof a reset needs; keeping the account locked
    out for the rest of the cool-off would refuse the password they just chose. Axes counts failures under the
    address as typed in the login form; the backend matches it exactly against the stored, lower-cased address,
    so a lockout that matters is recorded under `user.email`."""
    cleared = AxesProxyHandler.reset_attempts(username=user.email)
    # Whoever was logged in with the old password (a forgotten shared PC, a thief) is not any more.
    user_sessions_end(
        user=user, by=user, request=request, action="auth.password_reset", details={"lockouts_cleared": cleared}
    )
    return cleared


def user_anonymise(*, user: User, now: datetime.datetime) -> bool:
    """An account unused past its retention, inside the caller's transaction: deactivated (memberships too, so no
    token or role survives it), its password unusable, its second factors and session rows removed, its name and
    address replaced. The row stays: the audit log, the dossiers' histories and the documents point at its id, and
    still do. Superusers are the platform's operators and are never chosen (privacy.selectors). False when it
    already was anonymised (nothing is written)."""
    locked = User.objects.select_for_update().filter(pk=user.pk, anonymised_at__isnull=True).first()
    if locked is None:
        return False
    locked.email = ANONYMISED_EMAIL.format(pk=locked.pk)
    locked.first_name = locked.last_name = ""
    locked.is_active = locked.is_staff = False
    locked.anonymised_at = now
    locked.set_unusable_password()
    locked.save()
    Membership.objects.filter(user=locked).update(is_active=False)
    TOTPDevice.objects.filter(user=locked).delete()
    StaticDevice.objects.filter(user=locked).delete()
    UserSession.objects.filter(user=locked).delete()
    return True


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
    *,
    membership: Membership,
    name: str,
    expires_at: datetime.datetime,
    scope: str = ApiTokenScope.READ_WRITE,
    request: HttpRequest | None = None,
) -> tuple[ApiToken, str]:
    """Create a token acting under `membership`; returns it with the full key, which is never stored (only the
    SHA-256 of its secret): the caller shows it once. Expiry is required, at most one year ahead. Refused
    (PermissionDenied) for a membership, user or organisation that is switched off."""
    now = timezone.now()
    if not now < expires_at <= now + API_TOKEN_MAX_LIFETIME:
        raise ValueError("expires_at must be in the future, at most one year ahead")
    if not Membership.objects.active().filter(pk=membership.pk).exists():
        raise PermissionDenied("The membership, its user or its organisation is not active.")
    secret = secrets.token_urlsafe(32)
    while True:
        prefix = secrets.token_hex(4)
        if not ApiToken.objects.filter(prefix=prefix).exists():
            break
    token = ApiToken.objects.create(
        membership=membership,
        name=name.strip(),
        scope=scope,
        prefix=prefix,
        key_hash=api_token_hash(secret),
        expires_at=expires_at,
    )
    audit_record(
        action="api_token.create",
        actor=membership.user,
        organisation=membership.organisation_id,
        obj=token,
        request=request,
        details={"expires_at": expires_at.isoformat(), "scope": scope},
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
    """The usable token for a key "<prefix>.<secret>", or None; records its use (at most once a minute). Usable:
    see `ApiTokenQuerySet.usable` (user, membership and organisation active, password unchanged since issue)."""
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
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > datetime.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


# -- Sessions -----------------------------------------------------------------------------------------------------

# What the platform keeps in a session besides Django's and django-otp's keys: when it started and was last seen
# (epoch seconds, for the idle and absolute limits), the id of its row in the user's list, and whether the user had
# a second factor when they logged in (so that no request has to ask the database).
SESSION_STARTED_KEY = "session_started_at"
SESSION_SEEN_KEY = "session_seen_at"
SESSION_ROW_KEY = "user_session_id"
TWO_FACTOR_ENROLLED_KEY = "two_factor_enrolled"


class SessionEnd(enum.StrEnum):
    IDLE = "idle"
    LIFETIME = "lifetime"


def _session_store() -> Any:
    return import_module(settings.SESSION_ENGINE).SessionStore


def user_session_start(
    *, request: HttpRequest, user: User, now: datetime.datetime | None = None, adopt: bool = False
) -> UserSession:
    """At login (and, with `adopt`, for a session opened before sessions were listed): the session's row in the
    user's list, its start and activity times, and whether the user has a second factor to give."""
    now = now or timezone.now()
    session = request.session
    if session.session_key is None:
        session.save()
    values = dict(
        user=user,
        session_key=str(session.session_key),
        created_at=now,
        last_seen_at=now,
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
        ip_address=client_ip(request),
    )
    if not adopt:
        if previous := session.get(SESSION_ROW_KEY):
            # Logged in again in the same session: Django gave it a new key and dropped the old one.
            UserSession.objects.filter(pk=previous).delete()
        # A new key (login cycles it): one INSERT, paid at each login.
        row = UserSession.objects.create(**values)
    else:
        # A session opened before sessions were listed: its first requests may arrive together.
        try:
            with transaction.atomic():
                row = UserSession.objects.create(**values)
        except IntegrityError:
            row = UserSession.objects.get(session_key=values["session_key"])
    session[SESSION_ROW_KEY] = row.pk
    session[SESSION_STARTED_KEY] = session[SESSION_SEEN_KEY] = int(now.timestamp())
    session[TWO_FACTOR_ENROLLED_KEY] = two_factor_device(user) is not None
    return row


def user_session_touch(*, request: HttpRequest, now: datetime.datetime) -> None:
    """Record activity (the middleware calls it at most once a minute per session). The key is written again: Django
    gives a session a new key when its password changes or its user logs in again."""
    request.session[SESSION_SEEN_KEY] = int(now.timestamp())
    UserSession.objects.filter(pk=request.session.get(SESSION_ROW_KEY, 0)).update(
        last_seen_at=now, session_key=request.session.session_key
    )


def user_session_expire(*, request: HttpRequest, reason: SessionEnd) -> None:
    """End the request's session because a limit passed; the logout receivers audit it with its reason."""
    request.session_end_reason = reason  # type: ignore[attr-defined]
    logout(request)


def user_session_forget(*, request: HttpRequest) -> None:
    """At logout: the session leaves the user's list."""
    UserSession.objects.filter(pk=request.session.get(SESSION_ROW_KEY, 0)).delete()


@transaction.atomic
def user_sessions_end(
    *,
    user: User,
    by: User | None,
    request: HttpRequest | None = None,
    pks: list[int] | None = None,
    keep: str = "",
    action: str = "auth.sessions_end",
    details: dict[str, Any] | None = None,
) -> int:
    """End sessions of `user` (those of `pks`, or all), except the one whose key is `keep`: each is deleted from the
    session store, so its browser is logged out at its next request. Returns how many ended.

    Audited in one row, under `action` with `details` and the count as `sessions_ended`: a service whose change ends
    the sessions (a password reset or change, a second factor set up or reset) names its own action here, and the log
    holds one row for that change, not a second one for its sessions."""
    rows = UserSession.objects.filter(user=user).exclude(session_key=keep or None)
    if pks is not None:
        rows = rows.filter(pk__in=pks)
    keys = list(rows.values_list("session_key", flat=True))
    store = _session_store()
    for key in keys:
        store(session_key=key).delete()
    rows.delete()
    audit_record(
        action=action, actor=by, obj=user, request=request, details={**(details or {}), "sessions_ended": len(keys)}
    )
    return len(keys)


def user_sessions_purge(*, now: datetime.datetime | None = None) -> int:
    """Daily: forget the rows of sessions their limits have ended (a browser left idle never comes back to be logged
    out), and let the session store drop its expired sessions. Idempotent; returns the rows removed."""
    alive = UserSession.objects.alive(now or timezone.now())
    removed, _per_model = UserSession.objects.exclude(pk__in=alive.values("pk")).delete()
    _session_store().clear_expired()
    return removed


@transaction.atomic
def user_password_change_complete(*, user: User, request: HttpRequest) -> int:
    """After a password change from the account (Django has given this session a new key): this session's row
    follows its key, every other session of the user ends. API tokens issued before stop by themselves
    (`ApiTokenQuerySet.usable`). Returns the number of other sessions ended."""
    UserSession.objects.filter(pk=request.session.get(SESSION_ROW_KEY, 0)).update(
        session_key=request.session.session_key
    )
    return user_sessions_end(
        user=user, by=user, request=request, keep=request.session.session_key or "", action="auth.password_change"
    )


# -- Second factor ------------------------------------------------------------------------------------------------

RECOVERY_CODE_COUNT = 10
_CODE_SEPARATORS = re.compile(r"[\s-]+")


class CodeCheck(enum.StrEnum):
    OK = "ok"
    WRONG = "wrong"
    # django-otp's back-off after wrong codes: 1, 2, 4, 8... seconds per device.
    THROTTLED = "throttled"


def two_factor_device(user: User) -> TOTPDevice | None:
    """The user's confirmed authenticator app, if any."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def session_two_factor_verified(session: Any) -> bool:
    """Whether this session gave a second factor since its login (django-otp keeps the device in the session)."""
    return django_otp.DEVICE_ID_SESSION_KEY in session


def two_factor_login(*, request: HttpRequest, device: Device) -> None:
    """Mark the session verified by `device` (django_otp.login, which checks that the device is the user's)."""
    django_otp.login(request, device)
    request.session[TWO_FACTOR_ENROLLED_KEY] = True


def _check(device: Device, code: str) -> CodeCheck:
    allowed, _info = device.verify_is_allowed()
    if not allowed:
        return CodeCheck.THROTTLED
    return CodeCheck.OK if device.verify_token(code) else CodeCheck.WRONG


def recovery_code_normalise(code: str) -> str:
    return _CODE_SEPARATORS.sub("", code).lower()


@transaction.atomic
def two_factor_enrolment_device(*, user: User) -> TOTPDevice:
    """The authenticator being set up: created at the first visit, the same secret until it is confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Application d'authentification", confirmed=False)
    return device


def _recovery_codes_replace(user: User) -> list[str]:
    device, _created = StaticDevice.objects.get_or_create(user=user, defaults={"name": "Codes de secours"})
    device.token_set.all().delete()
    device.throttle_reset(commit=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    # Stored as digests (organisations/recovery_codes.py): the codes themselves are only returned, to be shown once.
    StaticToken.objects.bulk_create(
        [StaticToken(device=device, token=recovery_code_digest(code, device_id=device.pk)) for code in codes]
    )
    return codes


@transaction.atomic
def two_factor_enrol_confirm(*, request: HttpRequest, device: TOTPDevice, code: str) -> tuple[CodeCheck, list[str]]:
    """Confirm the authenticator with a code it shows. On success: the device becomes the user's, 10 recovery codes
    replace any earlier ones (returned: the caller shows them once, they are not shown again), the session is
    verified, the user's other sessions end (they were opened without this factor), and it is audited."""
    user: User = request.user  # type: ignore[assignment]
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user, confirmed=False)
    result = _check(device, code.strip())
    if result is not CodeCheck.OK:
        return result, []
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _recovery_codes_replace(user)
    two_factor_login(request=request, device=device)
    user_sessions_end(
        user=user, by=user, request=request, keep=request.session.session_key or "", action="auth.two_factor_enrol"
    )
    return result, codes


@transaction.atomic
def two_factor_verify(*, request: HttpRequest, code: str, recovery: bool = False) -> CodeCheck:
    """After the password: check a code of the user's authenticator (or, with `recovery`, one of their recovery
    codes, which is then used up) and mark the session verified. Every attempt is audited; wrong codes slow the
    next attempts down (django-otp's throttling, per device)."""
    user: User = request.user  # type: ignore[assignment]
    device: Device | None
    if recovery:
        device = StaticDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        # The device compares what it is given with what it stores: the digest (organisations/recovery_codes.py).
        code = recovery_code_digest(recovery_code_normalise(code), device_id=device.pk) if device else ""
    else:
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("pk").first()
        code = _CODE_SEPARATORS.sub("", code)
    result = CodeCheck.WRONG if device is None else _check(device, code)
    method = "recovery_code" if recovery else "totp"
    if result is CodeCheck.OK and device is not None:
        two_factor_login(request=request, device=device)
        details: dict[str, Any] = {"method": method}
        if recovery:
            details["recovery_codes_left"] = StaticToken.objects.filter(device__user=user).count()
        audit_record(action="auth.two_factor", actor=user, obj=user, request=request, details=details)
    else:
        audit_record(
            action="auth.two_factor_failed",
            actor=user,
            obj=user,
            request=request,
            details={"method": method, "reason": result},
        )
    return result


@transaction.atomic
def two_factor_recovery_codes_renew(*, request: HttpRequest) -> list[str]:
    """New recovery codes for a verified session; the earlier ones stop working. Returned to be shown once."""
    user: User = request.user  # type: ignore[assignment]
    if not session_two_factor_verified(request.session):
        raise PermissionDenied
    codes = _recovery_codes_replace(user)
    audit_record(action="auth.recovery_codes_renew", actor=user, obj=user, request=request)
    return codes


@transaction.atomic
def two_factor_disable(*, request: HttpRequest, memberships: list[Membership]) -> None:
    """Remove one's own second factor, for a person whose roles do not require one (PermissionDenied otherwise)."""
    user: User = request.user  # type: ignore[assignment]
    if user.two_factor_required(memberships) or not session_two_factor_verified(request.session):
        raise PermissionDenied
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    request.session.pop(django_otp.DEVICE_ID_SESSION_KEY, None)
    request.session[TWO_FACTOR_ENROLLED_KEY] = False
    audit_record(action="auth.two_factor_disable", actor=user, obj=user, request=request)


@transaction.atomic
def two_factor_reset(*, user: User, by: User, request: HttpRequest | None = None) -> int:
    """Certif'Pro's answer to a lost phone: remove the user's authenticator and recovery codes and end their sessions,
    so that their next login enrols a new authenticator. Only a Certif'Pro administrator (or a superuser) may; it is
    audited under the person who did it. Returns the number of sessions ended."""
    if not (by.is_superuser or by.active_memberships().filter(role=Role.CERTIFPRO_ADMIN).exists()):
        raise PermissionDenied
    devices = (
        TOTPDevice.objects.filter(user=user, confirmed=True).count() + StaticDevice.objects.filter(user=user).count()
    )
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    return user_sessions_end(
        user=user, by=by, request=request, action="auth.two_factor_reset", details={"devices": devices}
    )
