"""Writing notifications, in the transaction of their event, and what their reader does with them.

`notify` is what every receiver calls: the kind's recipients rule (kinds.KINDS), the checks that keep a
notification inside its organisation, one row per (event, recipient), and the e-mail promised as an outbox side
effect in the same transaction (immediately, or later in the day's digest, as the recipient prefers)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Min
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from clea_platform.changes import rows_update
from notifications.kinds import KINDS, Event, Person
from notifications.models import EmailDelivery, EmailMode, Notification, NotificationPreference
from organisations.models import Habilitation, Membership, User
from outbox.services import side_effect_add, side_effects_add


def _members(people: Iterable[Person]) -> list[tuple[int, int, str]]:
    """The people who hold an active membership of the organisation they are named with, in the order the
    rules named them, each person once, with their e-mail preference (email_modes), in one query: a former
    member, or a user named with an organisation they do not belong to, hears nothing."""
    wanted: dict[int, int] = {}
    for user_id, organisation_id in people:
        wanted.setdefault(user_id, organisation_id)
    if not wanted:
        return []
    held = {
        (user_id, organisation_id): mode
        for user_id, organisation_id, mode in Membership.objects.active()
        .filter(user_id__in=wanted, organisation_id__in=set(wanted.values()))
        .values_list("user_id", "organisation_id", "user__notification_preference__email_mode")
    }
    return [
        (user_id, organisation_id, held[user_id, organisation_id] or EmailMode.IMMEDIATE)
        for user_id, organisation_id in wanted.items()
        if (user_id, organisation_id) in held
    ]


def email_modes(user_ids: Iterable[int]) -> dict[int, str]:
    """Each user's e-mail preference; IMMEDIATE without a row (models.NotificationPreference says why)."""
    ids = list(user_ids)
    chosen = dict(NotificationPreference.objects.filter(user_id__in=ids).values_list("user_id", "email_mode"))
    return {user_id: chosen.get(user_id, EmailMode.IMMEDIATE) for user_id in ids}


def _delivery(mode: str, *, kind_emails: bool) -> str:
    if not kind_emails or mode == EmailMode.NEVER:
        return EmailDelivery.NONE
    return EmailDelivery.DIGEST if mode == EmailMode.DIGEST else EmailDelivery.IMMEDIATE


def notify(event: Event) -> list[Notification]:
    """Write the event's notifications, inside the caller's transaction (a receiver's: the event's own), and
    promise their immediate e-mails. Returns the rows written now: a second call for the same event writes
    nothing (unique per (event_key, recipient)), so a signal sent twice, or a daily job run twice, tells once."""
    kind = KINDS[event.kind]
    people = [
        person
        for rule in kind.recipients
        for person in rule(event)
        if person[0] != event.actor_id  # never the person who acted
    ]
    recipients = _members(people)
    written = _notifications_write(
        event,
        [
            Notification(
                event_key=event.key,
                recipient_id=user_id,
                **_fields(event, organisation_id, _delivery(mode, kind_emails=kind.email), user_id),
            )
            for user_id, organisation_id, mode in recipients
        ],
    )
    if kind.candidate and (address := _candidate_address(event)):
        notification, created = Notification.objects.get_or_create(
            event_key=event.key,
            recipient=None,
            recipient_email=address,
            defaults={
                **_fields(event, event.organisation_id, EmailDelivery.IMMEDIATE),
                "title": event.candidate_title or event.title,
                "body": event.candidate_body or event.body,
                # Their own space (issue 18), by its URL name (space sits above notifications): the page asks for a
                # sign-in link when no session is open; a notification never carries one. None without a dossier.
                "url": reverse("space:home") if event.dossier is not None else "",
            },
        )
        if created:
            written.append(notification)
    side_effects_add(
        [
            _email_promise(notification)
            for notification in written
            if notification.email_delivery == EmailDelivery.IMMEDIATE
        ]
    )
    return written


