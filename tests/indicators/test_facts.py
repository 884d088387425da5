"""The facts follow the journey's steps as they happen, and the nightly rebuild writes the same rows."""

from __future__ import annotations

import pytest
from django.forms.models import model_to_dict

from candidates.services import dossier_withdraw
from indicators.cube import cube_rebuild, delay_bucket
from indicators.facts import age_band, fact_refresh, facts_rebuild
from indicators.models import AgeBand, DossierFact, DossierFactGap, PriorOutcome
from indicators.selectors import (
    NATION,
    REGION,
    Filters,
    Scope,
    _gaps,
    cube_answers,
    cube_dashboard,
    delays,
    funnel,
    missing,
    months,
    percentile,
    percentile_of_counts,
)
from tests.factories import OrganisationFactory
from tests.journey import DossierFactory
from tests.shared import shared_rows

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with shared_rows(django_db_blocker):
        organisation = OrganisationFactory()
        rows = {
            "full": DossierFactory(organisation=organisation, state="ready_for_jury"),
            "training": DossierFactory(organisation=organisation, state="in_training"),
            "information": DossierFactory(organisation=organisation, state="information"),
        }
        # The steps' refreshes wait for a commit that the shared rows' transaction never makes.
        facts_rebuild()
        yield rows


def snapshot() -> tuple[list[dict], list[tuple]]:
    facts = [model_to_dict(f, exclude=["refreshed_at"]) for f in DossierFact.objects.order_by("dossier_id")]
    gaps = list(DossierFactGap.objects.order_by("fact_id", "subdomain_code").values_list("fact_id", "subdomain_code"))
    return facts, gaps


def test_each_step_writes_the_fact_once_committed(world, django_capture_on_commit_callbacks):
    full, training = world["full"], world["training"]
    fact = DossierFact.objects.get(dossier_id=full.pk)
    assert fact.prior_outcome == PriorOutcome.FULL
    assert fact.days_to_prior == 0 and fact.training_started_on is None
    fact = DossierFact.objects.get(dossier_id=training.pk)
    assert fact.prior_outcome == PriorOutcome.PARTIAL and fact.training_started_on is not None
    assert fact.region == training.organisation.region and fact.certification == training.certification
    # The sub-domains left to acquire at the prior evaluation, none for the dossier validated at once.
    assert DossierFactGap.objects.filter(fact_id=training.pk).exists()
    assert not DossierFactGap.objects.filter(fact_id=full.pk).exists()
    # A dossier still at the information step is not counted.
    assert not DossierFact.objects.filter(dossier_id=world["information"].pk).exists()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        dossier_withdraw(dossier=training, by=training.team.counsellor, reason="Déménagement")
    assert DossierFact.objects.get(dossier_id=training.pk).withdrawn_on is None
    for callback in callbacks:
        callback()
    assert DossierFact.objects.get(dossier_id=training.pk).withdrawn_on is not None


def test_a_failing_refresh_never_undoes_the_step_and_a_deleted_dossier_takes_its_fact(
    world, django_capture_on_commit_callbacks, caplog, monkeypatch
):
    from candidates.models import Dossier

    def broken(dossier_id: int) -> None:
        raise RuntimeError("the statistics' database is away")

    training = world["training"]
    monkeypatch.setattr("indicators.receivers.fact_refresh", broken)
    with django_capture_on_commit_callbacks(execute=True):
        dossier_withdraw(dossier=training, by=training.team.counsellor, reason="Déménagement")
    assert Dossier.objects.get(pk=training.pk).state == "withdrawn"
    assert "not refreshed" in caplog.text

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        opened = DossierFactory(organisation=training.organisation, state="opened")
    assert DossierFact.objects.filter(dossier_id=opened.pk).exists()
    opened.delete()
    assert not DossierFact.objects.filter(dossier_id=opened.pk).exists()


