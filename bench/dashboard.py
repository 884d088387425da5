"""The statistics dashboard's latency at national scale, next to the floor page in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clea_stats_bench .venv/bin/python bench/dashboard.py \
        [--fill-facts 1000000 --seed 1] [--duration 10 --connections 8]

`--fill-facts N` (SYNTHETIC, clearly not the journey): bulk-inserts N fact rows (indicators.DossierFact and the
sub-domains each lacked at its prior evaluation) following bench/national_dataset.py's distribution (opening over 5
years and 4 months, prior evaluation 7-30 days later, a quarter validated at once, 10 % of the others withdraw,
78 % train then pass a final evaluation, the rest expire past 5 years; juries monthly, 95 % certified, 4 % absent,
1 % refused), extended to the three certifications (75 % CléA, 20 % CléA numérique, 5 % CléA management) and to
the jury's deferrals (3 % of decisions send the dossier back to training). It creates 300 evaluator organisations
when the database has none, then recounts the monthly cube (timed). The facts of a real journey come from
`manage.py indicators_rebuild` on bench/national_dataset.py's data set.

Then, like bench/pages.py: gunicorn (2 workers, DEBUG off) on a free port, a session per viewer, `wrk` on the floor
(/ping) and on each dashboard view; median, p95 and the ratio to the floor. Writes bench/results/dashboard.md."""

from __future__ import annotations

import argparse
import datetime
import io
import os
import random
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from measure import ROOT, production_environment
from pages import WRK_SCRIPT, check, free_port, memory_gb, session_cookie, wrk

RESULTS = Path(__file__).resolve().parent / "results" / "dashboard.md"
REGIONS = "84 27 53 24 94 44 32 11 28 75 76 52 93 01 02 03 04 06".split()
DEPARTEMENTS = {
    "84": ["69", "38", "63"], "27": ["21", "25"], "53": ["35", "29"], "24": ["45", "37"], "94": ["2A", "2B"],
    "44": ["67", "57"], "32": ["59", "62"], "11": ["75", "93"], "28": ["76", "14"], "75": ["33", "87"],
    "76": ["31", "34"], "52": ["44", "49"], "93": ["13", "06"], "01": ["971"], "02": ["972"], "03": ["973"],
    "04": ["974"], "06": ["976"],
}  # fmt: skip
CERTIFICATIONS = {"clea": 75, "clea_numerique": 20, "clea_management": 5}
# Sub-domains per domain (CléA: 28 in 7 domains; the two others' provisional référentiels).
DOMAINS = {
    "clea": [
        ("1", "Communication en français", 5), ("2", "Calcul, raisonnement mathématique", 5),
        ("3", "Environnement numérique", 3), ("4", "Travail en équipe", 4), ("5", "Travail en autonomie", 3),
        ("6", "Apprendre à apprendre", 3), ("7", "Gestes et postures, hygiène, sécurité", 5),
    ],
    "clea_numerique": [
        ("1", "Identifier son environnement numérique", 3), ("2", "Acquérir et exploiter de l'information", 3),
        ("3", "Interagir en mode collaboratif", 3), ("4", "Appliquer les règles de sécurité", 3),
    ],
    "clea_management": [
        ("1", "Organiser l'activité", 3), ("2", "Animer et piloter l'équipe", 3),
        ("3", "Accompagner les collègues", 3), ("4", "Amélioration continue", 2),
    ],
}  # fmt: skip
FUNDERS = {"cpf": 6, "france_travail": 5, "opco": 4, "region": 2, "transitions_pro": 1, "employer": 1}
DAY = datetime.timedelta(days=1)


def _age_band(birth_year: int, on: datetime.date) -> str:
    age = on.year - birth_year
    return "u26" if age < 26 else "26_44" if age < 45 else "45_54" if age < 55 else "55"


