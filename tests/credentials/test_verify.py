"""credential_verify: authentic, unchanged, not revoked; and each way a file can fail, with its reason."""

import json
from collections.abc import Iterator

import pytest

from credentials import verify
from credentials.models import IssuedCredential
from credentials.services import credential_issue
from credentials.signing import issuer_id
from juries.services import decision_revoke
from tests.credentials.factories import (
    header_of,
    issued,
    payload_of,
    signed_by_another_key,
    with_payload_byte_changed,
    with_signature_byte_flipped,
)
from tests.juries.factories import make_certifpro
from tests.shared import shared_rows

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def credential_pk(django_db_setup, django_db_blocker) -> Iterator[int]:
    """A certificate issued through the jury's services with its credential, built once for the module
    (tests/shared.py); a revocation or deletion by one test is rolled back before the next."""
    with shared_rows(django_db_blocker):
        _certificate, credential = issued()
        yield credential.pk


@pytest.fixture
def credential(credential_pk: int) -> IssuedCredential:
    return IssuedCredential.objects.get(pk=credential_pk)


def test_a_credential_of_the_platform_verifies(credential):
    verdict = verify.credential_verify(credential.token)
    assert verdict.valid
    assert verdict.authentic and not verdict.revoked
    assert verdict.reasons == []
    assert verdict.certificate == credential.certificate
    assert verdict.claims["credentialSubject"]["licenseNumber"] == credential.certificate.number


def test_the_file_verifies_as_bytes_with_a_trailing_newline_and_inside_json(credential):
    assert verify.credential_verify((credential.token + "\n").encode()).valid
    assert verify.credential_verify(json.dumps(credential.token)).valid
    assert verify.credential_verify(json.dumps({"credential": credential.token}).encode()).valid


def test_one_changed_byte_in_the_payload_fails_the_signature(credential):
    number = credential.certificate.number.encode()
    # The certificate's number, one digit changed: still a well-formed credential, no longer the signed one.
    last = number[-1:]
    tampered = with_payload_byte_changed(credential.token, number, number[:-1] + (b"8" if last != b"8" else b"9"))
    verdict = verify.credential_verify(tampered)
    assert not verdict.valid and not verdict.authentic
    assert verdict.reasons == [verify.BAD_SIGNATURE]
    assert verdict.certificate is None


def test_one_changed_byte_in_the_signature_fails(credential):
    verdict = verify.credential_verify(with_signature_byte_flipped(credential.token))
    assert not verdict.authentic
    assert verdict.reasons == [verify.BAD_SIGNATURE]


def test_a_credential_signed_by_another_key_under_our_kid_fails(credential):
    forged = signed_by_another_key(credential.token)
    assert header_of(forged)["kid"] == header_of(credential.token)["kid"]
    verdict = verify.credential_verify(forged)
    assert not verdict.authentic
    assert verdict.reasons == [verify.BAD_SIGNATURE]


def test_a_key_of_the_platform_that_was_never_published_is_unknown(credential):
    header = {**header_of(credential.token), "kid": f"{issuer_id()}#not-a-key-of-ours"}
    verdict = verify.credential_verify(signed_by_another_key(credential.token, header=header))
    assert verdict.reasons == [verify.UNKNOWN_KEY]


def test_a_credential_of_another_issuer_is_told_apart(credential):
    header = {**header_of(credential.token), "kid": "did:web:badges.example.org#key-1"}
    verdict = verify.credential_verify(signed_by_another_key(credential.token, header=header))
    assert not verdict.authentic
    assert verdict.reasons == [verify.OTHER_ISSUER]


def test_a_header_without_a_signature_algorithm_of_ours_fails(credential):
    header, payload, _signature = credential.token.split(".")
    from tests.credentials.factories import b64encode

    unsigned = ".".join([b64encode(json.dumps({**header_of(credential.token), "alg": "none"}).encode()), payload, ""])
    verdict = verify.credential_verify(unsigned)
    assert not verdict.authentic
    assert verdict.reasons == [verify.BAD_SIGNATURE]


def test_a_revoked_certificate_reports_its_credential_revoked(credential):
    certificate = credential.certificate
    decision_revoke(decision=certificate.decision, by=make_certifpro(), reason="Fraude à l'évaluation")
    verdict = verify.credential_verify(credential.token)
    assert verdict.authentic
    assert verdict.revoked
    assert not verdict.valid
    assert verdict.reasons == [verify.REVOKED]
    certificate.refresh_from_db()
    assert verdict.revoked_at == certificate.revoked_at


def test_a_revoked_certificate_gets_no_new_credential(credential):
    certificate = credential.certificate
    decision_revoke(decision=certificate.decision, by=make_certifpro(), reason="Fraude à l'évaluation")
    certificate.refresh_from_db()
    credential.delete()
    assert credential_issue(certificate=certificate) is None
    assert not IssuedCredential.objects.filter(certificate=certificate).exists()


def test_a_signed_credential_no_certificate_carries_is_reported(credential):
    token = credential.token
    credential.delete()  # as after restoring a backup older than the credential
    verdict = verify.credential_verify(token)
    assert verdict.authentic and not verdict.valid
    assert verdict.reasons == [verify.UNKNOWN_CREDENTIAL]


@pytest.mark.parametrize(
    "data",
    [b"", "hello", "a.b.c", "not json {", b"\xff\xfe\x00", json.dumps({"credential": 3}), "x" * 70_000],
)
def test_anything_that_is_not_a_credential_is_malformed(data):
    assert verify.credential_verify(data).reasons == [verify.MALFORMED]


def test_claims_that_contradict_the_credential_are_refused_even_when_signed(credential, settings):
    # Signed by our own key, but `sub` names someone else than credentialSubject.id (§8.2.6.1).
    from credentials.services import signing_key
    from credentials.signing import sign

    key = signing_key()
    payload = {**payload_of(credential.token), "sub": "urn:uuid:00000000-0000-0000-0000-000000000000"}
    verdict = verify.credential_verify(sign(payload, private_key_pem=key.private_key_pem, kid=key.kid))
    assert verdict.authentic and not verdict.valid
    assert verdict.reasons == [verify.CLAIMS_MISMATCH]
