"""Attestation PDFs on the national data set: time per document against its floor, throughput of 2 Celery
workers, and their peak memory.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clea_bench REDIS_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/pdf.py [--sample 50] [--documents 10000]

1. Per document, in this process, one after the other: `attestation_generate` end to end (its queries, the
   outcome, the Django template, WeasyPrint, the file and its rows) against the floor, WeasyPrint alone on the
   very HTML that call rendered, as a static page.
2. Throughput: two Celery worker processes (solo pool, so that the process measured is the one rendering) take
   `attestation_generate_task` for --documents other evaluations, all queued at once through Redis; wall time
   from the first enqueue to the last attestation stored.
3. Peak resident memory (VmHWM) of each worker at the end.

The attestations are really written (rows in the bench database, files in a temporary MEDIA_ROOT): run it on
a fresh data set. Writes its table to bench/results/pdf.md."""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from measure import ROOT, peak_memory_mb, production_environment, write_table

RESULTS = Path(__file__).resolve().parent / "results" / "pdf.md"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=50, help="documents timed one by one")
    parser.add_argument("--documents", type=int, default=10_000, help="documents for the 2 workers")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get("REDIS_URL"):
        sys.exit("DATABASE_URL (the bench PostgreSQL database) and REDIS_URL must be set (see bench/README.md).")

    _work, env = production_environment("clea-bench-pdf-")
    import django

    django.setup()
    from django.db.models import Q

    import clea_platform.pdf as pdf
    from evaluations.models import Attestation, Evaluation, EvaluationStatus
    from evaluations.services import attestation_generate
    from evaluations.tasks import attestation_generate_task

    # Closed evaluations with gaps and no attestation yet: the data set writes none.
    pending = list(
        Evaluation.objects.filter(status=EvaluationStatus.CLOSED, attestation__isnull=True)
        .filter(~Q(outcome__all_validated=True))
        .order_by("id")
        .values_list("id", flat=True)[: args.sample + 3 + args.documents]
    )
    if len(pending) < args.sample + 3 + args.documents:
        sys.exit(f"Only {len(pending)} evaluations without attestation: generate a larger data set.")
    warmup, sample, batch = pending[:3], pending[3 : 3 + args.sample], pending[3 + args.sample :]

    # 1. Per document. The HTML each full call hands WeasyPrint is kept, then rendered again alone.
    rendered: list[str] = []
    html_to_pdf = pdf.html_to_pdf

    def capturing(html: str) -> bytes:
        rendered.append(html)
        return html_to_pdf(html)

    pdf.html_to_pdf = capturing
    for evaluation_id in warmup:
        attestation_generate(evaluation_id=evaluation_id)
    full, floor, sizes = [], [], []
    for evaluation_id in sample:
        rendered.clear()
        started = time.perf_counter()
        attestation = attestation_generate(evaluation_id=evaluation_id)
        full.append(time.perf_counter() - started)
        sizes.append(attestation.file.size)
        started = time.perf_counter()
        html_to_pdf(rendered[0])
        floor.append(time.perf_counter() - started)
    pdf.html_to_pdf = html_to_pdf
    print(
        f"per document: {statistics.median(full) * 1000:.0f} ms (floor {statistics.median(floor) * 1000:.0f} ms)",
        flush=True,
    )

    # 2. Throughput of the workers, on their own queue.
    queue = f"bench-pdf-{uuid.uuid4().hex[:8]}"
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "clea_platform",
                "worker",
                "--pool",
                "solo",
                "-Q",
                queue,
                "-n",
                f"pdf{index}-{queue}@%h",
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env=env,
        )
        for index in range(args.workers)
    ]
    try:
        time.sleep(5)  # both ready before the clock starts
        started = time.perf_counter()
        for evaluation_id in batch:
            attestation_generate_task.apply_async(args=[evaluation_id], queue=queue, ignore_result=True)
        queued = time.perf_counter() - started
        done = 0
        while done < len(batch):
            if any(worker.poll() is not None for worker in workers):
                sys.exit("A worker stopped: see its output above.")
            time.sleep(2)
            done = Attestation.objects.filter(evaluation_id__in=batch).count()
            print(f"\r{done}/{len(batch)} attestations", end="", flush=True)
        elapsed = time.perf_counter() - started
        memory = [peak_memory_mb(worker.pid) for worker in workers]
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
    print()

    median_full, median_floor = statistics.median(full), statistics.median(floor)
    lines = [
        f"Data set: {Evaluation.objects.count()} evaluations. Machine: {os.cpu_count()} CPU, {platform.platform()}, "
        f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC.",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| attestation, end to end: median / p95 ({len(sample)} documents) | {median_full * 1000:.0f} ms / "
        f"{percentile(full, 0.95) * 1000:.0f} ms |",
        f"| floor, WeasyPrint on the same HTML: median / p95 | {median_floor * 1000:.0f} ms / "
        f"{percentile(floor, 0.95) * 1000:.0f} ms |",
        f"| ratio to the floor (medians) | {median_full / median_floor:.2f}× |",
        f"| document size, median | {statistics.median(sizes) / 1024:.0f} KB |",
        f"| {args.workers} workers, {len(batch)} attestations | {elapsed:.0f} s ({len(batch) / elapsed:.1f} per "
        f"second; queued in {queued:.1f} s) |",
        *(f"| peak memory of PDF worker {i + 1} | {m:.0f} MB |" for i, m in enumerate(memory)),
    ]
    write_table(lines, args.output)


if __name__ == "__main__":
    main()
