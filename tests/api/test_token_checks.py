"""Every authentication path checks the user, the membership and the organisation (issue 16): a switched-off
organisation loses its API access, a token dies with its user's password, a token can be narrowed to read-only."""

import datetime
import re

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from candidates.models import Dossier
from organisations.models import ApiToken, ApiTokenScope, AuditLog, Role
from organisations.services import api_token_create
from tests.api.test_dossiers import _candidate_payload
from tests.factories import TEST_PASSWORD
from tests.journey import DossierFactory, small_referentiel, team_for

pytestmark = pytest.mark.django_db

LIST = "/api/v1/dossiers/"


def _key(membership, scope=ApiTokenScope.READ_WRITE) -> str:
    _token, key = api_token_create(
        membership=membership,
        name="SI régional",
        expires_at=timezone.now() + datetime.timedelta(days=30),
        scope=scope,
    )
    return key


def _create(client: Client):
    return client.post(
        LIST, {"certification": "clea", "candidate": _candidate_payload()}, content_type="application/json"
    )


def test_a_switched_off_organisation_neither_reads_nor_creates_dossiers_with_its_tokens(org_a):
    small_referentiel()
    team = team_for(org_a)
    DossierFactory(organisation=org_a)
    client = Client(HTTP_AUTHORIZATION=f"Token {_key(team.counsellor)}")
    assert client.get(LIST).status_code == 200

    org_a.is_active = False
    org_a.save(update_fields=["is_active"])
    assert client.get(LIST).status_code == 401
    before = Dossier.objects.count()
    assert _create(client).status_code == 401
    assert Dossier.objects.count() == before

    # Switched on again, the same token works again: nothing was revoked, the check is made at each request.
    org_a.is_active = True
    org_a.save(update_fields=["is_active"])
    assert client.get(LIST).status_code == 200


def test_a_switched_off_organisation_gets_no_new_token(client_for, org_a, make_member):
    membership = make_member(org_a, role=Role.COUNSELLOR)
    client = client_for(membership, two_factor=True)
    org_a.is_active = False
    org_a.save(update_fields=["is_active"])
    response = client.post(
        reverse("api_tokens"), {"name": "x", "membership": membership.pk, "lifetime": 30, "scope": "read_write"}
    )
    assert "membership" in response.context["form"].errors
    assert not ApiToken.objects.exists()
    # The service refuses too, whoever calls it.
    with pytest.raises(PermissionDenied, match="not active"):
        _key(membership)
    assert not ApiToken.objects.exists()


def test_a_session_of_a_switched_off_organisation_reads_nothing(client_for, org_a):
    team = team_for(org_a)
    DossierFactory(organisation=org_a)
    client = client_for(team.counsellor)
    org_a.is_active = False
    org_a.save(update_fields=["is_active"])
    assert client.get(LIST).status_code == 403
    assert client.get(reverse("candidates:dossier_list")).status_code == 403


def test_a_token_of_a_switched_off_membership_or_user_gets_401(org_a, make_member):
    membership = make_member(org_a)
    client = Client(HTTP_AUTHORIZATION=f"Token {_key(membership)}")
    membership.is_active = False
    membership.save(update_fields=["is_active"])
    assert client.get(LIST).status_code == 401
    membership.is_active = True
    membership.save(update_fields=["is_active"])
    membership.user.is_active = False
    membership.user.save(update_fields=["is_active"])
    assert client.get(LIST).status_code == 401


def test_a_token_dies_when_its_users_password_changes(client_for, org_a, make_member):
    membership = make_member(org_a)
    client = Client(HTTP_AUTHORIZATION=f"Token {_key(membership)}")
    assert client.get(LIST).status_code == 200
    session = client_for(membership)
    new_password = "une toute nouvelle phrase de passe"
    changed = session.post(
        reverse("password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": new_password, "new_password2": new_password},
    )
    assert changed.status_code == 302
    assert client.get(LIST).status_code == 401
    # Its owner sees why, and a token made afterwards works.
    page = session.get(reverse("api_tokens")).content.decode()
    assert "mot de passe changé" in page
    assert Client(HTTP_AUTHORIZATION=f"Token {_key(membership)}").get(LIST).status_code == 200


def test_saving_the_user_without_a_new_password_keeps_the_tokens(org_a, make_member):
    membership = make_member(org_a)
    client = Client(HTTP_AUTHORIZATION=f"Token {_key(membership)}")
    user = membership.user
    user.first_name = "Camille"
    user.save()
    user.save(update_fields=["last_login"])
    assert client.get(LIST).status_code == 200


def test_a_password_set_with_update_fields_is_dated_too(org_a, make_member):
    membership = make_member(org_a)
    client = Client(HTTP_AUTHORIZATION=f"Token {_key(membership)}")
    user = membership.user
    user.set_password("une toute nouvelle phrase de passe")
    user.save(update_fields=["password"])
    assert client.get(LIST).status_code == 401


