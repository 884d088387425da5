"""CPU per request of each page of bench/pages.py, in-process: what a page costs the web worker, without the noise
of wrk, gunicorn and PostgreSQL sharing two loaded CPUs.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clea_bench REDIS_URL=redis://127.0.0.1:6379/1 \\
        .venv/bin/python bench/page_cpu.py [--samples 30] [--profile grid]

Production settings (DEBUG off), the same session cookies and URLs as bench/pages.py (plus the public directory
page), Django's test client. For each page: the median of `time.process_time()` over the samples (after 5 warm-up
requests, so caches are as a running worker has them), and the queries of one more request. `--profile NAME` prints
a pyinstrument profile of that page (pip install pyinstrument; not a project dependency)."""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import ROOT, production_environment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--profile", default="")
    parser.add_argument("--cprofile", default="", help="print cProfile's functions of that page by own time")
    parser.add_argument("--only", default="", help="comma-separated page names")
    parser.add_argument(
        "--uncached-identity",
        action="store_true",
        help="sessions in the database alone and no cached identity (the hot path before issue 22)",
    )
    args = parser.parse_args()
    work, env = production_environment("clea-page-cpu-")
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    import pages

    urls = pages.prepare()
    if args.uncached_identity:
        from django.conf import settings

        settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
        settings.IDENTITY_CACHE = False
    from django.db import connection
    from django.test import Client

    measured = {
        "floor": ("/ping", "counsellor_cookie"),
        "list": (urls["list"], "counsellor_cookie"),
        "search": (urls["search"], "counsellor_cookie"),
        "grid": (urls["grid"], "counsellor_cookie"),
        "nearby": (urls["nearby"], "counsellor_cookie"),
        "directory": ("/annuaire/?" + urls["nearby"].split("?", 1)[1], ""),
        "dossier": (urls["dossier"], "counsellor_cookie"),
        "session": (urls["session"], "jury_cookie"),
        "session_juror": (urls["session"], "juror_cookie"),
    }
    wanted = set(filter(None, args.only.split(",")))
    floor = None
    for name, (path, cookie_name) in measured.items():
        if wanted and name not in wanted:
            continue
        if cookie_name and not urls.get(cookie_name):
            print(f"{name}: no account to log in with ({cookie_name}), skipped", file=sys.stderr)
            continue
        client = Client()
        if cookie_name:
            key, value = urls[cookie_name].split("=", 1)
            client.cookies[key] = value
        for _ in range(5):
            response = client.get(path)
            if response.status_code != 200:
                print(f"{name}: {path} answers {response.status_code}", file=sys.stderr)
                break
        else:
            times = []
            for _ in range(args.samples):
                start = time.process_time()
                client.get(path)
                times.append(time.process_time() - start)
            # Counted by a wrapper: the request_started signal empties connection.queries, which
            # CaptureQueriesContext reads by index.
            queries: list[str] = []

            def counted(execute: Any, sql: str, *rest: Any, queries: list[str] = queries) -> Any:
                queries.append(sql)
                return execute(sql, *rest)

            with connection.execute_wrapper(counted):
                response = client.get(path)
            median = statistics.median(times) * 1000
            floor = floor or median
            print(
                f"{name:10} {median:6.2f} ms CPU  {median / floor:4.1f}x  {len(queries):3d} queries  "
                f"{len(response.content) / 1024:5.1f} KB  {path}",
                flush=True,
            )
            if args.cprofile == name:
                import cProfile
                import pstats

                profile = cProfile.Profile()
                profile.enable()
                for _ in range(args.samples):
                    client.get(path)
                profile.disable()
                pstats.Stats(profile).sort_stats("tottime").print_stats(35)
            if args.profile == name:
                from pyinstrument import Profiler

                profiler = Profiler(interval=0.0005)
                with profiler:
                    for _ in range(args.samples):
                        client.get(path)
                print(profiler.output_text(unicode=True, color=False, show_all=False))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
