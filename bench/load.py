"""How many people at once the platform serves on this machine: a locust load test in steps of users.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clea_bench REDIS_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/load.py [--steps 25,50,100 --step-seconds 60]

Starts gunicorn as bench/pages.py does (2 workers, production settings, collected static files) on a free port,
logs in accounts of every role of the bench database (session cookies as bench/pages.py writes them, second factor
given) into a JSON file for bench/locustfile.py, then runs locust headless once per step of users: the users spawn
(at most 10 s), statistics restart (--reset-stats), and the step runs --step-seconds more. It stops after the
first step whose 95th percentile exceeds --p95-ms or that has an error (unless --keep-going). Writes
bench/results/load.md: per step the requests per second, median, 95th percentile, errors and each role's 95th
percentile, the CPU the web workers and locust used, the load average; the headline is the most users served
with p95 ≤ --p95-ms and no error.
Needs locust (requirements/bench.txt; `make load`)."""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import ROOT, children, peak_memory_mb, production_environment
from pages import free_port, memory_gb, session_cookie
from scenarios import THINK_SECONDS, WEIGHTS

RESULTS = Path(__file__).resolve().parent / "results" / "load.md"
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
TICKS = os.sysconf("SC_CLK_TCK")


# -- The accounts -------------------------------------------------------------------------------------------------


def user_pool(accounts: int = 100, certifpro_accounts: int = 10, cookie: Any = session_cookie) -> dict[str, Any]:
    """Up to `accounts` memberships per role with what their navigation starts from, each with a fresh session
    cookie. The data set has no Certif'Pro: an organisation and `certifpro_accounts` administrators are created
    (the only rows this writes besides the sessions)."""
    from django.db.models import Count

    from candidates.models import Dossier
    from directory.models import Commune
    from evaluations.models import Evaluation
    from juries.models import JurySession
    from organisations.models import Membership, Organisation, OrganisationKind, Role, Site, User
    from referrals.models import Referral

    pool: dict[str, list[dict[str, Any]]] = {role: [] for role in WEIGHTS}

    counsellors = Membership.objects.filter(role=Role.COUNSELLOR).select_related("user").order_by("pk")[:accounts]
    for membership in counsellors:
        names = list(
            Dossier.objects.filter(organisation_id=membership.organisation_id)
            .order_by("-updated_at")
            .values_list("candidate__last_name", flat=True)[:5]
        )
        if names:
            pool["counsellor"].append({"cookie": cookie(membership), "names": names})

    # Each evaluator fills the drafts of their organisation, shared out among its evaluators. A data set without
    # any (a tiny one) gets a few, started as the start page would start them.
    if not Evaluation.objects.filter(status="draft").exists():
        start_drafts(5)
    drafts: dict[int, list[int]] = {}
    for pk, organisation in Evaluation.objects.filter(status="draft").order_by("pk").values_list("pk", "organisation"):
        drafts.setdefault(organisation, []).append(pk)
    evaluators = (
        Membership.objects.filter(role=Role.EVALUATOR, organisation_id__in=drafts)
        .select_related("user")
        .order_by("organisation_id", "pk")
    )
    by_organisation: dict[int, list[Membership]] = {}
    for membership in evaluators:
        by_organisation.setdefault(membership.organisation_id, []).append(membership)
    for organisation, members in by_organisation.items():
        for i, membership in enumerate(members):
            mine = drafts[organisation][i :: len(members)] or drafts[organisation]
            if len(pool["evaluator"]) < accounts:
                pool["evaluator"].append({"cookie": cookie(membership), "evaluations": mine[:5]})

    jurors = Membership.objects.filter(role=Role.JURY_MEMBER).select_related("user").order_by("pk")[:accounts]
    for membership in jurors:
        sessions = list(
            JurySession.objects.filter(seats__member__user_id=membership.user_id)
            .annotate(n=Count("submissions", distinct=True))
            .filter(n__gt=0)
            .order_by("-date")
            .values_list("pk", flat=True)[:3]
        )
        if sessions:
            pool["juror"].append({"cookie": cookie(membership), "sessions": sessions})

    advisors = Membership.objects.filter(role=Role.FT_ADVISOR).select_related("user", "organisation")
    for membership in advisors.order_by("pk")[:accounts]:
        codes = (
            Site.objects.filter(
                organisation__kind=OrganisationKind.EVALUATOR, organisation__region=membership.organisation.region
            )
            .order_by("pk")
            .values_list("insee_code", flat=True)[:20]
        )
        communes = [c.label for c in Commune.objects.filter(insee_code__in=list(codes)).order_by("insee_code")[:5]]
        if communes and Referral.objects.filter(from_organisation_id=membership.organisation_id).exists():
            pool["advisor"].append({"cookie": cookie(membership), "communes": communes})

    organisation, _ = Organisation.objects.get_or_create(
        kind=OrganisationKind.CERTIFPRO, defaults={"name": "Certif'Pro (load test)", "region": "11"}
    )
    regions = list(
        Organisation.objects.filter(kind=OrganisationKind.EVALUATOR)
        .values_list("region", flat=True)
        .distinct()
        .order_by("region")
    )
    filters = [{"certification": "clea"}]
    filters += [{"certification": "clea", "region": r, "start": "2024-01"} for r in regions]
    for k in range(certifpro_accounts):
        user, _ = User.objects.get_or_create(email=f"load-certifpro-{k}@bench.clea.test")
        membership, _ = Membership.objects.get_or_create(
            user=user, organisation=organisation, role=Role.CERTIFPRO_ADMIN
        )
        pool["certifpro"].append({"cookie": cookie(membership), "filters": filters})

    missing = [role for role, entries in pool.items() if not entries]
    if missing:
        raise RuntimeError(f"no account usable for {', '.join(missing)} in this database")
    return {"roles": pool}


