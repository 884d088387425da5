"""Whether a credential file is one of the platform's, unchanged, and still valid (the `/verifier/` upload and
`POST /api/v1/credentials/verify/`). Open Badges 3.0 §8.2.6 and §9.1, against the platform's own records: the key
must be one the platform publishes (retired ones included), the payload's claims must match the credential
(§8.2.6.1), the certificate it names must still exist, and its revocation is the certificate's."""

from __future__ import annotations

import datetime
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from joserfc.errors import BadSignatureError, JoseError

from credentials import signing
from credentials.models import IssuedCredential, SigningKey
from juries.models import Certificate

# The largest file accepted: a credential is about 3 KB; anything far beyond is not one of ours.
MAX_CREDENTIAL_BYTES = 64 * 1024

# The reasons a credential is not valid, stable codes for programs (the screens translate them).
MALFORMED = "malformed"  # not a compact JWS, or not a credential
OTHER_ISSUER = "other_issuer"  # signed in the name of another issuer
UNKNOWN_KEY = "unknown_key"  # names a key of the platform that was never published
BAD_SIGNATURE = "bad_signature"  # changed since it was signed, or signed by another key
CLAIMS_MISMATCH = "claims_mismatch"  # the JWT claims contradict the credential (§8.2.6.1)
UNKNOWN_CREDENTIAL = "unknown_credential"  # validly signed, but no certificate of the platform carries it
REVOKED = "revoked"  # the certificate was revoked


@dataclass(frozen=True)
class Verdict:
    # Signed by a published key of the platform and unchanged since.
    authentic: bool
    revoked: bool = False
    revoked_at: datetime.datetime | None = None
    reasons: list[str] = field(default_factory=list)
    # The signed payload, once authentic.
    claims: dict[str, Any] | None = None
    certificate: Certificate | None = None

    @property
    def valid(self) -> bool:
        return self.authentic and not self.reasons


def _token_from(data: bytes | str) -> str | None:
    """The compact JWS inside what was sent: the token itself (a .jwt file), or a .json file holding it as a JSON
    string or under "credential". None when nothing there can be one."""
    if isinstance(data, bytes):
        if len(data) > MAX_CREDENTIAL_BYTES:
            return None
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            return None
    text = data.strip().lstrip("\ufeff")
    if len(text) > MAX_CREDENTIAL_BYTES:
        return None
    if text.startswith(("{", '"')):
        try:
            parsed = json.loads(text)
        except ValueError:
            return None
        if isinstance(parsed, dict):
            parsed = parsed.get("credential")
        if not isinstance(parsed, str):
            return None
        text = parsed.strip()
    if text.count(".") != 2 or not text.isascii():
        return None
    return text


def _claims_consistent(claims: dict[str, Any]) -> bool:
    """§8.2.6.1: `iss`, `sub`, `nbf` and `jti` say what the credential says."""
    issuer = claims.get("issuer")
    subject = claims.get("credentialSubject")
    if not isinstance(issuer, dict) or not isinstance(subject, dict):
        return False
    try:
        valid_from = datetime.datetime.fromisoformat(str(claims.get("validFrom")))
    except ValueError:
        return False
    return (
        claims.get("iss") == issuer.get("id")
        and claims.get("sub") == subject.get("id")
        and claims.get("jti") == claims.get("id")
        and isinstance(claims.get("nbf"), int)
        and claims["nbf"] == int(valid_from.timestamp())
    )


def credential_verify(data: bytes | str) -> Verdict:
    """The verdict on an uploaded or posted credential. Reads only the platform's keys, the credential's row and
    its certificate: three queries at most."""
    token = _token_from(data)
    if token is None:
        return Verdict(authentic=False, reasons=[MALFORMED])
    try:
        header = signing.unverified_header(token)
    except (JoseError, ValueError, TypeError):
        return Verdict(authentic=False, reasons=[MALFORMED])
    kid_uri = header.get("kid")
    if not isinstance(kid_uri, str):
        return Verdict(authentic=False, reasons=[MALFORMED])
    kid = signing.kid_of(kid_uri)
    if kid is None:
        return Verdict(authentic=False, reasons=[OTHER_ISSUER])
    key = SigningKey.objects.filter(kid=kid).first()
    if key is None:
        return Verdict(authentic=False, reasons=[UNKNOWN_KEY])
    if header.get("alg") != signing.ALGORITHM:  # our keys sign with nothing else: "none", a MAC, another curve
        return Verdict(authentic=False, reasons=[BAD_SIGNATURE])
    try:
        claims = signing.verified_claims(token, key.public_jwk)
    except BadSignatureError:
        return Verdict(authentic=False, reasons=[BAD_SIGNATURE])
    except (JoseError, ValueError, TypeError):
        return Verdict(authentic=False, reasons=[MALFORMED])
    if claims.get("iss") != signing.issuer_id():
        return Verdict(authentic=True, reasons=[OTHER_ISSUER], claims=claims)
    if not _claims_consistent(claims):
        return Verdict(authentic=True, reasons=[CLAIMS_MISMATCH], claims=claims)
    credential_id = _uuid_of(str(claims.get("jti", "")))
    credential = (
        IssuedCredential.objects.filter(credential_id=credential_id).select_related("certificate").first()
        if credential_id is not None
        else None
    )
    if credential is None:
        return Verdict(authentic=True, reasons=[UNKNOWN_CREDENTIAL], claims=claims)
    certificate = credential.certificate
    if certificate.is_revoked:
        return Verdict(
            authentic=True,
            revoked=True,
            revoked_at=certificate.revoked_at,
            reasons=[REVOKED],
            claims=claims,
            certificate=certificate,
        )
    return Verdict(authentic=True, claims=claims, certificate=certificate)


def _uuid_of(uri: str) -> uuid.UUID | None:
    prefix = "urn:uuid:"
    if not uri.startswith(prefix):
        return None
    try:
        return uuid.UUID(uri[len(prefix) :])
    except ValueError:
        return None
