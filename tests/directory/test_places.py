import pytest
from django.core.management import call_command

from directory.models import Commune, CommunePostcode
from directory.places import communes_load, fold_name, read_communes
from tests.directory.support import SAMPLE_CODES

pytestmark = pytest.mark.django_db


def names(communes):
    return [c.label for c in communes]


def test_folding_ignores_accents_case_punctuation_ligatures_and_abbreviated_saints():
    assert fold_name("Saint-Étienne") == fold_name("saint etienne") == fold_name("ST  ETIENNE") == "saint etienne"
    assert fold_name("Marcq-en-Barœul") == "marcq en baroeul"
    assert fold_name("L'Haÿ-les-Roses") == "l hay les roses"


def test_every_sample_commune_is_loaded_with_its_postcodes(communes):
    assert set(communes) == set(SAMPLE_CODES)
    assert communes["59350"].postcode_list == ["59000", "59160", "59260", "59777", "59800"]
    assert CommunePostcode.objects.filter(commune=communes["59350"]).count() == 5


def test_saint_etienne_typed_without_accent_or_hyphen_finds_saint_etienne_first(communes):
    found = Commune.objects.search("saint etienne")
    assert found[0].label == "Saint-Étienne (42)"
    assert "Saint-Étienne-du-Rouvray (76)" in names(found)
    assert Commune.objects.resolve("saint etienne").commune == communes["42218"]


def test_evry_finds_evry_courcouronnes(communes):
    assert "Évry-Courcouronnes (91)" in names(Commune.objects.search("évry"))
    assert "Évry-Courcouronnes (91)" in names(Commune.objects.search("EVRY"))


def test_a_word_inside_a_name_finds_the_commune(communes):
    assert names(Commune.objects.search("courcouronnes")) == ["Évry-Courcouronnes (91)"]


def test_a_name_with_a_ligature_is_found_without_it(communes):
    assert names(Commune.objects.search("marcq en baroeul")) == ["Marcq-en-Barœul (59)"]


def test_97411_finds_saint_denis_of_la_reunion_and_the_commune_of_that_postcode(communes):
    found = Commune.objects.search("97411")
    assert found[0] == communes["97411"]
    assert found[0].departement_name == "La Réunion"
    # 97411 is also a postcode of Saint-Paul: the search asks which one was meant.
    assert communes["97415"] in found
    lookup = Commune.objects.resolve("97411")
    assert lookup.commune is None and lookup.candidates[0] == communes["97411"]


def test_a_postcode_finds_its_commune(communes):
    assert Commune.objects.resolve("59100").commune == communes["59512"]
    assert Commune.objects.resolve("59 100").commune == communes["59512"]


def test_the_beginning_of_a_postcode_completes_it(communes):
    assert "Roubaix (59)" in names(Commune.objects.search("591"))


def test_a_corsican_insee_code_is_found_in_any_case(communes):
    assert Commune.objects.resolve("2a004").commune == communes["2A004"]
    assert Commune.objects.resolve("2B033").commune.name == "Bastia"


def test_an_insee_code_that_is_also_another_communes_postcode_asks_which(communes):
    lookup = Commune.objects.resolve("13001")
    assert lookup.commune is None
    assert {c.name for c in lookup.candidates} == {"Aix-en-Provence", "Marseille"}


def test_a_name_borne_by_several_communes_asks_which(communes):
    lookup = Commune.objects.resolve("saint denis")
    assert lookup.commune is None
    assert {"Saint-Denis (93)", "Saint-Denis (974)", "Saint-Denis (11)"} <= set(names(lookup.candidates))


def test_the_completions_label_designates_one_commune(communes):
    assert Commune.objects.resolve("Saint-Denis (974)").commune == communes["97411"]
    assert Commune.objects.resolve("saint denis (93)").commune == communes["93066"]


def test_a_unique_exact_name_is_chosen_and_the_longer_names_offered(communes):
    lookup = Commune.objects.resolve("évry")
    assert lookup.commune == communes["89162"]
    assert "Évry-Courcouronnes (91)" in names(lookup.candidates)


def test_nothing_typed_or_nothing_found_gives_no_commune(communes):
    assert Commune.objects.search("   ") == []
    assert Commune.objects.resolve("zzzz").commune is None
    assert Commune.objects.resolve("zzzz").candidates == []


def test_loading_again_changes_nothing_and_a_changed_row_is_updated(communes):
    rows = read_communes(codes=SAMPLE_CODES)
    report = communes_load(rows)
    assert (report.created, report.updated, report.deleted, report.unchanged) == (0, 0, 0, len(SAMPLE_CODES))

    lille = next(row for row in rows if row["insee_code"] == "59350")
    lille.update(name="Lille-Lomme", postcodes="59000 59160")
    rows = [row for row in rows if row["insee_code"] != "59512"]
    report = communes_load(rows)
    assert (report.created, report.updated, report.deleted) == (0, 1, 1)
    commune = Commune.objects.get(insee_code="59350")
    assert (commune.name, commune.name_folded) == ("Lille-Lomme", "lille lomme")
    assert sorted(CommunePostcode.objects.filter(commune=commune).values_list("postcode", flat=True)) == [
        "59000",
        "59160",
    ]
    assert not Commune.objects.filter(insee_code="59512").exists()


def test_the_committed_table_holds_every_current_commune_once():
    call_command("load_communes", verbosity=0)
    assert Commune.objects.count() == 34969
    assert Commune.objects.filter(is_approximate=False).count() == 14546
    assert Commune.objects.filter(is_approximate=True).count() == 20423
    assert Commune.objects.filter(departement__in=["971", "972", "973", "974", "976"]).count() == 129
    assert Commune.objects.filter(departement__in=["2A", "2B"]).count() == 360
    assert not Commune.objects.filter(latitude__lt=-90).exists()
    assert not Commune.objects.exclude(longitude__range=(-180, 180)).exists()
    assert CommunePostcode.objects.count() > 35000
    # Mainland points stay in mainland France's bounding box.
    mainland = Commune.objects.exclude(departement__startswith="9").exclude(departement__in=["2A", "2B"])
    assert not mainland.exclude(latitude__range=(42.3, 51.1), longitude__range=(-5.2, 8.3)).exists()
    report = communes_load(read_communes())
    assert (report.created, report.updated, report.deleted) == (0, 0, 0)
