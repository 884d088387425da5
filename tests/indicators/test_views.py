"""Who sees which statistics, the filters that cannot leave one's scope, the downloads that hold exactly a chart's
table, the public open data with its small cells hidden, and a bounded number of queries."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from clea_platform.spreadsheets import csv_text
from indicators.cube import cube_rebuild
from indicators.models import DossierFact, DossierFactGap, RegionalFunder
from indicators.open_data import first_open_month
from organisations.models import OrganisationKind, Region, Role
from tests.clients import logged_in_client
from tests.factories import MembershipFactory, OrganisationFactory

pytestmark = pytest.mark.django_db
URL = reverse("indicators:dashboard")
MONTH = datetime.date(2026, 3, 1)


def facts(organisation, n: int, *, start: int, certification: str = "clea", certified: int = 0) -> None:
    rows = [
        DossierFact(
            dossier_id=start + i,
            organisation=organisation,
            region=organisation.region,
            departement="59",
            certification=certification,
            registration_status="job_seeker",
            opened_month=MONTH,
            opened_on=MONTH,
            prior_closed_on=MONTH + datetime.timedelta(days=10),
            prior_outcome="partial" if i % 2 else "full",
            days_to_prior=10 + i,
            certified_on=MONTH + datetime.timedelta(days=100) if i < certified else None,
        )
        for i in range(n)
    ]
    DossierFact.objects.bulk_create(rows)
    DossierFactGap.objects.bulk_create(
        DossierFactGap(
            fact_id=f.dossier_id,
            organisation=organisation,
            region=f.region,
            certification=f.certification,
            opened_month=f.opened_month,
            domain_code="1",
            domain_title="Français",
            subdomain_code="1.2",
            subdomain_title="Lire",
        )
        for f in rows
        if f.prior_outcome == "partial"
    )
    # The national and regional views read the cube, recounted from the facts.
    cube_rebuild()


@pytest.fixture
def world():
    north = OrganisationFactory(region=Region.HAUTS_DE_FRANCE)
    north_other = OrganisationFactory(region=Region.HAUTS_DE_FRANCE)
    south = OrganisationFactory(region=Region.OCCITANIE)
    facts(north, 3, start=1)
    facts(north_other, 5, start=100, certification="clea_numerique")
    facts(south, 7, start=200)
    return {"north": north, "north_other": north_other, "south": south}


def opened(response) -> int:
    return response.context["board"].funnel["opened"]


def test_certifpro_sees_the_nation_and_filters_by_region_and_certification(world):
    client = logged_in_client(
        MembershipFactory(organisation=OrganisationFactory(certifpro=True), role=Role.CERTIFPRO_ADMIN)
    )
    assert opened(client.get(URL)) == 15
    assert opened(client.get(URL, {"region": Region.HAUTS_DE_FRANCE})) == 8
    assert opened(client.get(URL, {"region": Region.HAUTS_DE_FRANCE, "certification": "clea"})) == 3


@pytest.mark.parametrize("kind", [OrganisationKind.JURY_BODY, OrganisationKind.FUNDER])
def test_a_regional_body_sees_its_region_only_whatever_it_asks(world, kind):
    body = OrganisationFactory(kind=kind, region=Region.HAUTS_DE_FRANCE)
    if kind == OrganisationKind.FUNDER:
        RegionalFunder.objects.create(organisation=body)
    client = logged_in_client(MembershipFactory(organisation=body, role=Role.ORG_ADMIN))
    assert opened(client.get(URL)) == 8
    # Another region: not a filter it has; another region's organisation: refused, the figures stay its own.
    assert opened(client.get(URL, {"region": Region.OCCITANIE})) == 8
    response = client.get(URL, {"organisation": world["south"].pk})
    assert response.status_code == 400 and opened(response) == 8
    assert opened(client.get(URL, {"organisation": world["north"].pk})) == 3


@pytest.mark.parametrize("role", [Role.COUNSELLOR, Role.ORG_ADMIN])
def test_an_evaluator_organisation_sees_itself_only(world, role):
    client = logged_in_client(MembershipFactory(organisation=world["north"], role=role))
    response = client.get(URL)
    assert opened(response) == 3
    assert "organisation" not in response.context["form"].fields
    assert opened(client.get(URL, {"organisation": world["south"].pk, "region": Region.OCCITANIE})) == 3
    download = client.get(reverse("indicators:chart_download", args=["parcours", "csv"]), {"region": Region.OCCITANIE})
    lines = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig")), delimiter=";"))
    # The first step's count is the organisation's 3 dossiers, not the 7 of the region it asked for.
    assert lines[1][1] == "3"


@pytest.mark.parametrize(
    ("kind", "role"),
    [
        (OrganisationKind.EVALUATOR, Role.EVALUATOR),
        (OrganisationKind.EVALUATOR, Role.TRAINER),
        (OrganisationKind.TRAINING, Role.TRAINER),
        (OrganisationKind.FRANCE_TRAVAIL, Role.FT_ADVISOR),
        # A Transitions Pro's jurors, and a funder that is not a Région (an OPCO): no regional figures.
        (OrganisationKind.JURY_BODY, Role.JURY_MEMBER),
        (OrganisationKind.FUNDER, Role.ORG_ADMIN),
    ],
)
def test_others_are_refused_and_have_no_menu_entry(world, kind, role):
    client = logged_in_client(MembershipFactory(organisation=OrganisationFactory(kind=kind), role=role))
    assert client.get(URL).status_code == 403
    assert client.get(reverse("indicators:chart_download", args=["parcours", "csv"])).status_code == 403
    assert URL not in client.get(reverse("home")).content.decode()


def test_each_download_holds_exactly_the_charts_table(world):
    client = logged_in_client(
        MembershipFactory(organisation=OrganisationFactory(certifpro=True), role=Role.CERTIFPRO_ADMIN)
    )
    query = {"region": Region.HAUTS_DE_FRANCE}
    charts = {c.key: c for c in client.get(URL, query).context["charts"]}
    assert URL in client.get(reverse("home")).content.decode()
    for key, chart in charts.items():
        text = client.get(reverse("indicators:chart_download", args=[key, "csv"]), query).content.decode("utf-8-sig")
        lines = list(csv.reader(io.StringIO(text), delimiter=";"))
        assert lines[0] == chart.headers
        expected = [[csv_text(v) for v in row] for row in chart.rows]
        assert lines[1:] == expected
        book = load_workbook(
            io.BytesIO(client.get(reverse("indicators:chart_download", args=[key, "xlsx"]), query).content)
        )
        values = [list(r) for r in book.active.iter_rows(values_only=True)]
        assert values[0] == chart.headers
        assert [[("" if v is None else v) for v in row] for row in values[1:]] == [
            [("" if v is None else v) for v in row] for row in chart.rows
        ]
    assert charts["parcours"].rows[0][1] == 8
    # One sub-domain missing in the world: a singular title.
    assert charts["sous-domaines"].title == "Le sous-domaine le plus souvent manquant"


@pytest.mark.parametrize(
    "query",
    [{}, {"certification": "clea", "registration_status": "job_seeker"}],
    ids=["cube", "facts"],
)
def test_the_dashboard_runs_the_same_queries_whatever_the_rows(world, django_assert_num_queries, query):
    client = logged_in_client(
        MembershipFactory(organisation=OrganisationFactory(certifpro=True), role=Role.CERTIFPRO_ADMIN)
    )
    client.get(URL, query)
    with CaptureQueriesContext(connection) as first:
        client.get(URL, query)
    facts(OrganisationFactory(region=Region.BRETAGNE), 40, start=1000)
    with django_assert_num_queries(len(first)):
        response = client.get(URL, query)
    assert opened(response) == (55 if not query else 50)


def test_open_data_is_public_cacheable_and_hides_small_cells():
    north = OrganisationFactory(region=Region.HAUTS_DE_FRANCE)
    south = OrganisationFactory(region=Region.OCCITANIE)
    brittany = OrganisationFactory(region=Region.BRETAGNE)
    facts(north, 30, start=1)
    facts(south, 20, start=100)
    facts(brittany, 4, start=200)
    # Two regions of 2 and 3 dossiers: hiding both gives 5 (< 11) by difference, so a third one is hidden too.
    facts(OrganisationFactory(region=Region.CORSE), 2, start=300)
    facts(OrganisationFactory(region=Region.NORMANDIE), 3, start=400)
    # This month and the previous one change by the hour: not published.
    recent = OrganisationFactory(region=Region.NORMANDIE)
    DossierFact.objects.bulk_create(
        DossierFact(
            dossier_id=500 + i,
            organisation=recent,
            region=recent.region,
            certification="clea",
            opened_month=first_open_month(),
            opened_on=first_open_month(),
        )
        for i in range(20)
    )
    cube_rebuild()
    client = Client()
    assert client.get(reverse("indicators:open_data")).status_code == 200
    response = client.get(reverse("indicators:open_data_regional"))
    assert response.status_code == 200 and "public" in response["Cache-Control"] and response["ETag"]
    assert client.get(reverse("indicators:open_data_regional"), HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    rows = {r[1]: r for r in csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";")}
    # Brittany's 4, Corsica's 2 and Normandy's 3 are hidden, and so is the smallest other region, or 59 − 30 − 20
    # would give their 9.
    assert [rows[r][3] for r in (Region.BRETAGNE, Region.CORSE, Region.NORMANDIE, Region.OCCITANIE)] == [""] * 4
    assert rows[Region.HAUTS_DE_FRANCE][3] == "30"
    # Validated at once and in part hidden together (15 and 15 published in the north).
    assert rows[Region.HAUTS_DE_FRANCE][5:7] == ["15", "15"]
    national = list(
        csv.reader(
            io.StringIO(client.get(reverse("indicators:open_data_national")).content.decode("utf-8-sig")), delimiter=";"
        )
    )
    assert [row[:3] for row in national[1:]] == [["2026-03", "France", "59"]]
