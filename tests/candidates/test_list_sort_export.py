"""The dossier list's sortable columns and its export (CSV, XLSX) of exactly what the filters show."""

import csv
import datetime
import io
import re

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from candidates.models import Dossier
from organisations.models import AuditLog, Role
from tests.clients import page_text
from tests.journey import DossierFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("candidates:dossier_list")
EXPORT_URL = reverse("candidates:dossier_export")


@pytest.fixture
def counsellor(org_a, make_member):
    return make_member(org_a, role=Role.COUNSELLOR)


def listed(response) -> list[str]:
    """The references in the list's rows, in order."""
    return [dossier.reference for dossier in response.context["page"].object_list]


def csv_rows(response) -> list[list[str]]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))


def born(day: int) -> datetime.date:
    # Namesakes need distinct birth dates: the same person may have one dossier in progress per certification.
    return datetime.date(1980, 1, day)


# -- Sorting -------------------------------------------------------------------------------------------------


def test_the_list_sorts_by_name_both_ways_and_says_so_with_aria_sort(counsellor, org_a, client_for):
    camus, albert, bernard = (DossierFactory(organisation=org_a, last_name=n) for n in ("Camus", "Albert", "Bernard"))
    client = client_for(counsellor)

    ascending = client.get(LIST_URL, {"sort": "name"})
    assert listed(ascending) == [albert.reference, bernard.reference, camus.reference]
    page = page_text(ascending)
    header = re.search(r'<th scope="col" aria-sort="ascending"><a href="\?([^"]*)">Personne candidate', page)
    assert header and header.group(1) == "sort=-name"  # the link turns the order round
    assert page.count("aria-sort=") == 1

    descending = client.get(LIST_URL, {"sort": "-name"})
    assert listed(descending) == [camus.reference, bernard.reference, albert.reference]
    assert 'aria-sort="descending"' in descending.content.decode()


def test_namesakes_keep_one_order_from_page_to_page(counsellor, org_a, client_for, monkeypatch):
    monkeypatch.setattr("candidates.views.PAGE_SIZE", 2)
    namesakes = [
        DossierFactory(organisation=org_a, first_name="Léa", last_name="Martin", birth_date=born(d))
        for d in range(1, 6)
    ]
    client = client_for(counsellor)
    pages = [listed(client.get(LIST_URL, {"sort": "name", "page": n})) for n in (1, 2, 3)]
    assert sum(pages, []) == [d.reference for d in sorted(namesakes, key=lambda d: d.pk)]
    back = [listed(client.get(LIST_URL, {"sort": "-name", "page": n})) for n in (1, 2, 3)]
    assert sum(back, []) == [d.reference for d in sorted(namesakes, key=lambda d: -d.pk)]


def test_steps_sort_in_journey_order(counsellor, org_a, client_for):
    made = {state: DossierFactory(organisation=org_a, state=state) for state in ("withdrawn", "information", "opened")}
    page = client_for(counsellor).get(LIST_URL, {"sort": "state"})
    assert listed(page) == [made[s].reference for s in ("information", "opened", "withdrawn")]


def test_dossiers_not_yet_opened_come_last_by_opening_date(counsellor, org_a, client_for):
    waiting = DossierFactory(organisation=org_a, state="information")
    opened = DossierFactory(organisation=org_a, state="opened")
    client = client_for(counsellor)
    assert listed(client.get(LIST_URL, {"sort": "opened"})) == [opened.reference, waiting.reference]
    assert listed(client.get(LIST_URL, {"sort": "-opened"})) == [opened.reference, waiting.reference]


def test_an_unknown_sort_key_sorts_by_last_change_and_keeps_the_filters(counsellor, org_a, client_for):
    older = DossierFactory(organisation=org_a, state="opened")
    newer = DossierFactory(organisation=org_a, state="opened")
    DossierFactory(organisation=org_a, state="information")
    response = client_for(counsellor).get(LIST_URL, {"sort": "candidate__birth_date", "state": "opened"})
    assert response.status_code == 200
    assert listed(response) == [newer.reference, older.reference]


