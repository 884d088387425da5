"""Queueing tasks from the web: a broker outage delays work, it never turns a committed request into a 500."""

from __future__ import annotations

import logging
from typing import Any

import kombu.exceptions
import redis.exceptions
from celery import Task, current_app
from django.conf import settings
from django.db import OperationalError as DatabaseOperationalError

logger = logging.getLogger(__name__)

# What a publish raises when Redis is unreachable: kombu wraps the transport's connection errors in its own;
# redis' and the socket's are listed in case one slips through unwrapped.
BROKER_ERRORS: tuple[type[BaseException], ...] = (
    kombu.exceptions.OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    OSError,
)

# The document tasks are idempotent (a second run finds the document stored), so a transient failure of the file
# store or of the database is retried: 10 s, 20 s, 40 s... (with jitter) up to settings.TASK_RETRY_BACKOFF_MAX,
# which stays below the broker's visibility timeout.
DOCUMENT_TASK_OPTIONS: dict[str, Any] = {
    "autoretry_for": (OSError, DatabaseOperationalError),
    "retry_backoff": 10,
    "retry_backoff_max": settings.TASK_RETRY_BACKOFF_MAX,
    "retry_jitter": True,
    "max_retries": 5,
}


def enqueue(task: Task, /, *args: Any, _options: dict[str, Any] | None = None, **kwargs: Any) -> bool:
    """Queue `task` now (`_options` go to apply_async: a queue, time limits); False (and an error in the log,
    with the task and its arguments) when the broker is unreachable. The platform reads no task results
    (documents are rows), so none is stored or subscribed to: the Redis result store is not a second thing to
    wait on."""
    options = {"ignore_result": True, **(_options or {})}
    if task.app.conf.task_always_eager:  # embedded mode: no broker, the task runs here and its errors propagate
        task.apply_async(args, kwargs, **options)
        return True
    try:
        task.apply_async(args, kwargs, **options)
    except BROKER_ERRORS as exc:
        logger.error("Task %s not queued (broker unreachable: %r): args=%r kwargs=%r", task.name, exc, args, kwargs)
        return False
    return True


def queue_depth(queue: str) -> int | None:
    """How many messages wait in `queue` (not those a worker has reserved); None when the broker cannot tell
    (unreachable, or the embedded mode's tasks run at once)."""
    app = current_app
    if app.conf.task_always_eager:
        return None
    try:
        with app.connection_for_write() as connection:
            declared = connection.default_channel.queue_declare(queue=queue, passive=True)  # type: ignore[attr-defined]
            return int(declared.message_count)
    except BROKER_ERRORS as exc:
        logger.error("Queue %s not measured (broker unreachable: %r)", queue, exc)
        return None
    except Exception as exc:  # the transport's ChannelError for a queue that does not exist: nothing waits
        logger.info("Queue %s not measured: %r", queue, exc)
        return 0
