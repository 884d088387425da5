"""Faults against the real components (issue 13): a private redis-server, real Celery worker processes on the
database this process uses, kill -9 of the processes that are producing a document, Redis restarted without
persistence; then a count of what the platform promised and what it has. For the notification e-mails (issue 17),
the workers send through SMTP to a mail server of the test's own (tests/faults/smtp.py), which counts what it
accepted.

The test suite (tests/faults/) and the fault script (bench/faults.py) both drive it: the scenarios at the end
are theirs, at small sizes in the tests and at the issue's sizes in the script. Nothing here is mocked.

"The beat job runs" means `outbox.services.side_effects_requeue` called in this process every `requeue_every`
seconds, the very function `side_effects_requeue_task` calls from beat, rather than a `celery beat` process:
the delay it gives is the period chosen, not beat's scheduling.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import hashlib
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
from django.conf import settings
from django.db import connection, models, transaction
from django.urls import reverse
from django.utils import timezone

from clea_platform import documents
from clea_platform.celery import app as celery_app
from evaluations.models import Attestation
from juries.models import Certificate, DecisionKind, SessionMinutes
from outbox.models import SideEffect, SideEffectState
from outbox.services import _LOCK_CLASS, side_effects_requeue
from tests.faults.smtp import Held, Mail, SmtpServer

ROOT = Path(__file__).resolve().parents[2]
REDIS_SERVER = "/usr/bin/redis-server"


class HarnessError(RuntimeError):
    """The harness could not set the fault up (a process that would not start, a deadline passed)."""


# -- Redis ------------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """A redis-server of our own on a free port, without persistence: a restart loses everything it held."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = workdir / f"redis-{self.port}.log"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1, socket_timeout=2)

    def start(self) -> None:
        command = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        command += ["--daemonize", "no", "--dir", str(self.workdir)]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 (fixed binary, arguments of our own)
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise HarnessError(f"redis-server exited at start: {tail(self.log)}")
            with contextlib.suppress(redis.RedisError):
                if self.client().ping():
                    return
            time.sleep(0.05)
        self.stop()
        raise HarnessError(f"redis-server did not answer on port {self.port} within 10 s")

    def stop(self) -> None:
        if self.process is None:
            return
        stop(self.process, grace=5)
        self.process = None

    def restart(self) -> None:
        """Stopped and started again on the same port: without persistence, every message it held is gone."""
        self.stop()
        self.start()

    def waiting(self, queue: str) -> int:
        """Messages waiting in `queue`: kombu keeps a queue as one Redis list per priority step, the queue's name for
        step 0 and `<queue>\\x06\\x16<step>` for the others (the bulk documents', settings.CELERY_BULK_PRIORITY)."""
        steps = settings.CELERY_BROKER_TRANSPORT_OPTIONS["priority_steps"]
        client = self.client()
        return sum(int(client.llen(queue if step == 0 else f"{queue}\x06\x16{step}")) for step in steps)

    def unacked(self) -> int:
        """Messages delivered to a worker and not acknowledged (kombu's "unacked" hash), which Redis gives back
        only after the visibility timeout."""
        return int(self.client().hlen("unacked"))


# -- Processes --------------------------------------------------------------------------------------------------


def stop(process: subprocess.Popen[bytes], *, grace: float, signum: int = signal.SIGTERM) -> None:
    """`signum`, then SIGKILL to the whole process group (a prefork worker's children) after `grace` seconds. The
    processes were started with start_new_session=True: the group is theirs alone."""
    if process.poll() is None and grace > 0:
        process.send_signal(signum)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def children(pid: int) -> list[int]:
    """The direct child processes (a prefork worker's pool)."""
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def database_url(settings_dict: dict[str, Any]) -> str:
    """The URL of the database this process uses (under pytest-django: the test database), for the workers."""
    if settings_dict["ENGINE"] != "django.db.backends.postgresql":
        raise HarnessError("the fault harness needs PostgreSQL")
    user = settings_dict.get("USER") or "postgres"
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings_dict['NAME']}"


@dataclasses.dataclass
class Worker:
    """A real `celery worker` process: "prefork" (production's docker-compose worker: a main process and its
    pool of children, which render) or "solo" (the main process renders)."""

    name: str
    pool: str
    concurrency: int
    queues: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        command = [sys.executable, "-m", "celery", "-A", "clea_platform", "worker", "--pool", self.pool]
        command += ["-c", str(self.concurrency), "-Q", ",".join(self.queues), "--prefetch-multiplier", "1"]
        command += ["-n", f"{self.name}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat"]
        command += ["--loglevel", "WARNING"]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 (this interpreter, arguments of our own)
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def renderers(self) -> list[int]:
        """The processes that run tasks: the pool's children, or the solo worker itself."""
        if not self.running:
            return []
        return children(self.pid) if self.pool == "prefork" else [self.pid]

    def stop(self) -> None:
        """kill -9 of the worker and its pool: a scenario counts what it wants before, and no shutdown is under
        test here (a warm one takes seconds)."""
        if self.process is not None:
            stop(self.process, grace=0)


