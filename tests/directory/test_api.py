import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from directory.api import DirectoryThrottle
from tests.directory.support import evaluator_site

pytestmark = pytest.mark.django_db

NEARBY = "/api/v1/evaluators/nearby"


def test_the_api_urls_are_where_the_documentation_says():
    assert reverse("api:evaluators_nearby") == NEARBY
    assert reverse("api:communes") == "/api/v1/communes"


def test_nearby_evaluators_without_login_nearest_first(anonymous_client, communes):
    roubaix = evaluator_site(
        communes["59512"],
        name="Roubaix",
        wheelchair_accessible=True,
        typical_wait_days=12,
        availability_updated_at=timezone.now(),
        contact_phone="03 20 00 00 02",
    )
    lille = evaluator_site(communes["59350"], name="Lille", next_slot_on=timezone.localdate() + datetime.timedelta(3))
    response = anonymous_client.get(NEARBY, {"commune": "59350", "certification": "clea", "radius": "20"})
    assert response.status_code == 200
    body = response.json()
    assert body["commune"]["name"] == "Lille"
    assert body["commune"]["postcodes"][0] == "59000"
    assert body["radius_km"] == 20
    assert body["count"] == 2
    assert body["counts_by_radius"] == {"10": 1, "20": 2, "50": 2, "100": 2}
    first, second = body["results"]
    assert (first["site_id"], first["distance_km"]) == (lille.pk, 0.0)
    assert (second["site_id"], second["distance_km"]) == (roubaix.pk, 10.8)
    assert second["organisation"]["name"] == roubaix.organisation.name
    assert second["contact"]["phone"] == "03 20 00 00 02"
    assert second["wheelchair_accessible"] is True
    assert second["certifications"] == ["clea"]
    assert second["availability"]["typical_wait_days"] == 12
    assert second["availability"]["updated_at"] is not None
    assert first["availability"]["next_slot_on"] == (timezone.localdate() + datetime.timedelta(3)).isoformat()


def test_filters_and_radius_apply(anonymous_client, communes):
    evaluator_site(communes["59512"], wheelchair_accessible=False, remote_evaluation=True)
    evaluator_site(communes["59178"], wheelchair_accessible=True)  # Douai, 29 km
    body = anonymous_client.get(NEARBY, {"commune": "Lille (59)", "radius": 50, "wheelchair": "true"}).json()
    assert [r["city"] for r in body["results"]] == ["Douai"]
    body = anonymous_client.get(NEARBY, {"commune": "Lille (59)", "remote": "1"}).json()
    assert [r["city"] for r in body["results"]] == ["Roubaix"]
    assert anonymous_client.get(NEARBY, {"commune": "lille", "certification": "clea_management"}).json()["count"] == 0


def test_a_bad_parameter_is_a_400_that_says_which(anonymous_client, communes):
    response = anonymous_client.get(NEARBY, {"commune": "lille", "radius": 30})
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["radius"]
    response = anonymous_client.get(NEARBY, {"commune": "lille", "certification": "bac"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert [error["field"] for error in response.json()["errors"]] == ["certification"]
    assert anonymous_client.get(NEARBY).status_code == 400


def test_an_ambiguous_commune_is_a_400_with_the_candidates(anonymous_client, communes):
    response = anonymous_client.get(NEARBY, {"commune": "saint denis"})
    assert response.status_code == 400
    assert response.json()["code"] == "ambiguous_commune"
    codes = {c["insee_code"] for c in response.json()["candidates"]}
    assert {"93066", "97411", "11339"} <= codes


def test_an_insee_code_comes_before_the_postcodes_it_collides_with(anonymous_client, communes):
    # 97411 is Saint-Denis's INSEE code and one of Saint-Paul's postcodes; 13001 is Aix-en-Provence's code
    # and Marseille's 1st arrondissement's postcode.
    assert anonymous_client.get(NEARBY, {"commune": "97411"}).json()["commune"]["name"] == "Saint-Denis"
    assert anonymous_client.get(NEARBY, {"commune": "13001"}).json()["commune"]["name"] == "Aix-en-Provence"
    assert anonymous_client.get(NEARBY, {"commune": "2a004"}).json()["commune"]["name"] == "Ajaccio"
    assert anonymous_client.get(NEARBY, {"commune": "59100"}).json()["commune"]["name"] == "Roubaix"


def test_an_unknown_commune_is_a_404(anonymous_client, communes):
    response = anonymous_client.get(NEARBY, {"commune": "Atlantide"})
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_commune"
    assert response.json()["message"] == "Aucune commune ne correspond."


def test_communes_completion(anonymous_client, communes):
    body = anonymous_client.get("/api/v1/communes", {"q": "saint etienne"}).json()
    assert body["results"][0]["label"] == "Saint-Étienne (42)"
    assert body["results"][0]["is_approximate"] is False
    assert anonymous_client.get("/api/v1/communes", {"q": "s"}).json() == {"results": [], "suggestions": []}


def test_the_api_is_throttled_per_client_address(anonymous_client, communes):
    allowed = int(DirectoryThrottle.rate.split("/")[0])
    statuses = [anonymous_client.get(NEARBY, {"commune": "59350"}).status_code for _ in range(allowed + 1)]
    assert statuses[:allowed] == [200] * allowed
    assert statuses[allowed] == 429
    # Another address is not held back.
    from tests.directory.conftest import client_from_own_address

    assert client_from_own_address().get(NEARBY, {"commune": "59350"}).status_code == 200


def test_a_signed_in_session_gets_the_same_answer_without_throttling(communes, org_a, make_member, client_for):
    evaluator_site(communes["59350"])
    client = client_for(make_member(org_a))
    allowed = int(DirectoryThrottle.rate.split("/")[0])
    responses = [client.get(NEARBY, {"commune": "59350"}) for _ in range(allowed + 1)]
    assert {r.status_code for r in responses} == {200}
    assert responses[-1].json()["count"] == 1
