from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail


@shared_task(
    autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=settings.TASK_RETRY_BACKOFF_MAX, max_retries=5
)
def email_send_task(*, subject: str, body: str, to: list[str]) -> int:
    """Send one plain-text e-mail. Retried on network errors; a duplicate is better than a lost reset link."""
    return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to)
