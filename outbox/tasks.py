from celery import shared_task

from outbox.services import side_effect_run, side_effects_purge, side_effects_requeue


@shared_task
def side_effect_run_task(side_effect_id: int) -> str | None:
    """Idempotent: a duplicate message finds the row done, or held by the worker running it, and does nothing."""
    row = side_effect_run(side_effect_id)
    return row.state if row is not None else None


@shared_task
def side_effects_requeue_task() -> int:
    """Every minute: queue again what stays pending (safe to run twice: it only tops queues up)."""
    return side_effects_requeue()


@shared_task
def side_effects_purge_task() -> int:
    """Daily: forget the done side effects past their retention."""
    return side_effects_purge()
