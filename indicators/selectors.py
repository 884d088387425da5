"""What the statistics show, read from the summary tables only (never a dossier or a criterion result): who sees
which territory, then the funnel, the rate at the prior evaluation, the missing domains, the delays and the
volumes per month of the facts that scope and filters keep."""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Max, Q, QuerySet, Sum

from indicators.models import (
    CUBE_ALL,
    CubeDelay,
    CubeGap,
    CubeRefresh,
    CubeRow,
    DossierFact,
    DossierFactGap,
    PriorOutcome,
    RegionalFunder,
)
from organisations.models import Membership, Organisation, OrganisationKind, Region, Role

NATION, REGION, ORGANISATION = "nation", "region", "organisation"
# Who sees an organisation's own figures: those who follow its candidates.
ORGANISATION_READERS = (Role.COUNSELLOR, Role.ORG_ADMIN)


@dataclass(frozen=True)
class Scope:
    level: str
    region: str = ""
    organisation_id: int | None = None
    name: str = ""

    def facts(self) -> QuerySet[DossierFact]:
        """The only way the statistics reach the facts: the scope's rows, before any filter."""
        rows = DossierFact.objects.all()
        if self.level == REGION:
            return rows.filter(region=self.region)
        if self.level == ORGANISATION:
            return rows.filter(organisation_id=self.organisation_id or 0)
        return rows


def scope_for(membership: Membership | None) -> Scope | None:
    """Certif'Pro the nation; the administrators of a Transitions Pro or of a Région as funder (RegionalFunder)
    their region; an evaluator organisation's administrator and counsellors their organisation; nobody else (None:
    403): not a Transitions Pro's jurors, nor the other funders (OPCO, France Travail...), who work across regions."""
    if membership is None:
        return None
    if membership.is_certifpro:
        return Scope(NATION)
    organisation = membership.organisation
    regional = organisation.kind == OrganisationKind.JURY_BODY or (
        organisation.kind == OrganisationKind.FUNDER
        and RegionalFunder.objects.filter(organisation_id=organisation.pk).exists()
    )
    if regional and membership.role == Role.ORG_ADMIN:
        return Scope(REGION, region=organisation.region, name=organisation.get_region_display())
    if organisation.kind == OrganisationKind.EVALUATOR and membership.role in ORGANISATION_READERS:
        return Scope(ORGANISATION, organisation_id=organisation.pk, name=organisation.name)
    return None


Rows = TypeVar("Rows", QuerySet[DossierFact], QuerySet[DossierFactGap])


@dataclass(frozen=True)
class Filters:
    """What the form kept (values already checked against the scope's choices)."""

    start: datetime.date | None = None
    end: datetime.date | None = None
    region: str = ""
    departement: str = ""
    organisation_id: int | None = None
    certification: str = ""
    funder_kind: str = ""
    registration_status: str = ""
    education_level: str = ""
    age_band: str = ""

    def apply(self, rows: Rows) -> Rows:
        """The facts (or their gap rows, which carry the same columns) that the filters keep."""
        if self.start:
            rows = rows.filter(opened_month__gte=self.start.replace(day=1))
        if self.end:
            rows = rows.filter(opened_month__lte=self.end.replace(day=1))
        if self.organisation_id:
            rows = rows.filter(organisation_id=self.organisation_id)
        equal = {
            name: getattr(self, name)
            for name in (
                "region",
                "departement",
                "certification",
                "funder_kind",
                "registration_status",
                "education_level",
                "age_band",
            )
            if getattr(self, name)
        }
        return rows.filter(**equal)


def organisations_in(scope: Scope) -> QuerySet[Organisation]:
    """The evaluator organisations a scope may filter on (its own only, for an organisation)."""
    rows = Organisation.objects.filter(kind=OrganisationKind.EVALUATOR).only("id", "name")
    if scope.level == REGION:
        return rows.filter(region=scope.region)
    if scope.level == ORGANISATION:
        return rows.filter(pk=scope.organisation_id or 0)
    return rows


