from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test import Client, override_settings

from clea_platform.celery import app as celery_app
from organisations.models import Membership, Organisation, Role
from tests import migrated_db, shared
from tests.clients import logged_in_client, verified_login
from tests.factories import MembershipFactory, OrganisationFactory

# Playwright runs an event loop in the test thread; Django's ORM calls from it are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path_factory) -> None:
    for name, value in shared.settings_for_tests(str(tmp_path_factory.mktemp("media"))).items():
        setattr(settings, name, value)
    for shared_media in shared.media_roots:  # the files of a module's shared rows (tests/shared.py)
        shutil.copytree(shared_media, settings.MEDIA_ROOT, dirs_exist_ok=True)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, django_db_use_migrations) -> None:
    """pytest-django's own (the xdist worker's suffix), then the embedded test database copied rather than migrated
    again (tests/migrated_db.py): django_db_setup, which creates it, depends on this fixture. Not with
    --no-migrations, which asks for tables made from the models."""
    if django_db_use_migrations:
        migrated_db.install()


# Groups of tests that `--dist loadgroup` keeps on one xdist worker: the fault tests, so that one set of their Celery
# workers shares the cores with the other xdist worker's tests, not two. The browser tests are no group any more:
# with about 6 minutes of them, one worker running them all made the suite's critical path (24 GB hold two chromiums).
XDIST_GROUPS = ("faults",)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # First (tryfirst): xdist's worker reads the group markers in its own implementation of this hook. Without
    # xdist (`-p no:xdist`) its marker does not exist.
    if not config.pluginmanager.hasplugin("xdist"):
        return
    grouping = getattr(config.option, "loadgroup", False)  # set by xdist in its workers under --dist loadgroup
    for item in items:
        group = next((name for name in XDIST_GROUPS if item.get_closest_marker(name)), None) or _shared_rows_group(item)
        if group is None:
            continue
        item.add_marker(pytest.mark.xdist_group(group))
        if grouping and hasattr(item, "_id"):
            # The group travels to xdist's scheduler as a "@group" suffix of the node id. pytest 9.2 derives the
            # node id from a structured `_id`, and xdist 3.8 still writes the old `_nodeid`: the suffix was lost and
            # the groups spread over every worker (pytest-dev/pytest-xdist#1386). Written here until xdist does.
            item._id = type(item._id).parse(f"{item.nodeid}@{group}")


def _shared_rows_group(item: pytest.Item) -> str | None:
    """The tests of one instance of a module-scoped parametrised fixture (rows built once, tests/shared.py), kept
    together on one worker: handed out one by one, each worker would build the rows again for the tests it got."""
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return None
    definitions = item._fixtureinfo.name2fixturedefs  # type: ignore[attr-defined]
    for name, index in sorted(callspec.indices.items()):
        if name in definitions and definitions[name][-1].scope == "module":
            return f"{item.module.__name__}.{name}.{index}"  # type: ignore[attr-defined]
    return None


def session_tag() -> str:
    """A name of this test process's own: xdist workers (gw0, gw1...) and other people's runs share the Redis.
    From xdist's environment variable rather than its `worker_id` fixture, so `-p no:xdist` still works."""
    return f"clea-tests-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session", autouse=True)
def _isolated_celery_queue() -> Iterator[None]:
    """Each test process gets its own queues (the default one and its own "pdf"), so that a shared Redis never
    hands it another run's tasks. Set before the first publish: Celery caches its router. The outbox names its
    queues from the settings (outbox/registry.py), overridden to match."""
    if celery_app.conf.task_always_eager:
        yield
        return
    tag = session_tag()
    celery_app.conf.task_default_queue = tag
    celery_app.conf.task_routes = {
        name: {"queue": f"{tag}-{route['queue']}"} for name, route in django_settings.CELERY_TASK_ROUTES.items()
    }
    with override_settings(CELERY_LIGHT_QUEUE=tag, CELERY_PDF_QUEUE=f"{tag}-{django_settings.CELERY_PDF_QUEUE}"):
        yield


