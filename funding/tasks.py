"""Thin tasks: fetch by id, call one service; each can run twice without harm."""

from __future__ import annotations

import datetime

from celery import shared_task
from django.utils import timezone

from clea_platform.tasks_queue import DOCUMENT_TASK_OPTIONS
from funding.services import batch_generate, fee_entries_catch_up, statement_produce

# The daily catch-up looks back this far (events older than that were caught by earlier runs).
CATCH_UP_DAYS = 400


@shared_task(**DOCUMENT_TASK_OPTIONS)
def batch_generate_task(batch_id: int) -> int:
    """Claim, render and issue a batch. Idempotent: an issued batch is returned untouched."""
    return batch_generate(batch_id=batch_id).pk


@shared_task(**DOCUMENT_TASK_OPTIONS)
def statement_generate_task(*, organisation_id: int, year: int, quarter: int) -> int | None:
    """One organisation's quarterly statement. Idempotent: one statement per organisation and quarter."""
    statement = statement_produce(organisation_id=organisation_id, year=year, quarter=quarter)
    return statement.pk if statement is not None else None


@shared_task
def fee_entries_sync_task(days: int | None = CATCH_UP_DAYS) -> int:
    """Daily: the fees of events that have none yet (idempotent: unique on kind and source)."""
    since = timezone.localdate() - datetime.timedelta(days=days) if days is not None else None
    return fee_entries_catch_up(since=since)