# -- The cluster: Redis, workers, and this process publishing to them --------------------------------------------


def _drop_broker_pools() -> None:
    """Celery keeps its connection and producer pools: forget them, so that the next publish uses the new URL."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


class Cluster:
    """A private Redis, the workers started on it, and this process's Celery publishing to it (not eagerly).

    Use it as a context manager: whatever happens, every worker and the Redis are stopped on the way out."""

    def __init__(
        self,
        *,
        workdir: Path,
        database_url: str,
        media_root: str,
        requeue_after: int,
        redis_port: int | None = None,
    ) -> None:
        self.workdir = workdir
        self.redis = RedisServer(workdir, redis_port)
        self.database_url = database_url
        self.media_root = media_root
        # The outbox's queues as this process names them (a test session names them after itself).
        self.queues = [settings.CELERY_LIGHT_QUEUE, settings.CELERY_PDF_QUEUE]
        self.requeue_after = requeue_after
        self.workers: list[Worker] = []
        # More of the workers' environment, for those started from now on (the mail server's EMAIL_URL).
        self.extra_env: dict[str, str] = {}
        self._saved_conf: dict[str, Any] = {}

    def __enter__(self) -> Cluster:
        self.redis.start()
        conf = celery_app.conf
        self._saved_conf = {"broker_url": conf.broker_url, "task_always_eager": conf.task_always_eager}
        conf.broker_url, conf.task_always_eager = self.redis.url, False
        _drop_broker_pools()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            for worker in self.workers:
                worker.stop()
        finally:
            self.redis.stop()
            celery_app.conf.update(self._saved_conf)
            _drop_broker_pools()

    def environment(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "clea_platform.settings",
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis.url,
                "MEDIA_ROOT": str(self.media_root),
                "SIDE_EFFECT_REQUEUE_AFTER": str(self.requeue_after),
                "DEBUG": "false",
                "LOG_LEVEL": "WARNING",
                "PYTHONPATH": str(ROOT),
            }
        )
        env.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
        env.setdefault("SITE_URL", "http://127.0.0.1:8000")
        env.update(self.extra_env)
        return env

    def worker(self, *, pool: str = "prefork", concurrency: int = 2) -> Worker:
        """Start a worker on the light and PDF queues (not waiting for it to be ready: it takes messages when it
        is, and those wait for it in Redis)."""
        name = f"faults{len(self.workers)}-{secrets.token_hex(3)}"
        worker = Worker(
            name=name,
            pool=pool,
            concurrency=concurrency,
            queues=self.queues,
            env=self.environment(),
            log=self.workdir / f"{name}.log",
        ).start()
        self.workers.append(worker)
        return worker

    def replace(self, worker: Worker) -> Worker:
        """A dead worker's replacement, as a supervisor (docker's restart policy, systemd) would start it."""
        worker.stop()
        return self.worker(pool=worker.pool, concurrency=worker.concurrency)

    def live_workers(self) -> list[Worker]:
        return [worker for worker in self.workers if worker.running]

    def renderers(self) -> list[int]:
        return [pid for worker in self.live_workers() for pid in worker.renderers()]

    def logs(self) -> str:
        return "\n".join(f"--- {worker.name}\n{tail(worker.log)}" for worker in self.workers)

    def process_with_port(self, port: int) -> tuple[Worker, int]:
        """The live worker, and its process (the main one or a pool child), that holds a TCP connection from local
        `port`: who is sending the message a server received from that port."""
        ports = _local_ports_by_inode()
        for worker in self.live_workers():
            for pid in [worker.pid, *children(worker.pid)]:
                if any(ports.get(inode) == port for inode in _socket_inodes(pid)):
                    return worker, pid
        raise HarnessError(f"no worker process holds a connection from port {port}\n{self.logs()}")


# -- Who is producing a side effect right now --------------------------------------------------------------------

# The side effects being produced right now, and the client port of each producer's connection: a worker holds
# an effect's advisory lock (outbox.services._held, the two-key form: classid, objid, objsubid 2) on its
# connection for the whole run.
_HELD_SQL = """
SELECT a.client_port, l.objid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.classid = %s AND l.objsubid = 2 AND l.granted
  AND a.datname = current_database() AND a.client_port IS NOT NULL
