"""The signing keys: one created on first need, race-safe; a rotation keeps earlier credentials verifiable."""

import io

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from credentials import verify
from credentials.models import IssuedCredential, SigningKey
from credentials.services import _key_create, signing_key, signing_key_rotate
from credentials.signing import issuer_id, key_uri
from organisations.models import AuditLog
from tests.credentials.factories import header_of, issued

pytestmark = pytest.mark.django_db


def test_a_fresh_install_creates_its_key_on_first_need_and_keeps_it():
    assert not SigningKey.objects.exists()
    key = signing_key()
    assert key.signing and key.retired_at is None
    assert signing_key() == key
    assert SigningKey.objects.count() == 1
    assert key.public_jwk["kty"] == "OKP" and key.public_jwk["crv"] == "Ed25519"
    assert "d" not in key.public_jwk
    assert "PRIVATE KEY" in key.private_key_pem


def test_a_second_signing_key_cannot_be_created_beside_the_first():
    """What makes the first creation race-safe: the loser's insert fails, and it reads the winner's key."""
    first = signing_key()
    with pytest.raises(IntegrityError), transaction.atomic():
        _key_create(signing_key=True)
    assert signing_key() == first


def test_the_certificate_credential_is_signed_with_the_current_key():
    _certificate, credential = issued()
    key = SigningKey.objects.get(signing=True)
    assert credential.key == key
    assert header_of(credential.token) == {"alg": "EdDSA", "kid": key_uri(key.kid), "typ": "JWT"}


def test_after_a_rotation_old_credentials_verify_and_new_ones_use_the_new_key():
    _certificate, old = issued()
    out = io.StringIO()
    call_command("credential_key_rotate", stdout=out)
    old_key = SigningKey.objects.get(pk=old.key_id)
    new_key = SigningKey.objects.get(signing=True)
    assert new_key.kid in out.getvalue()
    assert new_key != old_key
    assert old_key.retired_at is not None and old_key.signing is None
    assert verify.credential_verify(old.token).valid
    _certificate, new = issued()
    assert new.key == new_key
    assert header_of(new.token)["kid"] == key_uri(new_key.kid)
    assert verify.credential_verify(new.token).valid
    assert AuditLog.objects.filter(action="credentials.signing_key_rotate").count() == 1


def test_jwks_publishes_every_key_retired_ones_included_without_private_parts():
    first = signing_key()
    second = signing_key_rotate()
    response = Client().get("/.well-known/jwks.json")
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert [k["kid"] for k in keys] == [key_uri(first.kid), key_uri(second.kid)]
    assert all(k["kty"] == "OKP" and k["crv"] == "Ed25519" and k["alg"] == "EdDSA" for k in keys)
    assert all("d" not in k for k in keys)
    assert "public" in response["Cache-Control"]


def test_the_did_document_lists_the_same_keys_for_assertions():
    first = signing_key()
    second = signing_key_rotate()
    response = Client().get(reverse("credentials:did"))
    assert response.status_code == 200
    document = response.json()
    assert document["id"] == issuer_id()
    assert document["assertionMethod"] == [key_uri(first.kid), key_uri(second.kid)]
    assert [m["publicKeyJwk"]["x"] for m in document["verificationMethod"]] == [
        first.public_jwk["x"],
        second.public_jwk["x"],
    ]


def test_the_issuer_is_the_did_web_of_the_site_address(settings):
    settings.SITE_URL = "https://clea.example.fr"
    assert issuer_id() == "did:web:clea.example.fr"
    settings.SITE_URL = "http://127.0.0.1:8000"
    assert issuer_id() == "did:web:127.0.0.1%3A8000"


def test_issuing_twice_gives_the_same_credential():
    from credentials.services import credential_issue

    certificate, credential = issued()
    assert credential_issue(certificate=certificate) == credential
    assert IssuedCredential.objects.filter(certificate=certificate).count() == 1
