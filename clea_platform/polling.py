"""The status fragments that htmx polls while a worker runs (a directory sheet, a funding batch): every 2 s
(settings.POLL_INTERVAL_MS, shortened by the browser tests that wait for polls), and
60 times at most. Then the fragment stops and offers a link to refresh by hand: what the worker has not finished in
two minutes waits for its beat job, and a page left open must not poll the server forever. The fragment carries
its count in its own URL (`?poll=`), so that the limit needs no state on the server."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

POLL_LIMIT = 60


def query_count(request: HttpRequest, name: str) -> int:
    """A non-negative counter from the query string (0 when absent or not a number)."""
    try:
        return max(int(request.GET.get(name, 0)), 0)
    except ValueError:
        return 0


def next_poll(request: HttpRequest, *, pending: bool) -> int | None:
    """The count for the fragment's next poll, or None when it must stop: done, or at its limit."""
    polls = query_count(request, "poll")
    return polls + 1 if pending and polls < POLL_LIMIT else None


def poll_interval(request: HttpRequest) -> dict[str, Any]:
    """The fragments' `hx-trigger="every {{ poll_every }}"` (a context processor: the fragments are also included in
    full pages). A string, which no locale formats ("2 000" would not be an interval htmx reads)."""
    return {"poll_every": f"{settings.POLL_INTERVAL_MS}ms"}
