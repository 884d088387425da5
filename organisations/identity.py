"""Who is signed in, without a query on the hot path: the user and their active memberships, kept in the shared
cache (Redis) per user, behind a version that every change of the user, of one of their memberships or of one of
their organisations replaces once committed.

Every request of a signed-in person reads them (django.contrib.auth's user, then clea_platform.tenancy's
memberships): two of the three queries of the floor page. Here they are one cache read of two keys. An entry is
used only while its version is the user's current one, so a change cannot be hidden by an entry written from a
read that raced with it (a reader that saw the old rows tags its entry with the old version, which nobody reads
again). A membership removed, an organisation or a user deactivated, a password changed: the next request reads
the database again, at once.

The entry holds no password hash: the user is stored with `password` deferred (read from the database by whatever
needs it: a password change form, Django's get_user), and with the session auth hash computed from the real hash when
the entry was written (an HMAC keyed with SECRET_KEY, useless offline), against which the middleware checks the
session's hash the way django.contrib.auth.get_user does.

Only with a cache every worker shares (settings.IDENTITY_CACHE, on with REDIS_URL): a per-process memory cache
would keep another worker's removed membership alive. If the cache cannot be reached the database answers. If a
version cannot be replaced after a commit (Redis unreachable for a moment, or full: under `noeviction` SET fails
while GET and DEL work), the users' entries are deleted instead and an error is logged. What remains: if the delete
fails too while later reads succeed (a timeout, a failover), or if a reader that read the rows before the commit
writes its entry back after that delete, the old entry is served until it expires: ENTRY_TIMEOUT at most.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from organisations.models import Membership, User

logger = logging.getLogger(__name__)

# An entry lives at most this long (seconds): the bound on staleness if an invalidation could not reach the cache.
ENTRY_TIMEOUT = 300
VERSION_TIMEOUT = 24 * 60 * 60
# Tests give each test a namespace of its own: SQLite reuses the ids a rolled-back test gave out.
namespace = "identity"


class Identity(NamedTuple):
    user: User
    memberships: list[Membership]
    # user.get_session_auth_hash() from the stored password hash, when the entry was read from the database.
    session_hash: str


def enabled() -> bool:
    return bool(getattr(settings, "IDENTITY_CACHE", False))


def _keys(user_id: Any) -> tuple[str, str]:
    return f"{namespace}:{user_id}", f"{namespace}:{user_id}:v"


def _from_database(user_id: Any) -> Identity | None:
    user = User._default_manager.filter(pk=user_id).first()
    if user is None:
        return None
    memberships = list(user.active_memberships())
    for membership in memberships:
        # The membership's user is this one (no query when a page reads membership.user).
        membership.user = user
    return Identity(user, memberships, user.get_session_auth_hash())


def _store(entry_key: str, version: str, identity: Identity) -> None:
    """Caches the identity without the password hash: the pickled user has `password` deferred."""
    user = identity.user
    password = user.__dict__.pop("password", None)
    try:
        cache.set(entry_key, (version, user, identity.memberships, identity.session_hash), ENTRY_TIMEOUT)
    finally:
        if password is not None:
            user.__dict__["password"] = password


def identity_load(user_id: Any) -> Identity | None:
    """The user of this id and their active memberships (organisation joined), from the cache when its entry is
    current, else from the database (then cached). None if there is no such user."""
    if not enabled():
        return _from_database(user_id)
    entry_key, version_key = _keys(user_id)
    try:
        found = cache.get_many([entry_key, version_key])
        version = found.get(version_key)
        entry = found.get(entry_key)
        if version is not None and entry is not None and entry[0] == version:
            return Identity(entry[1], entry[2], entry[3])
        if version is None:
            # First reader since the version expired: one version for all, whoever adds it first.
            cache.add(version_key, uuid.uuid4().hex, VERSION_TIMEOUT)
            version = cache.get(version_key)
    except Exception:
        logger.exception("Identity cache unreachable: read from the database.")
        return _from_database(user_id)
    identity = _from_database(user_id)
    if identity is not None and version is not None:
        try:
            _store(entry_key, version, identity)
        except Exception:
            logger.exception("Identity cache unreachable: entry not stored.")
    return identity


def identity_changed(*user_ids: Any) -> None:
    """The rows these users' identity is read from change: once committed, their cached entries stop being used."""
    if not enabled() or not user_ids:
        return
    ids = {int(pk) for pk in user_ids}

    def bump() -> None:
        try:
            cache.set_many({_keys(pk)[1]: uuid.uuid4().hex for pk in ids}, VERSION_TIMEOUT)
        except Exception:
            # Fail closed as far as the cache lets us: without their entries the users are read from the database.
            logger.exception("Identity cache: versions of users %s not replaced, their entries deleted.", sorted(ids))
            try:
                cache.delete_many([_keys(pk)[0] for pk in ids])
            except Exception:
                logger.exception(
                    "Identity cache: entries of users %s not deleted either: served until they expire (%s s).",
                    sorted(ids),
                    ENTRY_TIMEOUT,
                )

    # After the commit: a reader before it would otherwise cache the old rows under the new version.
    transaction.on_commit(bump)
