"""One contract for every /api/ answer: JSON errors in the shared shape, including the ones DRF or Django give before
any view runs (unknown path, method, body type, Accept), and a schema that declares them and validates."""

import json

import pytest
from django.urls import reverse
from openapi_spec_validator import validate

from clea_platform.api_errors import server_error
from tests.journey import DossierFactory
from tests.juries.factories import make_jury

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker) -> dict:
    from django.test import Client

    with django_db_blocker.unblock():
        return Client().get("/api/schema/?format=json").json()


def test_the_schema_validates_and_declares_json_bodies_and_the_errors_of_every_operation(schema):
    validate(schema)
    assert schema["openapi"] == "3.1.0"
    assert schema["info"]["title"].isascii()
    operations = [
        (f"{method.upper()} {path}", operation)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]
    assert len(operations) >= 70
    for name, operation in operations:
        assert {"400", "405", "406", "429"} <= operation["responses"].keys(), name
        body = operation.get("requestBody", {}).get("content", {})
        if body:
            assert "415" in operation["responses"], name
            # The credential check alone also takes the raw .jwt file.
            expected = ["application/json", "text/plain"] if "credentials/verify" in name else ["application/json"]
            assert list(body) == expected, name
        assert "_retrieve" not in operation["operationId"] or "{id}/" in name, name


def test_nullable_references_and_json_fields_are_typed(schema):
    components = schema["components"]["schemas"]
    assert components["JurySession"]["properties"]["minutes"]["oneOf"][1] == {"type": "null"}
    assert components["Submission"]["properties"]["decision"]["oneOf"][1] == {"type": "null"}
    assert components["Evaluation"]["properties"]["outcome"]["allOf"][0]["$ref"].endswith("/EvaluationOutcome")
    assert components["Decision"]["properties"]["missing_domains"]["items"] == {"type": "string"}


def test_an_unknown_api_path_is_a_json_404_and_a_page_stays_html(client):
    response = client.get("/api/v1/nowhere/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"
    assert "text/html" in client.get("/nulle-part/")["Content-Type"]
    # The slash is still added by a redirect before the 404 (APPEND_SLASH).
    assert client.get("/api/v1/dossiers").status_code == 301


def test_a_server_error_under_the_api_is_json(rf):
    response = server_error(rf.get("/api/v1/dossiers/"))
    assert response.status_code == 500
    assert json.loads(response.content)["code"] == "server_error"
    assert "text/html" in server_error(rf.get("/dossiers/"))["Content-Type"]


def test_a_form_body_a_wrong_method_and_an_unservable_accept_answer_json_errors(client_for, org_a):
    dossier = DossierFactory(organisation=org_a, state="opened")
    client = client_for(dossier.team.counsellor)
    form = client.post("/api/v1/dossiers/", {"certification": "clea"})  # multipart, the test client's default
    assert form.status_code == 415
    assert form.json()["code"] == "unsupported_media_type"
    wrong_method = client.delete("/api/v1/dossiers/")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["code"] == "method_not_allowed"
    html_only = client.get("/api/v1/dossiers/", HTTP_ACCEPT="text/html")
    assert html_only.status_code == 406
    assert html_only.json()["code"] == "not_acceptable"


def test_a_download_serves_an_accept_naming_its_file_type_and_answers_its_errors_in_json(client_for):
    jury = make_jury()
    client = client_for(jury.admin)
    url = reverse("api:jury-session-minutes", kwargs={"pk": jury.session.pk})
    not_yet = client.get(url, HTTP_ACCEPT="application/pdf")
    assert not_yet.status_code == 404  # the view ran: no minutes before the session closes
    assert not_yet.json()["message"] == "Le procès-verbal de cette session n'est pas encore produit."
    assert client.get(url, HTTP_ACCEPT="text/html").status_code == 406
    # Its operation keeps its name once the route served a GET (DRF then adds HEAD to the route's actions).
    operation = client.get("/api/schema/?format=json").json()["paths"]["/api/v1/jury-sessions/{id}/minutes/"]["get"]
    assert operation["operationId"] == "jury_sessions_minutes"
