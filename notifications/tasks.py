from celery import shared_task

from notifications.services import appointment_reminders_send, digests_promise, notifications_daily


@shared_task
def notification_digests_task() -> int:
    """Daily (beat): one digest per user and past day waiting for it. Safe to run twice (keyed on user and day)."""
    return digests_promise()


@shared_task
def notifications_daily_task() -> int:
    """Daily (beat): deadlines approaching and referrals about to expire, each told once."""
    return notifications_daily()


@shared_task
def appointment_reminders_task() -> int:
    """Hourly (beat): tomorrow's appointments reminded, each once per (appointment, start)."""
    return appointment_reminders_send()
