"""The monthly cube: the facts counted per month of opening, region and certification, with the delays as
histograms (exact to the day up to 60 days, then by week and by 30 days: percentiles beyond 60 days are
approximate, to half a week or 15 days) and the missing domains and sub-domains. At 1,000,000 facts the national
dashboard read from the facts takes seconds (bench/README.md); from the cube, tens of milliseconds. It is rebuilt
from the facts in one transaction (readers see the old cube or the new one, never half of one)."""

from __future__ import annotations

import datetime
import itertools
from collections import defaultdict
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from indicators.models import CUBE_ALL, CubeDelay, CubeGap, CubeRefresh, CubeRow, DossierFact, DossierFactGap
from indicators.selectors import CUBE_PERSON, DELAYS, FUNNEL, FUNNEL_FILTERS

KEY = ("opened_month", "region", "certification")
BATCH = 5000
EXACT_DAYS, WEEKLY_DAYS = 60, 365


def delay_bucket(days: int) -> int:
    """The day itself up to EXACT_DAYS; beyond, the middle of its week (up to a year) or of its 30 days."""
    if days <= EXACT_DAYS:
        return days
    if days <= WEEKLY_DAYS:
        return EXACT_DAYS + 1 + (days - EXACT_DAYS - 1) // 7 * 7 + 3
    return WEEKLY_DAYS + 1 + (days - WEEKLY_DAYS - 1) // 30 * 30 + 15


def _gaps(key: tuple[str, ...], person: tuple[str, ...]) -> list[CubeGap]:
    """The dossiers missing each domain (each dossier once) and each sub-domain, grouped by `key` and `person`."""
    domains = (
        DossierFactGap.objects.order_by()
        .values(*key, *person, "domain_code", "domain_title")
        .annotate(n=Count("fact_id", distinct=True))
    )
    subdomains = (
        DossierFactGap.objects.order_by()
        .values(*key, *person, "domain_code", "subdomain_code", "subdomain_title")
        .annotate(n=Count("fact_id"))
    )
    return [
        CubeGap(
            month=r["opened_month"],
            region=r.get("region", CUBE_ALL),
            certification=r["certification"],
            domain_code=r["domain_code"],
            subdomain_code=r.get("subdomain_code", ""),
            title=r.get("subdomain_title") or r["domain_title"],
            dossiers=r["n"],
            **{name: r[name] for name in person},
        )
        for rows in (domains, subdomains)
        for r in rows.iterator(chunk_size=BATCH)
    ]


def cube_rebuild() -> int:
    """Every cube row from the facts; returns the number of rows of counts."""
    counts = {
        key: Count("dossier_id", filter=condition) if condition else Count("dossier_id")
        for key, condition in FUNNEL_FILTERS.items()
    }
    # Per person (status, level, band), then rolled up: each of the 8 combinations of "this value or CUBE_ALL".
    rolled: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0] * len(FUNNEL))
    for r in DossierFact.objects.order_by().values(*KEY, *CUBE_PERSON).annotate(**counts).iterator(chunk_size=BATCH):
        key = tuple(r[name] for name in KEY)
        values = [r[name] for name in FUNNEL]
        for person in itertools.product(*((r[name], CUBE_ALL) for name in CUBE_PERSON)):
            sums = rolled[key + person]
            for i, value in enumerate(values):
                sums[i] += value
    rows = [
        CubeRow(
            month=key[0],
            region=key[1],
            certification=key[2],
            **dict(zip(CUBE_PERSON, key[3:], strict=True)),
            **dict(zip(FUNNEL, sums, strict=True)),
        )
        for key, sums in rolled.items()
    ]
    buckets: dict[tuple[datetime.date, str, str, int], int] = defaultdict(int)
    for delay in DELAYS:
        per_day = (
            DossierFact.objects.filter(**{f"{delay}__isnull": False})
            .order_by()
            .values("opened_month", "certification", delay)
            .annotate(n=Count("dossier_id"))
        )
        for r in per_day:
            buckets[(r["opened_month"], r["certification"], delay, delay_bucket(r[delay]))] += r["n"]
    delays = [
        CubeDelay(month=month, certification=certification, delay=delay, days=days, dossiers=n)
        for (month, certification, delay, days), n in buckets.items()
    ]
    gaps = _gaps(("opened_month", "region", "certification"), ())
    # The nation's, per person and rolled up: the counts of disjoint groups of dossiers add up.
    national: dict[tuple[Any, ...], int] = defaultdict(int)
    for gap in _gaps(("opened_month", "certification"), CUBE_PERSON):
        for person in itertools.product(*((getattr(gap, name), CUBE_ALL) for name in CUBE_PERSON)):
            key = (gap.month, gap.certification, gap.domain_code, gap.subdomain_code, gap.title, *person)
            national[key] += gap.dossiers
    gaps += [
        CubeGap(
            month=month,
            region=CUBE_ALL,
            certification=certification,
            domain_code=domain,
            subdomain_code=subdomain,
            title=title,
            dossiers=n,
            **dict(zip(CUBE_PERSON, person, strict=True)),
        )
        for (month, certification, domain, subdomain, title, *person), n in national.items()
    ]
    with transaction.atomic():
        for model in (CubeRow, CubeDelay, CubeGap):
            model.objects.all().delete()
        CubeRow.objects.bulk_create(rows, batch_size=BATCH)
        CubeDelay.objects.bulk_create(delays, batch_size=BATCH)
        CubeGap.objects.bulk_create(gaps, batch_size=BATCH)
        CubeRefresh.objects.update_or_create(pk=1, defaults={"at": timezone.now()})
    return len(rows)