"""


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    with contextlib.suppress(FileNotFoundError, ProcessLookupError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    inodes.add(int(target[8:-1]))
    return inodes


def _local_ports_by_inode() -> dict[int, int]:
    ports = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                ports[int(fields[9])] = int(fields[1].rsplit(":", 1)[1], 16)
    return ports


@dataclasses.dataclass(frozen=True)
class Run:
    pid: int
    side_effect_id: int
    attempts: int


def producing(pids: list[int], promises: models.QuerySet[SideEffect]) -> list[Run]:
    """The runs of `promises` that `pids` are in right now, past the counting of their attempt by 50 ms at least
    (a kill before it costs no attempt and interrupts nothing). A process is matched to its run by the TCP port
    of the connection PostgreSQL sees and the sockets /proc lists for the process."""
    with connection.cursor() as cursor:
        cursor.execute(_HELD_SQL, [_LOCK_CLASS])
        held = {port: side_effect_id for port, side_effect_id in cursor.fetchall()}
    if not held:
        return []
    started_before = timezone.now() - datetime.timedelta(milliseconds=50)
    rows = dict(promises.filter(pk__in=held.values(), started_at__lt=started_before).values_list("pk", "attempts"))
    ports = _local_ports_by_inode()
    runs = []
    for pid in pids:
        for inode in _socket_inodes(pid):
            side_effect_id = held.get(ports.get(inode, -1))
            if side_effect_id in rows:
                runs.append(Run(pid, side_effect_id, rows[side_effect_id]))
    return runs


def pending(promises: models.QuerySet[SideEffect]) -> int:
    return promises.filter(state=SideEffectState.PENDING).count()


@dataclasses.dataclass
class Kills:
    done: int = 0
    # Pending promises left when the last kill landed: more than 0 means the work went on after it.
    pending_after_last: int = 0


def kill_producers(
    cluster: Cluster,
    promises: models.QuerySet[SideEffect],
    *,
    kills: int,
    between: int,
    solo: bool = False,
    after_each_kill: Callable[[], None] | None = None,
    timeout: float = 300,
    seed: int = 13,
) -> Kills:
    """kill -9 `kills` times a process caught producing one of `promises` (a prefork child, or a solo worker, then
    replaced as a supervisor would), at a random moment of its run, with at least `between` documents produced
    between two kills: the kills are spread over the batch, not all on the first renders.

    Independent faults, not one document shot at until it reaches settings.SIDE_EFFECT_MAX_ATTEMPTS (the limit
    that stops a document which kills every worker it touches): a run is never killed on its third attempt.
    `after_each_kill` looks at the state a kill left. Stops early when nothing is pending any more."""
    rng = random.Random(seed)
    result = Kills()
    deadline = time.monotonic() + timeout
    done_at_last_kill = -between
    while result.done < kills:
        if time.monotonic() > deadline:
            raise HarnessError(f"only {result.done} of {kills} kills within {timeout} s\n{cluster.logs()}")
        if not promises.filter(state=SideEffectState.PENDING).exists():
            break
        spread = promises.filter(state=SideEffectState.DONE).count() - done_at_last_kill >= between
        # A document interrupted twice already is let finish (its third attempt), so none counts more than 3.
        runs = [run for run in producing(cluster.renderers(), promises) if run.attempts < 3] if spread else []
        if not runs:
            time.sleep(0.05)
            continue
        time.sleep(rng.uniform(0, 0.15))  # anywhere in the render, the file's write or the commit
        victim = rng.choice(runs).pid
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)
        result.done += 1
        if solo:
            for worker in list(cluster.live_workers()):
                if worker.pid == victim:
                    worker.process.wait(timeout=10)  # type: ignore[union-attr]
                    cluster.replace(worker)
        if after_each_kill is not None:
            after_each_kill()
        done_at_last_kill = promises.filter(state=SideEffectState.DONE).count()
        result.pending_after_last = pending(promises)
    return result


def wait_until_done(
    cluster: Cluster,
    promises: models.QuerySet[SideEffect],
    *,
    timeout: float,
    requeue_every: float | None = None,
) -> tuple[float, int]:
    """Wait until no promise is pending; returns (seconds waited, rows the re-queueing job queued again). With
    `requeue_every`, the beat job runs that often (see the module's docstring); without it, only the broker and
    the workers get the work done."""
    started = time.monotonic()
    requeued, next_requeue = 0, started
    while promises.filter(state=SideEffectState.PENDING).exists():
        now = time.monotonic()
        if now - started > timeout:
            left = pending(promises)
            raise HarnessError(f"{left} side effects still pending after {timeout} s\n{cluster.logs()}")
        if not cluster.live_workers():
            raise HarnessError(f"every worker has stopped\n{cluster.logs()}")
        if requeue_every is not None and now >= next_requeue:
            requeued += side_effects_requeue()
            next_requeue = now + requeue_every
        time.sleep(0.1)
    return time.monotonic() - started, requeued


# -- Counting ---------------------------------------------------------------------------------------------------

# The documents a side effect promises: its kind, the model, and the argument that names its document's row.
DOCUMENTS: dict[str, tuple[type[models.Model], str]] = {
    "attestation": (Attestation, "evaluation_id"),
    "certificate": (Certificate, "decision_id"),
    "minutes": (SessionMinutes, "session_id"),
}
# FileSystemStorage never overwrites: a second file of the same name gets "_" and 7 random characters.
_ALTERNATE_NAME = re.compile(r"_[A-Za-z0-9]{7}$")


def _stored_files(media_root: str) -> set[str]:
    root = Path(media_root)
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}


def orphan_files() -> list[str]:
    """Files no row names (clea_platform.documents, without its grace period: the scenario is over, nothing is
    being written)."""
    return [orphan.name for orphan in documents.orphan_files(grace=datetime.timedelta(0))]


def collect_orphans() -> int:
    """The orphan collector (the daily `documents_collect_orphans_task`), without its grace period."""
    return len(documents.orphan_files_collect(grace=datetime.timedelta(0)))


def _document_is_whole(document: Any, media_root: str) -> bool:
    """Its file is named, stored, and has the SHA-256 its row recorded."""
    if not document.file:
        return False
    path = Path(media_root) / document.file.name
    return path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == document.sha256


def rows_without_file(media_root: str) -> list[str]:
    """Rows whose file is missing (clea_platform.documents, over every FileField), and document rows whose file is
    not named or not the one their SHA-256 says."""
    broken = {(missing.model, str(missing.pk)) for missing in documents.missing_files()}
    for model, _argument in DOCUMENTS.values():
        for document in model._base_manager.all():
            if not _document_is_whole(document, media_root):
                broken.add((model._meta.label, str(document.pk)))
    return sorted(f"{label} {pk}" for label, pk in broken)


def _files_of(document: Any, stored: set[str]) -> int:
    """How many stored files are this document's: its own, and any other of the same name but for the storage's
    random suffix (a run killed after writing its file, then run again)."""
    path = Path(document.file.name)
    base = _ALTERNATE_NAME.sub("", path.stem)
    pattern = re.compile(rf"^{re.escape(base)}(_[A-Za-z0-9]{{7}})?{re.escape(path.suffix)}$")
    return sum(1 for name in stored if Path(name).parent == path.parent and pattern.match(Path(name).name))


@dataclasses.dataclass
class Tally:
    promised: int
    produced: int
    lost: int
    duplicate_rows: int
    duplicate_files: int
    orphan_files: int
    rows_without_file: int
    states: dict[str, int]
    # Runs that counted an attempt and did not finish it: the kills that hit a document being produced.
    interrupted: int

    def states_text(self) -> str:
        return ", ".join(f"{count} {state}" for state, count in sorted(self.states.items()))


def tally(promises: models.QuerySet[SideEffect], media_root: str) -> Tally:
    """What was promised against what exists: lost (promised, no whole document), duplicates (more than one row
    for a promise, or more than one file for a document), orphan files (no row names them), rows without their
    file, and the side-effect rows by state."""
    stored = _stored_files(media_root)
    rows = list(promises)
    produced = lost = duplicate_rows = duplicate_files = 0
    for side_effect in rows:
        model, argument = DOCUMENTS[side_effect.kind]
        made = list(model._base_manager.filter(**{argument: _promised_id(side_effect, argument)}))
        duplicate_rows += len(made) > 1
        whole = [document for document in made if _document_is_whole(document, media_root)]
        produced += bool(whole)
        lost += not whole
        duplicate_files += sum(_files_of(document, stored) > 1 for document in whole)
    attempts = sum(side_effect.attempts for side_effect in rows)
    done = sum(side_effect.state == SideEffectState.DONE for side_effect in rows)
    return Tally(
        promised=len(rows),
        produced=produced,
        lost=lost,
        duplicate_rows=duplicate_rows,
        duplicate_files=duplicate_files,
        orphan_files=len(orphan_files()),
        rows_without_file=len(rows_without_file(media_root)),
        states=dict(Counter(side_effect.state for side_effect in rows)),
        interrupted=attempts - done,
    )


def _promised_id(side_effect: SideEffect, argument: str) -> int:
    # The argument is kept in the row until it is done (documents do not forget their arguments); the key says it
    # too ("attestation:<evaluation id>"), which is what a row that forgot would still hold.
    if argument in side_effect.arguments:
        return int(side_effect.arguments[argument])
    return int(side_effect.key.rsplit(":", 1)[1])


# -- The data: through the services --------------------------------------------------------------------------------


def closed_evaluations_with_gaps(count: int) -> models.QuerySet[SideEffect]:
    """`count` dossiers whose prior evaluation closes with gaps, through the services (evaluations.services
    .evaluation_close promises each attestation), committed together: the messages are published at the commit.
    Returns the attestations' promises."""
    from tests.factories import OrganisationFactory
    from tests.journey import DossierFactory

    started = timezone.now()
    with transaction.atomic():
        organisation = OrganisationFactory()
        evaluation_ids = [
            DossierFactory(state="partially_validated", organisation=organisation).evaluations.get().pk
            for _ in range(count)
        ]
    promises = SideEffect.objects.filter(kind="attestation", created_at__gte=started)
    assert promises.count() == len(evaluation_ids), "each closed evaluation with gaps promises its attestation"
    return promises


def closed_jury_session(awarded: int) -> tuple[Any, models.QuerySet[SideEffect]]:
    """A jury session that awards `awarded` dossiers and closes, through the services (juries.services
    .jury_session_close promises the minutes and each certificate). Returns the session and its promises."""
    from funding.references import funding_references_load
    from juries.services import decision_record
    from tests.factories import OrganisationFactory
    from tests.journey import DossierFactory
    from tests.juries.factories import close, deliberating, make_jury

    funding_references_load()  # the tariffs: each certificate owes its fee
    started = timezone.now()
    organisation = OrganisationFactory()
    jury = make_jury(capacity=awarded)
    with transaction.atomic():
        dossiers = [DossierFactory(state="ready_for_jury", organisation=organisation) for _ in range(awarded)]
        for submission in deliberating(jury, *dossiers):
            decision_record(submission=submission, by=jury.president, kind=DecisionKind.AWARDED)
    session = close(jury)
    promises = SideEffect.objects.filter(kind__in=["certificate", "minutes"], created_at__gte=started)
    assert promises.count() == awarded + 1, "the minutes and one certificate per awarded decision"
    return session, promises


# -- The scenarios ------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Outcome:
    """One scenario's figures: the tally before the orphan collector runs, and after it."""

    tally: Tally
    collected: Tally
    seconds: float
    kills: int = 0
    pending_after_last_kill: int = 0
    requeued: int = 0
    orphans_collected: int = 0
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)


