import datetime
import io
from collections import Counter

import pytest
from django.db import connection, transaction
from django.db.models import Count
from django.urls import reverse

from bench import national_dataset
from bench.national_dataset import DatasetRefused, run
from candidates.models import Dossier, DossierEvent
from candidates.models import DossierState as S
from directory.models import Commune
from evaluations.acquisitions import dossier_outcome
from evaluations.models import CriterionResult, Evaluation
from funding.models import FeeEntry, FeeKind, FundingLine, LineState, Tariff
from juries.models import Certificate, Decision
from organisations.models import Membership, Organisation, OrganisationKind, Role
from referrals.models import Referral
from training.models import TrainingPlan

TODAY = datetime.date(2026, 11, 23)
# (INSEE code, name, département, region, population, latitude, longitude)
COMMUNES = [
    ("75056", "Paris", "75", "11", 2_100_000, 48.8566, 2.3522),
    ("13055", "Marseille", "13", "93", 870_000, 43.2965, 5.3698),
    ("69123", "Lyon", "69", "84", 520_000, 45.7640, 4.8357),
    ("31555", "Toulouse", "31", "76", 500_000, 43.6047, 1.4442),
    ("59350", "Lille", "59", "32", 236_000, 50.6292, 3.0573),
    ("35238", "Rennes", "35", "53", 222_000, 48.1173, -1.6778),
    ("67482", "Strasbourg", "67", "44", 290_000, 48.5734, 7.7521),
    ("33063", "Bordeaux", "33", "75", 260_000, 44.8378, -0.5792),
]


@pytest.fixture
def communes(db):
    Commune.objects.bulk_create(
        Commune(
            insee_code=code,
            name=name,
            name_folded=name.lower(),
            departement=dep,
            departement_name=dep,
            region=region,
            region_name=region,
            postcodes=f"{dep}000",
            population=population,
            latitude=lat,
            longitude=lng,
        )
        for code, name, dep, region, population, lat, lng in COMMUNES
    )


def generate(dossiers: int = 60, seed: int = 7, *extra: str) -> str:
    out = io.StringIO()
    args = ["--dossiers", str(dossiers), "--seed", str(seed), "--today", TODAY.isoformat()]
    args += ["--organisations", "5", "--sites-per-organisation", "2", "--training-organisations", "2"]
    if connection.vendor != "postgresql":
        args.append("--allow-sqlite")
    run([*args, *extra], stdout=out)
    return out.getvalue()


def snapshot() -> tuple[list[tuple[str, str]], dict[str, object]]:
    return (
        list(Dossier.objects.order_by("reference").values_list("reference", "state")),
        {
            "evaluations": Evaluation.objects.count(),
            "results": CriterionResult.objects.count(),
            "certificates": Certificate.objects.count(),
            # The other certifications, the jury's decisions (deferrals) and the referrals are drawn too.
            "certifications": sorted(Counter(Dossier.objects.values_list("certification", flat=True)).items()),
            "decisions": sorted(Counter(Decision.objects.values_list("kind", flat=True)).items()),
            "referrals": sorted(Referral.objects.values_list("state", "sent_at", "dossier__reference")),
        },
    )


def test_dataset_has_plausible_proportions_and_consistent_dossiers(communes):
    output = generate(dossiers=120)

    assert "Terminé" in output
    assert Organisation.objects.filter(kind=OrganisationKind.EVALUATOR).count() == 5
    assert Dossier.objects.count() == 120
    states = Counter(Dossier.objects.values_list("state", flat=True))
    # Five years of dossiers: most are finished, and certified is the most common ending.
    assert states[S.CERTIFIED] > 120 * 0.4
    assert states[S.WITHDRAWN] + states[S.EXPIRED] > 0
    assert sum(states[s] for s in (S.INFORMATION, S.OPENED, S.PRIOR_EVALUATION)) < 120 * 0.2
    # A prior evaluation records every criterion of the CléA référentiel.
    prior = Evaluation.objects.filter(kind="prior", status="closed").first()
    assert prior.results.count() == prior.dossier.referentiel.criteria().count()
    # About a quarter validate every domain at the prior evaluation.
    priors = [e.outcome["all_validated"] for e in Evaluation.objects.filter(kind="prior", status="closed")]
    assert 0.1 * len(priors) < sum(priors) < 0.45 * len(priors)

    for evaluation in Evaluation.objects.filter(kind="prior", status="closed").select_related("dossier")[:20]:
        assert evaluation.dossier.window_starts_on == evaluation.ended_on >= evaluation.started_on
    for evaluation in Evaluation.objects.filter(status="draft"):
        assert set(evaluation.results.values_list("result", flat=True)) == {"not_assessed"}
    for dossier in Dossier.objects.filter(state__in=[S.READY_FOR_JURY, S.CERTIFIED])[:15]:
        assert dossier_outcome(dossier).all_validated, dossier.reference
    for dossier in Dossier.objects.filter(state=S.EXPIRED):
        assert dossier.deadline < TODAY
    for dossier in Dossier.objects.exclude(window_starts_on=None)[:20]:
        assert dossier.deadline == dossier.window_starts_on.replace(year=dossier.window_starts_on.year + 5)
    for certificate in Certificate.objects.select_related("dossier"):
        assert certificate.dossier.state == S.CERTIFIED
    assert Certificate.objects.values("verification_code").distinct().count() == Certificate.objects.count()
    # As the pages, the verification and the fees see them: issued, with a file name and its SHA-256.
    assert Certificate.objects.produced().count() == Certificate.objects.count()


