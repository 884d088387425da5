from celery import shared_task

from privacy.services import retention_apply


@shared_task
def retention_apply_task() -> dict[str, int]:
    """Daily (beat): anonymise, erase or delete the personal data past its retention. Idempotent: a second run
    finds nothing left to do."""
    return retention_apply()
