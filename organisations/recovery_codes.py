"""Recovery codes are stored as a slow, salted digest, never as typed: a copy of the database (a backup, a dump
handed to a contractor) must not hand out second factors.

django-otp's static device keeps each token in a 16-character column and compares what it is given with what it
stores; the platform gives it the digest of the typed code instead of the code (organisations.services), so that
the device's throttling and single use keep working unchanged. The digest is PBKDF2-SHA256 salted with the
device (its id: every user's codes are hashed differently, no table precomputed once serves for all), cut to the
column's 16 hexadecimal characters (64 bits, beyond the codes' own 40 bits of entropy: cutting costs nothing).
At 100,000 iterations, trying the 2^40 codes of one device costs about 10^17 SHA-256 operations.

Frozen, like the audit chain's serialisation: every stored digest was computed with these values; the migration
that hashed the codes stored in clear runs this function.
"""

from __future__ import annotations

import hashlib

ITERATIONS = 100_000
# django_otp.plugins.otp_static.models.StaticToken.token's max_length.
DIGEST_LENGTH = 16


def recovery_code_digest(code: str, *, device_id: int) -> str:
    """The stored form of a normalised recovery code (lower case, no separators) of the static device `device_id`."""
    salt = f"clea-recovery-code:{device_id}".encode()
    return hashlib.pbkdf2_hmac("sha256", code.encode(), salt, ITERATIONS).hex()[:DIGEST_LENGTH]