def prefork_kills(cluster: Cluster, *, attestations: int, kills: int, between: int, timeout: float = 600) -> Outcome:
    """kill -9 of prefork pool children while they produce a batch of attestations. Nothing re-queues: the
    messages of killed children come back through acks_late and reject_on_worker_lost alone."""
    started = time.monotonic()
    cluster.worker(pool="prefork", concurrency=2)
    promises = closed_evaluations_with_gaps(attestations)
    log = kill_producers(cluster, promises, kills=kills, between=between, timeout=timeout)
    wait_until_done(cluster, promises, timeout=timeout)
    return _finish(cluster, promises, started, log)


def solo_kills(
    cluster: Cluster, *, attestations: int, kills: int, between: int, requeue_every: float, timeout: float = 900
) -> Outcome:
    """kill -9 of solo-pool workers (each replaced at once) while they produce a batch of attestations. The
    message of a killed solo worker stays unacked in Redis for the visibility timeout; the re-queueing job
    queues its row again once settings.SIDE_EFFECT_REQUEUE_AFTER has passed."""
    started = time.monotonic()
    cluster.worker(pool="solo", concurrency=1)
    cluster.worker(pool="solo", concurrency=1)
    promises = closed_evaluations_with_gaps(attestations)
    log = kill_producers(cluster, promises, kills=kills, between=between, solo=True, timeout=timeout)
    after_last_kill, requeued = wait_until_done(cluster, promises, timeout=timeout, requeue_every=requeue_every)
    outcome = _finish(cluster, promises, started, log, requeued=requeued)
    outcome.extra.update({"unacked": cluster.redis.unacked(), "done_after_last_kill_seconds": after_last_kill})
    return outcome


