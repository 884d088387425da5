"""The notification centre, the header's count, the preferences page, and the API of the current user's
notifications. That another person's notification is a 404 is tests/notifications/tenancy.py's (the registry)."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notifications.models import EmailMode, Notification, NotificationPreference
from organisations.models import Role
from tests.factories import MembershipFactory
from tests.notifications.support import notification_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def counsellor(org_a):
    return MembershipFactory(organisation=org_a, role=Role.COUNSELLOR)


def three(counsellor) -> list[Notification]:
    """An old unread one, a recent read one, a recent unread one."""
    now = timezone.now()
    old = notification_for(counsellor, title="Ancienne non lue", created_at=now - datetime.timedelta(days=3))
    read = notification_for(counsellor, title="Récente lue", created_at=now - datetime.timedelta(hours=1))
    read.mark_read()
    new = notification_for(counsellor, title="Récente non lue", created_at=now)
    return [old, read, new]


def test_the_centre_lists_unread_first_then_newest_first_with_links(counsellor, client_for, django_assert_num_queries):
    three(counsellor)
    client = client_for(counsellor)
    client.get(reverse("notifications:centre"))  # sessions and the like settled
    # Session, user, memberships; the page's notifications, their count, the unread count; the header's.
    with django_assert_num_queries(7):
        page = client.get(reverse("notifications:centre")).content.decode()
    titles = ["Récente non lue", "Ancienne non lue", "Récente lue"]
    assert [page.index(title) for title in titles] == sorted(page.index(title) for title in titles)
    assert 'href="/dossiers/1/"' in page


def test_the_header_says_how_many_are_unread_in_words(counsellor, client_for):
    three(counsellor)
    notification_for(MembershipFactory(organisation=counsellor.organisation), title="À quelqu'un d'autre")
    page = client_for(counsellor).get(reverse("home")).content.decode()
    assert "2 notifications non lues" in page
    Notification.objects.filter(recipient=counsellor.user, title="Récente non lue").update(read_at=timezone.now())
    page = client_for(counsellor).get(reverse("home")).content.decode()
    assert "1 notification non lue" in page and "notifications non lues" not in page


def test_marking_one_then_all_as_read(counsellor, client_for):
    old, read, new = three(counsellor)
    client = client_for(counsellor)
    response = client.post(reverse("notifications:mark_read", args=[new.pk]))
    assert response.status_code == 302
    new.refresh_from_db()
    assert new.read_at is not None
    old.refresh_from_db()
    assert old.read_at is None
    client.post(reverse("notifications:mark_all_read"))
    assert not Notification.objects.unread().exists()
    read_before = read.read_at
    read.refresh_from_db()
    assert read.read_at == read_before  # an already read one keeps its date


def test_marking_all_as_read_leaves_other_peoples_and_other_organisations_alone(counsellor, client_for, org_b):
    notification_for(counsellor)
    colleague = notification_for(MembershipFactory(organisation=counsellor.organisation))
    # The same person, working for another organisation too: those wait until they work for it.
    elsewhere = MembershipFactory(organisation=org_b, role=Role.COUNSELLOR, user=counsellor.user)
    theirs_elsewhere = notification_for(elsewhere)
    client_for(counsellor).post(reverse("notifications:mark_all_read"))
    assert set(Notification.objects.unread()) == {colleague, theirs_elsewhere}


def test_a_get_on_an_action_marks_nothing(counsellor, client_for):
    notification = notification_for(counsellor)
    client_for(counsellor).get(reverse("notifications:mark_read", args=[notification.pk]))
    notification.refresh_from_db()
    assert notification.read_at is None


def test_the_preferences_page_saves_the_choice(counsellor, client_for):
    client = client_for(counsellor)
    page = client.get(reverse("notifications:preferences")).content.decode()
    assert "Un courriel à chaque notification" in page and "checked" in page
    response = client.post(reverse("notifications:preferences"), {"email_mode": EmailMode.DIGEST})
    assert response.status_code == 302
    assert NotificationPreference.objects.get(user=counsellor.user).email_mode == EmailMode.DIGEST
    response = client.post(reverse("notifications:preferences"), {"email_mode": "hourly"})
    assert response.status_code == 200
    assert NotificationPreference.objects.get(user=counsellor.user).email_mode == EmailMode.DIGEST


# -- API --------------------------------------------------------------------------------------------------------


def test_the_api_lists_the_users_notifications_and_filters_the_unread(counsellor, client_for):
    three(counsellor)
    notification_for(MembershipFactory(organisation=counsellor.organisation), title="À quelqu'un d'autre")
    client = client_for(counsellor)
    listed = client.get("/api/v1/notifications/").json()
    # The API reads the latest change first (its change feed, issue 20); the centre keeps the unread first.
    assert [row["title"] for row in listed["results"]] == ["Récente non lue", "Récente lue", "Ancienne non lue"]
    assert listed["results"][0]["kind_label"] == "Évaluation clôturée"
    unread = client.get("/api/v1/notifications/?unread=true").json()
    assert [row["title"] for row in unread["results"]] == ["Récente non lue", "Ancienne non lue"]
    assert client.get("/api/v1/notifications/?unread=peut-etre").status_code == 400


def test_the_api_marks_one_then_all_as_read(counsellor, client_for):
    old, read, new = three(counsellor)
    client = client_for(counsellor)
    answer = client.post(f"/api/v1/notifications/{new.pk}/read/")
    assert answer.status_code == 200 and answer.json()["read_at"] is not None
    assert client.post("/api/v1/notifications/read-all/").json() == {"marked": 1}
    assert not Notification.objects.unread().exists()


def test_the_folded_menu_button_carries_the_unread_count_for_no_query_more(counsellor, client_for):
    """On a phone the navigation folds behind « Menu »: the button says the count too, from the same cached COUNT."""
    three(counsellor)
    client = client_for(counsellor)
    client.get(reverse("home"))
    with CaptureQueriesContext(connection) as captured:
        page = client.get(reverse("home")).content.decode()
    toggle = page[page.index('class="site-header__toggle') : page.index("</button>", page.index("site-header__toggle"))]
    assert '<span class="badge badge--info" aria-hidden="true">2</span>' in toggle
    assert ", 2 notifications non lues" in toggle
    assert sum("notifications_notification" in query["sql"] for query in captured.captured_queries) == 1