def _notifications_write(event: Event, rows: list[Notification]) -> list[Notification]:
    """Insert the members' rows, in the rules' order, in one statement. A row this event already wrote (a signal
    sent twice, a daily job run twice, a concurrent transaction) makes the insert fail: its savepoint is rolled
    back and each row is then asked for alone (get_or_create), which keeps the one already there."""
    if not rows:
        return []
    if connection.features.can_return_rows_from_bulk_insert:
        try:
            with transaction.atomic():
                return Notification.objects.bulk_create(rows)
        except IntegrityError:
            pass
    written = []
    for row in rows:
        notification, created = Notification.objects.get_or_create(
            event_key=row.event_key,
            recipient_id=row.recipient_id,
            defaults={field: getattr(row, field) for field in _FIELDS},
        )
        if created:
            written.append(notification)
    return written


_FIELDS = ("organisation_id", "kind", "title", "body", "url", "email_delivery", "attachments")


def _fields(event: Event, organisation_id: int, delivery: str, user_id: int | None = None) -> dict[str, object]:
    own = event.personal.get(user_id, {}) if user_id is not None else {}
    return {
        "organisation_id": organisation_id,
        "kind": event.kind,
        "title": own.get("title", event.title)[:200],
        "body": own.get("body", event.body),
        "url": own.get("url", event.url_by_organisation.get(organisation_id, event.url))[:300],
        "email_delivery": delivery,
        "attachments": event.attachments,
    }


def _candidate_address(event: Event) -> str:
    """The candidate's address, when they agreed at opening to hear from us by e-mail; else nothing. For an
    appointment without a dossier, the address of the person's request."""
    dossier = event.dossier
    appointment = event.appointment
    if dossier is None and appointment is not None and appointment.dossier_id is None:
        # A person who asked an information interview from the directory (app intake) and gave this address for it.
        return appointment.person_email.strip()
    if dossier is None or not dossier.notify_by_email:
        return ""
    candidate = dossier.candidate
    if candidate.anonymised_at is not None or candidate.contacts_erased_at is not None:
        return ""
    return candidate.email.strip()


def _email_promise(notification: Notification) -> dict[str, Any]:
    """One side effect per notification, keyed on it: asked twice, still one e-mail (delivery.py)."""
    return {
        "kind": "notification_email",
        "key": f"notification_email:{notification.pk}",
        "label": _("Notification « %(title)s »") % {"title": notification.title},
        "organisation": notification.organisation_id,
        "arguments": {"notification_id": notification.pk},
    }


def digests_promise(*, today: datetime.date | None = None) -> int:
    """Daily (beat): promise one digest per user and per past day holding notifications waiting for it. Keyed on
    (user, day): run twice, it promises nothing more. Returns how many are promised now or were already."""
    today = today or timezone.localdate()
    start_of_today = timezone.make_aware(datetime.datetime.combine(today, datetime.time.min))
    waiting = (
        Notification.objects.filter(
            email_delivery=EmailDelivery.DIGEST,
            emailed_at__isnull=True,
            created_at__lt=start_of_today,
            recipient__isnull=False,
        )
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("recipient_id", "day")
        .annotate(first_organisation=Min("organisation_id"))
        .order_by("recipient_id", "day")
    )
    count = 0
    for row in waiting:
        with transaction.atomic():
            side_effect_add(
                kind="notification_digest",
                key=f"notification_digest:{row['recipient_id']}:{row['day']:%Y-%m-%d}",
                label=_("Récapitulatif des notifications du %(day)s") % {"day": f"{row['day']:%d/%m/%Y}"},
                organisation=row["first_organisation"],
                arguments={"user_id": row["recipient_id"], "day": f"{row['day']:%Y-%m-%d}"},
            )
        count += 1
    return count


# -- The reader -------------------------------------------------------------------------------------------------


def notification_mark_read(*, notification: Notification, by: Membership) -> Notification:
    """Mark one of the member's own notifications read (another's is a DoesNotExist, like a missing one)."""
    own = Notification.objects.visible_to(by).get(pk=notification.pk)
    own.mark_read()
    return own


def notifications_mark_all_read(*, by: Membership) -> int:
    now = timezone.now()
    return rows_update(Notification.objects.visible_to(by).unread(), at=now, read_at=now)


