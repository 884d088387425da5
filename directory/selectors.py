"""The evaluator directory's reads: which sites can take a candidate near a place, and what a sheet lists.

Distances are great-circle (haversine) distances between the commune's point and the site's: a bounding
box in SQL keeps the candidates few (works on SQLite and PostgreSQL alike), then Python measures each one.
"""

from __future__ import annotations

import datetime
import hashlib
import math
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from functools import cached_property
from typing import TypedDict

from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils import timezone

from directory.models import Commune, DirectorySheet, SheetScope
from organisations.models import Habilitation, OrganisationKind, Site, SiteQuerySet

EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)
RADII_KM = (10, 20, 50, 100)
DEFAULT_RADIUS_KM = 20
# Distances are shown to 100 m: sites closer to each other than that are at "the same distance".
DISTANCE_PRECISION_KM = 0.1
# Declared availability older than this is shown as possibly out of date.
AVAILABILITY_STALE_AFTER = datetime.timedelta(days=60)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres between two points given in decimal degrees."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class BoundingBox:
    min_lat: float
    max_lat: float
    min_lon: float
    max_lon: float

    @property
    def crosses_antimeridian(self) -> bool:
        return self.min_lon > self.max_lon


def bounding_box(latitude: float, longitude: float, radius_km: float) -> BoundingBox:
    """The latitude/longitude rectangle that contains every point within `radius_km` of the centre."""
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM)
    min_lat, max_lat = max(-90.0, latitude - dlat), min(90.0, latitude + dlat)
    if min_lat <= -90 or max_lat >= 90:
        return BoundingBox(min_lat, max_lat, -180.0, 180.0)
    # The widest parallel in the box is the one nearest a pole.
    widest = max(abs(min_lat), abs(max_lat))
    dlon = math.degrees(radius_km / (EARTH_RADIUS_KM * math.cos(math.radians(widest))))
    if dlon >= 180:
        return BoundingBox(min_lat, max_lat, -180.0, 180.0)
    min_lon, max_lon = longitude - dlon, longitude + dlon
    # Wrap around ±180° (Wallis-et-Futuna, Polynesia): the box then crosses the antimeridian.
    if min_lon < -180:
        min_lon += 360
    if max_lon > 180:
        max_lon -= 360
    return BoundingBox(min_lat, max_lat, min_lon, max_lon)


def fair_rank(site_id: int, day: datetime.date) -> str:
    """A tie-break that changes every day and favours no organisation: a hash of the site and the date.

    Over the days, each of the sites at the same distance comes first as often as the others, while one
    day's order stays stable (the advisor, the printed sheet and the API agree)."""
    return hashlib.sha256(f"{site_id}:{day.isoformat()}".encode()).hexdigest()


def directory_sites(
    certification: str = "",
    *,
    wheelchair_accessible: bool = False,
    remote_evaluation: bool = False,
    on: datetime.date | None = None,
) -> SiteQuerySet:
    """Active sites of active evaluator organisations holding a habilitation in force (for the
    certification, when given), with the certifications each organisation may assess that day."""
    on = on or timezone.localdate()
    return _with_organisation(
        _listed_sites(
            certification, wheelchair_accessible=wheelchair_accessible, remote_evaluation=remote_evaluation, on=on
        ),
        on,
    )


def _listed_sites(
    certification: str, *, wheelchair_accessible: bool, remote_evaluation: bool, on: datetime.date
) -> SiteQuerySet:
    in_force = Habilitation.objects.in_force(on).filter(organisation=OuterRef("organisation"))
    if certification:
        in_force = in_force.filter(certification=certification)
    sites = Site.objects.active().filter(organisation__kind=OrganisationKind.EVALUATOR).filter(Exists(in_force))
    if wheelchair_accessible:
        sites = sites.filter(wheelchair_accessible=True)
    if remote_evaluation:
        sites = sites.filter(remote_evaluation=True)
    return sites


def _with_organisation(sites: SiteQuerySet, on: datetime.date) -> SiteQuerySet:
    """Sites with their organisation and the certifications it may assess that day (one more query)."""
    return sites.select_related("organisation").prefetch_related(
        Prefetch(
            "organisation__habilitations",
            queryset=Habilitation.objects.in_force(on).order_by("certification"),
            to_attr="habilitations_in_force",
        )
    )


@dataclass(frozen=True)
class NearbySite:
    site: Site
    distance_km: float

    @property
    def certifications(self) -> list[str]:
        return [h.get_certification_display() for h in getattr(self.site.organisation, "habilitations_in_force", [])]

    @property
    def upcoming_slot(self) -> datetime.date | None:
        """The declared next slot, if it is still ahead."""
        slot = self.site.next_slot_on
        return slot if slot is not None and slot >= timezone.localdate() else None

    @property
    def availability_is_stale(self) -> bool:
        updated = self.site.availability_updated_at
        return updated is not None and timezone.now() - updated > AVAILABILITY_STALE_AFTER


