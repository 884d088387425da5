"""Credentials made the way the platform makes them: a certificate issued through the jury's services (its
credential comes with it), and tokens altered or forged the way an attacker would."""

from __future__ import annotations

import base64
import json

from joserfc import jwt
from joserfc.jwk import OKPKey

from clea_platform.certifications import Certification
from credentials.models import IssuedCredential
from credentials.signing import ALGORITHM
from juries.models import Certificate, JurySession
from tests.juries.factories import certified, make_jury


def issued(certification: str = Certification.CLEA, **dossier_kwargs) -> tuple[Certificate, IssuedCredential]:
    """A certificate awarded by a session on `certification`, with the credential issued along with it."""
    jury = make_jury()
    JurySession.objects.filter(pk=jury.session.pk).update(certification=certification)
    jury.session.certification = certification
    _jury, _submission, certificate = certified(jury, certification=certification, **dossier_kwargs)
    return certificate, IssuedCredential.objects.get(certificate=certificate)


def b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def header_of(token: str) -> dict:
    return json.loads(b64decode(token.split(".")[0]))


def payload_of(token: str) -> dict:
    return json.loads(b64decode(token.split(".")[1]))


def with_payload_byte_changed(token: str, old: bytes, new: bytes) -> str:
    """The token with one byte of its decoded payload replaced, re-encoded: still well-formed JSON, same header
    and signature, as a holder editing the file would leave it."""
    header, payload, signature = token.split(".")
    raw = b64decode(payload)
    assert raw.count(old) >= 1
    position = raw.index(old)
    changed = raw[:position] + new + raw[position + len(old) :]
    return ".".join([header, b64encode(changed), signature])


def with_signature_byte_flipped(token: str) -> str:
    header, payload, signature = token.split(".")
    raw = bytearray(b64decode(signature))
    raw[10] ^= 0x01
    return ".".join([header, payload, b64encode(bytes(raw))])


def signed_by_another_key(token: str, *, header: dict | None = None) -> str:
    """The same payload and header (our `kid` included), signed by a fresh Ed25519 key that is not ours."""
    return jwt.encode(
        header or header_of(token), payload_of(token), OKPKey.generate_key("Ed25519"), algorithms=[ALGORITHM]
    )
