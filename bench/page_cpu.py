"""CPU time per request of the bench's pages, in process: what a page costs in Python, without wrk and gunicorn.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clea_bench .venv/bin/python bench/page_cpu.py [--runs 30]
    ... bench/page_cpu.py --profile session     # a pyinstrument profile of one page (pip install pyinstrument)

The same pages and logins as bench/pages.py (its `prepare()`), through Django's test Client with DEBUG off and
the production middleware; each page is requested `--runs` times after two warm-up requests and the median of
`time.process_time()` per request is printed with the queries of one request. On a shared machine CPU time is
steadier than wall-clock time, and the ratio to the floor (/ping) is what the goal is stated in."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from typing import Any

from measure import production_environment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--only", nargs="*", help="page keys: ping dossier session session_juror …")
    parser.add_argument("--profile", help="a page key to profile with pyinstrument instead of timing")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("DATABASE_URL must point at the bench PostgreSQL database (see bench/README.md).")
    production_environment("clea-page-cpu-")
    # No collectstatic: the manifest storage would refuse the unhashed names, which cost the same to render.
    os.environ["DJANGO_SETTINGS_MODULE"] = "clea_platform.settings"
    os.environ["DEBUG"] = "false"
    import django
    from django.conf import settings

    django.setup()
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    from django.db import connection
    from django.test import Client
    from pages import prepare

    urls = prepare()
    pages = {
        "ping": ("/ping", urls["counsellor_cookie"]),
        "dossier": (urls["dossier"], urls["counsellor_cookie"]),
        "session": (urls["session"], urls["jury_cookie"]),
        "session_juror": (urls["session"], urls["juror_cookie"]),
    }
    client = Client(HTTP_HOST="127.0.0.1")
    for key in args.only or pages:
        path, cookie = pages[key]
        if not cookie:  # bench/pages.py found nobody to log in (no president seated in the bench data)
            print(f"{key:14} no login for this page in the bench data: skipped", flush=True)
            continue
        name, value = cookie.split("=", 1)
        client.cookies[name] = value
        if args.profile == key:
            from pyinstrument import Profiler

            client.get(path)
            with Profiler() as profiler:
                for _ in range(args.runs):
                    client.get(path)
            print(profiler.output_text(unicode=True, color=False, show_all=False))
            continue
        for _ in range(2):
            response = client.get(path)
            assert response.status_code == 200, (key, path, response.status_code)
        times = []
        for _ in range(args.runs):
            start = time.process_time()
            response = client.get(path)
            times.append((time.process_time() - start) * 1000)
        # Counted by a wrapper: the request_started signal empties connection.queries.
        queries: list[str] = []

        def counted(execute: Any, sql: str, *rest: Any, queries: list[str] = queries) -> Any:
            queries.append(sql)
            return execute(sql, *rest)

        with connection.execute_wrapper(counted):
            response = client.get(path)
        print(
            f"{key:14} {path:40} CPU median {statistics.median(times):6.1f} ms  "
            f"queries {len(queries):3}  HTML {len(response.content) / 1024:5.1f} KB",
            flush=True,
        )


if __name__ == "__main__":
    main()
