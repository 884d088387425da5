from celery import shared_task

from evaluations.services import attestation_generate


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def attestation_generate_task(evaluation_id: int) -> int:
    """Idempotent: a retried or duplicated task returns the attestation already stored."""
    return attestation_generate(evaluation_id=evaluation_id).pk
