from __future__ import annotations

from celery import shared_task

from scheduling.availability import sites_availability_refresh


@shared_task
def sites_availability_refresh_task() -> int:
    """Nightly: the directory's availability of the sites whose organisation uses the agenda (the next free day moves
    with the calendar even when nobody books). Idempotent."""
    return sites_availability_refresh()
