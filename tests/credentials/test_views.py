"""The credential on the screens and the API: the upload on /verifier/, POST /api/v1/credentials/verify/, and the
staff download from the dossier page."""

import json
from collections.abc import Iterator

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from credentials.models import IssuedCredential
from juries.services import decision_revoke
from organisations.models import Role
from tests.clients import page_text
from tests.credentials.factories import issued, payload_of, with_payload_byte_changed, with_signature_byte_flipped
from tests.juries.factories import make_certifpro
from tests.shared import shared_rows

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limit")]

UPLOAD_URL = "/verifier/fichier/"
API_URL = "/api/v1/credentials/verify/"


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


def upload(token: str | bytes, name: str = "clea.jwt", client: Client | None = None):
    content = token.encode() if isinstance(token, str) else token
    return (client or Client()).post(UPLOAD_URL, {"file": SimpleUploadedFile(name, content)})


# -- /verifier/ ---------------------------------------------------------------------------------------------------


def test_the_verifier_page_offers_the_file_upload_beside_the_code():
    page = page_text(Client().get(reverse("certificate_verify_form")))
    assert reverse("credentials:verify_upload") == UPLOAD_URL
    assert f'action="{UPLOAD_URL}"' in page
    assert 'enctype="multipart/form-data"' in page
    assert 'type="file"' in page and 'name="file"' in page


def test_an_uploaded_credential_is_authentic_and_shows_the_certificate(credential):
    certificate = credential.certificate
    response = upload(credential.token)
    assert response.status_code == 200
    page = page_text(response)
    assert "Authentique et non modifié" in page
    assert certificate.holder_name in page
    assert certificate.number in page
    assert "CléA" in page
    assert f"{certificate.awarded_on:%d/%m/%Y}" in page


def test_a_json_file_holding_the_credential_is_accepted(credential):
    response = upload(json.dumps({"credential": credential.token}), name="clea.json")
    assert "Authentique et non modifié" in page_text(response)


def test_a_changed_file_is_told_modified(credential):
    number = credential.certificate.number.encode()
    tampered = with_payload_byte_changed(credential.token, number, number[:-1] + b"X")
    page = page_text(upload(tampered))
    assert "Signature invalide : le fichier a été modifié ou ne vient pas de la plateforme" in page
    assert credential.certificate.holder_name not in page
    assert "Signature invalide" in page_text(upload(with_signature_byte_flipped(credential.token)))


def test_a_revoked_certificate_shows_its_revocation_date(credential):
    certificate = credential.certificate
    decision_revoke(decision=certificate.decision, by=make_certifpro(), reason="Fraude")
    certificate.refresh_from_db()
    page = page_text(upload(credential.token))
    assert f"Révoqué le {timezone.localtime(certificate.revoked_at):%d/%m/%Y}" in page
    assert "Authentique et non modifié" not in page


def test_a_file_that_is_not_a_credential_is_unreadable():
    page = page_text(upload(b"%PDF-1.7 not a credential", name="certificat.pdf"))
    assert "Fichier illisible" in page


def test_a_file_too_big_is_refused_on_the_form():
    response = upload(b"x" * (64 * 1024 + 1))
    assert response.status_code == 400
    page = page_text(response)
    assert "trop gros" in page
    assert 'aria-invalid="true"' in page


def test_the_upload_without_a_file_is_refused_and_a_get_goes_back_to_the_form():
    assert Client().post(UPLOAD_URL, {}).status_code == 400
    response = Client().get(UPLOAD_URL)
    assert response.status_code == 302 and response["Location"] == reverse("certificate_verify_form")


def test_uploads_share_the_verification_rate_limit(credential):
    client = Client()
    for _ in range(30):
        client.get(reverse("certificate_verify_form"))
    assert upload(credential.token, client=client).status_code == 429


# -- API ----------------------------------------------------------------------------------------------------------


