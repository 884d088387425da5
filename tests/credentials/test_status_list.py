"""The Bitstring Status List: a signed list whose bit is set for each revoked certificate's credential, cheap to
serve and cache-friendly."""

import pytest
from django.test import Client
from django.urls import reverse

from credentials import status_list
from credentials.models import IssuedCredential
from credentials.services import credential_for
from credentials.signing import issuer_id
from juries.services import decision_revoke
from tests.credentials.factories import issued, payload_of
from tests.juries.factories import make_certifpro

pytestmark = pytest.mark.django_db


def fetch(number: int = 1, **headers):
    return Client().get(reverse("credentials:status_list", kwargs={"number": number}), headers=headers)


def list_bits(response) -> bytes:
    payload = payload_of(response.content.decode())
    return status_list.decode(payload["credentialSubject"]["encodedList"])


def test_the_status_list_is_a_signed_bitstring_status_list_credential():
    certificate, credential = issued()
    response = fetch()
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vc+jwt"
    payload = payload_of(response.content.decode())
    assert payload["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert payload["issuer"] == payload["iss"] == issuer_id()
    subject = payload["credentialSubject"]
    assert subject["type"] == "BitstringStatusList"
    assert subject["statusPurpose"] == "revocation"
    bits = status_list.decode(subject["encodedList"])
    assert len(bits) * 8 == status_list.LIST_SIZE >= 131_072
    assert not any(bits)
    # The credential points at this list and at its own position in it.
    entry = payload_of(credential.token)["credentialStatus"]
    assert entry["statusListCredential"] == payload["id"]
    assert entry["statusListIndex"] == str(credential.status_index)


def test_revoking_the_certificate_sets_its_bit_and_only_its_own():
    revoked_certificate, revoked = issued()
    _kept_certificate, kept = issued()
    decision_revoke(decision=revoked_certificate.decision, by=make_certifpro(), reason="Fraude")
    bits = list_bits(fetch())
    assert status_list.bit_is_set(bits, revoked.status_index)
    assert not status_list.bit_is_set(bits, kept.status_index)
    assert sum(bin(byte).count("1") for byte in bits) == 1


def test_the_same_state_gives_the_same_list_and_a_304_to_a_client_that_has_it():
    issued()
    first = fetch()
    assert first["ETag"]
    assert fetch().content == first.content
    again = fetch(**{"If-None-Match": first["ETag"]})
    assert again.status_code == 304
    assert again["ETag"] == first["ETag"]


def test_a_revocation_changes_the_etag():
    certificate, _credential = issued()
    before = fetch()["ETag"]
    decision_revoke(decision=certificate.decision, by=make_certifpro(), reason="Fraude")
    after = fetch(**{"If-None-Match": before})
    assert after.status_code == 200
    assert after["ETag"] != before


def test_the_list_costs_the_same_queries_whatever_the_number_of_revoked_credentials(django_assert_num_queries):
    certifpro = make_certifpro()
    for _ in range(3):
        certificate, _credential = issued()
        decision_revoke(decision=certificate.decision, by=certifpro, reason="Fraude")
    fetch()  # the signing key exists
    # The list's first issuance, its revoked positions, the signing key: three, with no session or user query.
    with django_assert_num_queries(3):
        response = fetch()
    assert sum(bin(byte).count("1") for byte in list_bits(response)) == 3


def test_a_list_no_credential_uses_is_not_found():
    issued()
    assert fetch(2).status_code == 404
    assert fetch(0).status_code == 404


def test_the_indexes_are_positions_in_the_lists():
    assert status_list.list_number(0) == 1
    assert status_list.list_number(131_071) == 1
    assert status_list.list_number(131_072) == 2
    assert status_list.index_range(2) == (131_072, 262_143)
    bits = status_list.decode(status_list.encode([0, 9, 131_071]))
    assert [i for i in range(status_list.LIST_SIZE) if status_list.bit_is_set(bits, i)] == [0, 9, 131_071]
    assert bits[0] == 0b1000_0000  # index 0 is the left-most bit of the first byte (§3.2)


def test_credentials_get_distinct_consecutive_indexes_and_a_certificate_before_the_app_gets_one_lazily():
    certificate_a, a = issued()
    certificate_b, b = issued()
    assert b.status_index == a.status_index + 1
    b.delete()  # as for a certificate issued before this app
    lazily = credential_for(certificate_b)
    assert lazily is not None and lazily.status_index == a.status_index + 1
    assert IssuedCredential.objects.count() == 2
