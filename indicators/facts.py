"""How a dossier becomes a fact row: the day it reached each step (read from its timeline), its bands, its
organisation's territory, its funder, and the sub-domains its prior evaluation left to acquire.

One function builds the rows of a batch of dossiers (`_build`); the event receivers refresh one dossier with it
in the step's own transaction, and the nightly rebuild walks every dossier with it, so both always agree."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from django.db import transaction
from django.utils import timezone

from candidates.models import Dossier, DossierEvent, DossierState
from evaluations.models import Evaluation, EvaluationKind, EvaluationStatus
from funding.models import FundingLine, LineState
from indicators.models import AgeBand, DossierFact, DossierFactGap, PriorOutcome
from organisations.models import Site

S = DossierState
BATCH = 2000
FACT_FIELDS = [f.name for f in DossierFact._meta.concrete_fields if f.name not in ("dossier_id", "refreshed_at")]


def age_band(birth_date: datetime.date, on: datetime.date) -> str:
    age = on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
    if age < 26:
        return AgeBand.UNDER_26
    if age < 45:
        return AgeBand.FROM_26_TO_44
    if age < 55:
        return AgeBand.FROM_45_TO_54
    return AgeBand.FROM_55


def _days(start: datetime.date | None, end: datetime.date | None) -> int | None:
    """Days from `start` to `end`, never negative (a revoked decision may put a step back before another)."""
    return max((end - start).days, 0) if start and end else None


@dataclass
class _Steps:
    opened_on: datetime.date | None = None
    prior_closed_on: datetime.date | None = None
    prior_outcome: str = ""
    training_started_on: datetime.date | None = None
    final_evaluation_on: datetime.date | None = None
    # The last submission to a jury (before the award, once certified) and the close of the last evaluation
    # before it: a deferred dossier is submitted again after another final evaluation, and its delays are those
    # of the submission that led to the decision, never the first one.
    jury_on: datetime.date | None = None
    evaluation_closed_on: datetime.date | None = None
    certified_on: datetime.date | None = None
    deferred: bool = False
    # The day the dossier reached each step, the last time it did. Only events that change the step count: a
    # correction of the candidate or a note on the timeline leaves `to_state` empty or equal to `from_state`.
    arrived: dict[str, datetime.date] = field(default_factory=dict)


EVALUATION_CLOSES = ("close_prior_evaluation", "close_final_evaluation")


class _Event(Protocol):
    """What the steps read of a timeline event: a `DossierEvent` or one of its rows as values."""

    at: datetime.datetime
    transition: str
    from_state: str
    to_state: str


def _steps(events: Iterable[_Event]) -> _Steps:
    """The first day each step was reached, in the order of the timeline; the jury's delays from the last
    submission (see `_Steps`)."""
    steps = _Steps()
    last_close: datetime.date | None = None
    submission: tuple[datetime.date | None, datetime.date | None] = (None, None)
    award: tuple[datetime.date | None, datetime.date | None] | None = None
    for event in events:
        if not event.to_state or event.to_state == event.from_state:
            continue
        day = timezone.localdate(event.at)
        steps.arrived[event.to_state] = day
        if event.transition in EVALUATION_CLOSES:
            last_close = day
        if event.to_state == S.OPENED and steps.opened_on is None:
            steps.opened_on = day
        elif event.transition == "close_prior_evaluation" and steps.prior_closed_on is None:
            steps.prior_closed_on = day
            steps.prior_outcome = PriorOutcome.FULL if event.to_state == S.READY_FOR_JURY else PriorOutcome.PARTIAL
        elif event.to_state == S.IN_TRAINING and steps.training_started_on is None:
            steps.training_started_on = day
        elif event.to_state == S.FINAL_EVALUATION and steps.final_evaluation_on is None:
            steps.final_evaluation_on = day
        elif event.to_state == S.SUBMITTED_TO_JURY:
            submission = (day, last_close)
        elif event.to_state == S.CERTIFIED:
            steps.certified_on = day
            award = submission
        if event.transition == "defer":
            steps.deferred = True
    steps.jury_on, steps.evaluation_closed_on = award or submission
    return steps


def _departements(organisation_ids: set[int]) -> dict[int, str]:
    """Each organisation's département: that of its first site (its seat, as created first)."""
    found: dict[int, str] = {}
    for site in Site.objects.filter(organisation_id__in=organisation_ids).order_by("organisation_id", "id"):
        found.setdefault(site.organisation_id, site.departement)
    return found