def jury_kills(cluster: Cluster, *, certificates: int, kills: int, between: int, timeout: float = 600) -> Outcome:
    """kill -9 of prefork children while a closed session's minutes and certificates are produced. Right after
    each kill, and at the end, what the public verification and Certif'Pro's fees say of each certificate: a
    certificate row without its PDF must neither verify nor owe a fee."""
    from django.test import Client

    from funding.models import FeeEntry, FeeKind

    started = time.monotonic()
    cluster.worker(pool="prefork", concurrency=2)
    session, promises = closed_jury_session(certificates)
    public = Client(REMOTE_ADDR="203.0.113.13")  # 30 verifications a minute per address: one look per certificate
    seen_without_pdf: set[int] = set()
    verified_without_pdf: set[int] = set()
    billed_without_pdf: set[int] = set()

    def look() -> None:
        for certificate in Certificate.objects.filter(session=session):
            if certificate.pk in seen_without_pdf or _document_is_whole(certificate, cluster.media_root):
                continue
            seen_without_pdf.add(certificate.pk)
            if public.get(reverse("certificate_verify", args=[certificate.verification_code])).status_code == 200:
                verified_without_pdf.add(certificate.pk)
            if FeeEntry.objects.filter(kind=FeeKind.CERTIFICATE, certificate=certificate).exists():
                billed_without_pdf.add(certificate.pk)

    log = kill_producers(cluster, promises, kills=kills, between=between, after_each_kill=look, timeout=timeout)
    wait_until_done(cluster, promises, timeout=timeout)
    outcome = _finish(cluster, promises, started, log)
    rows = list(Certificate.objects.filter(session=session))
    with_pdf = {certificate.pk for certificate in rows if _document_is_whole(certificate, cluster.media_root)}
    public = Client(REMOTE_ADDR="203.0.113.14")
    verified = {
        certificate.pk
        for certificate in rows
        if public.get(reverse("certificate_verify", args=[certificate.verification_code])).status_code == 200
    }
    fees = FeeEntry.objects.filter(kind=FeeKind.CERTIFICATE, certificate__session=session)
    outcome.extra.update(
        {
            "certificates": len(rows),
            "certificates_with_pdf": len(with_pdf),
            "verified": len(verified),
            # Right after a kill, or at the end.
            "seen_without_pdf": len(seen_without_pdf | ({row.pk for row in rows} - with_pdf)),
            "verified_without_pdf": len(verified_without_pdf | (verified - with_pdf)),
            "billed_without_pdf": len(billed_without_pdf),
            "fees": fees.count(),
            "fees_of_certificates_with_pdf": fees.filter(certificate__in=with_pdf).count(),
            "minutes": SessionMinutes.objects.filter(session=session).count(),
        }
    )
    return outcome


