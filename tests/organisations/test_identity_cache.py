"""The hot path (issue 22): with a shared cache, a signed-in request reads its session, user and memberships without a
query; whatever takes access away (a membership removed or deactivated, an organisation or a user deactivated, an
account anonymised, a password changed) takes it away at the very next request."""

import pytest
from django.test import Client
from django.urls import reverse

from organisations import identity
from organisations.models import Membership, User
from organisations.services import user_anonymise
from tests.clients import logged_in_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cached_identity")]

LIST = reverse("candidates:dossier_list")


@pytest.fixture
def counsellor(org_a, make_member) -> Membership:
    return make_member(org_a)


@pytest.fixture
def client(counsellor) -> Client:
    client = logged_in_client(counsellor)
    assert client.get(LIST).status_code == 200  # the first request reads the database and fills the cache
    return client


def test_the_floor_page_costs_no_query_once_the_session_is_cached(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert client.get("/ping").status_code == 200


def test_a_page_reads_neither_user_nor_memberships_from_the_database(client, counsellor, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/ping")
    assert response.wsgi_request.user == counsellor.user
    assert response.wsgi_request.membership == counsellor
    assert response.wsgi_request.membership.organisation.name == "Évaluateur A"


def test_a_removed_membership_loses_access_at_once(client, counsellor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        counsellor.delete()
    assert client.get(LIST).status_code == 403


def test_a_deactivated_membership_loses_access_at_once(client, counsellor, django_capture_on_commit_callbacks):
    counsellor.is_active = False
    with django_capture_on_commit_callbacks(execute=True):
        counsellor.save()
    assert client.get(LIST).status_code == 403


def test_a_deactivated_organisation_loses_access_at_once(client, counsellor, django_capture_on_commit_callbacks):
    organisation = counsellor.organisation
    organisation.is_active = False
    with django_capture_on_commit_callbacks(execute=True):
        organisation.save()
    assert client.get(LIST).status_code == 403


def test_a_deactivated_user_is_signed_out_at_once(client, counsellor, django_capture_on_commit_callbacks):
    user = counsellor.user
    user.is_active = False
    with django_capture_on_commit_callbacks(execute=True):
        user.save()
    response = client.get(LIST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_memberships_updated_in_bulk_lose_access_at_once(client, counsellor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        Membership.objects.filter(pk=counsellor.pk).update(is_active=False)
    assert client.get(LIST).status_code == 403


def test_an_anonymised_account_is_signed_out_at_once(client, counsellor, django_capture_on_commit_callbacks):
    from django.utils import timezone

    with django_capture_on_commit_callbacks(execute=True):
        user_anonymise(user=counsellor.user, now=timezone.now())
    assert client.get(LIST).status_code == 302


def test_a_password_changed_elsewhere_signs_the_session_out(client, counsellor, django_capture_on_commit_callbacks):
    user = User.objects.get(pk=counsellor.user_id)
    user.set_password("une toute nouvelle phrase de passe")
    with django_capture_on_commit_callbacks(execute=True):
        user.save()
    assert client.get(LIST).status_code == 302


def test_a_change_is_not_seen_before_its_commit_but_at_once_after(counsellor, django_capture_on_commit_callbacks):
    identity.identity_load(counsellor.user_id)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        Membership.objects.filter(pk=counsellor.pk).update(is_active=False)
    assert identity.identity_load(counsellor.user_id)[1] == [counsellor]  # not committed yet
    for callback in callbacks:
        callback()
    assert identity.identity_load(counsellor.user_id)[1] == []


def test_an_entry_written_by_a_reader_that_raced_a_change_is_never_used(counsellor, django_capture_on_commit_callbacks):
    from django.core.cache import cache

    entry_key, _version_key = identity._keys(counsellor.user_id)
    identity.identity_load(counsellor.user_id)
    stale = cache.get(entry_key)  # what a reader of the rows before the change would write back, after it
    with django_capture_on_commit_callbacks(execute=True):
        Membership.objects.filter(pk=counsellor.pk).update(is_active=False)
    cache.set(entry_key, stale)
    assert identity.identity_load(counsellor.user_id)[1] == []


def test_a_membership_added_is_offered_at_once(client, counsellor, org_b, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        added = Membership.objects.create(user=counsellor.user, organisation=org_b, role=counsellor.role)
    response = client.get("/ping")
    assert set(response.wsgi_request.memberships) == {counsellor, added}


def test_without_a_shared_cache_every_request_reads_the_database(settings, client, django_assert_num_queries):
    settings.IDENTITY_CACHE = False
    with django_assert_num_queries(2):  # the user, then their memberships (the session still comes from the cache)
        client.get("/ping")
