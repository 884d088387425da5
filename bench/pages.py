"""Page latency on the national data set, served the way production serves it.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clea_bench .venv/bin/python bench/pages.py

Starts gunicorn (2 workers, DEBUG off, collected static files) on a free local port, logs in a counsellor of
the largest evaluator organisation through a session cookie, then measures each page with wrk from this
process: median and 95th percentile latency, requests per second, and the ratio to the floor (/ping: the
same middleware stack with no query of its own). Writes the table to bench/results/latest.md."""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from measure import ROOT, children, peak_memory_mb, production_environment

RESULTS = Path(__file__).resolve().parent / "results" / "latest.md"
# wrk's --latency prints no 95th percentile: a done() hook prints what the table needs.
WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format("BENCH %d %d %d %d %d\\n", latency:percentile(50), latency:percentile(95),
    summary.requests, summary.duration, summary.errors.status + summary.errors.connect + summary.errors.timeout))
end
"""


@dataclass
class Result:
    name: str
    path: str
    median_ms: float
    p95_ms: float
    rps: float
    errors: int


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def session_cookie(membership: Any) -> str:
    """A session cookie as login and the code page would leave it, for a membership of the bench database."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY
    from django.contrib.auth import SESSION_KEY as USER_SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.http import HttpRequest
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from clea_platform.tenancy import SESSION_KEY
    from organisations.services import two_factor_login, user_session_start

    store = SessionStore()
    store[USER_SESSION_KEY] = str(membership.user.pk)
    # The backend login() would record (django-axes' comes first but loads no user).
    store[BACKEND_SESSION_KEY] = next(b for b in settings.AUTHENTICATION_BACKENDS if "axes" not in b)
    store[HASH_SESSION_KEY] = membership.user.get_session_auth_hash()
    store[SESSION_KEY] = membership.pk
    store.create()
    # What login and the code page would have recorded (organisations.services): the session listed and timed,
    # its second factor given (an administrator's page, not the code page, is what is measured).
    request = HttpRequest()
    request.session, request.user = store, membership.user
    user_session_start(request=request, user=membership.user)
    device = TOTPDevice.objects.filter(user=membership.user, confirmed=True).first()
    two_factor_login(request=request, device=device or TOTPDevice.objects.create(user=membership.user, name="bench"))
    store.save()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def prepare() -> dict[str, str]:
    """The session cookies and the URLs to measure, read from the bench database."""
    import django

    django.setup()
    from django.db.models import Count
    from django.db.models.functions import Abs
    from django.urls import reverse

    from candidates.models import Dossier
    from evaluations.models import Evaluation
    from juries.models import JurySession
    from organisations.models import Membership, Role, Site

    cookie = session_cookie

    busiest = (
        Dossier.objects.order_by().values("organisation").annotate(n=Count("id")).order_by("-n").first()["organisation"]
    )
    counsellor = Membership.objects.filter(organisation_id=busiest, role=Role.COUNSELLOR).order_by("id").first()
    dossier = Dossier.objects.filter(organisation_id=busiest, state="certified").order_by("id").first()
    evaluation = Evaluation.objects.filter(dossier=dossier, kind="prior").first()
    name = dossier.candidate.last_name
    # The page: a session with (about) 200 dossiers, whatever the size of the data set.
    session = (
        JurySession.objects.annotate(n=Count("submissions"), gap=Abs(Count("submissions") - 200))
        .order_by("gap", "id")
        .first()
    )
    jury_admin = Membership.objects.filter(organisation_id=session.organisation_id, role=Role.ORG_ADMIN).first()
    # The president reads the same page with the review links (bench/page_cpu.py measures both).
    juror = Membership.objects.filter(
        role=Role.JURY_MEMBER, user__jury_seats__seats__session=session, user__jury_seats__seats__is_president=True
    ).first()
    site = Site.objects.filter(organisation_id=busiest).first()
    return {
        "counsellor_cookie": cookie(counsellor),
        "jury_cookie": cookie(jury_admin),
        "juror_cookie": cookie(juror) if juror is not None else "",
        "list": reverse("candidates:dossier_list"),
        "search": reverse("candidates:dossier_list") + f"?q={name}",
        "dossier": reverse("journey:dossier_detail", args=[dossier.pk]),
        "grid": reverse("evaluations:grid", args=[evaluation.pk]),
        "session": reverse("juries:session_detail", args=[session.pk]),
        "session_size": str(session.n),
        "nearby": f"/api/v1/evaluators/nearby?commune={site.insee_code}&radius=20",
        "organisation_dossiers": str(Dossier.objects.filter(organisation_id=busiest).count()),
        "dossiers": str(Dossier.objects.count()),
    }