def redis_restart(
    cluster: Cluster, *, attestations: int, requeue_every: float, done_before_restart: int = 5, timeout: float = 900
) -> Outcome:
    """Redis stopped and started again, without persistence, while workers produce a queued batch: the messages
    still waiting are gone, and the re-queueing job queues their rows again."""
    started = time.monotonic()
    cluster.worker(pool="prefork", concurrency=2)
    promises = closed_evaluations_with_gaps(attestations)
    deadline = time.monotonic() + timeout
    while promises.filter(state=SideEffectState.DONE).count() < done_before_restart:
        if time.monotonic() > deadline:
            raise HarnessError(f"no attestation produced within {timeout} s\n{cluster.logs()}")
        time.sleep(0.05)
    queued = sum(cluster.redis.waiting(queue) for queue in cluster.queues)
    cluster.redis.restart()
    restarted = time.monotonic()
    after_restart = sum(cluster.redis.waiting(queue) for queue in cluster.queues)
    pending_at_restart = pending(promises)
    recovery, requeued = wait_until_done(cluster, promises, timeout=timeout, requeue_every=requeue_every)
    outcome = _finish(cluster, promises, started, Kills(), requeued=requeued)
    outcome.extra.update(
        {
            "queued_at_restart": queued,
            "queued_after_restart": after_restart,
            "pending_at_restart": pending_at_restart,
            "done_after_restart_seconds": time.monotonic() - restarted,
            "recovery_seconds": recovery,
        }
    )
    return outcome


def close_while_broker_down(cluster: Cluster, *, requeue_every: float, timeout: float = 300) -> Outcome:
    """An evaluator closes a prior evaluation with gaps through the real view while Redis is stopped; Redis comes
    back, the re-queueing job runs, and a worker produces the attestation."""
    from evaluations.models import EvaluationStatus
    from tests.clients import logged_in_client
    from tests.evaluations.support import grid_post_data
    from tests.journey import PRIOR_WITH_GAPS, DossierFactory

    started = time.monotonic()
    since = timezone.now()
    cluster.worker(pool="prefork", concurrency=2)
    evaluation = DossierFactory(state="prior_evaluation").evaluations.get()
    client = logged_in_client(evaluation.dossier.team.evaluator)
    grid = reverse("evaluations:grid", args=[evaluation.pk])
    client.post(grid, grid_post_data(evaluation, acquired=PRIOR_WITH_GAPS))
    cluster.redis.stop()
    answered = time.monotonic()
    response = client.post(
        reverse("evaluations:close", args=[evaluation.pk]),
        {"ended_on": timezone.localdate().isoformat(), "duration_hours": "3", "confirm": "on"},
    )
    answered = time.monotonic() - answered
    evaluation.refresh_from_db()
    promises = SideEffect.objects.filter(kind="attestation", created_at__gte=since)
    closed = evaluation.status == EvaluationStatus.CLOSED
    produced_while_down = Attestation.objects.filter(evaluation=evaluation).exists()
    cluster.redis.start()
    back = time.monotonic()
    _seconds, requeued = wait_until_done(cluster, promises, timeout=timeout, requeue_every=requeue_every)
    outcome = _finish(cluster, promises, started, Kills(), requeued=requeued)
    outcome.extra.update(
        {
            "status_code": response.status_code,
            "redirects_to_grid": response.status_code == 302 and response.url == grid,
            "answered_seconds": answered,
            "evaluation_closed": closed,
            "produced_while_down": produced_while_down,
            "attestation_after_seconds": time.monotonic() - back,
            "evaluation_id": evaluation.pk,
        }
    )
    return outcome


# -- Notification e-mails (issue 17) ---------------------------------------------------------------------------
#
# The workers send through SMTP to tests/faults/smtp.py's server, which can hold a message before answering its
# DATA. What these scenarios show, and the one window they do not close: notifications.delivery sends each
# notification's e-mail with its row locked and sets `emailed_at` in the same transaction, so a worker killed
# before the server accepted the message (held here) rolls back and the next run sends it once; a duplicate message
# finds the outbox's advisory lock held, or the row done. A worker killed after the server accepted the message and
# before its commit (a few milliseconds in production) leaves `emailed_at` unset: the next run sends it again, with
# the same Message-ID (mail programs show one message). `accepted_then_killed` measures that window instead of
# pretending it away; only the mail server's help (a delivery status it keeps per Message-ID) would close it.

_NOTIFICATION_MESSAGE_ID = re.compile(r"^<notification-(\d+)@")