def consumed_queues() -> list[str]:
    """The queues a worker of this test process takes tasks from: the light one and the PDF one."""
    conf = celery_app.conf
    return [conf.task_default_queue, *sorted({route["queue"] for route in conf.task_routes.values()})]


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache_keys() -> Iterator[None]:
    """Rate-limit and throttle counters under a key prefix of this process's own, in a shared Redis."""
    cache = django_settings.CACHES["default"]
    with override_settings(CACHES={**django_settings.CACHES, "default": {**cache, "KEY_PREFIX": session_tag()}}):
        yield


@pytest.fixture(scope="session", autouse=True)
def _uncached_identity() -> Iterator[None]:
    """Sessions in the database alone and no cached identity (organisations/identity.py), even with REDIS_URL set:
    every query count of the suite is that of a session's first request, the most a page costs. The cached path
    has its own tests (the `cached_identity` fixture)."""
    with override_settings(SESSION_ENGINE="django.contrib.sessions.backends.db", IDENTITY_CACHE=False):
        yield


@pytest.fixture
def cached_identity(settings) -> Iterator[None]:
    """The hot path as production runs it with Redis (sessions in the database): the user and memberships cached
    (a private in-memory cache, under a namespace of this test's own: SQLite gives a rolled-back test's ids again)."""
    from organisations import identity

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "identity"}}
    settings.IDENTITY_CACHE = True
    namespace = identity.namespace
    identity.namespace = f"identity-{uuid.uuid4().hex[:8]}"
    cache.clear()
    yield
    cache.clear()
    identity.namespace = namespace


@pytest.fixture
def fresh_rate_limit(settings) -> Iterator[None]:
    """Rate limits count in the cache (public verification, password-reset requests): a private in-memory one, emptied
    for each test (cache.clear() on the shared Redis would also drop the Celery messages of the xdist worker beside
    this one)."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "rate-limits"}
    }
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _eager_tasks_unless_worker(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests without the `celery_worker` fixture run tasks in-process; the others get the real thing."""
    real_broker = not celery_app.conf.task_always_eager
    if real_broker and "celery_worker" not in request.fixturenames:
        celery_app.conf.task_always_eager = True
        yield
        celery_app.conf.task_always_eager = False
    else:
        yield


@pytest.fixture
def celery_worker(transactional_db) -> Iterator[object | None]:
    """A real Celery worker on the configured broker (Redis in CI); eager execution in the embedded mode."""
    if celery_app.conf.task_always_eager:
        yield None
        return
    from celery.contrib.testing.worker import start_worker

    # One worker takes both queues, so that CI renders PDFs on a real worker as production's "pdf" worker does.
    with start_worker(
        celery_app,
        pool="solo",
        perform_ping_check=False,
        loglevel="WARNING",
        shutdown_timeout=10,
        queues=consumed_queues(),
    ) as worker:
        yield worker


@pytest.fixture
def org_a(db) -> Organisation:
    return OrganisationFactory(name="Évaluateur A")


@pytest.fixture
def org_b(db) -> Organisation:
    return OrganisationFactory(name="Évaluateur B")


@pytest.fixture
def make_member(db) -> Callable[..., Membership]:
    def make(organisation: Organisation | None = None, role: str = Role.COUNSELLOR, **user_fields) -> Membership:
        kwargs = {"role": role}
        if organisation is not None:
            kwargs["organisation"] = organisation
        elif role == Role.CERTIFPRO_ADMIN:
            kwargs["organisation"] = OrganisationFactory(certifpro=True)
        if user_fields:
            kwargs.update({f"user__{k}": v for k, v in user_fields.items()})
        return MembershipFactory(**kwargs)

    return make


@pytest.fixture
def client_for() -> Callable[[Membership], Client]:
    """A logged-in client working under the given membership."""
    return logged_in_client


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium for the browser tests.")
        pytest.skip(f"Tests navigateur ignorés : {CHROMIUM} est absent (apt-get install chromium).")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture
def admin_client(db, admin_user) -> Client:
    """pytest-django's superuser client, its second factor given: the Django administration requires one."""
    return verified_login(Client(), admin_user)