def test_the_api_verifies_a_posted_credential_without_login(credential):
    certificate = credential.certificate
    response = Client().post(API_URL, {"credential": credential.token}, content_type="application/json")
    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is True and body["revoked"] is False and body["reasons"] == []
    assert body["credential"]["number"] == certificate.number
    assert body["credential"]["holder_name"] == certificate.holder_name
    assert body["credential"]["id"] == payload_of(credential.token)["id"]
    assert body["credential"]["revoked_at"] is None


def test_the_api_takes_the_raw_file_as_the_body(credential):
    for content_type in ("text/plain", "application/vc+jwt"):
        response = Client().post(API_URL, credential.token.encode(), content_type=content_type)
        assert response.status_code == 200, content_type
        assert response.json()["valid"] is True


def test_the_api_reports_a_revoked_and_a_tampered_credential(credential):
    certificate = credential.certificate
    tampered = with_signature_byte_flipped(credential.token)
    body = Client().post(API_URL, {"credential": tampered}, content_type="application/json").json()
    assert body == {"valid": False, "revoked": False, "reasons": ["bad_signature"], "credential": None}
    decision_revoke(decision=certificate.decision, by=make_certifpro(), reason="Fraude")
    body = Client().post(API_URL, {"credential": credential.token}, content_type="application/json").json()
    assert body["valid"] is False and body["revoked"] is True and body["reasons"] == ["revoked"]
    assert body["credential"]["revoked_at"]


def test_the_api_refuses_a_request_without_a_credential():
    response = Client().post(API_URL, {}, content_type="application/json")
    assert response.status_code == 400
    assert Client().post(API_URL, b"  ", content_type="text/plain").status_code == 400


def test_the_api_operation_is_documented_as_public():
    schema = Client().get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/credentials/verify/"]["post"]
    # No security requirement: anonymous callers are let in (as clea_platform.api_schema reads it).
    assert {} in operation.get("security", [{}])
    assert "401" not in operation["responses"]
    assert set(operation["requestBody"]["content"]) == {"application/json", "text/plain"}
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/CredentialVerdict")
    verdict = schema["components"]["schemas"]["CredentialVerdict"]
    assert set(verdict["required"]) == {"valid", "revoked", "reasons", "credential"}


# -- Staff download -----------------------------------------------------------------------------------------------


def test_the_dossier_page_links_the_credential_and_the_counsellor_downloads_it(credential, client_for, make_member):
    certificate = credential.certificate
    counsellor = make_member(certificate.dossier.organisation, Role.COUNSELLOR)
    client = client_for(counsellor)
    page = page_text(client.get(reverse("journey:dossier_detail", args=[certificate.dossier.pk])))
    url = reverse("credentials:download", args=[certificate.pk])
    assert f'href="{url}"' in page
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vc+jwt"
    assert f'filename="clea-{certificate.number}.jwt"' in response["Content-Disposition"]
    assert response.content.decode() == credential.token


def test_a_certificate_issued_before_the_app_gets_its_credential_on_download(credential, client_for, make_member):
    certificate = credential.certificate
    credential.delete()
    response = client_for(make_member(certificate.dossier.organisation, Role.COUNSELLOR)).get(
        reverse("credentials:download", args=[certificate.pk])
    )
    assert response.status_code == 200
    assert IssuedCredential.objects.get(certificate=certificate).token == response.content.decode()


def test_another_organisation_gets_404(credential, make_member, client_for, org_b):
    outsider = make_member(org_b, Role.COUNSELLOR)
    response = client_for(outsider).get(reverse("credentials:download", args=[credential.certificate.pk]))
    assert response.status_code == 404


def test_a_revoked_certificate_has_no_credential_link_on_the_dossier_page(credential, client_for, make_member):
    certificate = credential.certificate
    decision_revoke(decision=certificate.decision, by=make_certifpro(), reason="Fraude")
    client = client_for(make_member(certificate.dossier.organisation, Role.COUNSELLOR))
    page = page_text(client.get(reverse("journey:dossier_detail", args=[certificate.dossier.pk])))
    assert reverse("credentials:download", args=[certificate.pk]) not in page
