"""The flux to the Caisse des Dépôts: time to render and to validate a flux of N certificates against the schema.

    .venv/bin/python bench/cdc_flux.py [--sizes 1000 10000] [--runs 3]

Renders N declarations built in memory (flux_render is a pure function of the rows, so no database is needed),
then validates the bytes with xmlschema (flux_errors), as cdc_flux_generate does before storing a flux. Prints
the median of --runs for each size; nothing is written."""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clea_platform.settings")
os.environ.setdefault("SECRET_KEY", "bench")

import django

django.setup()

from django.utils import timezone  # noqa: E402

from funding.cdc import flux_errors, flux_render, flux_schema  # noqa: E402
from funding.models import CdcDeclaration, CdcFlux  # noqa: E402


def declarations(flux: CdcFlux, n: int) -> list[CdcDeclaration]:
    return [
        CdcDeclaration(
            flux=flux,
            kind="award",
            technical_id=f"CLEA-2026-{i:07d}",
            certification_code="RS5080" if i % 3 else "RS5436",
            valid_from=datetime.date(2026, 1, 1) + datetime.timedelta(days=i % 300),
            valid_until=None,
            birth_name=f"Martin{i}",
            usual_name=f"Martin{i}",
            first_name="Léa",
            birth_date=datetime.date(1970, 1, 1) + datetime.timedelta(days=i % 12000),
            sex="F" if i % 2 else "M",
            birth_insee_code="59350" if i % 10 else "99109",
            birth_place="Lille" if i % 10 else "Berlin",
        )
        for i in range(n)
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    started = time.perf_counter()
    flux_schema()
    print(f"schema loaded in {(time.perf_counter() - started) * 1000:.0f} ms")
    flux = CdcFlux(number=1, generated_at=timezone.now().replace(microsecond=0), client_id="03CLEA00", contract_id="X1")
    for n in args.sizes:
        rows = declarations(flux, n)
        renders, validations = [], []
        for _ in range(args.runs):
            started = time.perf_counter()
            content = flux_render(flux, rows)
            renders.append(time.perf_counter() - started)
            started = time.perf_counter()
            errors = flux_errors(content)
            validations.append(time.perf_counter() - started)
            assert not errors, errors
        print(
            f"{n:>6} certificates: render {statistics.median(renders) * 1000:.0f} ms, validate "
            f"{statistics.median(validations) * 1000:.0f} ms, {len(content) / 1e6:.1f} MB"
        )


if __name__ == "__main__":
    main()
