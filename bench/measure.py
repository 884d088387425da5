"""What the benchmarks share: the production-like settings they run under, and memory readings of a process from
/proc (Linux)."""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def production_environment(prefix: str) -> tuple[Path, dict[str, str]]:
    """A temporary folder with settings as production has them (DEBUG off, static and media files of its own), and
    the environment that selects them, applied to this process too (sys.path included) and handed to children."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    (work / "bench_settings.py").write_text(
        "from clea_platform.settings import *  # noqa: F403\n"
        f"MEDIA_ROOT = {str(work / 'media')!r}\nSTATIC_ROOT = {str(work / 'static')!r}\n"
    )
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY", secrets.token_urlsafe(50)),
        "SITE_URL": os.environ.get("SITE_URL", "http://127.0.0.1:8000"),
        "DJANGO_SETTINGS_MODULE": "bench_settings",
        "PYTHONPATH": f"{work}{os.pathsep}{ROOT}",
        "LOG_LEVEL": "WARNING",
        # As docker-compose.yml's web service (measured with it since 2026-12-05, bench/README.md section 2).
        "PG_PARALLEL_WORKERS": os.environ.get("PG_PARALLEL_WORKERS", "0"),
    }
    os.environ.update(env)
    sys.path[:0] = [str(work), str(ROOT)]
    return work, env


def peak_memory_mb(pid: int) -> float:
    """VmHWM: the most resident memory the process ever had."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def children(pid: int) -> list[int]:
    """The direct child processes (gunicorn's workers under its master)."""
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


@contextmanager
def throwaway_database() -> Iterator[None]:
    """Django set up on a database of the benchmark's own, gone afterwards: a temporary SQLite file without
    DATABASE_URL, else a test database beside the one DATABASE_URL names. No query log (DEBUG off): time what
    production runs."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clea_platform.settings")
    temporary = None
    if "DATABASE_URL" not in os.environ:
        temporary = Path(tempfile.mkdtemp(prefix="clea-bench-")) / "bench.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{temporary}"
        os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
        os.environ.setdefault("DEBUG", "true")

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment(debug=False)
    if temporary is not None:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        try:
            yield
        finally:
            connection.close()
            for path in temporary.parent.iterdir():
                path.unlink()
            temporary.parent.rmdir()
    else:
        old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            yield
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)


def write_table(lines: list[str], output: Path) -> None:
    """A benchmark's Markdown table: printed, and written to its results file."""
    table = "\n".join(lines) + "\n"
    print("\n" + table)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(table)
