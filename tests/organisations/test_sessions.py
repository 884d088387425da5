"""Sessions on shared office PCs (issue 16): idle and absolute limits, the list of one's sessions, ending one or all.
Time travels by the middleware's clock (SessionLifetimeMiddleware.now)."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from organisations.middleware import SessionLifetimeMiddleware
from organisations.models import AuditLog, Role, UserSession
from tests.clients import page_text
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


class Clock:
    """The middleware's clock, moved forward by the test."""

    def __init__(self) -> None:
        self.at = timezone.now()

    def __call__(self) -> datetime.datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += datetime.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(SessionLifetimeMiddleware, "now", staticmethod(clock))
    return clock


def signed_in(user, agent: str = "Mozilla/5.0 (Windows NT 10.0) Gecko/20100101 Firefox/128.0") -> Client:
    client = Client(HTTP_USER_AGENT=agent)
    assert client.post(reverse("login"), {"username": user.email, "password": TEST_PASSWORD}).status_code == 302
    return client


def is_signed_in(client: Client) -> bool:
    return client.get(reverse("home")).status_code == 200


def test_a_session_ends_after_30_minutes_without_a_request(settings, clock, org_a, make_member):
    assert settings.SESSION_IDLE_TIMEOUT_MINUTES == 30
    user = make_member(org_a).user
    client = signed_in(user)
    clock.advance(minutes=29)
    assert is_signed_in(client)
    clock.advance(minutes=29)  # 29 minutes after the last request: still there
    assert is_signed_in(client)
    clock.advance(minutes=31, seconds=1)
    response = client.get(reverse("candidates:dossier_list"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("login"))
    assert "pris fin après 30 minutes d'inactivité" in page_text(response)
    assert AuditLog.objects.get(action="auth.session_expired").details == {"reason": "idle"}
    assert not UserSession.objects.filter(user=user).exists()


def test_the_idle_timeout_is_a_setting(settings, clock, org_a, make_member):
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 5
    client = signed_in(make_member(org_a).user)
    clock.advance(minutes=4)
    assert is_signed_in(client)
    clock.advance(minutes=6, seconds=1)
    assert not is_signed_in(client)


def test_a_session_never_ends_before_its_idle_timeout(settings, clock, org_a, make_member):
    """Activity is written once a minute: a request 59 s after the last written one is not written, and the session
    is still counted from it, so the session lasts at least the timeout after the last request."""
    client = signed_in(make_member(org_a).user)
    clock.advance(seconds=59)
    assert is_signed_in(client)
    clock.advance(minutes=30)
    assert is_signed_in(client), "ended 30 min after a request: too early"


def test_a_session_ends_12_hours_after_its_login_however_active(settings, clock, org_a, make_member):
    assert settings.SESSION_ABSOLUTE_LIFETIME_HOURS == 12
    client = signed_in(make_member(org_a).user)
    for _ in range(35):  # a request every 20 minutes up to 11 h 40: never idle
        clock.advance(minutes=20)
        assert is_signed_in(client)
    # 12 h 01 after the clock's start, 21 minutes after the last request: the lifetime ends it, not idleness. The
    # login was stamped by the real clock a little after the test clock's start, so exactly 12 h would fall short by
    # that much (it did on a loaded CI machine, where idleness, 60 minutes then, ended the session first).
    clock.advance(minutes=21)
    response = client.get(reverse("home"), follow=True)
    assert "durée maximale de 12 heures" in page_text(response)
    assert AuditLog.objects.get(action="auth.session_expired").details == {"reason": "lifetime"}


def test_activity_is_recorded_at_most_once_a_minute(clock, org_a, make_member, django_assert_num_queries):
    user = make_member(org_a).user
    client = signed_in(user)
    row = UserSession.objects.get(user=user)
    client.get(reverse("home"))
    clock.advance(seconds=30)
    client.get(reverse("home"))
    assert UserSession.objects.get(pk=row.pk).last_seen_at == row.last_seen_at
    clock.advance(seconds=31)
    client.get(reverse("home"))
    assert UserSession.objects.get(pk=row.pk).last_seen_at == clock.at


def test_the_account_lists_ones_sessions_with_this_one_marked(org_a, make_member):
    user = make_member(org_a).user
    phone = signed_in(
        user, agent="Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36"
    )
    office = signed_in(user)
    signed_in(make_member(org_a).user)  # a colleague's session is not listed
    response = office.get(reverse("account"))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    sessions = list(response.context["sessions"])
    assert len(sessions) == 2
    current = response.context["current_session_id"]
    assert {s.browser_label for s in sessions} == {"Chrome (Android)", "Firefox (Windows)"}
    assert next(s for s in sessions if s.pk == current).browser_label == "Firefox (Windows)"
    body = page_text(response)
    assert body.count("Cette session") == 1
    assert "127.0.0.1" in body
    assert is_signed_in(phone)


def test_ending_another_session_logs_that_browser_out(org_a, make_member):
    user = make_member(org_a).user
    phone, office = signed_in(user), signed_in(user)
    current = office.get(reverse("account")).context["current_session_id"]
    other = UserSession.objects.exclude(pk=current).get(user=user)
    response = office.post(reverse("session_end", args=[other.pk]))
    assert response.status_code == 302
    assert not is_signed_in(phone)
    assert is_signed_in(office)
    assert AuditLog.objects.get(action="auth.sessions_end").details == {"sessions_ended": 1}


def test_nobody_ends_someone_elses_session(org_a, make_member):
    mine = signed_in(make_member(org_a).user)
    theirs_user = make_member(org_a).user
    theirs = signed_in(theirs_user)
    row = UserSession.objects.get(user=theirs_user)
    assert mine.post(reverse("session_end", args=[row.pk])).status_code == 404
    assert mine.post(reverse("session_end", args=[987654321])).status_code == 404
    assert is_signed_in(theirs)


def test_logging_out_everywhere_ends_every_session_this_one_included(org_a, make_member):
    user = make_member(org_a).user
    browsers = [signed_in(user) for _ in range(3)]
    colleague = signed_in(make_member(org_a).user)
    response = browsers[0].post(reverse("sessions_end_all"), follow=True)
    assert "ce navigateur et 2 autres" in page_text(response)
    assert not any(is_signed_in(b) for b in browsers)
    assert is_signed_in(colleague)
    assert not UserSession.objects.filter(user=user).exists()


def test_a_new_password_ends_the_other_sessions_and_keeps_this_one(org_a, make_member):
    user = make_member(org_a).user
    other, this = signed_in(user), signed_in(user)
    new_password = "une toute nouvelle phrase de passe"
    response = this.post(
        reverse("password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": new_password, "new_password2": new_password},
    )
    assert response.status_code == 302
    assert is_signed_in(this)
    assert not is_signed_in(other)
    # This session's row followed the new key Django gave it: it is still listed, and can still be ended.
    listed = this.get(reverse("account")).context
    assert [s.pk for s in listed["sessions"]] == [listed["current_session_id"]]
    assert UserSession.objects.get(user=user).session_key == this.session.session_key
    assert AuditLog.objects.get(action="auth.password_change").details == {"sessions_ended": 1}
    assert not AuditLog.objects.filter(action="auth.sessions_end").exists()


def test_a_role_that_requires_two_factors_lists_sessions_too(make_member, client_for):
    from tests.factories import OrganisationFactory

    membership = make_member(OrganisationFactory(jury_body=True), role=Role.JURY_MEMBER)
    client = client_for(membership)
    assert len(client.get(reverse("account")).context["sessions"]) == 1


def test_a_password_reset_by_email_ends_every_session(org_a, make_member, django_capture_on_commit_callbacks):
    from django.core import mail

    user = make_member(org_a).user
    forgotten = signed_in(user)
    stranger = Client()
    with django_capture_on_commit_callbacks(execute=True):
        stranger.post(reverse("password_reset"), {"email": user.email})
    link = next(line for line in mail.outbox[0].body.splitlines() if "/compte/mot-de-passe/reinitialiser/" in line)
    form_page = stranger.get(link.split("testserver", 1)[1], follow=True)
    new_password = "une toute nouvelle phrase de passe"
    stranger.post(form_page.redirect_chain[-1][0], {"new_password1": new_password, "new_password2": new_password})
    assert not is_signed_in(forgotten)
    assert not UserSession.objects.filter(user=user).exists()
    # One row for the reset, which names the sessions it ended: not a second one for the sessions.
    assert AuditLog.objects.get(action="auth.password_reset").details == {"lockouts_cleared": 0, "sessions_ended": 1}
    assert not AuditLog.objects.filter(action="auth.sessions_end").exists()


def test_the_daily_purge_forgets_the_sessions_their_limits_ended(settings, org_a, make_member):
    from organisations.tasks import user_sessions_purge_task

    user = make_member(org_a).user
    now = timezone.now()
    idle_limit = datetime.timedelta(minutes=settings.SESSION_IDLE_TIMEOUT_MINUTES, seconds=61)
    live = UserSession.objects.create(user=user, session_key="a" * 32, last_seen_at=now)
    UserSession.objects.create(user=user, session_key="b" * 32, last_seen_at=now - idle_limit)
    UserSession.objects.create(
        user=user, session_key="c" * 32, created_at=now - datetime.timedelta(hours=12, seconds=1), last_seen_at=now
    )
    assert user_sessions_purge_task.delay().get() == 2
    assert list(UserSession.objects.all()) == [live]
    assert user_sessions_purge_task.delay().get() == 0
    assert any(
        e["task"] == "organisations.tasks.user_sessions_purge_task" for e in settings.CELERY_BEAT_SCHEDULE.values()
    )
