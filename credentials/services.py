"""Keys, issuance, status lists and downloads of the Open Badges 3.0 credentials (docs: README, « Attestation
numérique (Open Badges 3.0) »)."""

from __future__ import annotations

import datetime
import hashlib
import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Max, Min
from django.utils import timezone

from credentials import signing
from credentials.models import IssuedCredential, SigningKey
from credentials.open_badges import credential_payload, status_list_payload
from credentials.status_list import encode, index_range
from juries.models import Certificate
from organisations.services import audit_record

# application/vc+jwt: the media type of a credential secured as a JWT (W3C VC-JOSE-COSE §3.1.1).
CREDENTIAL_CONTENT_TYPE = "application/vc+jwt"
# Concurrent issuances draw the same next index; the loser tries the one after.
_INDEX_ATTEMPTS = 5


def _key_create(*, signing_key: bool) -> SigningKey:
    key = signing.new_key()
    return SigningKey.objects.create(
        kid=key.thumbprint(),
        private_key_pem=key.as_pem(private=True).decode("ascii"),
        public_jwk=key.as_dict(private=False),
        signing=True if signing_key else None,
    )


def signing_key() -> SigningKey:
    """The key that signs now, created on first need (a fresh install works with no step). Two processes creating
    it at once: the unique `signing` flag lets one in; the other reads the winner."""
    current = SigningKey.objects.filter(signing=True).first()
    if current is not None:
        return current
    try:
        with transaction.atomic():
            return _key_create(signing_key=True)
    except IntegrityError:
        return SigningKey.objects.get(signing=True)


@transaction.atomic
def signing_key_rotate() -> SigningKey:
    """A new key signs from now on; the previous one is retired from signing but stays published (JWKS, DID
    document), so that the credentials it signed still verify. Writes an audit row."""
    now = timezone.now()
    previous = SigningKey.objects.select_for_update().filter(signing=True).first()
    if previous is not None:
        previous.signing, previous.retired_at = None, now
        previous.save(update_fields=["signing", "retired_at"])
    key = _key_create(signing_key=True)
    audit_record(
        action="credentials.signing_key_rotate",
        actor=None,
        obj=key,
        details={"kid": key.kid, "retired": previous.kid if previous is not None else None},
    )
    return key


def _next_status_index() -> int:
    last = IssuedCredential.objects.aggregate(last=Max("status_index"))["last"]
    return 0 if last is None else last + 1


def credential_issue(*, certificate: Certificate) -> IssuedCredential | None:
    """The credential of an issued certificate, signed by the current key, with the next free position in the
    status lists. Idempotent (one per certificate). None for a certificate that is not issued (no PDF yet) or
    already revoked: a revoked certificate gets no new credential; one issued before stays, reported revoked.
    Called in the transaction that issues the certificate (receiver of `certificate_created`)."""
    existing = IssuedCredential.objects.filter(certificate=certificate).first()
    if existing is not None:
        return existing
    if not certificate.is_produced or certificate.is_revoked:
        return None
    key = signing_key()
    for _attempt in range(_INDEX_ATTEMPTS):
        credential_id = uuid.uuid4()
        issued_at = timezone.now().replace(microsecond=0)
        status_index = _next_status_index()
        payload = credential_payload(
            certificate, credential_id=credential_id, status_index=status_index, issued_at=issued_at
        )
        token = signing.sign(payload, private_key_pem=key.private_key_pem, kid=key.kid)
        try:
            with transaction.atomic():
                return IssuedCredential.objects.create(
                    certificate=certificate,
                    credential_id=credential_id,
                    status_index=status_index,
                    key=key,
                    issued_at=issued_at,
                    token=token,
                    sha256=hashlib.sha256(token.encode("ascii")).hexdigest(),
                )
        except IntegrityError:
            existing = IssuedCredential.objects.filter(certificate=certificate).first()
            if existing is not None:  # a concurrent issuance of the same certificate won
                return existing
            # else another certificate took the index: draw the next one
    raise RuntimeError("No free status list index after several attempts")


def credential_for(certificate: Certificate) -> IssuedCredential | None:
    """The certificate's credential, issued now for a certificate issued before this app existed. None when there
    is none to give (certificate not issued, or revoked before any credential was issued)."""
    existing = IssuedCredential.objects.filter(certificate=certificate).select_related("certificate").first()
    if existing is not None:
        return existing
    with transaction.atomic():
        locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
        return credential_issue(certificate=locked)


def credential_download(certificate: Certificate) -> tuple[str, bytes, str] | None:
    """(filename, content, content type) of the certificate's credential for the holder's space or the dossier
    page, or None when there is none to give. The caller checks who may download it."""
    credential = credential_for(certificate)
    if credential is None:
        return None
    return f"clea-{certificate.number}.jwt", credential.token.encode("ascii"), CREDENTIAL_CONTENT_TYPE


@dataclass(frozen=True)
class SignedStatusList:
    token: str
    etag: str


def status_list_signed(number: int) -> SignedStatusList | None:
    """The signed BitstringStatusListCredential of list `number`, or None when no credential uses it yet. Two
    queries whatever the number of credentials: the list's first issuance, and its revoked positions only.
    `validFrom` is the list's last change, so the same state signs to the same bytes (Ed25519 is deterministic)."""
    if number < 1:
        return None
    in_list = IssuedCredential.objects.in_status_list(number)
    first_issued = in_list.aggregate(first=Min("issued_at"))["first"]
    if first_issued is None:
        return None
    revoked = list(
        in_list.filter(certificate__revoked_at__isnull=False)
        .order_by()
        .values_list("status_index", "certificate__revoked_at")
    )
    start, _end = index_range(number)
    changed: datetime.datetime = max([first_issued, *(revoked_at for _index, revoked_at in revoked)])
    payload = status_list_payload(
        number, encoded_list=encode(index - start for index, _at in revoked), valid_from=changed
    )
    key = signing_key()
    token = signing.sign(payload, private_key_pem=key.private_key_pem, kid=key.kid)
    return SignedStatusList(token=token, etag='"' + hashlib.sha256(token.encode("ascii")).hexdigest() + '"')