def fill_facts(n: int, seed: int) -> None:
    """SYNTHETIC fact rows, written with COPY (see the module's docstring)."""
    from django.db import connection

    from indicators.cube import cube_rebuild
    from indicators.models import DossierFact, DossierFactGap
    from organisations.models import Organisation, OrganisationKind

    if DossierFact.objects.exists():
        sys.exit("The database already has facts: use a fresh one.")
    rng = random.Random(seed)
    organisations = list(Organisation.objects.filter(kind=OrganisationKind.EVALUATOR).values_list("id", "region"))
    if not organisations:
        Organisation.objects.bulk_create(
            Organisation(
                name=f"Organisme évaluateur {i + 1}",
                kind=OrganisationKind.EVALUATOR,
                siret=f"{800000000 + i:09d}00011",
                region=REGIONS[i % len(REGIONS)],
            )
            for i in range(300)
        )
        organisations = list(Organisation.objects.filter(kind=OrganisationKind.EVALUATOR).values_list("id", "region"))
    org_weights = [rng.paretovariate(1.5) for _ in organisations]
    from django.utils import timezone

    today = timezone.localdate()
    span = (365 * 5 + 120) * DAY
    fact_columns = [f.column for f in DossierFact._meta.concrete_fields]
    gap_columns = [
        "fact_id", "organisation_id", "region", "certification", "opened_month",
        "domain_code", "domain_title", "subdomain_code", "subdomain_title",
        "departement", "funder_kind", "registration_status", "education_level", "age_band",
    ]  # fmt: skip
    started = time.perf_counter()

    def cell(value: object) -> str:
        if value is None:
            return "\\N"
        if isinstance(value, bool):
            return "t" if value else "f"
        return str(value).replace(",", " ")

    facts, gaps = io.StringIO(), io.StringIO()

    def flush() -> None:
        with connection.cursor() as cursor:
            for table, columns, buffer in (
                (DossierFact._meta.db_table, fact_columns, facts),
                (DossierFactGap._meta.db_table, gap_columns, gaps),
            ):
                buffer.seek(0)
                cursor.cursor.copy_expert(
                    f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer
                )
                buffer.seek(0)
                buffer.truncate()

    now = datetime.datetime.now(datetime.UTC).isoformat()
    for dossier_id in range(1, n + 1):
        org_id, region = rng.choices(organisations, org_weights)[0]
        certification = rng.choices(list(CERTIFICATIONS), list(CERTIFICATIONS.values()))[0]
        opened = today - span + rng.randrange(span.days) * DAY + rng.randint(0, 7) * DAY
        opened = min(opened, today)
        f: dict[str, object] = dict.fromkeys(fact_columns)
        f.update(
            dossier_id=dossier_id,
            organisation_id=org_id,
            region=region,
            departement=rng.choice(DEPARTEMENTS[region]),
            certification=certification,
            funder_kind=rng.choices(list(FUNDERS), list(FUNDERS.values()))[0],
            registration_status=rng.choice(["employee", "job_seeker", "job_seeker"]),
            education_level=rng.choice(["none", "3", "4"]),
            age_band=_age_band(rng.randint(1962, 2004), opened),
            opened_month=opened.replace(day=1),
            opened_on=opened,
            prior_outcome="",
            deferred=False,
            refreshed_at=now,
        )
        day = opened + rng.randint(7, 30) * DAY + rng.randint(0, 3) * DAY
        if rng.random() > 0.02 and day <= today:
            f["prior_closed_on"] = day
            full = rng.random() < 0.25
            f["prior_outcome"] = "full" if full else "partial"
            if not full:
                for code, title, subs in rng.sample(DOMAINS[certification], rng.choice([1, 1, 2, 2, 3, 4])):
                    for s in rng.sample(range(1, subs + 1), rng.randint(1, subs)):
                        gaps.write(
                            f"{dossier_id},{org_id},{region},{certification},{f['opened_month']},"
                            f'{code},"{title}",{code}.{s},Sous-domaine {code}.{s},{f["departement"]},'
                            f"{f['funder_kind']},{f['registration_status']},{f['education_level']},{f['age_band']}\n"
                        )
                fate = rng.random()
                if fate < 0.10:
                    day += rng.randint(30, 300) * DAY
                    if day <= today:
                        f["withdrawn_on"] = day
                    day = None
                elif fate < 0.88:
                    start = day + rng.randint(14, 45) * DAY
                    final = start + rng.randint(60, 200) * DAY + rng.randint(7, 30) * DAY
                    f["training_started_on"] = start if start <= today else None
                    f["final_evaluation_on"] = final if final <= today else None
                    day = final + rng.randint(0, 2) * DAY if final <= today else None
                else:
                    deadline = day + 365 * 5 * DAY + DAY
                    f["expired_on"] = deadline if deadline <= today else None
                    day = None
            while day is not None:
                jury = day + rng.randint(3, 20) * DAY + rng.randint(14, 45) * DAY
                if jury > today:
                    break
                f["jury_on"] = f["jury_on"] or jury
                decision = rng.choices(["awarded", "absent", "refused", "deferred"], [0.92, 0.04, 0.01, 0.03])[0]
                if decision == "awarded":
                    f["certified_on"] = jury
                    break
                if decision == "refused":
                    break
                if decision == "deferred":
                    f["deferred"] = True
                    day = jury + rng.randint(60, 120) * DAY
                else:
                    day = jury + rng.randint(25, 35) * DAY
        for column, start, end in (
            ("days_to_prior", "opened_on", "prior_closed_on"),
            ("days_to_training", "prior_closed_on", "training_started_on"),
            ("days_to_final", "training_started_on", "final_evaluation_on"),
            ("days_to_jury", f["final_evaluation_on"] and "final_evaluation_on" or "prior_closed_on", "jury_on"),
            ("days_jury_to_certificate", "jury_on", "certified_on"),
            ("days_to_certificate", "opened_on", "certified_on"),
        ):
            a, b = f[start], f[end]
            f[column] = (b - a).days if a and b else None  # type: ignore[operator]
        facts.write(",".join(cell(f[c]) for c in fact_columns) + "\n")
        if dossier_id % 100_000 == 0:
            flush()
            print(f"  {dossier_id} facts ({time.perf_counter() - started:.0f} s)", flush=True)
    flush()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"{n} SYNTHETIC facts written in {time.perf_counter() - started:.0f} s", flush=True)
    started = time.perf_counter()
    cells = cube_rebuild()
    print(f"Cube recounted: {cells} cells in {time.perf_counter() - started:.1f} s", flush=True)


