"""E-mails of notifications through the outbox: once per (event, recipient), as the recipient prefers, immediately
or grouped in the day's digest, with a text and an HTML part. Runs on SQLite and on PostgreSQL (DATABASE_URL)."""

from __future__ import annotations

import datetime
import smtplib
import threading
import time
from unittest import mock

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.db import connection
from django.utils import timezone

from notifications import attachments, delivery
from notifications.kinds import KINDS, Event, Kind, members_with_role
from notifications.models import EmailDelivery, EmailMode, Notification, NotificationPreference
from notifications.services import digests_promise, notify
from organisations.models import Role
from outbox.models import SideEffect, SideEffectState
from outbox.services import side_effect_run
from tests.factories import MembershipFactory
from tests.notifications.support import notification_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def counsellor(org_a):
    return MembershipFactory(organisation=org_a, role=Role.COUNSELLOR)


@pytest.fixture(autouse=True)
def _test_kinds(monkeypatch):
    """Kinds whose rule names the organisation's counsellors, with and without an e-mail of their own."""
    rule = (lambda event: members_with_role(event.organisation_id, Role.COUNSELLOR),)
    monkeypatch.setitem(KINDS, "test", Kind("Essai", rule))
    monkeypatch.setitem(KINDS, "test_no_email", Kind("Essai", rule, email=False))


def referral_event(member, key: str = "e:1", **fields) -> Event:
    return Event(
        kind=fields.pop("kind", "test"),
        key=key,
        organisation_id=member.organisation_id,
        title=fields.pop("title", "Orientation sans réponse : Léa Martin"),
        body="Elle expire le 05/12/2026.",
        url="/orientations/7/",
        **fields,
    )


def run_all() -> None:
    for pk in SideEffect.objects.filter(state=SideEffectState.PENDING).values_list("pk", flat=True):
        side_effect_run(pk)


def test_an_immediate_email_has_a_text_and_an_html_part_with_the_link(counsellor, settings):
    settings.SITE_URL = "https://clea.exemple.fr"
    [notification] = notify(referral_event(counsellor))
    effect = SideEffect.objects.get(key=f"notification_email:{notification.pk}")
    assert effect.arguments == {"notification_id": notification.pk}  # identifiers only, no personal data
    side_effect_run(effect.pk)
    [message] = mail.outbox
    assert message.to == [counsellor.user.email]
    assert message.subject == "CléA : Orientation sans réponse : Léa Martin"
    assert "https://clea.exemple.fr/orientations/7/" in message.body
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html" and 'href="https://clea.exemple.fr/orientations/7/"' in html
    assert message.extra_headers["Message-ID"] == f"<notification-{notification.pk}@clea.exemple.fr>"
    notification.refresh_from_db()
    assert notification.emailed_at is not None


def test_the_email_leaves_once_when_its_side_effect_runs_twice(counsellor):
    [notification] = notify(referral_event(counsellor))
    effect = SideEffect.objects.get(key=f"notification_email:{notification.pk}")
    side_effect_run(effect.pk)
    # A worker killed after the send's commit and before the outbox marked the effect done: it runs again.
    SideEffect.objects.filter(pk=effect.pk).update(state=SideEffectState.PENDING, done_at=None)
    side_effect_run(effect.pk)
    assert len(mail.outbox) == 1
    assert SideEffect.objects.get(pk=effect.pk).state == SideEffectState.DONE


def test_an_event_told_twice_promises_one_email(counsellor):
    notify(referral_event(counsellor))
    assert notify(referral_event(counsellor)) == []
    assert SideEffect.objects.filter(kind="notification_email").count() == 1


def test_a_failed_send_is_retried_by_the_outbox_and_leaves_once(counsellor):
    [notification] = notify(referral_event(counsellor))
    effect = SideEffect.objects.get(key=f"notification_email:{notification.pk}")
    with mock.patch(
        "django.core.mail.backends.locmem.EmailBackend.send_messages", side_effect=smtplib.SMTPServerDisconnected
    ):
        side_effect_run(effect.pk)
    effect.refresh_from_db()
    notification.refresh_from_db()
    assert effect.state == SideEffectState.PENDING and "SMTPServerDisconnected" in effect.last_error
    assert notification.emailed_at is None and mail.outbox == []
    # On the operators' page of the organisation's administrator, and of no other organisation's.
    admin = MembershipFactory(organisation=counsellor.organisation, role=Role.ORG_ADMIN)
    assert list(SideEffect.objects.visible_to(admin)) == [effect]
    assert not SideEffect.objects.visible_to(MembershipFactory(role=Role.ORG_ADMIN)).exists()
    SideEffect.objects.filter(pk=effect.pk).update(available_at=timezone.now())  # its backoff is over
    side_effect_run(effect.pk)
    assert len(mail.outbox) == 1


def test_preferences_choose_immediate_digest_or_no_email(org_a):
    immediate, digest, never = (MembershipFactory(organisation=org_a, role=Role.COUNSELLOR) for _ in range(3))
    NotificationPreference.objects.create(user=digest.user, email_mode=EmailMode.DIGEST)
    NotificationPreference.objects.create(user=never.user, email_mode=EmailMode.NEVER)
    rows = {n.recipient_id: n for n in notify(referral_event(immediate))}
    assert {uid: n.email_delivery for uid, n in rows.items()} == {
        immediate.user_id: EmailDelivery.IMMEDIATE,
        digest.user_id: EmailDelivery.DIGEST,
        never.user_id: EmailDelivery.NONE,
    }
    assert list(SideEffect.objects.values_list("key", flat=True)) == [
        f"notification_email:{rows[immediate.user_id].pk}"
    ]