def wrk(base: str, path: str, cookie: str, script: Path, duration: int, connections: int) -> tuple[float, ...]:
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "-s",
            str(script),
            "-H",
            f"Cookie: {cookie}",
            base + path,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"BENCH (\d+) (\d+) (\d+) (\d+) (\d+)", out)
    if not match:
        raise RuntimeError(out)
    p50, p95, requests, duration_us, errors = (int(g) for g in match.groups())
    return p50 / 1000, p95 / 1000, requests / (duration_us / 1e6), errors


def check(base: str, path: str, cookie: str) -> int:
    request = urllib.request.Request(base + path, headers={"Cookie": cookie})  # noqa: S310 - 127.0.0.1 only
    try:
        with urllib.request.urlopen(request) as response:  # noqa: S310 - 127.0.0.1 only
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("DATABASE_URL must point at the bench PostgreSQL database (see bench/README.md).")
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install -y wrk")

    work, env = production_environment("clea-bench-")
    python = sys.executable
    subprocess.run([python, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    urls = prepare()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    gunicorn = subprocess.Popen(
        [
            python,
            "-m",
            "gunicorn",
            "clea_platform.wsgi",
            "-w",
            str(args.workers),
            "-b",
            f"127.0.0.1:{port}",
            "--access-logfile",
            "/dev/null",
            "--error-logfile",
            str(work / "gunicorn.log"),
        ],
        cwd=ROOT,
        env=env,
    )
    script = work / "report.lua"
    script.write_text(WRK_SCRIPT)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/ping", timeout=1)  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)
        pages = [
            ("Plancher (/ping, sans requête)", "/ping", urls["counsellor_cookie"]),
            ("Liste des dossiers (1re page)", urls["list"], urls["counsellor_cookie"]),
            ("Liste des dossiers (recherche par nom)", urls["search"], urls["counsellor_cookie"]),
            ("Page d'un dossier", urls["dossier"], urls["counsellor_cookie"]),
            ("Grille d'évaluation (107 critères)", urls["grid"], urls["counsellor_cookie"]),
            (f"Session de jury ({urls['session_size']} dossiers)", urls["session"], urls["jury_cookie"]),
            ("Évaluateurs proches (API, 20 km)", urls["nearby"], urls["counsellor_cookie"]),
        ]
        results: list[Result] = []
        for name, path, cookie in pages:
            status = check(base, path, cookie)
            if status != 200:
                print(f"{name}: {path} answers {status}, skipped", file=sys.stderr)
                continue
            median, p95, rps, errors = wrk(base, path, cookie, script, args.duration, args.connections)
            results.append(Result(name, path, median, p95, rps, int(errors)))
            print(f"{name}: {median:.1f} ms, p95 {p95:.1f} ms, {rps:.0f} req/s", flush=True)
        web_memory = [peak_memory_mb(pid) for pid in children(gunicorn.pid)]
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=20)

    floor = results[0]
    lines = [
        f"Data set: {urls['dossiers']} dossiers ({urls['organisation_dossiers']} in the measured organisation). "
        f"Machine: {os.cpu_count()} CPU, {memory_gb()} GB RAM, {platform.platform()}. "
        f"gunicorn {args.workers} workers, wrk -t2 -c{args.connections} -d{args.duration}s, "
        f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC.",
        "",
        "| page | median (ms) | p95 (ms) | req/s | median / floor | errors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {r.median_ms:.1f} | {r.p95_ms:.1f} | {r.rps:.0f} | "
            f"{r.median_ms / floor.median_ms:.1f}× | {r.errors} |"
        )
    lines.append("")
    lines.append(
        "Peak memory (VmHWM) of the web workers after the run: " + ", ".join(f"{m:.0f} MB" for m in web_memory) + "."
    )
    table = "\n".join(lines) + "\n"
    print("\n" + table)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(table)
    shutil.rmtree(work, ignore_errors=True)


def memory_gb() -> str:
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        return f"{kb / 1024 / 1024:.0f}"
    except (OSError, ValueError, IndexError):
        return "?"


if __name__ == "__main__":
    main()
