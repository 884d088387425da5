"""A jury session's documents while evaluators work (issue 22): a session of --certificates awarded dossiers closes,
2 PDF worker processes produce its certificates and minutes, and meanwhile an evaluator closes evaluations with gaps
and waits for each attestation.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clea_bench REDIS_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/documents.py [--certificates 200] [--evaluations 60] [--interval 0.5 1.0]

Everything goes through the services and the outbox, as in production:

1. Preparation (not timed): a jury body, a session, --certificates dossiers ready for the jury
   (tests/journey's factories, through the services), submitted, the deliberation opened with everyone present;
   --evaluations other dossiers whose prior evaluation is under way, their grids saved with gaps.
2. The workers, started as docker-compose.yml starts them: the PDF worker
   `celery -A clea_platform worker -Q pdf --pool prefork --concurrency 2 --prefetch-multiplier 1
   --max-memory-per-child 400000` (one main process and 2 pool children that render: the "2 workers" of the goal,
   one per core of a 2-core machine), and the light worker on `celery` with 1 child (it only sends e-mails here).
3. The president records the --certificates decisions (`decision_record`, awarded), then closes the session
   (`jury_session_close`), which promises the minutes and one certificate per decision; the outbox queues them
   on the commit. The clock starts at that commit and stops when the minutes and every certificate are stored.
4. From the session's close on, another thread closes one evaluation every --interval seconds (uniform) through
   `evaluation_close`, as the evaluator's page does; for each, the delay from its commit to its attestation stored
   (row and file) is polled every 50 ms. It stops once --evaluations are closed.
5. Peak resident memory (VmHWM) of the PDF worker's main process and of each of its children (read every 50 ms,
   so that a child replaced after --max-memory-per-child is counted), and of the light worker.
6. After the run, in this process: the rendering alone of a few of the certificates (WeasyPrint and template), and
   of the session's minutes.

The documents are really written (rows in the bench database, files in a temporary MEDIA_ROOT). The PDF and light
queues of REDIS_URL must be empty at the start. Writes its table to bench/results/documents.md."""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

from measure import ROOT, children, peak_memory_mb, production_environment, write_table