def test_the_sort_is_kept_by_pagination_filters_and_headers(counsellor, org_a, client_for, monkeypatch):
    monkeypatch.setattr("candidates.views.PAGE_SIZE", 1)
    DossierFactory(organisation=org_a, state="opened")
    DossierFactory(organisation=org_a, state="opened")
    page = client_for(counsellor).get(LIST_URL, {"state": "opened", "sort": "reference"}).content.decode()
    assert "?state=opened&amp;sort=reference&amp;page=2" in page  # pagination
    assert re.search(r'<input type="hidden" name="sort" value="reference"[^>]*>', page)  # the filter form
    assert "?state=opened&amp;sort=name" in page  # another column's header keeps the filters


# -- Export --------------------------------------------------------------------------------------------------


def test_the_export_holds_every_page_of_the_filtered_list_in_its_order(counsellor, org_a, client_for, monkeypatch):
    monkeypatch.setattr("candidates.views.PAGE_SIZE", 2)
    kept = [DossierFactory(organisation=org_a, state="opened", last_name=n) for n in ("Caron", "Abel", "Blanc")]
    left_out = DossierFactory(organisation=org_a, state="information")
    response = client_for(counsellor).get(EXPORT_URL, {"state": "opened", "sort": "-name", "format": "csv"})

    rows = csv_rows(response)
    assert rows[0][:5] == ["Référence", "Nom d'usage", "Prénom", "Certification", "Étape"]
    assert [row[0] for row in rows[1:]] == [kept[0].reference, kept[2].reference, kept[1].reference]
    assert left_out.reference not in response.content.decode("utf-8-sig")
    assert response["Content-Disposition"].startswith('attachment; filename="dossiers-')


def test_the_xlsx_export_has_a_frozen_filterable_header_and_dates(counsellor, org_a, client_for):
    dossier = DossierFactory(organisation=org_a, state="opened")
    response = client_for(counsellor).get(EXPORT_URL, {"format": "xlsx"})
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.content))["Dossiers"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:H2"
    row = dict(zip([cell.value for cell in sheet[1]], sheet[2], strict=True))
    assert row["Référence"].value == dossier.reference
    assert row["Ouvert le"].is_date and row["Dernière modification"].is_date


def test_the_export_leaves_another_organisation_s_dossiers_out(counsellor, org_a, org_b, client_for):
    mine = DossierFactory(organisation=org_a, last_name="Leroy")
    theirs = DossierFactory(organisation=org_b, last_name="Leroy")
    content = client_for(counsellor).get(EXPORT_URL, {"q": "leroy", "format": "csv"}).content.decode("utf-8-sig")
    assert mine.reference in content
    assert theirs.reference not in content


def test_the_export_is_audited_without_the_searched_name(counsellor, org_a, client_for):
    DossierFactory(organisation=org_a, last_name="Leroy", state="opened")
    client_for(counsellor).get(EXPORT_URL, {"q": "leroy", "state": "opened", "format": "xlsx"})
    entry = AuditLog.objects.get(action="dossier.export")
    assert entry.actor == counsellor.user and entry.organisation_id == org_a.pk
    assert entry.details["rows"] == 1 and entry.details["format"] == "xlsx"
    assert entry.details["filters"]["state"] == "opened" and entry.details["filters"]["search"] is True
    assert "leroy" not in str(entry.details).lower()


def test_the_list_links_its_export_with_the_filters_and_sort(counsellor, org_a, client_for):
    DossierFactory(organisation=org_a, state="opened")
    page = client_for(counsellor).get(LIST_URL, {"state": "opened", "sort": "name"}).content.decode()
    assert f"{EXPORT_URL}?state=opened&amp;sort=name&amp;format=csv" in page
    assert f"{EXPORT_URL}?state=opened&amp;sort=name&amp;format=xlsx" in page


def test_an_unknown_export_format_is_a_404_and_roles_without_dossiers_get_403(org_a, make_member, client_for):
    assert client_for(make_member(org_a, role=Role.COUNSELLOR)).get(EXPORT_URL, {"format": "ods"}).status_code == 404
    assert client_for(make_member(org_a, role=Role.TRAINER)).get(EXPORT_URL).status_code == 403
    assert not Dossier.objects.exists()
