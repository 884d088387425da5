from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from tests.faults.harness import REDIS_SERVER, Cluster, database_url
from tests.faults.smtp import SmtpServer

# The workers see the re-queueing delay through their environment; this process, which runs the job, through
# its settings.
REQUEUE_AFTER = 1


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skipped before any fixture runs: in the embedded mode, `transactional_db` would otherwise create (migrate) the
    test database for tests that then skip, and flush it after each."""
    if connection.vendor != "postgresql" or not django_settings.REDIS_URL:
        pytest.skip(
            "Tests de pannes ignorés : ils démarrent de vrais workers Celery sur la base de test, il leur faut "
            "PostgreSQL (DATABASE_URL) et Redis (REDIS_URL), comme en CI."
        )
    if not os.access(REDIS_SERVER, os.X_OK):
        pytest.skip(f"Tests de pannes ignorés : {REDIS_SERVER} est absent (apt-get install redis-server).")


@pytest.fixture
def cluster(transactional_db, settings, tmp_path: Path) -> Iterator[Cluster]:
    """A private Redis and the workers a test starts on it, all stopped however the test ends (before the test
    database is flushed: the workers hold connections to it). Only reached when pytest_runtest_setup did not skip."""
    settings.SIDE_EFFECT_REQUEUE_AFTER = REQUEUE_AFTER
    with Cluster(
        workdir=tmp_path,
        database_url=database_url(connection.settings_dict),
        media_root=settings.MEDIA_ROOT,
        requeue_after=REQUEUE_AFTER,
    ) as running:
        yield running


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """The mail server the workers send notification e-mails to (tests/faults/smtp.py), in a thread of this process."""
    with SmtpServer() as server:
        yield server