def regions_in(scope: Scope) -> list[tuple[str, str]]:
    if scope.level == NATION:
        return sorted(Region.choices, key=lambda choice: choice[1])
    return []


# -- Percentiles ------------------------------------------------------------------------------------------------


def percentile(values: Sequence[int | float], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont: the value at rank fraction × (n − 1) of the sorted values, interpolated
    between its two neighbours. None for no value."""
    if not values:
        return None
    ordered = sorted(values)
    rank = fraction * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def percentile_of_counts(counts: Sequence[tuple[int, int]], fraction: float) -> float | None:
    """`percentile` of the values a histogram holds ((value, how many) pairs), without expanding it."""
    ordered = sorted((value, n) for value, n in counts if n > 0)
    total = sum(n for _value, n in ordered)
    if not total:
        return None
    rank = fraction * (total - 1)
    low_rank, high_rank = math.floor(rank), math.ceil(rank)
    low = high = None
    seen = 0
    for value, n in ordered:
        if low is None and low_rank < seen + n:
            low = value
        if high_rank < seen + n:
            high = value
            break
        seen += n
    if low is None or high is None:  # pragma: no cover - the ranks are below the total
        return None
    return low + (high - low) * (rank - low_rank)


class PercentilesCont(Aggregate):
    """The median and the 90th percentile of one column from a single sort (an array of the two)."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = ArrayField(FloatField())


# -- The dashboard ----------------------------------------------------------------------------------------------

# The delays, in days, between the steps (fact column, label's key).
DELAYS = (
    "days_to_prior",
    "days_to_training",
    "days_to_final",
    "days_to_jury",
    "days_jury_to_certificate",
    "days_to_certificate",
)
FUNNEL = (
    "opened",
    "prior",
    "full",
    "partial",
    "trained",
    "final",
    "jury",
    "certified",
    "withdrawn",
    "expired",
)
FUNNEL_FILTERS = {
    "opened": Q(),
    "prior": Q(prior_closed_on__isnull=False),
    "full": Q(prior_outcome=PriorOutcome.FULL),
    "partial": Q(prior_outcome=PriorOutcome.PARTIAL),
    "trained": Q(training_started_on__isnull=False),
    "final": Q(final_evaluation_on__isnull=False),
    "jury": Q(jury_on__isnull=False),
    "certified": Q(certified_on__isnull=False),
    "withdrawn": Q(withdrawn_on__isnull=False),
    "expired": Q(expired_on__isnull=False),
}
TOP_SUBDOMAINS = 10


@dataclass
class Delay:
    key: str
    count: int
    median: float | None
    p90: float | None


@dataclass
class Dashboard:
    funnel: dict[str, int]
    delays: list[Delay]
    domains: list[tuple[str, str, int]]
    subdomains: list[tuple[str, str, int]]
    months: list[tuple[datetime.date, int, int]]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def prior_rate(self) -> float | None:
        """Certified at the prior evaluation alone: validated at once among those evaluated."""
        return self.funnel["full"] / self.funnel["prior"] if self.funnel["prior"] else None


def _funnel_aggregates() -> dict[str, Any]:
    return {
        key: Count("dossier_id", filter=condition) if condition else Count("dossier_id")
        for key, condition in FUNNEL_FILTERS.items()
    }


def funnel(rows: QuerySet[DossierFact]) -> dict[str, int]:
    counts = rows.aggregate(**_funnel_aggregates())
    return {key: counts[key] or 0 for key in FUNNEL}


def _delay_aggregates() -> dict[str, Any]:
    aggregates: dict[str, Any] = {}
    for key in DELAYS:
        aggregates[f"{key}__n"] = Count(key)
        aggregates[f"{key}__p"] = PercentilesCont(F(key))
    return aggregates


def _delays_of(values: dict[str, Any]) -> list[Delay]:
    return [Delay(key, values[f"{key}__n"], *(values[f"{key}__p"] or (None, None))) for key in DELAYS]


def funnel_and_delays(rows: QuerySet[DossierFact]) -> tuple[dict[str, int], list[Delay]]:
    """The funnel's counts and the delays' percentiles in one pass over the rows on PostgreSQL (one scan instead
    of two: at the busiest organisation's 33,000 facts, the scan is most of the time)."""
    if connection.vendor != "postgresql":
        return funnel(rows), delays(rows)
    values = rows.aggregate(**_funnel_aggregates(), **_delay_aggregates())
    return {key: values[key] or 0 for key in FUNNEL}, _delays_of(values)


def delays(rows: QuerySet[DossierFact]) -> list[Delay]:
    """Median and 90th percentile of each delay: percentile_cont on PostgreSQL (both from one sort of each
    column); on SQLite, in Python over the filtered rows (the embedded mode's data sets are small)."""
    if connection.vendor == "postgresql":
        return _delays_of(rows.aggregate(**_delay_aggregates()))
    columns: dict[str, list[int]] = {key: [] for key in DELAYS}
    for row in rows.values_list(*DELAYS):
        for key, value in zip(DELAYS, row, strict=True):
            if value is not None:
                columns[key].append(value)
    return [
        Delay(key, len(values), percentile(values, 0.5), percentile(values, 0.9)) for key, values in columns.items()
    ]


def _gaps(scope: Scope, filters: Filters) -> QuerySet[DossierFactGap]:
    """The scope's gap rows, read on their own copy of the fact's scope and filters (no join to the facts)."""
    gaps = DossierFactGap.objects.all()
    if scope.level == REGION:
        gaps = gaps.filter(region=scope.region)
    elif scope.level == ORGANISATION:
        gaps = gaps.filter(organisation_id=scope.organisation_id or 0)
    return filters.apply(gaps)


def missing(gaps: QuerySet[DossierFactGap]) -> tuple[list[tuple[str, str, int]], list[tuple[str, str, int]]]:
    """The domains (each dossier once) and the sub-domains most often missing at the prior evaluation."""
    domains = (
        gaps.values("domain_code", "domain_title")
        .annotate(n=Count("fact_id", distinct=True))
        .order_by("-n", "domain_code")
    )
    subdomains = (
        gaps.values("subdomain_code", "subdomain_title").annotate(n=Count("fact_id")).order_by("-n", "subdomain_code")
    )
    return (
        [(d["domain_code"], d["domain_title"], d["n"]) for d in domains],
        [(s["subdomain_code"], s["subdomain_title"], s["n"]) for s in subdomains[:TOP_SUBDOMAINS]],
    )


def months(rows: QuerySet[DossierFact]) -> list[tuple[datetime.date, int, int]]:
    """Per month of opening: the dossiers opened, and those of them certified since."""
    per_month = (
        rows.order_by()
        .values("opened_month")
        .annotate(opened=Count("dossier_id"), certified=Count("dossier_id", filter=Q(certified_on__isnull=False)))
        .order_by("opened_month")
    )
    return [(m["opened_month"], m["opened"], m["certified"]) for m in per_month]


# -- The cube: the same figures per month, region and certification ---------------------------------------------

# Filters the cube cannot answer: they need the facts.
FACT_ONLY_FILTERS = ("departement", "organisation_id", "funder_kind")
# The person's dimensions of the cube's counts (CubeRow), each with its roll-up value CUBE_ALL.
CUBE_PERSON = ("registration_status", "education_level", "age_band")


def cube_answers(scope: Scope, filters: Filters) -> bool:
    """The nation's or a region's figures by period, region, certification, status, education level and age band:
    the cube's. An organisation's own figures, and the other filters, come from the facts."""
    return scope.level != ORGANISATION and not any(getattr(filters, name) for name in FACT_ONLY_FILTERS)


def _person_filtered(filters: Filters) -> bool:
    return any(getattr(filters, name) for name in CUBE_PERSON)


def _cube(rows: QuerySet[Any], scope: Scope, filters: Filters) -> QuerySet[Any]:
    region = scope.region if scope.level == REGION else filters.region
    if rows.model is CubeGap:
        # A region's rows (no person filter then), or the nation's (region CUBE_ALL), rolled up or not.
        rows = rows.filter(region=region or CUBE_ALL)
    elif region and rows.model is not CubeDelay:
        rows = rows.filter(region=region)
    if rows.model in (CubeRow, CubeGap):
        rows = rows.filter(**{name: getattr(filters, name) or CUBE_ALL for name in CUBE_PERSON})
    if filters.certification:
        rows = rows.filter(certification=filters.certification)
    if filters.start:
        rows = rows.filter(month__gte=filters.start.replace(day=1))
    if filters.end:
        rows = rows.filter(month__lte=filters.end.replace(day=1))
    return rows


def cube_dashboard(scope: Scope, filters: Filters) -> Dashboard:
    rows = _cube(CubeRow.objects.all(), scope, filters)
    sums = rows.aggregate(**{key: Sum(key) for key in FUNNEL})
    region = scope.region if scope.level == REGION else filters.region
    person = _person_filtered(filters)
    if region or person:
        # The delays' cube is national (per month and certification): a region's, or a status's, level's or age
        # band's, come from the facts, exact (a histogram per person and region would be as large as the facts).
        delay_rows = delays(filters.apply(scope.facts()))
    else:
        histograms: dict[str, list[tuple[int, int]]] = {key: [] for key in DELAYS}
        for row in _cube(CubeDelay.objects.all(), scope, filters).values("delay", "days").annotate(n=Sum("dossiers")):
            histograms[row["delay"]].append((row["days"], row["n"]))
        delay_rows = [
            Delay(
                key,
                sum(n for _days, n in histograms[key]),
                percentile_of_counts(histograms[key], 0.5),
                percentile_of_counts(histograms[key], 0.9),
            )
            for key in DELAYS
        ]
    domains: list[tuple[str, str, int]] = []
    subdomains: list[tuple[str, str, int]] = []
    if person and region:
        # The gaps' cube is per person for the nation only (per region too, it would be as large as the gap rows):
        # a region's, filtered by the person, come from its gap rows, which carry the person's dimensions.
        domains, subdomains = missing(_gaps(scope, filters))
    gaps = (
        _cube(CubeGap.objects.all(), scope, filters)
        .values("domain_code", "subdomain_code")
        .annotate(n=Sum("dossiers"), title=Max("title"))
        .order_by("-n", "domain_code", "subdomain_code")
    )
    for gap in [] if person and region else gaps:
        if gap["subdomain_code"]:
            subdomains.append((gap["subdomain_code"], gap["title"], gap["n"]))
        else:
            domains.append((gap["domain_code"], gap["title"], gap["n"]))
    per_month = rows.values("month").annotate(opened=Sum("opened"), certified=Sum("certified")).order_by("month")
    refreshed = CubeRefresh.objects.filter(pk=1).values_list("at", flat=True).first()
    return Dashboard(
        funnel={key: sums[key] or 0 for key in FUNNEL},
        delays=delay_rows,
        domains=domains,
        subdomains=subdomains[:TOP_SUBDOMAINS],
        months=[(m["month"], m["opened"], m["certified"]) for m in per_month],
        extra={"as_of": refreshed, "rounded_delays": not (region or person)},
    )


def dashboard(scope: Scope, filters: Filters) -> Dashboard:
    if cube_answers(scope, filters):
        return cube_dashboard(scope, filters)
    rows = filters.apply(scope.facts())
    domains, subdomains = missing(_gaps(scope, filters))
    counts, delay_rows = funnel_and_delays(rows)
    return Dashboard(funnel=counts, delays=delay_rows, domains=domains, subdomains=subdomains, months=months(rows))
