import datetime
import hashlib

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from organisations.models import ApiToken, AuditLog, Role
from organisations.services import api_token_create, api_token_revoke
from tests.journey import DossierFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/dossiers/"


def _token(membership, days=30):
    return api_token_create(
        membership=membership, name="SI régional", expires_at=timezone.now() + datetime.timedelta(days=days)
    )


def test_a_token_acts_under_its_membership(org_a, org_b):
    mine = DossierFactory(organisation=org_a)
    DossierFactory(organisation=org_b)
    _token_row, key = _token(mine.team.counsellor)
    body = Client(HTTP_AUTHORIZATION=f"Token {key}").get(LIST).json()
    assert [d["id"] for d in body["results"]] == [mine.pk]


def test_the_bearer_keyword_works_too_and_the_use_is_recorded(token_client, org_a):
    dossier = DossierFactory(organisation=org_a)
    assert token_client(dossier.team.counsellor, keyword="Bearer").get(LIST).status_code == 200
    assert ApiToken.objects.get().last_used_at is not None


def test_the_token_is_stored_hashed_and_the_key_is_only_returned_once(org_a, make_member):
    token, key = _token(make_member(org_a))
    prefix, secret = key.split(".")
    assert token.prefix == prefix and len(prefix) == 8
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(ApiToken.objects.filter(pk=token.pk).values().get())


@pytest.mark.parametrize("header", ["Token nope", "Token abcdefgh.wrong", "Token a b"])
def test_a_wrong_key_gets_401(header, org_a, make_member):
    _token(make_member(org_a))
    response = Client(HTTP_AUTHORIZATION=header).get(LIST)
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_an_expired_token_gets_401(org_a, make_member):
    token, key = _token(make_member(org_a))
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert Client(HTTP_AUTHORIZATION=f"Token {key}").get(LIST).status_code == 401


def test_a_revoked_token_gets_401(org_a, make_member):
    membership = make_member(org_a)
    token, key = _token(membership)
    api_token_revoke(token=token, by=membership.user)
    assert Client(HTTP_AUTHORIZATION=f"Token {key}").get(LIST).status_code == 401


def test_a_token_expires_within_a_year():
    with pytest.raises(ValueError, match="one year"):
        _token(None, days=400)


def test_the_token_screen_shows_the_key_once_and_revokes(client_for, org_a, make_member):
    membership = make_member(org_a, role=Role.COUNSELLOR)
    client = client_for(membership, two_factor=True)
    url = reverse("api_tokens")
    created = client.post(url, {"name": "Logiciel", "membership": membership.pk, "lifetime": 90, "scope": "read_write"})
    # Post, redirect, get: the key on the next display only, and a reload creates nothing.
    assert created.status_code == 302 and created["Location"] == url
    shown = client.get(url)
    key = shown.context["created_key"]
    assert key and key in shown.content.decode()
    assert key not in client.get(url).content.decode()
    token = ApiToken.objects.get()
    assert Client(HTTP_AUTHORIZATION=f"Token {key}").get(LIST).status_code == 200

    assert client.post(url, {"revoke": token.pk}).status_code == 302
    assert Client(HTTP_AUTHORIZATION=f"Token {key}").get(LIST).status_code == 401
    assert AuditLog.objects.filter(action="api_token.revoke").count() == 1


def test_nobody_revokes_another_users_token(client_for, org_a, make_member):
    token, _key = _token(make_member(org_a))
    response = client_for(make_member(org_a)).post(reverse("api_tokens"), {"revoke": token.pk})
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_the_token_screen_only_offers_the_users_own_memberships(client_for, org_a, org_b, make_member):
    membership = make_member(org_a)
    other = make_member(org_b)
    response = client_for(membership, two_factor=True).post(
        reverse("api_tokens"), {"name": "x", "membership": other.pk, "lifetime": 30, "scope": "read_only"}
    )
    assert "membership" in response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_requests_are_throttled_per_token(settings, org_a, make_member):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api": "2/minute"}}
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    # DRF reads the rates once, at import: swap them for this test only.
    original = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    try:
        first = Client(HTTP_AUTHORIZATION=f"Token {_token(make_member(org_a))[1]}")
        second = Client(HTTP_AUTHORIZATION=f"Token {_token(make_member(org_a))[1]}")
        assert [first.get(LIST).status_code for _ in range(3)] == [200, 200, 429]
        assert first.get(LIST).json()["code"] == "throttled"
        assert second.get(LIST).status_code == 200
    finally:
        SimpleRateThrottle.THROTTLE_RATES = original
