"""Time the evaluator directory's search on the full commune table with 3,000 evaluator sites.

    DJANGO_SETTINGS_MODULE=clea_platform.settings .venv/bin/python bench/directory_search.py [--samples 500]

Runs in a throw-away database, never the project's: without DATABASE_URL, a temporary SQLite file that this
script creates and deletes; with DATABASE_URL (PostgreSQL), Django's test database machinery creates
test_<name> beside it and destroys it at the end. Prints the median and 95th percentile of:
- the search itself (commune look-up, bounding box query, haversine, fair ordering) and the loading of the
  first page (20 sites with their organisation and habilitations), radius 20 and 100 km;
- the public JSON API endpoint through Django's whole stack (test client, no network).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.measure import throwaway_database  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(label: str, values: list[float]) -> None:
    ms = [v * 1000 for v in values]
    print(
        f"  {label:42} median {statistics.median(ms):7.2f} ms   p95 {percentile(ms, 0.95):7.2f} ms"
        f"   max {max(ms):7.2f} ms   (n={len(ms)})"
    )


def populate(rng: random.Random, sites: int) -> None:
    from clea_platform.certifications import Certification
    from directory.models import Commune
    from organisations.demo import siret_from
    from organisations.models import (
        Habilitation,
        HabilitationStatus,
        Organisation,
        OrganisationKind,
        Region,
        Site,
    )

    today = __import__("django.utils.timezone", fromlist=["localdate"]).localdate()
    organisations = Organisation.objects.bulk_create(
        Organisation(
            name=f"Évaluateur {i}",
            kind=OrganisationKind.EVALUATOR,
            siret=siret_from(f"7{i:012d}"),
            region=rng.choice(Region.values),
        )
        for i in range(sites // 10)
    )
    habilitations = []
    for i, organisation in enumerate(organisations):
        certifications = [Certification.CLEA] + ([Certification.CLEA_NUMERIQUE] if i % 3 == 0 else [])
        # One organisation in twenty is suspended: its sites are read but filtered out, as in real life.
        status = HabilitationStatus.SUSPENDED if i % 20 == 0 else HabilitationStatus.ACTIVE
        habilitations += [
            Habilitation(
                organisation=organisation,
                certification=c,
                valid_from=today.replace(year=today.year - 1),
                valid_until=today.replace(year=today.year + 2),
                status=status,
                status_reason="bench" if status != HabilitationStatus.ACTIVE else "",
            )
            for c in certifications
        ]
    Habilitation.objects.bulk_create(habilitations)
    # Sites where people live: communes drawn by population, a few hundred metres around their point.
    communes = list(
        Commune.objects.values_list("insee_code", "name", "postcodes", "latitude", "longitude", "population")
    )
    weights = [max(p, 1) for *_, p in communes]
    chosen = rng.choices(communes, weights=weights, k=sites)
    Site.objects.bulk_create(
        Site(
            organisation=organisations[i % len(organisations)],
            name=f"Site {i}",
            address="1 rue du Banc d'essai",
            postcode=(postcodes.split() or ["00000"])[0],
            city=name,
            insee_code=code,
            latitude=Decimal(str(round(lat + rng.uniform(-0.01, 0.01), 5))),
            longitude=Decimal(str(round(lon + rng.uniform(-0.01, 0.01), 5))),
            wheelchair_accessible=rng.random() < 0.6,
            remote_evaluation=rng.random() < 0.3,
        )
        for i, (code, name, postcodes, lat, lon, _) in enumerate(chosen)
    )


def run(samples: int, sites: int) -> None:
    from django.db import connection
    from django.test import Client

    from directory.models import Commune
    from directory.places import communes_load, read_communes
    from directory.selectors import sites_nearby
    from organisations.models import Site

    print(f"Database: {connection.vendor} ({connection.settings_dict['NAME']})")
    started = time.perf_counter()
    report_ = communes_load(read_communes())
    print(f"Communes loaded: {report_.total} in {time.perf_counter() - started:.1f} s")
    rng = random.Random(2026)
    started = time.perf_counter()
    populate(rng, sites)
    print(f"Sites created: {Site.objects.count()} in {time.perf_counter() - started:.1f} s")
    if connection.vendor == "postgresql":
        # What autovacuum does soon after a bulk load in production: fresh statistics for the planner.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    codes = list(Commune.objects.values_list("insee_code", flat=True))
    # Half drawn uniformly (rural communes, few sites around), half by population (cities, many sites).
    weighted = list(Commune.objects.values_list("insee_code", "population"))
    sample = rng.sample(codes, samples // 2) + [
        c for c, _ in rng.choices(weighted, weights=[max(p, 1) for _, p in weighted], k=samples - samples // 2)
    ]

    def timed_search(radius: int) -> tuple[list[float], list[int]]:
        durations, found = [], []
        for code in sample:
            t0 = time.perf_counter()
            commune = Commune.objects.resolve(code).commune or Commune.objects.get(insee_code=code)
            result = sites_nearby(
                latitude=commune.latitude, longitude=commune.longitude, radius_km=radius, certification="clea"
            )
            page = result.entries(result.ranked[:20])  # what the directory page shows first
            durations.append(time.perf_counter() - t0)
            found.append(len(result.ranked))
            assert len(page) == min(20, len(result.ranked))
        return durations, found

    timed_search(20)  # warm-up: connections, caches, imports
    print(f"Search timings over {len(sample)} communes (certification CléA):")
    for radius in (20, 100):
        durations, found = timed_search(radius)
        report(f"search + first 20 sites, radius {radius} km", durations)
        print(f"  {'':42} sites found: median {statistics.median(found):.0f}, max {max(found)}")

    client = Client(REMOTE_ADDR="127.0.0.1")
    from directory.api import DirectoryThrottle

    DirectoryThrottle.rate = "1000000/minute"  # the bench is not a client to hold back
    durations = []
    for code in sample:
        t0 = time.perf_counter()
        response = client.get("/api/v1/evaluators/nearby", {"commune": code, "radius": 20, "certification": "clea"})
        durations.append(time.perf_counter() - t0)
        assert response.status_code == 200, response.status_code
    report("API /api/v1/evaluators/nearby, 20 km", durations)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=500, help="communes searched from (default 500)")
    parser.add_argument("--sites", type=int, default=3000, help="evaluator sites created (default 3000)")
    args = parser.parse_args()

    with throwaway_database():
        from django.conf import settings

        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        run(args.samples, args.sites)


if __name__ == "__main__":
    main()