RESULTS = Path(__file__).resolve().parent / "results" / "documents.md"
POLL = 0.05


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def start_worker(env: dict[str, str], queue: str, concurrency: int, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "celery", "-A", "clea_platform", "worker", "-Q", queue, "-n", f"{queue}@%h"]
    command += ["--pool", "prefork", "--concurrency", str(concurrency), "--prefetch-multiplier", "1", *extra]
    command += ["--loglevel", "WARNING"]
    with log.open("ab") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--certificates", type=int, default=200)
    parser.add_argument("--evaluations", type=int, default=60, help="evaluations closed during the run")
    parser.add_argument("--interval", type=float, nargs=2, default=(0.5, 1.0), help="seconds between two closes")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument(
        "--wait-for",
        type=Path,
        help="after the (untimed) preparation, wait until this file exists: the timed part then runs on a machine"
        " that other benchmarks have left quiet",
    )
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get("REDIS_URL"):
        sys.exit("DATABASE_URL (the bench PostgreSQL database) and REDIS_URL must be set (see bench/README.md).")

    work, env = production_environment("clea-bench-documents-")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection, transaction
    from django.test.utils import override_settings
    from django.utils import timezone

    from candidates.models import Dossier
    from clea_platform.tasks_queue import queue_depth
    from evaluations.models import Attestation, CriterionResultValue
    from evaluations.services import evaluation_close, evaluation_save_results
    from funding.references import funding_references_load
    from juries.models import Certificate, DecisionKind, SessionMinutes
    from juries.services import _certificate_pdf, _minutes_pdf, decision_record, jury_session_close
    from organisations.models import Organisation, User
    from tests.factories import OrganisationFactory, UserFactory
    from tests.journey import DossierFactory
    from tests.juries.factories import deliberating, make_jury

    for queue in (settings.CELERY_PDF_QUEUE, settings.CELERY_LIGHT_QUEUE):
        if queue_depth(queue):
            sys.exit(f"Queue {queue!r} of {os.environ['REDIS_URL']} is not empty: use a Redis database of your own.")
    rng = random.Random(args.seed)
    load = os.getloadavg()
    dossiers_before = Dossier.objects.count()

    # 1. Preparation, through the services.
    print(f"Preparing {args.certificates} dossiers for the jury and {args.evaluations} evaluations…", flush=True)
    prepared = time.perf_counter()
    # The factories give each user they make a password: production's hasher would spend most of the preparation
    # on it (nobody logs in here).
    fast_hashing = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    fast_hashing.enable()
    # Each run its own names, e-mail addresses and SIRETs (the factories count from 0 in every process).
    offset = Organisation.objects.count() + User.objects.count()
    for factory_class in (OrganisationFactory, UserFactory, DossierFactory):
        factory_class.reset_sequence(offset, force=True)
    funding_references_load()  # the tariffs: each certificate owes its fee
    organisation = OrganisationFactory()
    jury = make_jury(capacity=args.certificates)
    with transaction.atomic():
        dossiers = []
        for index in range(args.certificates):
            dossiers.append(DossierFactory(state="ready_for_jury", organisation=organisation))
            if (index + 1) % 50 == 0:
                print(f"  {index + 1} dossiers ready for the jury ({time.perf_counter() - prepared:.0f} s)", flush=True)
        submissions = deliberating(jury, *dossiers)
    evaluations = []
    with transaction.atomic():
        for _ in range(args.evaluations):
            evaluation = DossierFactory(state="prior_evaluation", organisation=organisation).evaluations.get()
            lines = list(evaluation.results.order_by("criterion__code").values_list("criterion_id", flat=True))
            # The first half acquired, the rest not: gaps, hence an attestation of partial validation.
            results = {
                criterion: (
                    CriterionResultValue.ACQUIRED if i < len(lines) // 2 else CriterionResultValue.NOT_ACQUIRED,
                    "",
                )
                for i, criterion in enumerate(lines)
            }
            by = evaluation.dossier.team.evaluator
            evaluation_save_results(evaluation=evaluation, by=by, results=results)
            evaluations.append((evaluation, by))
    fast_hashing.disable()
    print(f"  prepared in {time.perf_counter() - prepared:.0f} s", flush=True)
    if args.wait_for:
        print(f"Waiting for {args.wait_for}…", flush=True)
        while not args.wait_for.exists():
            time.sleep(1)
        load = os.getloadavg()

    # 2. The workers, as docker-compose.yml starts them.
    pdf_worker = start_worker(env, settings.CELERY_PDF_QUEUE, 2, work / "pdf.log", "--max-memory-per-child", "400000")
    light_worker = start_worker(env, settings.CELERY_LIGHT_QUEUE, 1, work / "light.log")
    peaks: dict[int, float] = {}
    stop_memory = threading.Event()

    def read_memory() -> None:
        while not stop_memory.is_set():
            for pid in [pdf_worker.pid, *children(pdf_worker.pid)]:
                try:
                    peaks[pid] = max(peaks.get(pid, 0.0), peak_memory_mb(pid))
                except (FileNotFoundError, ProcessLookupError):
                    pass
            time.sleep(POLL)

    memory_thread = threading.Thread(target=read_memory, daemon=True)
    try:
        started = time.perf_counter()
        while len(children(pdf_worker.pid)) < 2 and time.perf_counter() - started < 120:
            time.sleep(0.5)
        time.sleep(5)  # both ready before the clock starts
        if pdf_worker.poll() is not None or light_worker.poll() is not None:
            sys.exit(f"A worker stopped: see {work}")
        memory_thread.start()

        # 3. The decisions, then the close.
        decided = time.perf_counter()
        for submission in submissions:
            decision_record(submission=submission, by=jury.president, kind=DecisionKind.AWARDED)
        decided = time.perf_counter() - decided
        committed: dict[str, float] = {}
        with transaction.atomic():
            # Registered first, so run first once committed: before the outbox's own callbacks publish.
            transaction.on_commit(lambda: committed.setdefault("session", time.perf_counter()))
            session = jury_session_close(session=jury.session, by=jury.president)
        published = time.perf_counter() - committed["session"]

        # 4. The evaluator, meanwhile, in a thread of its own (its own database connection).
        closes: dict[int, float] = {}

        def evaluator() -> None:
            try:
                for evaluation, by in evaluations:
                    with transaction.atomic():
                        transaction.on_commit(lambda pk=evaluation.pk: closes.setdefault(pk, time.perf_counter()))
                        evaluation_close(
                            evaluation=evaluation, by=by, ended_on=timezone.localdate(), duration_hours=Decimal(3)
                        )
                    time.sleep(rng.uniform(*args.interval))
            finally:
                connection.close()

        evaluator_thread = threading.Thread(target=evaluator)
        evaluator_thread.start()

        # Poll: the jury's documents, and each attestation (its row and its file).
        media = Path(settings.MEDIA_ROOT)
        stored: dict[int, float] = {}
        jury_done = None
        certificates_done = 0
        deadline = time.perf_counter() + 600
        while jury_done is None or len(stored) < len(evaluations):
            if time.perf_counter() > deadline:
                sys.exit(f"Not done after 600 s: see the worker logs in {work}")
            if pdf_worker.poll() is not None:
                sys.exit(f"The PDF worker stopped: see {work / 'pdf.log'}")
            now = time.perf_counter()
            waiting = [pk for pk in closes if pk not in stored]
            for pk, name in Attestation.objects.filter(evaluation_id__in=waiting).values_list("evaluation_id", "file"):
                if (media / name).is_file():
                    stored[pk] = now
            if jury_done is None:
                certificates_done = Certificate.objects.filter(session=session).exclude(file="").count()
                if certificates_done == args.certificates and SessionMinutes.objects.filter(session=session).exists():
                    jury_done = now
                print(
                    f"\r{certificates_done}/{args.certificates} certificates, {len(stored)}/{len(closes)} attestations",
                    end="",
                    flush=True,
                )
            time.sleep(POLL)
        evaluator_thread.join()
        light_peak = peak_memory_mb(light_worker.pid)
    finally:
        stop_memory.set()
        for worker in (pdf_worker, light_worker):
            worker.terminate()
        for worker in (pdf_worker, light_worker):
            worker.wait(timeout=60)
    print()
    load_after = os.getloadavg()

    start = committed["session"]
    jury_seconds = jury_done - start
    delays = [stored[pk] - closes[pk] for pk in closes]
    during = [stored[pk] - closes[pk] for pk in closes if closes[pk] <= jury_done]
    minutes_row = SessionMinutes.objects.get(session=session)

    # 6. Rendering alone, in this process.
    sample = list(
        Certificate.objects.filter(session=session).select_related("dossier__candidate", "session").order_by("pk")[:10]
    )
    renders, renders_cpu = [], []
    for certificate in sample:
        wall, cpu = time.perf_counter(), time.process_time()
        _certificate_pdf(certificate, dossier=certificate.dossier, session=certificate.session)
        renders.append(time.perf_counter() - wall)
        renders_cpu.append(time.process_time() - cpu)
    wall, cpu = time.perf_counter(), time.process_time()
    minutes_pdf = _minutes_pdf(session, number=minutes_row.number)
    minutes_wall, minutes_cpu = time.perf_counter() - wall, time.process_time() - cpu

    main_pid = pdf_worker.pid
    child_peaks = {pid: mb for pid, mb in peaks.items() if pid != main_pid}
    lines = [
        f"Data set: {dossiers_before} dossiers before the run. Machine: {os.cpu_count()} CPU, {platform.platform()}, "
        f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC; load average before {load[0]:.2f} / {load[1]:.2f}, "
        f"after {load_after[0]:.2f} / {load_after[1]:.2f} (1 / 5 min).",
        "",
        "PDF worker: `celery -A clea_platform worker -Q pdf --pool prefork --concurrency 2 --prefetch-multiplier 1 "
        "--max-memory-per-child 400000` (docker-compose.yml's worker-pdf); light worker on `celery`, 1 child.",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| {args.certificates} decisions recorded (`decision_record`, in this process) | {decided:.1f} s |",
        f"| session closed: {args.certificates} certificates and the minutes queued on the commit | "
        f"{published:.2f} s to publish |",
        f"| from the close's commit to the {args.certificates}th certificate and the minutes stored (goal ≤ 60 s) | "
        f"{jury_seconds:.1f} s |",
        f"| per certificate, 2 processes: wall time × 2 / {args.certificates + 1} documents | "
        f"{jury_seconds * 2 / (args.certificates + 1) * 1000:.0f} ms |",
        f"| certificate rendered alone in this process, median of {len(renders)} (CPU) | "
        f"{statistics.median(renders) * 1000:.0f} ms ({statistics.median(renders_cpu) * 1000:.0f} ms) |",
        f"| minutes of {args.certificates} dossiers rendered alone (CPU), {len(minutes_pdf) // 1024} KB | "
        f"{minutes_wall * 1000:.0f} ms ({minutes_cpu * 1000:.0f} ms) |",
        f"| attestations closed during the run / while the session's documents were produced | "
        f"{len(delays)} / {len(during)} (one every {args.interval[0]:g}–{args.interval[1]:g} s) |",
        "| attestation delay, commit to stored, while the session's documents were produced: median / p95 / max "
        "(goal p95 ≤ 2 s) | "
        + (
            f"{statistics.median(during):.2f} / {percentile(during, 0.95):.2f} / {max(during):.2f} s |"
            if during
            else "none |"
        ),
        f"| attestation delay, all {len(delays)}: median / p95 / max | {statistics.median(delays):.2f} / "
        f"{percentile(delays, 0.95):.2f} / {max(delays):.2f} s |",
        f"| peak memory (VmHWM), PDF worker's main process | {peaks.get(main_pid, float('nan')):.0f} MB |",
        *(
            f"| peak memory (VmHWM), PDF pool child {i + 1} (goal ≤ 300 MB) | {mb:.0f} MB |"
            for i, (_pid, mb) in enumerate(sorted(child_peaks.items()))
        ),
        f"| PDF pool children replaced during the run | {max(len(child_peaks) - 2, 0)} |",
        f"| peak memory (VmHWM), light worker's main process | {light_peak:.0f} MB |",
    ]
    write_table(lines, args.output)


if __name__ == "__main__":
    main()
