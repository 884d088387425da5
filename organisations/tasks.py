from celery import shared_task

from organisations.directory import directory_sheet_generate


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def directory_sheet_generate_task(sheet_id: int) -> int:
    """Idempotent: a retried or duplicated task returns the sheet already rendered."""
    return directory_sheet_generate(sheet_id=sheet_id).pk