def counsellor_notified(count: int) -> tuple[list[Any], models.QuerySet[SideEffect]]:
    """`count` dossiers whose prior evaluation closes with every domain validated, through the services
    (evaluations.services.evaluation_close sends `evaluation_closed`, notifications.services.notify tells the
    dossier's counsellor, whose preference is "immediately", and promises the e-mail), committed together: the
    messages are published at the commit. Nothing left to acquire, so no attestation: one e-mail per dossier.
    Returns the notifications and their e-mails' promises."""
    from notifications.models import EmailMode, Notification
    from notifications.services import notification_preference_set
    from tests.factories import OrganisationFactory
    from tests.journey import DossierFactory, team_for

    with transaction.atomic():
        organisation = OrganisationFactory()
        notification_preference_set(user=team_for(organisation).counsellor.user, email_mode=EmailMode.IMMEDIATE)
        dossiers = [DossierFactory(state="ready_for_jury", organisation=organisation) for _ in range(count)]
        keys = [f"evaluation_closed:{dossier.evaluations.get().pk}" for dossier in dossiers]
        notifications = list(Notification.objects.filter(event_key__in=keys).order_by("pk"))
    promises = SideEffect.objects.filter(key__in=[f"notification_email:{row.pk}" for row in notifications])
    if not len(notifications) == promises.count() == count:
        raise HarnessError(f"{count} closes told {len(notifications)} notifications, {promises.count()} e-mails")
    return notifications, promises


def notification_of(mail: Mail) -> int:
    found = _NOTIFICATION_MESSAGE_ID.match(mail.message_id)
    if found is None:
        raise HarnessError(f"not a notification's e-mail: {mail.message_id!r}")
    return int(found.group(1))


@dataclasses.dataclass
class MailOutcome:
    """What the mail server accepted for each notification, and what the database says of them."""

    notifications: int
    # Messages the server accepted, by notification (its Message-ID names it).
    accepted: dict[int, int]
    message_ids: dict[int, set[str]]
    dropped: int
    emailed: int
    states: dict[str, int]
    attempts: dict[int, int]
    seconds: float
    requeued: int = 0
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def accepted_counts(self) -> Counter[int]:
        """How many notifications had their e-mail accepted 0, 1, 2... times."""
        return Counter(self.accepted.values())


def _mail_outcome(
    smtp: SmtpServer, notifications: list[Any], promises: models.QuerySet[SideEffect], started: float, requeued: int
) -> MailOutcome:
    from notifications.models import Notification

    ids = [row.pk for row in notifications]
    accepted = Counter(notification_of(mail) for mail in smtp.accepted if mail.message_id.startswith("<notification-"))
    message_ids: dict[int, set[str]] = {pk: set() for pk in ids}
    for mail in smtp.accepted:
        if mail.message_id.startswith("<notification-") and notification_of(mail) in message_ids:
            message_ids[notification_of(mail)].add(mail.message_id)
    rows = list(promises)
    return MailOutcome(
        notifications=len(ids),
        accepted={pk: accepted[pk] for pk in ids},
        message_ids=message_ids,
        dropped=len(smtp.dropped),
        emailed=Notification.objects.filter(pk__in=ids, emailed_at__isnull=False).count(),
        states=dict(Counter(row.state for row in rows)),
        attempts={int(row.arguments.get("notification_id", row.key.rsplit(":", 1)[1])): row.attempts for row in rows},
        seconds=time.monotonic() - started,
        requeued=requeued,
    )


def _kill_sender(cluster: Cluster, held: Held) -> Worker:
    """kill -9 of the process sending `held` (its connection's port says which); returns its worker, dead."""
    worker, pid = cluster.process_with_port(held.mail.client_port)
    os.kill(pid, signal.SIGKILL)
    if pid == worker.pid:
        worker.process.wait(timeout=10)  # type: ignore[union-attr]
    return worker


def notification_killed_while_sending(
    cluster: Cluster, smtp: SmtpServer, *, notifications: int, requeue_every: float, timeout: float = 120
) -> MailOutcome:
    """A solo worker killed -9 while it sends a notification's e-mail, before the server accepted it (the server
    holds the first one); a supervisor's fresh worker takes the rest, and the re-queueing job queues the killed
    run's row again (its message stays unacknowledged in Redis for the visibility timeout)."""
    started = time.monotonic()
    smtp.hold(1, prefix="<notification-")
    cluster.extra_env["EMAIL_URL"] = smtp.url
    cluster.worker(pool="solo", concurrency=1)
    rows, promises = counsellor_notified(notifications)
    held = smtp.next_held(timeout)
    from notifications.models import Notification

    held_id = notification_of(held.mail)
    emailed_while_held = Notification.objects.filter(pk=held_id, emailed_at__isnull=False).exists()
    victim = _kill_sender(cluster, held)
    killed = time.monotonic()
    held.wait_gone(10)
    unacked_after_kill = cluster.redis.unacked()
    cluster.replace(victim)
    _seconds, requeued = wait_until_done(cluster, promises, timeout=timeout, requeue_every=requeue_every)
    outcome = _mail_outcome(smtp, rows, promises, started, requeued)
    outcome.extra.update(
        {
            "held": held_id,
            "emailed_while_held": emailed_while_held,
            "unacked_after_kill": unacked_after_kill,
            "done_after_kill_seconds": time.monotonic() - killed,
        }
    )
    return outcome


