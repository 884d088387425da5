from celery import shared_task

from clea_platform.tasks_queue import DOCUMENT_TASK_OPTIONS
from juries.services import certificate_produce, minutes_generate


@shared_task(**DOCUMENT_TASK_OPTIONS)
def certificate_generate_task(decision_id: int) -> int | None:
    """Idempotent: a retried task finds the certificate already stored. None when the decision was revoked
    before the worker got to it."""
    certificate = certificate_produce(decision_id=decision_id)
    return certificate.pk if certificate is not None else None


@shared_task(**DOCUMENT_TASK_OPTIONS)
def minutes_generate_task(session_id: int) -> int:
    return minutes_generate(session_id=session_id).pk