def test_the_rebuild_writes_what_the_steps_wrote_and_twice_the_same(world):
    incremental = snapshot()
    DossierFact.objects.filter(dossier_id=world["full"].pk).update(certification="clea_management")
    DossierFact.objects.create(
        dossier_id=10**9,
        organisation=world["full"].organisation,
        **{
            "region": "11",
            "certification": "clea",
            "opened_month": "2026-01-01",
            "opened_on": "2026-01-05",
        },
    )
    assert facts_rebuild() == 2
    assert snapshot() == incremental
    facts_rebuild()
    assert snapshot() == incremental


def test_the_cube_gives_the_facts_figures(world):
    fact = DossierFact.objects.get(dossier_id=world["training"].pk)
    # The other dossier in another age band: the person's filters then keep one of the two.
    other = AgeBand.FROM_55 if fact.age_band != AgeBand.FROM_55 else AgeBand.UNDER_26
    DossierFact.objects.exclude(pk=fact.pk).update(age_band=other)
    DossierFactGap.objects.exclude(fact=fact).update(age_band=other)
    cube_rebuild()
    region = world["full"].organisation.region
    person = {"registration_status": fact.registration_status, "age_band": fact.age_band}
    for scope, filters, opened in (
        (Scope(NATION), Filters(), 2),
        (Scope(NATION), Filters(certification="clea", region=region), 2),
        # The person's status, level and band: from the cube's detailed and rolled-up rows.
        (Scope(NATION), Filters(**person), 1),
        (Scope(REGION, region=region), Filters(education_level=fact.education_level, **person), 1),
        (Scope(NATION), Filters(age_band="x"), 0),
    ):
        assert cube_answers(scope, filters)
        from_cube = cube_dashboard(scope, filters)
        rows = filters.apply(scope.facts())
        assert from_cube.funnel == funnel(rows)
        assert from_cube.funnel["opened"] == opened
        assert from_cube.delays == delays(rows)
        # The gaps read on their own copy of the scope, and through the facts: the same.
        through_facts = DossierFactGap.objects.filter(fact__in=rows.values("dossier_id"))
        assert (from_cube.domains, from_cube.subdomains) == missing(_gaps(scope, filters))
        assert missing(through_facts) == missing(_gaps(scope, filters))
        assert from_cube.months == months(rows)
    assert missing(_gaps(Scope(NATION), Filters(**person))) != ([], [])
    # The filters only the facts answer: the gap rows carry them too, and give what a join to the facts gives.
    for filters in (
        Filters(registration_status=fact.registration_status, age_band=fact.age_band),
        Filters(age_band="x"),
    ):
        through_facts = DossierFactGap.objects.filter(
            fact__in=filters.apply(Scope(NATION).facts()).values("dossier_id")
        )
        assert missing(_gaps(Scope(NATION), filters)) == missing(through_facts)
    assert missing(_gaps(Scope(NATION), Filters(registration_status=fact.registration_status))) != ([], [])


def test_percentiles_are_postgresqls_percentile_cont():
    assert percentile([], 0.5) is None
    assert percentile([7], 0.9) == 7
    assert percentile([4, 1, 3, 2], 0.5) == 2.5
    assert percentile([1, 2, 3, 4], 0.9) == pytest.approx(3.7)
    assert percentile(list(range(11)), 0.9) == 9
    values = [3, 3, 3, 8, 10, 10, 41]
    counts = [(3, 3), (8, 1), (10, 2), (41, 1), (99, 0)]
    for fraction in (0, 0.1, 0.5, 0.75, 0.9, 1):
        assert percentile_of_counts(counts, fraction) == pytest.approx(percentile(values, fraction))
    assert percentile_of_counts([], 0.5) is None


def test_national_delays_are_exact_to_60_days_then_by_week_then_by_30_days():
    assert [delay_bucket(d) for d in (0, 60, 61, 67, 68, 365, 366, 395, 396)] == [0, 60, 64, 64, 71, 365, 381, 381, 411]


