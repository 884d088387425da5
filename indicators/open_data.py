"""The public monthly figures: per month of opening, the nation and each region, the funnel's counts. Small
counts identify people, so a cell under SMALL_CELL people is suppressed (left empty), and so is what would give
it back (secondary disclosure):
- a region's cell is the nation's minus the other regions': while the hidden cells of a month's measure sum to
  fewer than SMALL_CELL people, the smallest other published region is hidden too (complementary suppression), so
  the nation's figure minus the published regions never gives a group of fewer than SMALL_CELL;
- "validated at once" + "validated in part" = "prior evaluation": when one of the two is hidden, so is the other.
The nation's cells are published as they are (over 11, they are the sum of many regions).

Only closed months are published (opened before the month before this one): the current months' counts change by
the hour, and two successive files would give the one person who arrived in between. A closed month's later steps
(certified since...) still grow, by cohorts that the suppression above applies to."""

from __future__ import annotations

import datetime
from collections import defaultdict
from typing import Any

from django.db.models import Sum
from django.utils import timezone

from indicators.models import CUBE_ALL, CubeRow
from indicators.selectors import FUNNEL
from organisations.models import Region

SMALL_CELL = 11
NATIONAL = "FR"
Cell = int | None


def first_open_month(today: datetime.date | None = None) -> datetime.date:
    """The first month not published yet: the previous one (ended less than a month ago) and the current one."""
    today = today or timezone.localdate()
    return (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def _counts(group: tuple[str, ...]) -> list[dict[str, Any]]:
    """Read from the monthly cube (indicators/cube.py), as recounted every 10 minutes; closed months only."""
    aggregates = {key: Sum(key) for key in FUNNEL}
    # The roll-up rows only (every status, level and band): the detailed ones would count each dossier again.
    rows = CubeRow.objects.filter(
        month__lt=first_open_month(), registration_status=CUBE_ALL, education_level=CUBE_ALL, age_band=CUBE_ALL
    )
    return list(rows.order_by().values(*group).annotate(**aggregates).order_by(*group))


def _suppress_pairs(cells: dict[str, Cell]) -> None:
    if (cells["full"] is None) != (cells["partial"] is None):
        cells["full"] = cells["partial"] = None


def monthly_national() -> list[tuple[datetime.date, dict[str, Cell]]]:
    rows = []
    for row in _counts(("month",)):
        cells: dict[str, Cell] = {key: row[key] if row[key] >= SMALL_CELL or row[key] == 0 else None for key in FUNNEL}
        _suppress_pairs(cells)
        rows.append((row["month"], cells))
    return rows


def monthly_regional() -> list[tuple[datetime.date, str, dict[str, Cell]]]:
    by_month: dict[datetime.date, dict[str, dict[str, int]]] = defaultdict(dict)
    for row in _counts(("month", "region")):
        by_month[row["month"]][row["region"]] = {key: row[key] for key in FUNNEL}
    result = []
    for month in sorted(by_month):
        regions = by_month[month]
        cells = {
            region: {key: n if n >= SMALL_CELL or n == 0 else None for key, n in values.items()}
            for region, values in regions.items()
        }
        # Until nothing more is hidden: hiding a complement may break a pair, and a pair a region's total.
        changed = True
        while changed:
            before = sum(v is None for c in cells.values() for v in c.values())
            for region_cells in cells.values():
                _suppress_pairs(region_cells)
            for key in FUNNEL:
                shown = sorted((regions[r][key], r) for r in cells if cells[r][key] is not None and regions[r][key])
                hidden = sum(regions[r][key] for r in cells if cells[r][key] is None)
                while 0 < hidden < SMALL_CELL and shown:
                    count, region = shown.pop(0)
                    cells[region][key] = None
                    hidden += count
            changed = sum(v is None for c in cells.values() for v in c.values()) != before
        for region in sorted(cells):
            result.append((month, region, cells[region]))
    return result


def region_name(code: str) -> str:
    return str(Region(code).label) if code in Region.values else code
