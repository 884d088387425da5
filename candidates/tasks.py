from celery import shared_task

from candidates.services import dossiers_close_idle_information, dossiers_process_deadlines


@shared_task
def dossier_deadlines_task() -> dict[str, int]:
    """Daily: warn 3 months before the 5-year deadline, expire past it. Safe to run twice."""
    run = dossiers_process_deadlines()
    return {"warned": run.warned, "expired": run.expired}


@shared_task
def information_idle_close_task() -> dict[str, int]:
    """Daily: close the information dossiers untouched for INFORMATION_IDLE_DAYS. Safe to run twice."""
    return {"closed": dossiers_close_idle_information()}