def prepare() -> dict[str, str]:
    """A session cookie per viewer (Certif'Pro, a Transitions Pro, the busiest organisation's counsellor), and the
    URLs to measure."""
    from django.db.models import Count
    from django.urls import reverse

    from indicators.models import DossierFact
    from organisations.models import Membership, Organisation, OrganisationKind, Role, User

    def member(kind: str, role: str, region: str, organisation_id: int | None = None) -> Membership:
        if organisation_id is None:
            organisation = Organisation.objects.filter(kind=kind, region=region).first()
            if organisation is None:
                organisation = Organisation.objects.create(
                    name=f"bench {kind} {region}", kind=kind, region=region, siret=f"{kind[:3]}{region}".ljust(14, "0")
                )
            organisation_id = organisation.pk
        user, _ = User.objects.get_or_create(email=f"bench-{role}-{organisation_id}@stats.clea.test")
        membership, _ = Membership.objects.get_or_create(user=user, organisation_id=organisation_id, role=role)
        return membership

    cookie = session_cookie

    busiest = (
        DossierFact.objects.order_by().values("organisation").annotate(n=Count("dossier_id")).order_by("-n").first()
    )
    region = Organisation.objects.get(pk=busiest["organisation"]).region
    url = reverse("indicators:dashboard")
    return {
        "certifpro": cookie(member(OrganisationKind.CERTIFPRO, Role.CERTIFPRO_ADMIN, "11")),
        "region": cookie(member(OrganisationKind.JURY_BODY, Role.ORG_ADMIN, region)),
        "organisation": cookie(member(OrganisationKind.EVALUATOR, Role.COUNSELLOR, region, busiest["organisation"])),
        "url": url,
        "filtered_cube": f"{url}?certification=clea&region={region}&start=2024-01",
        "filtered_facts": f"{url}?certification=clea&registration_status=job_seeker&age_band=26_44",
        "open_data": reverse("indicators:open_data_regional"),
        "facts": str(DossierFact.objects.count()),
        "busiest": str(busiest["n"]),
        "region_facts": str(DossierFact.objects.filter(region=region).count()),
    }


