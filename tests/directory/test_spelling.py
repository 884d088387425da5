"""A misspelt commune suggests the nearest names: folded (accents, case, punctuation), then ranked by an edit
distance that counts a swap as one edit, the most populated first among equals."""

import random

import pytest
from django.urls import reverse

from directory.models import Commune
from directory.places import communes_load, read_communes
from directory.spelling import commune_name_index, edit_distance_from
from tests.clients import page_text
from tests.directory.conftest import client_from_own_address
from tests.directory.support import load_sample_communes
from tests.factories import MembershipFactory, OrganisationFactory

EXAMPLES = {"Lile": "Lille (59)", "Roubiax": "Roubaix (59)", "villeneuve dascq": "Villeneuve-d'Ascq (59)"}


def _reference_distance(a: str, b: str) -> int:
    """The textbook table of the optimal string alignment distance, to check the bit-parallel one against."""
    rows = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            rows[i][j] = min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                rows[i][j] = min(rows[i][j], rows[i - 2][j - 2] + 1)
    return rows[-1][-1]


def test_the_edit_distance_counts_a_swap_as_one_edit_and_agrees_with_the_textbook_table():
    assert edit_distance_from("roubiax")("roubaix") == 1
    assert edit_distance_from("lile")("lille") == 1
    assert edit_distance_from("villeneuvedascq")("villeneuvedascq") == 0
    rng = random.Random(14)
    for _ in range(3000):
        a = "".join(rng.choice("abcs") for _ in range(rng.randint(1, 14)))
        b = "".join(rng.choice("abcs") for _ in range(rng.randint(0, 14)))
        assert edit_distance_from(a)(b) == _reference_distance(a, b), (a, b)


@pytest.mark.django_db
def test_the_three_misspellings_suggest_the_right_commune_first_over_the_whole_table():
    # The whole national table: Roubaix must beat Roubia (Aude) and Lille must beat Lisle and Isle.
    communes_load(read_communes())
    for typed, expected in EXAMPLES.items():
        lookup = Commune.objects.resolve(typed)
        assert lookup.commune is None and not lookup.candidates
        assert lookup.suggestions[0].label == expected, (typed, [c.label for c in lookup.suggestions])
    assert Commune.objects.suggest("Xqzwv") == []  # nothing close: nothing suggested
    assert Commune.objects.suggest("59000") == []  # a code is not a misspelt name


@pytest.mark.django_db
def test_the_index_follows_the_commune_table():
    load_sample_communes()
    assert [c.label for c in Commune.objects.suggest("Roubiax")] == ["Roubaix (59)"]
    built = commune_name_index()
    assert commune_name_index() is built  # kept while the table does not change
    # A commune added (by another process's load, say) is seen at once.
    lille = Commune.objects.get(insee_code="59350")
    Commune.objects.create(
        insee_code="59999",
        name="Roubiaux",
        name_folded="roubiaux",
        departement="59",
        departement_name="Nord",
        region="32",
        region_name="Hauts-de-France",
        latitude=lille.latitude,
        longitude=lille.longitude,
        population=10,
    )
    assert [c.label for c in Commune.objects.suggest("Roubiax")] == ["Roubaix (59)", "Roubiaux (59)"]
    # A load in this process (here without Roubaix) rebuilds it.
    communes_load([row for row in read_communes(codes=["59350", "59599"])])
    assert Commune.objects.suggest("Roubiax") == []
    assert commune_name_index() is not built


@pytest.mark.django_db
def test_the_search_page_asks_did_you_mean_with_links(communes):
    response = client_from_own_address().get(reverse("directory:search"), {"commune": "Lile", "radius": "50"})
    text = page_text(response)
    assert "Aucune commune ne correspond à « Lile »" in text
    assert "Vouliez-vous dire : " in text and "Lille (59)</a>" in text
    assert "radius=50&amp;commune=Lille%20%2859%29" in response.content.decode()


@pytest.mark.django_db
def test_the_communes_api_suggests_when_nothing_matches(communes):
    client = client_from_own_address()
    body = client.get("/api/v1/communes", {"q": "Roubiax"}).json()
    assert body["results"] == [] and body["suggestions"][0]["label"] == "Roubaix (59)"
    found = client.get("/api/v1/communes", {"q": "Roubaix"}).json()
    assert found["results"][0]["label"] == "Roubaix (59)" and found["suggestions"] == []
    missing = client.get("/api/v1/evaluators/nearby", {"commune": "villeneuve dascq"})
    assert missing.status_code == 404
    assert missing.json()["suggestions"][0]["label"] == "Villeneuve-d'Ascq (59)"


@pytest.mark.django_db
def test_the_completion_offers_the_nearest_names_when_none_starts_so(communes):
    response = client_from_own_address().get(
        reverse("directory:commune_suggestions"), {"commune": "villeneuve dascq"}, HTTP_HX_REQUEST="true"
    )
    assert '<li role="option" data-value="Villeneuve-d&#x27;Ascq (59)">' in response.content.decode()


@pytest.mark.django_db
def test_the_sheet_form_suggests_a_misspelt_commune(communes, client_for):
    advisor = MembershipFactory(organisation=OrganisationFactory(france_travail=True), role="ft_advisor")
    response = client_for(advisor).post(
        reverse("directory:sheet_list"), {"scope": "radius", "commune": "Roubiax", "radius": 20}
    )
    assert "Vouliez-vous dire : Roubaix (59) ?" in page_text(response)
    assert 'value="Roubiax"' in response.content.decode()  # what was typed is kept
