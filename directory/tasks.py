from celery import shared_task

from clea_platform.tasks_queue import DOCUMENT_TASK_OPTIONS
from directory.services import directory_sheet_generate


# The name it had in organisations/tasks.py: messages queued before a deploy still find their task (a pending
# sheet is queued once, and asking again the same day returns it without queueing it again).
@shared_task(name="organisations.tasks.directory_sheet_generate_task", **DOCUMENT_TASK_OPTIONS)
def directory_sheet_generate_task(sheet_id: int) -> int:
    """Idempotent: a retried or duplicated task returns the sheet already rendered."""
    return directory_sheet_generate(sheet_id=sheet_id).pk
