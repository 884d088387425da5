from celery import shared_task

from notifications.services import digests_promise, notifications_daily


@shared_task
def notification_digests_task() -> int:
    """Daily (beat): one digest per user and past day waiting for it. Safe to run twice (keyed on user and day)."""
    return digests_promise()


@shared_task
def notifications_daily_task() -> int:
    """Daily (beat): deadlines approaching and referrals about to expire, each told once."""
    return notifications_daily()
