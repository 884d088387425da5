from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail


def email_send(*, subject: str, body: str, to: list[str]) -> str:
    """Send one plain-text e-mail (the outbox's "email" side effects, outbox/apps.py). A failure raises, and the
    outbox tries again: a duplicate is better than a lost message."""
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to)
    return ", ".join(to)


@shared_task(
    autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=settings.TASK_RETRY_BACKOFF_MAX, max_retries=5
)
def email_send_task(*, subject: str, body: str, to: list[str]) -> int:
    """Send one e-mail outside any business transaction (the password reset: nothing to lose but a link the user
    may ask for again). Retried on network errors; a duplicate is better than a lost reset link."""
    email_send(subject=subject, body=body, to=to)
    return len(to)