def test_an_event_told_again_writes_and_emails_only_the_members_it_had_not_told(counsellor, org_a):
    [first] = notify(referral_event(counsellor))
    second, third = (MembershipFactory(organisation=org_a, role=Role.COUNSELLOR) for _ in range(2))
    written = notify(referral_event(counsellor))
    assert sorted(n.recipient_id for n in written) == sorted([second.user_id, third.user_id])
    assert Notification.objects.filter(recipient=counsellor.user).get().pk == first.pk
    assert set(SideEffect.objects.values_list("key", flat=True)) == {
        f"notification_email:{n.pk}" for n in [first, *written]
    }


def test_a_kind_whose_formal_email_exists_stays_in_the_centre(counsellor):
    # The convocation, the referral's messages: their own app sends the formal e-mail.
    [notification] = notify(referral_event(counsellor, kind="test_no_email"))
    assert notification.email_delivery == EmailDelivery.NONE
    assert not SideEffect.objects.exists()


def test_the_digest_groups_a_day_in_one_email_with_a_text_and_an_html_part(counsellor, settings):
    settings.SITE_URL = "https://clea.exemple.fr"
    NotificationPreference.objects.create(user=counsellor.user, email_mode=EmailMode.DIGEST)
    today = timezone.localdate()
    yesterday_noon = timezone.make_aware(datetime.datetime.combine(today, datetime.time(12))) - datetime.timedelta(
        days=1
    )
    for n in range(3):
        notify(referral_event(counsellor, key=f"e:{n}", title=f"Orientation n° {n}"))
    Notification.objects.update(created_at=yesterday_noon)
    notify(referral_event(counsellor, key="e:today", title="Orientation d'aujourd'hui"))  # tomorrow's digest
    assert not SideEffect.objects.exists()  # no e-mail of its own
    assert digests_promise(today=today) == 1
    assert digests_promise(today=today) == 1  # run twice: still one side effect
    [effect] = SideEffect.objects.all()
    assert effect.key == f"notification_digest:{counsellor.user_id}:{yesterday_noon:%Y-%m-%d}"
    run_all()
    [message] = mail.outbox
    assert message.to == [counsellor.user.email]
    assert [f"Orientation n° {n}" in message.body for n in range(3)] == [True] * 3
    assert "aujourd'hui" not in message.body
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html" and html.count("<li>") == 3
    assert 'href="https://clea.exemple.fr/orientations/7/"' in html
    SideEffect.objects.update(state=SideEffectState.PENDING)  # run again: nothing more leaves
    run_all()
    assert len(mail.outbox) == 1
    assert not Notification.objects.filter(created_at=yesterday_noon, emailed_at__isnull=True).exists()


def test_a_notification_already_sent_alone_is_left_out_of_the_digest(counsellor):
    [notification] = notify(referral_event(counsellor))
    run_all()
    # The person switched to the digest after: the row must not leave a second time.
    Notification.objects.filter(pk=notification.pk).update(
        email_delivery=EmailDelivery.DIGEST, created_at=timezone.now() - datetime.timedelta(days=1)
    )
    assert digests_promise() == 0
    assert len(mail.outbox) == 1


def test_an_attachment_provider_joins_its_file(counsellor):
    calls = []

    def provider(appointment_id: int) -> attachments.Attachment:
        calls.append(appointment_id)
        return attachments.Attachment("rendez-vous.ics", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar")

    attachments.register("test_ics", provider)
    try:
        notify(referral_event(counsellor, attachments=[{"provider": "test_ics", "arguments": {"appointment_id": 7}}]))
        run_all()
    finally:
        attachments.unregister("test_ics")
    [message] = mail.outbox
    assert calls == [7]
    assert message.attachments == [("rendez-vous.ics", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar")]


def test_an_unknown_attachment_provider_fails_visibly_and_sends_nothing(counsellor):
    [notification] = notify(referral_event(counsellor, attachments=[{"provider": "absent", "arguments": {}}]))
    run_all()
    effect = SideEffect.objects.get()
    assert "absent" in effect.last_error and mail.outbox == []
    notification.refresh_from_db()
    assert notification.emailed_at is None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's (SQLite runs one at a time)")
@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_the_same_notification_at_once_send_it_once(org_a):
    """The immediate e-mail and a digest (or a duplicate run outside the outbox's lock) racing for one row: the
    second waits on the row lock, then finds `emailed_at` set."""
    counsellor = MembershipFactory(organisation=org_a, role=Role.COUNSELLOR)
    # Written without its side effect: in a test that commits, the outbox would send it at once, eagerly.
    notification = notification_for(counsellor, email_delivery=EmailDelivery.IMMEDIATE)
    sent = []
    original = EmailMultiAlternatives.send

    def slow_send(message, *args, **kwargs):
        sent.append(message.to)
        time.sleep(0.5)  # the mail server takes its time: the other worker arrives meanwhile
        return original(message, *args, **kwargs)

    errors = []

    def worker():
        try:
            delivery.notification_email_send(notification_id=notification.pk)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    with mock.patch.object(EmailMultiAlternatives, "send", slow_send):
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert len(sent) == 1 and len(mail.outbox) == 1
