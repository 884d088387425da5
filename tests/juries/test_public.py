from collections.abc import Iterator
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import reverse

from juries.models import Certificate
from juries.services import decision_revoke
from tests.clients import page_text
from tests.juries.factories import certified, make_certifpro
from tests.shared import shared_rows

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limit")]


@pytest.fixture(scope="module")
def certificate_pk(django_db_setup, django_db_blocker) -> Iterator[int]:
    """A certificate awarded by a closed session, its PDF produced: built once for the module's 30 tests
    (tests/shared.py), whatever a test writes (a revocation) being rolled back before the next one."""
    with shared_rows(django_db_blocker):
        _jury, _submission, certificate = certified()
        yield certificate.pk


@pytest.fixture
def certificate(certificate_pk: int) -> Certificate:
    return Certificate.objects.get(pk=certificate_pk)


def verify_url(code: str) -> str:
    return reverse("certificate_verify", kwargs={"code": code})


def test_a_valid_certificate_shows_its_holder_certification_and_date_without_login(certificate):
    response = Client().get(verify_url(certificate.verification_code))
    assert response.status_code == 200
    page = page_text(response)
    assert "Certificat valide" in page
    assert certificate.holder_name in page
    assert f"<dd>{certificate.get_certification_display()}</dd>" in page
    assert f"{certificate.awarded_on:%d/%m/%Y}" in page
    assert "révoqué" not in page.lower()


def test_the_page_shows_nothing_beyond_what_proves_the_certificate(certificate):
    dossier = certificate.dossier
    candidate = dossier.candidate
    page = page_text(Client().get(verify_url(certificate.verification_code)))
    assert f"{candidate.birth_date:%d/%m/%Y}" not in page
    assert candidate.birth_place not in page
    assert candidate.email not in page
    assert dossier.organisation.name not in page
    assert dossier.organisation.siret not in page
    assert dossier.reference not in page
    assert certificate.session.organisation.name not in page


def test_a_revoked_certificate_says_so(certificate):
    decision_revoke(decision=certificate.decision, by=make_certifpro(), reason="Fraude.")
    response = Client().get(verify_url(certificate.verification_code))
    assert response.status_code == 200
    page = page_text(response)
    assert "révoqué" in page
    assert "Certificat valide" not in page
    # The reason is Certif'Pro's business, not the public's.
    assert "Fraude." not in page


def test_an_unknown_code_answers_404(certificate):
    unknown = "BCDFGHJK" if certificate.verification_code != "BCDFGHJK" else "CDFGHJKL"
    response = Client().get(verify_url(unknown))
    assert response.status_code == 404
    assert "Certificat inconnu" in page_text(response)


def test_a_code_of_the_wrong_length_is_refused_with_an_explanation(certificate):
    # Not "unknown": no certificate could ever have it, and the page says what a code looks like.
    response = Client().get(verify_url(certificate.verification_code + "X"))
    assert response.status_code == 400
    assert "Code invalide" in page_text(response)


def test_a_lower_case_code_is_accepted(certificate):
    response = Client().get(verify_url(certificate.verification_code.lower()))
    assert response.status_code == 200
    assert certificate.holder_name in page_text(response)


def test_the_form_redirects_to_the_code_page(certificate):
    client = Client()
    form = client.get(reverse("certificate_verify_form"))
    assert form.status_code == 200
    assert 'name="code"' in form.content.decode()
    response = client.get(reverse("certificate_verify_form"), {"code": certificate.verification_code.lower()})
    assert response.status_code == 302
    assert response["Location"] == verify_url(certificate.verification_code)


def test_the_31st_request_within_a_minute_from_one_address_is_refused(certificate):
    client = Client(REMOTE_ADDR="203.0.113.7")
    url = verify_url(certificate.verification_code)
    statuses = [client.get(url).status_code for _ in range(30)]
    assert statuses == [200] * 30
    refused = client.get(url)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"
    # Another address is not affected.
    assert Client(REMOTE_ADDR="203.0.113.8").get(url).status_code == 200


