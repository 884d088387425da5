"""Issue 13's faults, end to end at the issue's sizes: real PostgreSQL, a private Redis, real Celery workers, kill -9
and restarts; then what the platform promised against what it has.

    createdb -h 127.0.0.1 -U postgres clea_faults_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clea_faults_bench .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clea_faults_bench .venv/bin/python bench/faults.py \\
        [--requeue-every 60] [--requeue-after 120]

(`make faults` does the three.) The scenarios are those of tests/faults/harness.py, which the test suite runs at
small sizes: 300 attestations with 20 kill -9 of prefork pool children (the docker-compose worker: 2 processes);
500 with 20 kill -9 of solo-pool workers, each replaced at once as a supervisor would; a jury session of 20
certificates with 10 kills; Redis restarted without persistence while 200 attestations are queued; an
evaluation closed through the real view while Redis is down; the public pages, the token API and the probes
while Redis is down (Django's test client, in this process, whose cache and broker are the private Redis).

The re-queueing job runs in this process (`outbox.services.side_effects_requeue`, what beat's task calls) every
--requeue-every seconds (beat's schedule: 60), from the moment a scenario starts waiting; the workers and this
process leave alone the rows queued less than --requeue-after seconds ago (SIDE_EFFECT_REQUEUE_AFTER, 120 by
default). Data is made with the tests' factories, through the services. Writes its table to
bench/results/faults.md (or --output).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import secrets
import shutil
import socket
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.faults.harness import Cluster, Outcome

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "faults.md"

# What issue 13 measured before the outbox, on the same machine and at the same sizes.
BEFORE = {
    "prefork": "13 lost for good (acked on WorkerLostError), 1 orphan PDF without a row",
    "solo": "12 stuck in Redis unacked for the 1 h default visibility timeout",
    "jury": "1 certificate row with no PDF: its code verifies publicly and its fee is billed, but no document "
    "will ever exist",
    "restart": "126 lost, no job ever re-queues them",
    "closed_down": "committed, the attestation is never produced, the user gets a 500",
    "pages_down": "anonymous /annuaire/, /verifier/ and the token API answer 500; /healthz answers 503",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefork-attestations", type=int, default=300)
    parser.add_argument("--prefork-kills", type=int, default=20)
    parser.add_argument("--solo-attestations", type=int, default=500)
    parser.add_argument("--solo-kills", type=int, default=20)
    parser.add_argument("--jury-certificates", type=int, default=20)
    parser.add_argument("--jury-kills", type=int, default=10)
    parser.add_argument("--restart-attestations", type=int, default=200)
    parser.add_argument("--requeue-every", type=float, default=60, help="seconds between two runs of the job")
    parser.add_argument("--requeue-after", type=int, default=120, help="SIDE_EFFECT_REQUEUE_AFTER, seconds")
    parser.add_argument("--only", nargs="*", help="scenarios to run (prefork solo jury restart closed_down pages_down)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("DATABASE_URL must name a throw-away PostgreSQL database, migrated (see bench/README.md).")

    work = Path(tempfile.mkdtemp(prefix="clea-faults-"))
    sys.path.insert(0, str(ROOT))
    # This process's broker and cache are the private Redis the scenarios stop and restart, on a port chosen
    # before the settings read REDIS_URL (the harness needs them set up to be imported).
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "clea_platform.settings",
            "REDIS_URL": f"redis://127.0.0.1:{port}/0",
            "MEDIA_ROOT": str(work / "media"),
            "SIDE_EFFECT_REQUEUE_AFTER": str(args.requeue_after),
            "DEBUG": "false",
            "LOG_LEVEL": "ERROR",
        }
    )
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("SITE_URL", "http://127.0.0.1:8000")
    # whitenoise looks for STATIC_ROOT, which only collectstatic makes (as pyproject.toml's filter says for the tests).
    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    import django

    django.setup()
    from django.conf import settings

    # The factories' users: a fast hasher, as in the tests (production's takes 0.1 s a user). The pages are
    # rendered from the static files' finders, as in the tests: production's manifest needs collectstatic, and
    # what is measured here is the answer of each page while Redis is down, not its assets.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    rows = run(args, work, port)
    table = render(rows, args)
    print("\n" + table)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(table)
    shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, work: Path, port: int) -> list[tuple[str, str, str, str]]:
    from django.conf import settings
    from django.db import connection

    from tests.faults import harness

    wanted = set(args.only or BEFORE)

    def cluster(name: str) -> harness.Cluster:
        workdir = work / name
        workdir.mkdir()
        return harness.Cluster(
            workdir=workdir,
            database_url=harness.database_url(connection.settings_dict),
            media_root=settings.MEDIA_ROOT,
            requeue_after=args.requeue_after,
            redis_port=port,
        )

    rows: list[tuple[str, str, str, str]] = []
    if "prefork" in wanted:
        step(f"prefork: {args.prefork_attestations} attestations, {args.prefork_kills} kills")
        with cluster("prefork") as running:
            outcome = harness.prefork_kills(
                running,
                attestations=args.prefork_attestations,
                kills=args.prefork_kills,
                between=max(args.prefork_attestations // args.prefork_kills // 3, 1),
            )
        rows.append(
            (
                f"{args.prefork_kills} × kill -9 of a prefork pool child (the docker-compose worker) during "
                f"{args.prefork_attestations} attestations",
                BEFORE["prefork"],
                documents(outcome) + kills(outcome, args.prefork_kills),
                seconds(outcome.seconds),
            )
        )
    if "solo" in wanted:
        step(f"solo: {args.solo_attestations} attestations, {args.solo_kills} kills")
        with cluster("solo") as running:
            outcome = harness.solo_kills(
                running,
                attestations=args.solo_attestations,
                kills=args.solo_kills,
                between=max(args.solo_attestations // args.solo_kills // 3, 1),
                requeue_every=args.requeue_every,
            )
        rows.append(
            (
                f"{args.solo_kills} × kill -9 of solo-pool workers during {args.solo_attestations} attestations",
                BEFORE["solo"],
                documents(outcome)
                + kills(outcome, args.solo_kills)
                + f"; {outcome.requeued} rows re-queued by the job; "
                f"{outcome.extra['unacked']} messages still unacked in Redis (their documents made); everything "
                f"done {outcome.extra['done_after_last_kill_seconds']:.0f} s after the last kill",
                seconds(outcome.seconds),
            )
        )
    if "jury" in wanted:
        step(f"jury: {args.jury_certificates} certificates, {args.jury_kills} kills")
        with cluster("jury") as running:
            outcome = harness.jury_kills(running, certificates=args.jury_certificates, kills=args.jury_kills, between=0)
        extra = outcome.extra
        rows.append(
            (
                f"{args.jury_kills} kills while a jury session's {args.jury_certificates} certificates are produced",
                BEFORE["jury"],
                documents(outcome)
                + f"; {extra['certificates_with_pdf']} of {extra['certificates']} certificates with their PDF, "
                f"{plural(extra['minutes'], 'minutes', 'minutes')}, {plural(extra['fees'], 'fee line')}; right after "
                f"the kills, "
                f"{extra['seen_without_pdf']} certificate rows were seen without their PDF, "
                f"{extra['verified_without_pdf']} of them verified at /verifier/ and {extra['billed_without_pdf']} "
                f"billed" + kills(outcome, args.jury_kills),
                seconds(outcome.seconds),
            )
        )
    if "restart" in wanted:
        step(f"restart: {args.restart_attestations} attestations")
        with cluster("restart") as running:
            outcome = harness.redis_restart(
                running, attestations=args.restart_attestations, requeue_every=args.requeue_every
            )
        extra = outcome.extra
        rows.append(
            (
                f"Redis restarted (no persistence) with {args.restart_attestations} attestations queued",
                BEFORE["restart"],
                documents(outcome) + f"; {extra['queued_at_restart']} messages waiting when Redis restarted, "
                f"{extra['queued_after_restart']} after; {outcome.requeued} rows re-queued by the job; everything "
                f"done {extra['done_after_restart_seconds']:.0f} s after the restart",
                seconds(outcome.seconds),
            )
        )
    if "closed_down" in wanted:
        step("closed_down: an evaluation closed while Redis is down")
        with cluster("closed_down") as running:
            outcome = harness.close_while_broker_down(running, requeue_every=args.requeue_every)
        extra = outcome.extra
        rows.append(
            (
                "an evaluation closed while Redis is down",
                BEFORE["closed_down"],
                f"{extra['status_code']} to the grid in {extra['answered_seconds']:.2f} s, evaluation closed; "
                f"the attestation made by a worker {extra['attestation_after_seconds']:.0f} s after Redis came back "
                f"({outcome.requeued} row re-queued by the job); " + documents(outcome),
                seconds(outcome.seconds),
            )
        )
    if "pages_down" in wanted:
        step("pages_down: public pages, token API and probes while Redis is down")
        with cluster("pages_down") as running:
            started = time.monotonic()
            answers = pages_with_redis_down(running)
            elapsed = time.monotonic() - started
        rows.append(("Redis down", BEFORE["pages_down"], "; ".join(answers), seconds(elapsed)))
    return rows


def step(text: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {text}", flush=True)


def documents(outcome: Outcome) -> str:
    before, after = outcome.tally, outcome.collected
    text = (
        f"{after.lost} lost of {after.promised}, {plural(after.duplicate_rows + after.duplicate_files, 'duplicate')}, "
        f"{plural(after.rows_without_file, 'row')} without a whole file, {plural(after.orphan_files, 'orphan file')}"
    )
    if outcome.orphans_collected:
        text += (
            f" (before the orphan collector: {plural(before.orphan_files, 'orphan file')}, "
            f"{plural(before.duplicate_files, 'document')} with a second file: runs killed between their file and "
            "their commit)"
        )
    return text + f"; side effects: {after.states_text()}"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    return f"{count} {singular if count == 1 else plural_form or singular + 's'}"


def seconds(value: float) -> str:
    return f"{value:.0f}" if value >= 1 else "< 1"


def kills(outcome: Outcome, wanted: int) -> str:
    done = f"{outcome.kills} kills" if outcome.kills == wanted else f"only {outcome.kills} of {wanted} kills (all done)"
    return f"; {done}, {outcome.tally.interrupted} of them interrupted a run"


def pages_with_redis_down(cluster: Cluster) -> list[str]:
    """The anonymous directory and verification pages, the token API and the probes, with the cache and the
    broker of this process on the private Redis, stopped."""
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from juries.models import Certificate
    from organisations.models import Role
    from organisations.services import api_token_create
    from tests.factories import MembershipFactory
    from tests.juries.factories import certified

    certificate = Certificate.objects.exclude(file="").first()
    if certificate is None:  # the jury scenario did not run: one certificate made here
        _jury, _submission, certificate = certified()
    _token, key = api_token_create(
        membership=MembershipFactory(role=Role.COUNSELLOR),
        name="SI régional",
        expires_at=timezone.now() + datetime.timedelta(days=1),
    )
    cluster.redis.stop()
    anonymous = Client(REMOTE_ADDR="203.0.113.21")
    requests = [
        ("/annuaire/", anonymous, reverse("directory:search")),
        ("/verifier/", anonymous, reverse("certificate_verify", args=[certificate.verification_code])),
        ("token API /api/v1/dossiers/", Client(HTTP_AUTHORIZATION=f"Token {key}"), "/api/v1/dossiers/"),
        ("/healthz/live", anonymous, reverse("healthz_live")),
        ("/healthz/ready", anonymous, reverse("healthz_ready")),
        ("/healthz", anonymous, reverse("healthz")),
    ]
    answers = []
    for label, client, url in requests:
        started = time.monotonic()
        response = client.get(url)
        elapsed = time.monotonic() - started
        answer = f"{label} {response.status_code} in {elapsed:.2f} s"
        if label.startswith("/healthz/ready"):
            answer += f" (broker: {response.json()['broker']})"
        answers.append(answer)
    return answers


def render(rows: list[tuple[str, str, str, str]], args: argparse.Namespace) -> str:
    lines = [
        f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {os.cpu_count()} CPU, {platform.platform()}. "
        f"Re-queueing job every {args.requeue_every:g} s, SIDE_EFFECT_REQUEUE_AFTER={args.requeue_after} s.",
        "",
        "| fault | before (issue 13) | now | seconds |",
        "|---|---|---|---:|",
        *(f"| {fault} | {before} | {now} | {took} |" for fault, before, now, took in rows),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