def test_a_read_only_token_reads_and_cannot_write(org_a):
    small_referentiel()
    team = team_for(org_a)
    dossier = DossierFactory(organisation=org_a)
    client = Client(HTTP_AUTHORIZATION=f"Token {_key(team.counsellor, scope=ApiTokenScope.READ_ONLY)}")
    assert client.get(LIST).status_code == 200
    assert client.get(f"{LIST}{dossier.pk}/").status_code == 200
    before = Dossier.objects.count()
    refused = _create(client)
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    assert "lecture seule" in refused.json()["message"]
    assert Dossier.objects.count() == before
    transition = client.post(
        f"{LIST}{dossier.pk}/transitions/", {"name": "withdraw", "reason": "x"}, content_type="application/json"
    )
    assert transition.status_code == 403
    # The read-write token of the same membership creates.
    assert _create(Client(HTTP_AUTHORIZATION=f"Token {_key(team.counsellor)}")).status_code == 201


def test_the_token_screen_creates_a_read_only_token_and_says_so(client_for, org_a, make_member):
    membership = make_member(org_a, role=Role.COUNSELLOR)
    client = client_for(membership, two_factor=True)
    created = client.post(
        reverse("api_tokens"),
        {"name": "Tableau de bord", "membership": membership.pk, "lifetime": 30, "scope": "read_only"},
        follow=True,
    )
    assert created.status_code == 200 and created.context["created_key"]
    assert created["Cache-Control"].count("no-store") == 1
    token = ApiToken.objects.get()
    assert token.scope == ApiTokenScope.READ_ONLY
    assert AuditLog.objects.get(action="api_token.create").details["scope"] == "read_only"
    assert "Lecture seule" in client.get(reverse("api_tokens")).content.decode()


def test_the_status_the_owner_reads_agrees_with_the_tokens_that_authenticate(org_a, make_member):
    """ApiToken.status explains, row by row, what ApiTokenQuerySet.usable decides in one query: a condition added to
    one and not the other would show "Actif" for a token that gets 401, or the reverse."""
    now = timezone.now()
    tokens = {}
    for state in ("active", "revoked", "expired", "password_changed", "membership", "user", "organisation"):
        membership = make_member(org_a) if state != "organisation" else make_member()
        token, _key_ = api_token_create(membership=membership, name=state, expires_at=now + datetime.timedelta(days=30))
        tokens[state] = token
        if state == "revoked":
            ApiToken.objects.filter(pk=token.pk).update(revoked_at=now)
        elif state == "expired":
            ApiToken.objects.filter(pk=token.pk).update(expires_at=now - datetime.timedelta(seconds=1))
        elif state == "password_changed":
            membership.user.set_password("une toute nouvelle phrase de passe")
            membership.user.save()
        elif state == "membership":
            membership.is_active = False
            membership.save(update_fields=["is_active"])
        elif state == "user":
            membership.user.is_active = False
            membership.user.save(update_fields=["is_active"])
        elif state == "organisation":
            membership.organisation.is_active = False
            membership.organisation.save(update_fields=["is_active"])
    rows = ApiToken.objects.filter(pk__in=[t.pk for t in tokens.values()]).select_related(
        "membership__user", "membership__organisation"
    )
    statuses = {token.name: token.status(now) for token in rows}
    assert statuses == {
        "active": "active",
        "revoked": "revoked",
        "expired": "expired",
        "password_changed": "password_changed",
        "membership": "inactive",
        "user": "inactive",
        "organisation": "inactive",
    }
    usable = set(ApiToken.objects.usable(now).values_list("name", flat=True))
    assert usable == {name for name, status in statuses.items() if status == "active"} == {"active"}


def test_a_read_only_token_is_refused_every_write_of_the_urlconf(org_a, make_member):
    """Every unsafe operation the URLconf serves, actions included (walked, not listed by hand: a new one is
    covered from day one), answers 403 to a read-only token before reaching its view. Only the public ones, which
    authenticate nobody, are left: they are reads in substance (checking a credential)."""
    from drf_spectacular.generators import EndpointEnumerator

    client = Client(HTTP_AUTHORIZATION=f"Token {_key(make_member(org_a), scope=ApiTokenScope.READ_ONLY)}")
    refused, public = [], set()
    for route, _regex, method, view in EndpointEnumerator().get_api_endpoints():
        if method in ("GET", "HEAD", "OPTIONS"):
            continue
        if not view.cls.authentication_classes:
            public.add(route)
            continue
        url = re.sub(r"\{[^}]+\}", "1", route)
        response = client.generic(method, url, "{}", content_type="application/json")
        assert response.status_code == 403, (method, url, response.content)
        assert "lecture seule" in response.json()["message"], (method, url)
        refused.append((method, route))
    assert len(refused) >= 30
    assert public == {"/api/v1/credentials/verify/"}