def notification_preference_set(*, user: User, email_mode: str) -> NotificationPreference:
    preference, _created = NotificationPreference.objects.update_or_create(
        user=user, defaults={"email_mode": EmailMode(email_mode)}
    )
    return preference


# -- Events that come with time: the daily job --------------------------------------------------------------------

# The 5-year deadline: a first notice three months ahead, a second one month ahead (each once).
DEADLINE_NOTICES = (("deadline_1_month", 31), ("deadline_3_months", 91))
# A referral left unanswered: its organisation hears of it this many days before it expires.
REFERRAL_EXPIRING_DAYS = 3


# Reminders leave the day before an appointment, from this hour (Europe/Paris): not in the night, and late enough
# that the day's bookings for tomorrow are mostly made. The hourly job catches those booked after.
APPOINTMENT_REMINDER_HOUR = 9


def appointment_reminders_send(*, now: datetime.datetime | None = None) -> int:
    """Hourly (beat): remind the person met and the candidate (if they agreed) of tomorrow's planned appointments,
    from APPOINTMENT_REMINDER_HOUR. Keyed on (appointment, start): a second run sends nothing, a rescheduled
    appointment is reminded again before its new date. Returns how many notifications it wrote."""
    from notifications import receivers_daily

    local = timezone.localtime(now or timezone.now())
    if local.hour < APPOINTMENT_REMINDER_HOUR:
        return 0
    written = 0
    for appointment in receivers_daily.appointments_tomorrow(local.date()):
        key = receivers_daily.appointment_reminder_key(appointment)
        if Notification.objects.filter(event_key=key).exists():
            continue
        with transaction.atomic():
            written += len(notify(receivers_daily.appointment_reminder_event(appointment, key=key)))
    return written


def notifications_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete the notifications written more than settings.NOTIFICATION_RETENTION_DAYS ago: their titles name
    candidates, and a year-old « à vous de jouer » tells nothing any more. Returns how many were deleted."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.NOTIFICATION_RETENTION_DAYS)
    deleted, _rows = Notification.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def notifications_daily(*, today: datetime.date | None = None) -> int:
    """Daily (beat): the 5-year deadlines approaching (3 months, then 1 month before; a dossier that enters the
    window late gets the nearer notice only), the referrals about to expire and the habilitations ending within 3
    months without a renewal (once per habilitation and end date). Each event is told once (its key),
    so the job may run twice a day. Returns how many notifications it wrote. Then forgets the old ones
    (notifications_purge): an event older than the retention is not told again, its key having gone with it only
    after every daily check that could find it has passed."""
    from candidates.models import WINDOW_STATES, Dossier
    from notifications import receivers_daily

    today = today or timezone.localdate()
    written = 0
    upcoming = (
        Dossier.objects.filter(
            state__in=WINDOW_STATES, deadline__gte=today, deadline__lte=today + datetime.timedelta(days=91)
        )
        .select_related("candidate")
        .order_by("deadline", "pk")
    )
    for dossier in upcoming:
        if dossier.deadline is None:  # for the type checker: the filter reads only dated dossiers
            continue
        days = (dossier.deadline - today).days
        kind = next(kind for kind, within in DEADLINE_NOTICES if days <= within)
        key = f"{kind}:{dossier.pk}:{dossier.deadline:%Y-%m-%d}"
        if Notification.objects.filter(event_key=key).exists():
            continue
        with transaction.atomic():
            written += len(notify(receivers_daily.deadline_event(dossier, kind=kind, key=key)))
    for referral in receivers_daily.referrals_expiring(days=REFERRAL_EXPIRING_DAYS):
        key = f"referral_expiring:{referral.pk}"
        if Notification.objects.filter(event_key=key).exists():
            continue
        with transaction.atomic():
            written += len(notify(receivers_daily.referral_expiring_event(referral, key=key)))
    for habilitation in Habilitation.objects.expiring(today).order_by("valid_until", "pk"):
        key = f"habilitation_expiring:{habilitation.pk}:{habilitation.valid_until:%Y-%m-%d}"
        if Notification.objects.filter(event_key=key).exists():
            continue
        with transaction.atomic():
            written += len(notify(receivers_daily.habilitation_expiring_event(habilitation, key=key)))
    notifications_purge()
    return written
