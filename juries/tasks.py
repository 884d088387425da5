from celery import shared_task

from juries.models import Decision
from juries.services import certificate_generate, minutes_generate


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def certificate_generate_task(decision_id: int) -> int | None:
    """Idempotent: a retried task finds the certificate already stored. None when the decision was revoked
    before the worker got to it."""
    try:
        return certificate_generate(decision_id=decision_id).pk
    except Decision.DoesNotExist:
        return None


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def minutes_generate_task(session_id: int) -> int:
    return minutes_generate(session_id=session_id).pk