def spaced(code: str, separator: str) -> str:
    return code[:4] + separator + code[4:]


def test_the_form_accepts_a_code_typed_with_spaces_dashes_or_lower_case(certificate):
    code = certificate.verification_code
    client = Client()
    for typed in (spaced(code.lower(), " "), spaced(code, "-"), f" {code.lower()} ", spaced(code, " - ")):
        response = client.get(reverse("certificate_verify_form"), {"code": typed})
        assert response.status_code == 302, typed
        assert response["Location"] == verify_url(code)
    assert certificate.holder_name in page_text(client.get(verify_url(code)))


def test_the_code_page_accepts_a_code_with_spaces_dashes_or_lower_case(certificate):
    code = certificate.verification_code
    for typed in (spaced(code.lower(), " "), spaced(code, "-"), f" {code.lower()} "):
        response = Client().get(verify_url(typed))
        assert response.status_code == 200, typed
        assert certificate.holder_name in page_text(response)


def test_a_well_shaped_code_typed_with_separators_that_matches_nothing_is_unknown(certificate):
    # "AB12CD34" has the shape of a code, not its alphabet: no certificate, but not malformed either.
    response = Client().get(verify_url("ab12 cd34"))
    assert response.status_code == 404
    assert "Certificat inconnu" in page_text(response)
    assert "« AB12CD34 »" in page_text(response)


ODD_INPUTS = ["a/b", "AB12/CD34", "X" * 5000, "ÉÉÉÉÉÉÉÉ", "ＡＢ１２ＣＤ３４", "AB12CD3\x00", "--", "<script>x</script>"]


@pytest.mark.parametrize("kind", ["certificates", "attestations"])
@pytest.mark.parametrize("typed", [*ODD_INPUTS, "..", "a\\b", "%2F"])
def test_the_api_answers_input_that_cannot_be_a_code_with_a_404(kind, typed):
    """Path-like input through the public API: a slash (decoded from %2F) matches no route, anything else reaches
    the check of the code's shape; a 404 either way, never a 500."""
    response = Client().get(f"/api/v1/{kind}/verify/{quote(typed, safe='')}/")
    assert response.status_code == 404
    if response["Content-Type"] == "application/json":
        assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("typed", ODD_INPUTS)
def test_the_form_answers_input_that_cannot_be_a_code_with_the_form_and_an_explanation(certificate, typed):
    response = Client().get(reverse("certificate_verify_form"), {"code": typed})
    assert response.status_code == 400
    page = page_text(response)
    assert "Code invalide" in page
    assert "n'est pas un code de vérification" in page
    assert 'name="code"' in page
    assert "<script>x" not in response.content.decode()


@pytest.mark.parametrize("typed", [*ODD_INPUTS, " "])
def test_the_code_page_answers_input_that_cannot_be_a_code_with_the_form_and_an_explanation(certificate, typed):
    response = Client().get(verify_url(typed))
    assert response.status_code == 400
    assert "Code invalide" in page_text(response)
    assert 'name="code"' in page_text(response)


def test_an_empty_code_shows_the_form_without_an_error():
    for response in (
        Client().get(reverse("certificate_verify_form"), {"code": ""}),
        Client().get(reverse("certificate_verify_form"), {"code": "   "}),
    ):
        assert response.status_code == 200
        assert 'name="code"' in page_text(response)
        assert "Code invalide" not in page_text(response)


def test_input_that_cannot_be_a_code_counts_against_the_rate_limit(certificate):
    client = Client(REMOTE_ADDR="203.0.113.9")
    statuses = [client.get(verify_url("a/b")).status_code for _ in range(30)]
    assert statuses == [400] * 30
    assert client.get(verify_url(certificate.verification_code)).status_code == 429


def test_the_api_accepts_a_code_with_spaces_dashes_or_lower_case(certificate):
    code = certificate.verification_code
    for typed in (spaced(code.lower(), " "), spaced(code, "-")):
        response = Client().get(reverse("api:certificate_verify", kwargs={"code": typed}))
        assert response.status_code == 200, typed
        assert response.json()["code"] == code
