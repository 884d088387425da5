"""Rows built once and read by several tests: a module's "world" of dossiers walked through the services costs
a second or more, and read-only tests need not each build their own.

    @pytest.fixture(scope="module")
    def world(django_db_setup, django_db_blocker):
        with shared_rows(django_db_blocker) as media:
            yield build_the_world()

The rows live in a transaction that is rolled back after the module's last test; each test runs in a savepoint
inside it, as pytest-django does anyway, so whatever a test writes is gone before the next one, and the shared rows
are the same for all. Only for tests that do not need a transaction of their own (not `transaction=True`).

Files the world writes (attestations, certificates) go to a media folder of the module's own; tests/conftest.py
copies it into each test's media folder, so that a download in a test finds them.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.test import override_settings

from clea_platform.celery import app as celery_app


def settings_for_tests(media_root: str) -> dict[str, Any]:
    """What every test runs with (tests/conftest.py), and a module's shared rows too: its fixture runs before the
    tests' own settings are applied."""
    return {
        # Generated documents go to a throw-away folder, never into the project's media/.
        "MEDIA_ROOT": media_root,
        "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
        # The test client and live_server speak plain HTTP, whatever SITE_URL the environment gives (an https one
        # turns the redirect on); tests/test_security_headers.py checks production's HTTPS settings in a process of
        # their own.
        "SECURE_SSL_REDIRECT": False,
        # Production's manifest storage (DEBUG off, as in CI) needs collectstatic; tests/test_platform.py runs that
        # pipeline itself.
        "STORAGES": {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    }


# The media folders of the shared rows in use: a module's, or several when a module has more than one such fixture
# (nested: the second's transaction is a savepoint in the first's); all are torn down before the next module.
media_roots: list[Path] = []


@contextmanager
def shared_rows(django_db_blocker) -> Iterator[Path]:
    # Tasks run in this process, as tests/conftest.py's autouse fixture runs them for each test: module-scoped
    # fixtures are built before it, and with a real broker (CI) a document queued while building the rows was sent
    # to a worker that cannot see them (they are never committed). No shared-rows module uses a real worker.
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        with (
            tempfile.TemporaryDirectory(prefix="clea-shared-media-") as media,
            override_settings(**settings_for_tests(media)),
            django_db_blocker.unblock(),
            transaction.atomic(),
        ):
            media_roots.append(Path(media))
            try:
                yield Path(media)
            finally:
                media_roots.pop()
                transaction.set_rollback(True)
    finally:
        celery_app.conf.task_always_eager = eager
