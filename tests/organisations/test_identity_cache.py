"""The hot path (issue 22): with a shared cache, a signed-in request reads its user and memberships without a query
(its session, from the database, is the one query of the floor); whatever takes access away (a membership removed,
deactivated or given to someone else, an organisation or a user deactivated, an account anonymised, a password
changed, a session ended) takes it away at the very next request, even when the cache fails."""

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


def test_the_floor_page_costs_one_query_once_the_identity_is_cached(client, django_assert_num_queries):
    with django_assert_num_queries(1):  # the session (in the database alone)
        assert client.get("/ping").status_code == 200


def test_a_page_reads_neither_user_nor_memberships_from_the_database(client, counsellor, django_assert_num_queries):
    with django_assert_num_queries(1):  # the session
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
    with django_assert_num_queries(3):  # the session, the user, then their memberships
        client.get("/ping")


def _session_key(client: Client) -> str:
    from django.conf import settings

    return client.cookies[settings.SESSION_COOKIE_NAME].value


def test_a_session_ended_while_another_request_reads_it_stays_ended(counsellor, client):
    """Sessions stay in the database alone: a request of the revoked browser that reads the session while the
    revocation is not committed yet cannot put it back in a cache that outlives the commit."""
    from unittest import mock

    from django.contrib.sessions.backends.cached_db import KEY_PREFIX
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.cache import cache

    from organisations import services
    from organisations.models import UserSession

    office = logged_in_client(counsellor)
    key = _session_key(client)
    data = SessionStore(session_key=key).load()
    audit_record = services.audit_record

    def concurrent_reader(*args, **kwargs):
        # What a cached_db store's load() in another worker writes: a cache miss, the row still visible (not committed).
        cache.set(KEY_PREFIX + key, data, 3600)
        return audit_record(*args, **kwargs)

    with mock.patch.object(services, "audit_record", concurrent_reader):
        office.post(reverse("session_end", args=[UserSession.objects.get(session_key=key).pk]))
    assert client.get(LIST).status_code == 302


def test_signed_in_pages_still_answer_when_the_cache_is_down(client):
    from unittest import mock

    from django.core.cache import caches

    down = ConnectionError("cache down")
    methods = ("get", "set", "add", "delete", "get_many", "set_many", "delete_many")
    with mock.patch.multiple(type(caches["default"]), **{name: mock.Mock(side_effect=down) for name in methods}):
        assert client.get(LIST).status_code == 200


def test_the_cached_identity_holds_no_password_hash(client, counsellor):
    import pickle

    from django.core.cache import cache

    entry_key, _version_key = identity._keys(counsellor.user_id)
    password = User.objects.get(pk=counsellor.user_id).password
    assert cache.get(entry_key) is not None
    assert password.encode() not in pickle.dumps(cache.get(entry_key))
    user = client.get("/ping").wsgi_request.user
    assert user.password == password  # read from the database when something needs it (a password change form)


def test_a_session_of_a_forged_auth_hash_is_signed_out(client):
    from django.contrib.auth import HASH_SESSION_KEY

    session = client.session
    session[HASH_SESSION_KEY] = "0" * 64
    session.save()
    assert client.get(LIST).status_code == 302


def test_a_membership_given_to_someone_else_leaves_its_former_user_at_once(
    client, counsellor, org_a, make_member, django_capture_on_commit_callbacks
):
    other = make_member(org_a, role="evaluator")
    membership = Membership.objects.get(pk=counsellor.pk)
    membership.user = other.user
    with django_capture_on_commit_callbacks(execute=True):
        membership.save()
    assert client.get("/ping").wsgi_request.memberships == []
    assert client.get(LIST).status_code == 403


def test_a_version_that_cannot_be_replaced_drops_the_entry(counsellor, caplog, django_capture_on_commit_callbacks):
    """Redis full (noeviction): SET fails while GET and DEL work. The old entry must not keep being served."""
    from unittest import mock

    from django.core.cache import caches

    identity.identity_load(counsellor.user_id)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        Membership.objects.filter(pk=counsellor.pk).update(is_active=False)
    with mock.patch.object(type(caches["default"]), "set_many", side_effect=ConnectionError("OOM")):
        for callback in callbacks:
            callback()
    assert "not replaced" in caplog.text
    assert identity.identity_load(counsellor.user_id)[1] == []


def test_a_password_changed_by_a_cached_user_keeps_this_session_and_ends_the_other(
    client, counsellor, django_capture_on_commit_callbacks
):
    """The cached user has no password hash: the change form reads it from the database, and the session hashes
    still tell this session (given the new hash) from the other one."""
    from tests.factories import TEST_PASSWORD

    other = logged_in_client(counsellor)
    assert other.get(LIST).status_code == 200
    new_password = "une toute nouvelle phrase de passe"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("password_change"),
            {"old_password": TEST_PASSWORD, "new_password1": new_password, "new_password2": new_password},
        )
    assert response.status_code == 302
    assert client.get(LIST).status_code == 200
    assert other.get(LIST).status_code == 302