def test_dataset_funds_each_step_and_records_the_fees_the_services_would(communes):
    generate(dossiers=120)
    evaluations = Evaluation.objects.all()
    # One funding line per evaluation step (and per training plan), in the services' shapes.
    assert FundingLine.objects.filter(step__in=["prior_evaluation", "final_evaluation"]).count() == evaluations.count()
    assert FundingLine.objects.filter(step="training").count() == TrainingPlan.objects.count()
    states = Counter(FundingLine.objects.values_list("state", flat=True))
    assert states[LineState.PAID] > 0 and states[LineState.GRANTED] + states[LineState.REQUESTED] > 0
    for line in FundingLine.objects.filter(state__in=[LineState.INVOICED, LineState.PAID]):
        assert line.service_date is not None and line.invoiced_on >= line.service_date
        assert line.invoiced_cents <= line.granted_cents
    # Fees: once per closed prior evaluation and per certificate, at the tariff in force that day, for the
    # certifications that have such a tariff (CléA numérique has no prior evaluation fee, CléA management none).
    closed_priors = evaluations.filter(kind="prior", status="closed", dossier__certification="clea")
    assert set(FeeEntry.objects.filter(kind=FeeKind.PRIOR_EVALUATION).values_list("evaluation", flat=True)) == set(
        closed_priors.values_list("id", flat=True)
    )
    with_tariff = Tariff.objects.filter(kind=FeeKind.CERTIFICATE).values("certification")
    certificates = Certificate.objects.filter(certification__in=with_tariff)
    assert FeeEntry.objects.filter(kind=FeeKind.CERTIFICATE).count() == certificates.count()
    for entry in FeeEntry.objects.filter(kind=FeeKind.CERTIFICATE).select_related("certificate")[:10]:
        in_force = Tariff.objects.in_force(
            certification=entry.certificate.certification, kind=FeeKind.CERTIFICATE, on=entry.occurred_on
        )
        assert (entry.tariff, entry.occurred_on) == (in_force, entry.certificate.awarded_on)


def test_same_seed_gives_the_same_dataset(communes):
    runs = []
    for _ in range(2):
        savepoint = transaction.savepoint()
        generate(seed=3)
        runs.append(snapshot())
        transaction.savepoint_rollback(savepoint)

    assert runs[0] == runs[1]
    assert len(runs[0][0]) == 60


def test_a_second_run_is_refused_without_force(communes):
    generate(dossiers=10)

    with pytest.raises(DatasetRefused, match="déjà des dossiers"):
        generate(dossiers=10)


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the refusal concerns SQLite")
def test_sqlite_is_refused_without_the_explicit_option(communes):
    with pytest.raises(DatasetRefused, match="PostgreSQL"):
        run(["--dossiers", "1"], stdout=io.StringIO())


def test_counsellor_pages_work_on_the_generated_data(communes, client_for):
    generate(dossiers=80)
    busiest = Dossier.objects.values("organisation").order_by().annotate(n=Count("id"))
    organisation_id = max(busiest, key=lambda row: row["n"])["organisation"]
    counsellor = Membership.objects.get(
        organisation_id=organisation_id, role=Role.COUNSELLOR, user__email__startswith="counsellor1."
    )
    client = client_for(counsellor)

    response = client.get(reverse("candidates:dossier_list"))

    assert response.status_code == 200
    dossier = Dossier.objects.filter(organisation_id=organisation_id).first()
    assert client.get(reverse("journey:dossier_detail", args=[dossier.pk])).status_code == 200


def test_writing_the_rows_in_batches_gives_the_same_rows_and_ids(communes, monkeypatch):
    def rows() -> dict[str, list[tuple]]:
        # The ids these tables' sequences give, counted from the first, and criteria by code: a rollback does not
        # rewind a sequence (the référentiels loaded again get new ids).
        def numbered(queryset, *names: str) -> list[tuple]:
            values = list(queryset.order_by("id").values_list("id", *names))
            return [(row[0] - values[0][0], *row[1:]) for row in values]

        return {
            "events": numbered(DossierEvent.objects, "dossier", "at", "to_state"),
            "results": numbered(CriterionResult.objects, "evaluation", "criterion__code", "result"),
            "lines": numbered(FundingLine.objects, "dossier", "step", "state"),
            "fees": numbered(FeeEntry.objects, "source", "amount_cents"),
        }

    runs = []
    for flush_every in (national_dataset.FLUSH_EVERY_RESULTS, 300):
        monkeypatch.setattr(national_dataset, "FLUSH_EVERY_RESULTS", flush_every)
        savepoint = transaction.savepoint()
        # The base phase alone: it is the one that writes in batches.
        generate(30, 5, *(["--no-extras"] if connection.vendor == "postgresql" else []))
        runs.append((snapshot(), rows()))
        transaction.savepoint_rollback(savepoint)

    assert runs[0][0] == runs[1][0]
    for name, rows_of_first_run in runs[0][1].items():
        assert rows_of_first_run == runs[1][1][name], name
    assert len(runs[0][1]["results"]) > 3 * 300


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the keys and indexes are rebuilt on PostgreSQL only")
def test_the_keys_and_indexes_dropped_for_the_load_come_back_the_same(communes):
    def schema() -> tuple[list[tuple], list[tuple]]:
        with connection.cursor() as cursor:
            cursor.execute(
                """
                select conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid), condeferrable,
                    condeferred, convalidated
                from pg_constraint where connamespace = current_schema()::regnamespace order by 1, 2
                """
            )
            constraints = cursor.fetchall()
            cursor.execute(
                "select tablename, indexname, indexdef from pg_indexes"
                " where schemaname = current_schema() order by 1, 2"
            )
            return constraints, cursor.fetchall()

    before = schema()
    generate(dossiers=20)

    assert schema() == before
    assert any(row[1].startswith("evaluations_criterionresult") for row in before[1])
