"""The platform as an issuer: its identifier (did:web), its key identifiers, and JWS signing with joserfc.

Open Badges 3.0 §8.2 (VC-JWT): the JOSE header holds `alg`, `kid` (a URI dereferenced to the public JWK) and
`typ` "JWT", nothing else; the JWT payload is the credential itself, its members at the top level (VCDM 2.0 style,
no `vc` wrapper), with the registered claims `iss`, `jti`, `nbf` and `sub` (§8.2.4.1). The `kid` is a DID URL of
the platform's did:web (`did:web:clea.example.fr#<thumbprint>`), resolved by `/.well-known/did.json`; the same keys
are listed in `/.well-known/jwks.json` under the same `kid`.
"""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from django.conf import settings
from joserfc import jws, jwt
from joserfc.jwk import OKPKey

# Ed25519 under the name most Open Badges verifiers and wallets read today. RFC 9864 names it "Ed25519" and deprecates
# "EdDSA" (joserfc warns; CredentialsConfig.ready silences that one warning): to revisit when verifiers follow.
ALGORITHM = "EdDSA"
ISSUER_NAME = "Certif'Pro"


def issuer_id() -> str:
    """did:web of the host the platform is served at (its port percent-encoded, as did:web requires)."""
    netloc = urlsplit(settings.SITE_URL).netloc
    return "did:web:" + quote(netloc, safe="")


def key_uri(kid: str) -> str:
    """The header's `kid`: a DID URL that the platform's DID document resolves to the public key."""
    return f"{issuer_id()}#{kid}"


def kid_of(uri: str) -> str | None:
    """The key's thumbprint from a header's `kid`, or None when the URI is not one of the platform's."""
    prefix = issuer_id() + "#"
    return uri[len(prefix) :] if uri.startswith(prefix) and len(uri) > len(prefix) else None


def new_key() -> OKPKey:
    return OKPKey.generate_key("Ed25519")


def sign(claims: dict[str, Any], *, private_key_pem: str, kid: str) -> str:
    key = OKPKey.import_key(private_key_pem)
    header = {"alg": ALGORITHM, "kid": key_uri(kid), "typ": "JWT"}
    return jwt.encode(header, claims, key, algorithms=[ALGORITHM])


def unverified_header(token: str) -> dict[str, Any]:
    """The JOSE header, read before any key is chosen. Raises joserfc's errors (or ValueError) on a malformed one."""
    return jws.extract_compact(token.encode("ascii")).headers()


def verified_claims(token: str, public_jwk: dict[str, Any]) -> dict[str, Any]:
    """The payload if `public_jwk` signed the token. Raises joserfc.errors.BadSignatureError otherwise."""
    decoded = jwt.decode(token, OKPKey.import_key(public_jwk), algorithms=[ALGORITHM])
    return dict(decoded.claims)


def numeric_date(moment: datetime.datetime) -> int:
    return int(moment.timestamp())


def date_time_z(moment: datetime.datetime) -> str:
    """A DateTimeZ of the data model: UTC, whole seconds, ending in Z (so that it equals the `nbf` claim)."""
    return moment.astimezone(datetime.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