@dataclass
class NearbySearch:
    """Sites within `radius_km` of a point, nearest first, and how many each radius would find.

    `ranked` holds (site id, distance) pairs only; `entries()` loads the sites of a slice of it (a page),
    `results` all of them."""

    latitude: float
    longitude: float
    radius_km: int
    day: datetime.date
    ranked: list[tuple[int, float]] = field(default_factory=list)
    counts_by_radius: dict[int, int] = field(default_factory=dict)

    @property
    def wider_radius(self) -> int | None:
        """The smallest wider radius that finds more sites, to offer when this one finds few or none."""
        here = self.counts_by_radius.get(self.radius_km, 0)
        return next((r for r in RADII_KM if r > self.radius_km and self.counts_by_radius.get(r, 0) > here), None)

    def entries(self, ranked: list[tuple[int, float]] | None = None) -> list[NearbySite]:
        """The sites of `ranked` (a slice of self.ranked; all by default), loaded in two queries, in order."""
        ranked = self.ranked if ranked is None else ranked
        if not ranked:
            return []
        sites = _with_organisation(Site.objects.filter(pk__in=[pk for pk, _ in ranked]), self.day).in_bulk()
        return [NearbySite(site=sites[pk], distance_km=distance) for pk, distance in ranked if pk in sites]

    @cached_property
    def results(self) -> list[NearbySite]:
        return self.entries()


def sites_nearby(
    *,
    latitude: float,
    longitude: float,
    radius_km: int = DEFAULT_RADIUS_KM,
    certification: str = "",
    wheelchair_accessible: bool = False,
    remote_evaluation: bool = False,
    day: datetime.date | None = None,
) -> NearbySearch:
    """The directory's sites within `radius_km`, nearest first; sites at the same distance (to 100 m) in
    the order of `fair_rank` for the day. Also counts the sites within each radius of RADII_KM.

    One query reads the ids and points of the sites in the widest radius's bounding box; loading the sites
    themselves (`entries`, `results`) takes two more, for a page or for all."""
    day = day or timezone.localdate()
    widest = max(radius_km, *RADII_KM)
    box = bounding_box(latitude, longitude, widest)
    sites = _listed_sites(
        certification, wheelchair_accessible=wheelchair_accessible, remote_evaluation=remote_evaluation, on=day
    ).filter(latitude__gte=_dec(box.min_lat, ROUND_FLOOR), latitude__lte=_dec(box.max_lat, ROUND_CEILING))
    if box.crosses_antimeridian:
        sites = sites.filter(
            Q(longitude__gte=_dec(box.min_lon, ROUND_FLOOR)) | Q(longitude__lte=_dec(box.max_lon, ROUND_CEILING))
        )
    else:
        sites = sites.filter(
            longitude__gte=_dec(box.min_lon, ROUND_FLOOR), longitude__lte=_dec(box.max_lon, ROUND_CEILING)
        )
    measured = []
    for pk, site_latitude, site_longitude in sites.values_list("pk", "latitude", "longitude"):
        distance = haversine_km(latitude, longitude, float(site_latitude), float(site_longitude))
        if distance <= widest:
            measured.append((pk, distance))
    measured.sort(key=lambda item: (round(item[1] / DISTANCE_PRECISION_KM), fair_rank(item[0], day)))
    return NearbySearch(
        latitude=latitude,
        longitude=longitude,
        radius_km=radius_km,
        day=day,
        ranked=[item for item in measured if item[1] <= radius_km],
        counts_by_radius={r: sum(1 for _, distance in measured if distance <= r) for r in RADII_KM},
    )


def _dec(value: float, rounding: str) -> Decimal:
    # Site coordinates are DecimalFields with 5 decimals: compare with decimals, rounded outwards.
    return Decimal(repr(value)).quantize(Decimal("0.00001"), rounding=rounding)


def sites_in_departement(
    departement: str,
    *,
    certification: str = "",
    wheelchair_accessible: bool = False,
    remote_evaluation: bool = False,
    day: datetime.date | None = None,
) -> list[Site]:
    """The directory's sites of one département (read from the site's INSEE code), by commune then name."""
    sites = directory_sites(
        certification,
        wheelchair_accessible=wheelchair_accessible,
        remote_evaluation=remote_evaluation,
        on=day,
    ).filter(insee_code__startswith=departement)
    return sorted(sites, key=lambda s: (s.city, s.organisation.name, s.name))


class _SiteFilters(TypedDict):
    """The filters a sheet shares with the directory's searches (sites_nearby, sites_in_departement)."""

    certification: str
    wheelchair_accessible: bool
    remote_evaluation: bool
    day: datetime.date | None


def directory_sheet_entries(sheet: DirectorySheet) -> list[NearbySite]:
    """What the sheet lists: the sites of its territory that day, with their distance for a radius."""
    filters = _SiteFilters(
        certification=sheet.certification,
        wheelchair_accessible=sheet.wheelchair_accessible,
        remote_evaluation=sheet.remote_evaluation,
        day=sheet.requested_on,
    )
    if sheet.scope == SheetScope.DEPARTEMENT:
        return [NearbySite(site=s, distance_km=0.0) for s in sites_in_departement(sheet.departement, **filters)]
    commune = Commune.objects.get(insee_code=sheet.commune_insee)
    found = sites_nearby(
        latitude=commune.latitude,
        longitude=commune.longitude,
        radius_km=sheet.radius_km or DEFAULT_RADIUS_KM,
        **filters,
    )
    return found.results