def start_drafts(count: int) -> None:
    """Prior evaluations started by an evaluator of the dossier's organisation (evaluation_start), on opened
    dossiers, else on dossiers at the information step opened first (dossier_open), as their pages would."""
    from django.utils import timezone

    from candidates.models import Dossier, DossierState
    from candidates.services import dossier_open
    from evaluations.services import evaluation_start
    from organisations.models import Membership, Role

    def member(dossier: Dossier, role: str) -> Membership | None:
        return Membership.objects.filter(organisation_id=dossier.organisation_id, role=role).first()

    candidates = Dossier.objects.filter(state__in=[DossierState.OPENED, DossierState.INFORMATION])
    for dossier in candidates.order_by("-state", "pk")[:count]:
        evaluator, counsellor = member(dossier, Role.EVALUATOR), member(dossier, Role.COUNSELLOR)
        if evaluator is None or counsellor is None:
            continue
        if dossier.state == DossierState.INFORMATION:
            dossier = dossier_open(
                dossier=dossier,
                by=counsellor,
                consent_text="Consentement (test de charge)",
                candidate_data={"birth_place": "Paris", "education_level": "3"},
            )
        evaluation_start(dossier=dossier, by=evaluator, started_on=timezone.localdate())


# -- A step -------------------------------------------------------------------------------------------------------


@dataclass
class Step:
    users: int
    requests: int
    failures: int
    rps: float
    median_ms: float
    p95_ms: float
    roles: dict[str, dict[str, float]]
    pages: list[dict[str, str]]
    web_cpu_s: float
    locust_cpu_s: float
    load: float
    failure_lines: list[str] = field(default_factory=list)


