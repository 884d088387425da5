import time
from collections.abc import Callable

import pytest


def wait_until(predicate: Callable[[], object], timeout: float = 15.0) -> None:
    """Poll until a worker has done its part; fail with a clear message otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    pytest.fail(f"condition not met within {timeout} s")