def notification_queued_twice(cluster: Cluster, smtp: SmtpServer, *, timeout: float = 120) -> MailOutcome:
    """One notification's side effect with two messages on the queue (dispatched twice) and a prefork worker with
    two processes: the first run is held at the server's DATA until the other process has run the duplicate and
    acknowledged it; then a third message, once the e-mail has left."""
    from outbox.services import dispatch

    started = time.monotonic()
    smtp.hold(1, prefix="<notification-")
    cluster.extra_env["EMAIL_URL"] = smtp.url
    cluster.worker(pool="prefork", concurrency=2)
    rows, promises = counsellor_notified(1)
    effect = promises.get()
    dispatch(effect.pk, effect.kind)
    held = smtp.next_held(timeout)
    holder, holder_pid = cluster.process_with_port(held.mail.client_port)
    # Both messages taken from the queue, the duplicate acknowledged: it ran, in the other process, and did nothing.
    deadline = time.monotonic() + timeout
    while cluster.redis.waiting(settings.CELERY_LIGHT_QUEUE) or cluster.redis.unacked() != 1:
        if time.monotonic() > deadline:
            raise HarnessError(f"the duplicate was not run within {timeout} s\n{cluster.logs()}")
        time.sleep(0.05)
    duplicate_pids = set(holder.renderers()) - {holder_pid}
    held.release()
    wait_until_done(cluster, promises, timeout=timeout)
    dispatch(effect.pk, effect.kind)  # a late duplicate: finds the row done
    while cluster.redis.waiting(settings.CELERY_LIGHT_QUEUE) or cluster.redis.unacked():
        if time.monotonic() > deadline:
            raise HarnessError(f"the late duplicate was not run within {timeout} s\n{cluster.logs()}")
        time.sleep(0.05)
    outcome = _mail_outcome(smtp, rows, promises, started, 0)
    outcome.extra.update({"other_processes": len(duplicate_pids), "unacked_at_end": cluster.redis.unacked()})
    return outcome


def notification_queued_when_redis_restarts(
    cluster: Cluster, smtp: SmtpServer, *, notifications: int, requeue_every: float, timeout: float = 120
) -> MailOutcome:
    """Redis restarted without persistence after the commit and before any worker ran: the messages are gone; a
    worker starts, the re-queueing job queues the rows again, and each e-mail arrives once."""
    started = time.monotonic()
    cluster.extra_env["EMAIL_URL"] = smtp.url
    rows, promises = counsellor_notified(notifications)
    queued = cluster.redis.waiting(settings.CELERY_LIGHT_QUEUE)
    cluster.redis.restart()
    after_restart = cluster.redis.waiting(settings.CELERY_LIGHT_QUEUE)
    restarted = time.monotonic()
    cluster.worker(pool="prefork", concurrency=2)
    _seconds, requeued = wait_until_done(cluster, promises, timeout=timeout, requeue_every=requeue_every)
    outcome = _mail_outcome(smtp, rows, promises, started, requeued)
    outcome.extra.update(
        {
            "queued_at_restart": queued,
            "queued_after_restart": after_restart,
            "done_after_restart_seconds": time.monotonic() - restarted,
        }
    )
    return outcome


def accepted_then_killed(
    cluster: Cluster, smtp: SmtpServer, *, requeue_every: float, timeout: float = 120
) -> MailOutcome:
    """The window left open (see above), made to happen: the sending worker is frozen (SIGSTOP) before it reads
    the server's "250", the server accepts the message, then the worker is killed -9 before its commit. The next
    run sends the e-mail again, with the same Message-ID."""
    started = time.monotonic()
    smtp.hold(1, prefix="<notification-")
    cluster.extra_env["EMAIL_URL"] = smtp.url
    cluster.worker(pool="solo", concurrency=1)
    rows, promises = counsellor_notified(1)
    held = smtp.next_held(timeout)
    worker, pid = cluster.process_with_port(held.mail.client_port)
    os.kill(pid, signal.SIGSTOP)
    held.release()
    smtp.wait_accepted({held.mail.message_id}, timeout=10)
    os.kill(pid, signal.SIGKILL)
    worker.process.wait(timeout=10)  # type: ignore[union-attr]
    cluster.replace(worker)
    _seconds, requeued = wait_until_done(cluster, promises, timeout=timeout, requeue_every=requeue_every)
    return _mail_outcome(smtp, rows, promises, started, requeued)


def _finish(
    cluster: Cluster,
    promises: models.QuerySet[SideEffect],
    started: float,
    kills: Kills,
    *,
    requeued: int = 0,
) -> Outcome:
    """Count, run the orphan collector, count again."""
    before = tally(promises, cluster.media_root)
    collected = collect_orphans()
    return Outcome(
        tally=before,
        collected=tally(promises, cluster.media_root),
        seconds=time.monotonic() - started,
        kills=kills.done,
        pending_after_last_kill=kills.pending_after_last,
        requeued=requeued,
        orphans_collected=collected,
    )
