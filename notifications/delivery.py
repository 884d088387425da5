"""Sending notification e-mails: the outbox's "notification_email" and "notification_digest" side effects.

Exactly once per (event, recipient), and how it holds:
- one side effect per notification (key "notification_email:<id>") and one per digest ("notification_digest:
  <user>:<day>"): an event told twice, or a digest job run twice, promises nothing more;
- the outbox runs one of them at a time (its advisory lock), and a duplicate message finds it done;
- here, the notification rows are locked (`select_for_update`) and `emailed_at` is checked, the e-mail is sent,
  and `emailed_at` is set in that same transaction: a second run, whether of the same side effect after it
  committed but before the outbox marked it done (a worker killed between the two), or of the digest for a row
  the immediate e-mail already took, finds `emailed_at` and sends nothing. A failed send rolls `emailed_at` back
  and the outbox tries again with its backoff, visible to the organisation's administrator once it gives up.
The one window left is a worker killed after the mail server accepted the message and before the commit (a few
milliseconds): the next run sends it again, with the same Message-ID, which mail programs show as one message.
No protocol closes that window without the mail server's help; we keep it to a commit's length."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications import attachments
from notifications.models import EmailDelivery, Notification
from organisations.models import User


def _message_id(name: str) -> str:
    """Stable for a given e-mail, so that a copy sent again is recognised as the same message."""
    host = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "localhost"
    return f"<{name}@{host}>"


def _message(
    *, subject: str, template: str, context: dict[str, object], to: str, message_id: str
) -> EmailMultiAlternatives:
    context = {**context, "site_url": settings.SITE_URL.rstrip("/")}
    text = render_to_string(f"notifications/email/{template}.txt", context)
    html = render_to_string(f"notifications/email/{template}.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={"Message-ID": _message_id(message_id)},
    )
    message.attach_alternative(html, "text/html")
    return message


def notification_email_send(*, notification_id: int) -> str | None:
    """Send one notification's e-mail, once (see the module's docstring). None when there is nothing to send:
    already sent (alone or in a digest), or its recipient is gone."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("recipient")
            .filter(pk=notification_id)
            .first()
        )
        if notification is None or notification.emailed_at is not None:
            return None
        address = notification.email_address
        if not address:
            return None
        message = _message(
            subject=_("CléA : %(title)s") % {"title": notification.title},
            template="notification",
            context={"notification": notification, "link": notification.link()},
            to=address,
            message_id=f"notification-{notification.pk}",
        )
        for attachment in attachments.resolve(notification.attachments):
            message.attach(attachment.filename, attachment.content, attachment.mimetype)
        message.send()
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
    return _("Courriel envoyé")


def _distinct(specs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One file per object: an appointment booked then moved the same day joins its .ics once, as it is now."""
    seen: dict[str, dict[str, Any]] = {}
    for spec in specs:
        seen.setdefault(json.dumps(spec, sort_keys=True), spec)
    return list(seen.values())


def digest_send(*, user_id: int, day: str) -> str | None:
    """Send a user's digest of one day: every notification of that day still waiting for it, in one e-mail with a
    text and an HTML part. None when nothing waits (already sent, or the user gone)."""
    date = datetime.date.fromisoformat(day)
    start = timezone.make_aware(datetime.datetime.combine(date, datetime.time.min))
    end = start + datetime.timedelta(days=1)
    with transaction.atomic():
        user = User.objects.filter(pk=user_id, is_active=True).first()
        if user is None:
            return None
        waiting = list(
            Notification.objects.select_for_update()
            .filter(
                recipient_id=user_id,
                email_delivery=EmailDelivery.DIGEST,
                emailed_at__isnull=True,
                created_at__gte=start,
                created_at__lt=end,
            )
            .order_by("created_at", "pk")
        )
        if not waiting:
            return None
        message = _message(
            subject=_("CléA : vos notifications du %(day)s") % {"day": f"{date:%d/%m/%Y}"},
            template="digest",
            context={"user": user, "notifications": waiting, "day": date},
            to=user.email,
            message_id=f"digest-{user_id}-{date:%Y%m%d}",
        )
        for attachment in attachments.resolve(_distinct(spec for n in waiting for spec in n.attachments)):
            message.attach(attachment.filename, attachment.content, attachment.mimetype)
        message.send()
        Notification.objects.filter(pk__in=[n.pk for n in waiting]).update(emailed_at=timezone.now())
    return _("Récapitulatif envoyé")
