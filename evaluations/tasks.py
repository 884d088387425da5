from celery import shared_task

from clea_platform.tasks_queue import DOCUMENT_TASK_OPTIONS
from evaluations.services import attestation_generate


@shared_task(**DOCUMENT_TASK_OPTIONS)
def attestation_generate_task(evaluation_id: int) -> int:
    """Idempotent: a retried or duplicated task returns the attestation already stored."""
    return attestation_generate(evaluation_id=evaluation_id).pk