def test_age_bands_at_the_opening():
    import datetime

    on = datetime.date(2026, 6, 1)
    assert age_band(datetime.date(2000, 6, 2), on) == AgeBand.UNDER_26
    assert age_band(datetime.date(2000, 6, 1), on) == AgeBand.FROM_26_TO_44
    assert age_band(datetime.date(1971, 6, 2), on) == AgeBand.FROM_45_TO_54
    assert age_band(datetime.date(1971, 6, 1), on) == AgeBand.FROM_55


def _timeline(dossier, state, steps):
    """Replace the dossier's timeline by `steps` (day offset, transition, from, to) and set its step."""
    import datetime

    from candidates.models import Dossier, DossierEvent

    start = datetime.datetime(2026, 3, 2, 10, tzinfo=datetime.UTC)
    DossierEvent.objects.filter(dossier=dossier).delete()
    DossierEvent.objects.bulk_create(
        DossierEvent(dossier=dossier, at=start + datetime.timedelta(days=d), transition=t, from_state=a, to_state=b)
        for d, t, a, b in steps
    )
    Dossier.objects.filter(pk=dossier.pk).update(state=state)
    return start.date()


def test_a_step_arrives_only_with_an_event_that_changes_it(world):
    import datetime

    dossier = world["full"]
    start = _timeline(
        dossier,
        "withdrawn",
        [
            (0, "open", "information", "opened"),
            (1, "withdraw", "opened", "withdrawn"),
            (41, "candidate_correct", "", ""),
            (45, "note", "withdrawn", "withdrawn"),
        ],
    )
    fact_refresh(dossier.pk)
    incremental = snapshot()
    assert DossierFact.objects.get(dossier_id=dossier.pk).withdrawn_on == start + datetime.timedelta(days=1)
    facts_rebuild()
    assert snapshot() == incremental


def test_a_deferred_dossier_counts_the_delays_of_the_submission_that_led_to_its_certificate(world):
    import datetime

    dossier = world["full"]
    start = _timeline(
        dossier,
        "certified",
        [
            (0, "open", "information", "opened"),
            (1, "start_prior_evaluation", "opened", "prior_evaluation"),
            (2, "close_prior_evaluation", "prior_evaluation", "partially_validated"),
            (3, "start_training", "partially_validated", "in_training"),
            (10, "start_final_evaluation", "in_training", "final_evaluation"),
            (20, "close_final_evaluation", "final_evaluation", "ready_for_jury"),
            (25, "submit_to_jury", "ready_for_jury", "submitted_to_jury"),
            (40, "defer", "submitted_to_jury", "partially_validated"),
            (41, "start_training", "partially_validated", "in_training"),
            (50, "start_final_evaluation", "in_training", "final_evaluation"),
            (60, "close_final_evaluation", "final_evaluation", "ready_for_jury"),
            (62, "submit_to_jury", "ready_for_jury", "submitted_to_jury"),
            (64, "award", "submitted_to_jury", "certified"),
        ],
    )
    fact = fact_refresh(dossier.pk)
    assert fact is not None and fact.deferred
    assert fact.jury_on == start + datetime.timedelta(days=62)
    assert (fact.days_to_jury, fact.days_jury_to_certificate, fact.days_to_certificate) == (2, 2, 64)
    assert fact.final_evaluation_on == start + datetime.timedelta(days=10)


def test_the_age_band_is_frozen_when_the_fact_is_first_written(world):
    import datetime

    from candidates.models import Candidate

    dossier = world["training"]
    fact = DossierFact.objects.get(dossier_id=dossier.pk)
    # Anonymisation truncates the birth date to the 1st of January (privacy.services), a year's shift at most.
    younger = datetime.date(fact.opened_on.year - 20, 1, 1)
    Candidate.objects.filter(pk=dossier.candidate_id).update(birth_date=younger)
    assert age_band(younger, fact.opened_on) != fact.age_band
    fact_refresh(dossier.pk)
    facts_rebuild()
    assert DossierFact.objects.get(dossier_id=dossier.pk).age_band == fact.age_band