def in_process(pages: list[tuple[str, str, str]], runs: int = 15) -> dict[str, float]:
    """Each page's median time in this process, one request at a time: the service time, without the queueing of
    wrk's 8 connections on 2 workers."""
    import statistics

    from django.test import Client

    medians = {}
    for name, path, cookie in pages:
        client = Client(HTTP_HOST="127.0.0.1")
        if cookie:
            client.cookies.load(cookie)
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            if len(times) >= 3 and min(times) > 1000:  # a slow page: three tries say enough
                break
        medians[name] = statistics.median(times)
        print(f"{name}: {medians[name]:.1f} ms in process", flush=True)
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fill-facts", type=int, default=0, help="SYNTHETIC facts to bulk-insert first")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("DATABASE_URL must point at a PostgreSQL bench database (see bench/README.md).")
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install -y wrk")
    work, env = production_environment("clea-bench-dashboard-")
    import django

    django.setup()
    if args.fill_facts:
        fill_facts(args.fill_facts, args.seed)
    python = sys.executable
    subprocess.run([python, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    urls = prepare()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    gunicorn = subprocess.Popen(
        [python, "-m", "gunicorn", "clea_platform.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}",
         "--access-logfile", "/dev/null", "--error-logfile", str(work / "gunicorn.log")],
        cwd=ROOT,
        env=env,
    )  # fmt: skip
    script = work / "report.lua"
    script.write_text(WRK_SCRIPT)
    pages = [
        ("Plancher (/ping, sans requête)", "/ping", urls["certifpro"]),
        ("Statistiques nationales, sans filtre (cube)", urls["url"], urls["certifpro"]),
        ("Nationales, CléA + une région + depuis 2024 (cube)", urls["filtered_cube"], urls["certifpro"]),
        (
            "Nationales, CléA + demandeurs d'emploi + 26-44 ans (cube, délais des faits)",
            urls["filtered_facts"],
            urls["certifpro"],
        ),
        (f"Une région, sans filtre (cube, {urls['region_facts']} faits)", urls["url"], urls["region"]),
        (f"Un organisme, sans filtre (faits, {urls['busiest']})", urls["url"], urls["organisation"]),
        ("Données ouvertes, CSV régional (public)", urls["open_data"], ""),
    ]
    served = in_process(pages)
    results = []
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/ping", timeout=1)  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)
        for name, path, cookie in pages:
            status = check(base, path, cookie)
            if status != 200:
                print(f"{name}: {path} answers {status}, skipped", file=sys.stderr)
                continue
            median, p95, rps, errors = wrk(base, path, cookie, script, args.duration, args.connections)
            results.append((name, median, p95, rps, int(errors)))
            print(f"{name}: {median:.1f} ms, p95 {p95:.1f} ms, {rps:.0f} req/s", flush=True)
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=20)
    floor = results[0][1]
    lines = [
        f"Facts: {urls['facts']}. Machine: {os.cpu_count()} CPU, {memory_gb()} GB RAM. gunicorn 2 workers, "
        f"wrk -t2 -c{args.connections} -d{args.duration}s, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC.",
        "",
        "| page | median (ms) | p95 (ms) | req/s | median / floor | errors | one at a time, in process (ms) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {n} | {m:.1f} | {p:.1f} | {r:.0f} | {m / floor:.1f}× | {e} | {served[n]:.1f} |" for n, m, p, r, e in results
    ]
    table = "\n".join(lines) + "\n"
    print("\n" + table)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(table)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