def number(cell: str) -> float:
    """A percentile of locust's CSV: N/A when nothing was requested."""
    return float(cell) if cell != "N/A" else float("nan")


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def run_step(base: str, users: int, seconds: int, work: Path, env: dict[str, str], workers: list[int]) -> Step:
    rate = max(1, -(-users // 10))  # every user spawned within 10 s
    ramp = -(-users // rate)
    prefix = work / f"step{users}"
    roles_file = work / f"step{users}-roles.json"
    web_before = cpu_seconds(workers)
    locust_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with (work / f"step{users}.log").open("w") as log:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(LOCUSTFILE),
                "--headless",
                "--only-summary",
                "--reset-stats",
                "-u",
                str(users),
                "-r",
                str(rate),
                "-t",
                f"{ramp + seconds}s",
                "--stop-timeout",
                "20",
                "--host",
                base,
                "--csv",
                str(prefix),
                "--loglevel",
                "WARNING",
            ],
            env={**env, "LOAD_POOL": str(work / "pool.json"), "LOAD_ROLE_TIMES": str(roles_file)},
            stdout=subprocess.DEVNULL,
            stderr=log,
            check=False,  # locust exits 1 when a request failed: the failures are read from its CSV
        )
    locust_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    rows = list(csv.DictReader(Path(f"{prefix}_stats.csv").read_text().splitlines()))
    total = next(r for r in rows if r["Name"] == "Aggregated")
    failures = list(csv.DictReader(Path(f"{prefix}_failures.csv").read_text().splitlines()))
    return Step(
        users=users,
        requests=int(total["Request Count"]),
        failures=int(total["Failure Count"]),
        rps=float(total["Requests/s"]),
        median_ms=number(total["50%"]),
        p95_ms=number(total["95%"]),
        roles=json.loads(roles_file.read_text()) if roles_file.exists() else {},
        pages=[r for r in rows if r["Name"] != "Aggregated"],
        web_cpu_s=cpu_seconds(workers) - web_before,
        locust_cpu_s=(locust_after.ru_utime + locust_after.ru_stime)
        - (locust_before.ru_utime + locust_before.ru_stime),
        load=os.getloadavg()[0],
        failure_lines=[f"{f['Occurrences']}× {f['Name']}: {f['Error']}" for f in failures],
    )


# -- The run ------------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", default="25,50,100,150,200,300,400,500,700,1000", help="users per step")
    parser.add_argument("--step-seconds", type=int, default=60, help="steady seconds measured after the ramp")
    parser.add_argument("--p95-ms", type=float, default=300.0)
    parser.add_argument("--keep-going", action="store_true", help="run every step, even past the threshold")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--accounts", type=int, default=100, help="accounts per role (users share them beyond)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("DATABASE_URL must point at the bench PostgreSQL database (see bench/README.md).")
    if shutil.which("locust", path=str(Path(sys.executable).parent)) is None:
        sys.exit("locust is missing: make bench-install (requirements/bench.txt)")

    started = time.monotonic()
    work, env = production_environment("clea-load-")
    python = sys.executable
    subprocess.run([python, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    import django

    django.setup()
    from django.db import connection

    from candidates.models import Dossier

    pool = user_pool(accounts=args.accounts)
    (work / "pool.json").write_text(json.dumps(pool))
    dossiers = Dossier.objects.count()
    connection.close()
    print("Accounts: " + ", ".join(f"{role} {len(e)}" for role, e in pool["roles"].items()), flush=True)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    gunicorn = subprocess.Popen(
        [python, "-m", "gunicorn", "clea_platform.wsgi", "-w", str(args.workers), "-b", f"127.0.0.1:{port}"]
        + ["--access-logfile", "/dev/null", "--error-logfile", str(work / "gunicorn.log")],
        cwd=ROOT,
        env=env,
    )
    steps: list[Step] = []
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/ping", timeout=1)  # noqa: S310 - 127.0.0.1 only
                break
            except OSError:
                time.sleep(0.2)
        workers = children(gunicorn.pid)
        for users in (int(n) for n in args.steps.split(",")):
            step = run_step(base, users, args.step_seconds, work, env, workers)
            steps.append(step)
            roles = ", ".join(f"{r} {f['p95_ms']:.0f}" for r, f in sorted(step.roles.items()))
            print(
                f"{users} users: {step.rps:.1f} req/s, median {step.median_ms:.0f} ms, p95 {step.p95_ms:.0f} ms, "
                f"{step.failures} errors of {step.requests} (p95 by role: {roles}); load {step.load:.1f}",
                flush=True,
            )
            if (step.p95_ms > args.p95_ms or step.failures) and not args.keep_going:
                break
        web_memory = [peak_memory_mb(pid) for pid in workers]
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=20)

    table = report(steps, args, dossiers, web_memory, time.monotonic() - started)
    print("\n" + table)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(table)
    shutil.rmtree(work, ignore_errors=True)


def report(steps: list[Step], args: argparse.Namespace, dossiers: int, memory: list[float], elapsed: float) -> str:
    served = [s for s in steps if s.p95_ms <= args.p95_ms and not s.failures]
    headline = (
        f"**{max(s.users for s in served)} concurrently active users** served with p95 ≤ {args.p95_ms:.0f} ms "
        "and no error"
        if served
        else f"no step served with p95 ≤ {args.p95_ms:.0f} ms and no error"
    )
    roles = list(WEIGHTS)
    lines = [
        f"Data set: {dossiers} dossiers. Machine: {os.cpu_count()} CPU, {memory_gb()} GB RAM; gunicorn {args.workers} "
        f"workers, production settings, PostgreSQL and Redis on the same machine, locust too. "
        f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {elapsed / 60:.0f} min in all.",
        f"Population: {', '.join(f'{r} {w} %' for r, w in WEIGHTS.items())}; think time "
        f"{THINK_SECONDS[0]:.0f}–{THINK_SECONDS[1]:.0f} s; each step measured {args.step_seconds} s after its ramp.",
        "",
        f"Headline: {headline}.",
        "",
        "| users | req/s | median (ms) | p95 (ms) | errors | "
        + " | ".join(f"p95 {r} (ms)" for r in roles)
        + " | web CPU (ms/req) | locust CPU (s) | load avg |",
        "|---:|---:|---:|---:|---:|" + "---:|" * len(roles) + "---:|---:|---:|",
    ]
    for s in steps:
        per_role = " | ".join(f"{s.roles[r]['p95_ms']:.0f}" if r in s.roles else "–" for r in roles)
        cpu = s.web_cpu_s * 1000 / s.requests if s.requests else float("nan")
        lines.append(
            f"| {s.users} | {s.rps:.1f} | {s.median_ms:.0f} | {s.p95_ms:.0f} | {s.failures} of {s.requests} | "
            f"{per_role} | {cpu:.0f} | {s.locust_cpu_s:.0f} | {s.load:.1f} |"
        )
    last = steps[-1] if steps else None
    if last is not None:
        pages = ", ".join(f"{p['Name']} {p['95%']} ({p['Request Count']} req)" for p in last.pages)
        lines += ["", f"Pages at {last.users} users, p95 in ms: {pages}."]
        if last.failure_lines:
            lines += ["", "Errors of the last step: " + "; ".join(last.failure_lines[:10]) + "."]
    lines += ["", "Peak memory (VmHWM) of the web workers: " + ", ".join(f"{m:.0f} MB" for m in memory) + "."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
