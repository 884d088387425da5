"""Time one "Vouliez-vous dire ?" suggestion for a misspelt commune over the full commune table.

    DJANGO_SETTINGS_MODULE=clea_platform.settings .venv/bin/python bench/commune_suggestions.py [--samples 300]

Runs in a throw-away database as bench/directory_search.py does (a temporary SQLite file without DATABASE_URL,
test_<name> beside a PostgreSQL one with it). Misspells real names at random (a letter dropped, doubled,
changed, two swapped, the punctuation dropped) and prints the median and 95th percentile of
`Commune.objects.resolve` (the exact search that finds nothing, then the suggestion) and of the suggestion
alone, the time of building the index once per process, and how often the intended commune comes first.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.directory_search import report  # noqa: E402
from bench.measure import throwaway_database  # noqa: E402


def misspell(name: str, rng: random.Random) -> str:
    letters = [i for i, c in enumerate(name) if c.isalpha()]
    i = rng.choice(letters)
    kind = rng.choice(["drop", "double", "change", "swap", "punctuation"])
    if kind == "drop":
        return name[:i] + name[i + 1 :]
    if kind == "double":
        return name[:i] + name[i] + name[i:]
    if kind == "change":
        return name[:i] + rng.choice("abcdefghijklmnopqrstuvwxyz") + name[i + 1 :]
    if kind == "swap" and i + 1 < len(name):
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    return name.replace("-", " ").replace("'", "")


def run(samples: int) -> None:
    from django.db import connection

    from directory.models import Commune
    from directory.places import communes_load, read_communes
    from directory.spelling import commune_name_index

    print(f"Database: {connection.vendor} ({connection.settings_dict['NAME']})")
    report_ = communes_load(read_communes())
    print(f"Communes loaded: {report_.total}")
    started = time.perf_counter()
    commune_name_index()
    print(f"  index built once per process in {(time.perf_counter() - started) * 1000:.0f} ms")

    rng = random.Random(2026)
    weighted = list(Commune.objects.values_list("pk", "name", "population"))
    chosen = rng.choices(weighted, weights=[max(p, 1) ** 0.5 for _, _, p in weighted], k=samples)
    typed = []
    for pk, name, _population in chosen:
        wrong = misspell(name, rng)
        if not Commune.objects.search(wrong, limit=1):  # only what the exact search misses
            typed.append((pk, wrong))
    for text in ("Lile", "Roubiax", "villeneuve dascq"):
        print(f"  {text!r:20} → {', '.join(c.label for c in Commune.objects.resolve(text).suggestions)}")

    resolve_durations, suggest_durations, first = [], [], 0
    for pk, wrong in typed:
        t0 = time.perf_counter()
        lookup = Commune.objects.resolve(wrong)
        resolve_durations.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        Commune.objects.suggest(wrong)
        suggest_durations.append(time.perf_counter() - t0)
        first += bool(lookup.suggestions) and lookup.suggestions[0].pk == pk
    check_durations, nearest_durations = [], []
    for _pk, wrong in typed:
        t0 = time.perf_counter()
        index = commune_name_index()
        check_durations.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        index.nearest(wrong, 5)
        nearest_durations.append(time.perf_counter() - t0)
    print(f"Misspelt names the exact search misses: {len(typed)} of {samples}")
    report("resolve (exact search, then suggestions)", resolve_durations)
    report("suggestions alone", suggest_durations)
    report("  of which: is the index current (1 query)", check_durations)
    report("  of which: ranking over the index", nearest_durations)
    print(f"  intended commune suggested first: {first / len(typed):.0%} (homonyms count as misses)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=300, help="misspelt names tried (default 300)")
    args = parser.parse_args()

    with throwaway_database():
        run(args.samples)


if __name__ == "__main__":
    main()