def _build(dossiers: list[Dossier]) -> tuple[list[DossierFact], list[DossierFactGap]]:
    """The fact rows (and gap rows) of the opened dossiers among `dossiers` (candidate selected): 5 queries."""
    ids = [d.pk for d in dossiers]
    # Named rows, not model instances: a batch reads about 15,000 events, and building instances was a third of
    # the rebuild's time at 1,000,000 dossiers (bench/README.md, section 1).
    events: dict[int, list[_Event]] = defaultdict(list)
    for event in (
        DossierEvent.objects.filter(dossier_id__in=ids)
        .order_by("at", "id")
        .values_list("dossier_id", "at", "transition", "from_state", "to_state", named=True)
    ):
        events[event.dossier_id].append(event)
    funders: dict[int, str] = {}
    lines = (
        FundingLine.objects.filter(dossier_id__in=ids)
        .exclude(state__in=[LineState.CANCELLED, LineState.REFUSED])
        .order_by("id")
        .values_list("dossier_id", "funder__kind")
    )
    for dossier_id, kind in lines:
        funders.setdefault(dossier_id, kind)
    priors: dict[int, dict] = {}
    evaluations = (
        Evaluation.objects.filter(dossier_id__in=ids, kind=EvaluationKind.PRIOR, status=EvaluationStatus.CLOSED)
        .order_by("closed_at", "id")
        .values_list("dossier_id", "outcome")
    )
    for dossier_id, outcome in evaluations:
        priors.setdefault(dossier_id, outcome or {})
    departements = _departements({d.organisation_id for d in dossiers})
    # The age band is frozen when the fact is first written: anonymisation truncates the birth date to the 1st
    # of January, and a correction may change it, but the dossier was opened at the age it was.
    frozen = dict(
        DossierFact.objects.filter(dossier_id__in=ids).exclude(age_band="").values_list("dossier_id", "age_band")
    )
    facts: list[DossierFact] = []
    gaps: list[DossierFactGap] = []
    for dossier in dossiers:
        steps = _steps(events[dossier.pk])
        if steps.opened_on is None:
            continue
        candidate = dossier.candidate
        certified_on = steps.arrived.get(S.CERTIFIED) if dossier.state == S.CERTIFIED else None
        fact = DossierFact(
            dossier_id=dossier.pk,
            organisation_id=dossier.organisation_id,
            region=dossier.organisation.region,
            departement=departements.get(dossier.organisation_id, ""),
            certification=dossier.certification,
            funder_kind=funders.get(dossier.pk, ""),
            registration_status=candidate.registration_status,
            education_level=candidate.education_level,
            age_band=frozen.get(dossier.pk) or age_band(candidate.birth_date, steps.opened_on),
            opened_month=steps.opened_on.replace(day=1),
            opened_on=steps.opened_on,
            prior_closed_on=steps.prior_closed_on,
            prior_outcome=steps.prior_outcome,
            training_started_on=steps.training_started_on,
            final_evaluation_on=steps.final_evaluation_on,
            jury_on=steps.jury_on,
            certified_on=certified_on,
            withdrawn_on=steps.arrived.get(S.WITHDRAWN) if dossier.state == S.WITHDRAWN else None,
            expired_on=steps.arrived.get(S.EXPIRED) if dossier.state == S.EXPIRED else None,
            deferred=steps.deferred,
            days_to_prior=_days(steps.opened_on, steps.prior_closed_on),
            days_to_training=_days(steps.prior_closed_on, steps.training_started_on),
            days_to_final=_days(steps.training_started_on, steps.final_evaluation_on),
            days_to_jury=_days(steps.evaluation_closed_on, steps.jury_on),
            days_jury_to_certificate=_days(steps.jury_on, certified_on),
            days_to_certificate=_days(steps.opened_on, certified_on),
        )
        facts.append(fact)
        for domain in priors.get(dossier.pk, {}).get("domains", []):
            for sub in domain.get("subdomains", []):
                if not sub.get("validated"):
                    gaps.append(
                        DossierFactGap(
                            fact_id=dossier.pk,
                            organisation_id=fact.organisation_id,
                            region=fact.region,
                            certification=fact.certification,
                            opened_month=fact.opened_month,
                            departement=fact.departement,
                            funder_kind=fact.funder_kind,
                            registration_status=fact.registration_status,
                            education_level=fact.education_level,
                            age_band=fact.age_band,
                            domain_code=domain["code"],
                            domain_title=domain["title"][:255],
                            subdomain_code=sub["code"],
                            subdomain_title=sub["title"][:255],
                        )
                    )
    return facts, gaps


def _store(ids: list[int], facts: list[DossierFact], gaps: list[DossierFactGap]) -> None:
    """Replace the rows of the dossiers `ids`: upserted facts, their gaps written again, the others deleted."""
    kept = {f.dossier_id for f in facts}
    DossierFact.objects.filter(dossier_id__in=[i for i in ids if i not in kept]).delete()
    DossierFact.objects.bulk_create(
        facts, update_conflicts=True, unique_fields=["dossier_id"], update_fields=[*FACT_FIELDS, "refreshed_at"]
    )
    DossierFactGap.objects.filter(fact_id__in=kept).delete()
    DossierFactGap.objects.bulk_create(gaps)


def _dossiers() -> Iterator[list[Dossier]]:
    rows = Dossier.objects.select_related("candidate", "organisation").only(
        "id",
        "state",
        "certification",
        "organisation_id",
        "organisation__region",
        "candidate__registration_status",
        "candidate__education_level",
        "candidate__birth_date",
    )
    last = 0
    while batch := list(rows.filter(pk__gt=last).order_by("pk")[:BATCH]):
        yield batch
        last = batch[-1].pk


def fact_refresh(dossier_id: int) -> DossierFact | None:
    """The fact row of one dossier, as its tables say now (deleted if it was never opened)."""
    dossiers = list(Dossier.objects.select_related("candidate", "organisation").filter(pk=dossier_id))
    facts, gaps = _build(dossiers)
    with transaction.atomic():
        _store([dossier_id], facts, gaps)
    return facts[0] if facts else None


def facts_rebuild() -> int:
    """Every fact from the journey's tables, batch by batch; the rows of dossiers gone are deleted. Idempotent:
    a second run writes the same rows. Returns the number of facts."""
    seen: set[int] = set()
    count = 0
    for batch in _dossiers():
        facts, gaps = _build(batch)
        with transaction.atomic():
            _store([d.pk for d in batch], facts, gaps)
        seen.update(d.pk for d in batch)
        count += len(facts)
    # Facts of dossiers deleted since (privacy deletes some): gone too.
    stale = sorted(set(DossierFact.objects.values_list("dossier_id", flat=True)) - seen)
    for chunk in _chunks(stale):
        DossierFact.objects.filter(dossier_id__in=chunk).delete()
    return count


def _chunks(ids: list[int], size: int = BATCH) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]
