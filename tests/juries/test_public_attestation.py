"""The public /verifier/ page knows attestations of partial validation too (issue 14): by their own 10-character
code, typed as loosely as a certificate's, showing only what proves the attestation."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clea_platform.verification import verification_code_normalise
from tests.clients import page_text
from tests.journey import DossierFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limit")]


@pytest.fixture
def attestation(django_capture_on_commit_callbacks, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    with django_capture_on_commit_callbacks(execute=True):
        dossier = DossierFactory(state="partially_validated", first_name="Léa", last_name="Martin")
    return dossier.attestations.get()


def test_an_attestation_typed_loosely_shows_its_holder_certification_date_and_acquired_domains(attestation):
    code = attestation.verification_code
    typed = f"{code[:5].lower()} - {code[5:].lower()}"
    response = Client().get(reverse("certificate_verify_form"), {"code": typed}, follow=True)
    assert response.redirect_chain == [(reverse("certificate_verify", args=[code]), 302)]
    assert response.status_code == 200
    page = page_text(response)
    assert "Attestation authentique" in page
    assert "Léa MARTIN" in page
    assert "<dd>CléA</dd>" in page
    assert timezone.localtime(attestation.generated_at).strftime("%d/%m/%Y") in page
    assert "1. Communication en français" in page  # acquired
    assert "Calcul" not in page  # domain 2, still to acquire


def test_the_attestation_page_shows_no_contact_details_nor_anything_beyond_the_proof(attestation):
    dossier = attestation.dossier
    candidate = dossier.candidate
    page = page_text(Client().get(reverse("certificate_verify", args=[attestation.verification_code])))
    assert candidate.email not in page
    assert f"{candidate.birth_date:%d/%m/%Y}" not in page
    assert candidate.birth_place not in page
    assert dossier.organisation.name not in page
    assert dossier.reference not in page  # nor the attestation's number, which holds it


def test_an_unknown_attestation_code_answers_404_in_french(attestation):
    unknown = "BCDFGHJKLM" if attestation.verification_code != "BCDFGHJKLM" else "CDFGHJKLMN"
    response = Client().get(reverse("certificate_verify", args=[unknown]))
    assert response.status_code == 404
    assert "Attestation inconnue" in page_text(response)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("bcdfg-hjklm", "BCDFGHJKLM"), ("BCDF GHJK", "BCDFGHJK"), ("BCDFGHJKL", None), ("BCDFGHJKLMN", None)],
)
def test_codes_of_8_or_10_characters_are_read_as_codes_and_no_other_length(typed, expected):
    assert verification_code_normalise(typed) == expected


def test_the_api_checks_an_attestation_as_the_page_does(attestation):
    code = attestation.verification_code
    checked = Client().get(reverse("api:attestation_verify", kwargs={"code": f"{code[:5]}-{code[5:]}".lower()}))
    assert checked.status_code == 200
    body = checked.json()
    assert body["code"] == code
    assert body["holder_name"] == "Léa MARTIN"
    assert body["acquired_domains"]
    # holder_erased_on: set once the holder's identity is erased past its retention (tests/privacy).
    assert body["holder_erased_on"] is None
    assert set(body) == {"code", "holder_name", "certification", "issued_on", "acquired_domains", "holder_erased_on"}


@pytest.mark.parametrize("code", ["ZZZZZZZZZZ", "a.b", "ZZZZZZZZ"])
def test_the_api_answers_a_json_404_to_a_code_of_no_attestation(code, db):
    response = Client().get(reverse("api:attestation_verify", kwargs={"code": code}))
    assert response.status_code == 404
    assert response.json()["message"] == "Aucune attestation ne correspond à ce code."
