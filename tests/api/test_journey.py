"""A whole journey through the API, from the information interview to a verified certificate: the counsellor,
the evaluator, the jury body and the jury's president each act with their own personal token."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.api.test_dossiers import _candidate_payload
from tests.journey import small_referentiel, team_for
from tests.juries.factories import make_jury, session_day

pytestmark = pytest.mark.django_db


def test_a_dossier_goes_from_creation_to_a_verified_certificate_through_the_api(
    token_client, org_a, django_capture_on_commit_callbacks
):
    small_referentiel()
    team = team_for(org_a)
    jury = make_jury(region=org_a.region)
    counsellor, evaluator = token_client(team.counsellor), token_client(team.evaluator, keyword="Bearer")

    created = counsellor.post(
        "/api/v1/dossiers/",
        {"certification": "clea", "candidate": _candidate_payload()},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    transitions = reverse("api:dossier-transitions", kwargs={"pk": created.json()["id"]})

    def take(client, name, **arguments):
        response = client.post(transitions, {"name": name, **arguments}, content_type="application/json")
        assert response.status_code == 200, response.content
        return response.json()

    assert take(counsellor, "open", consent=True)["state"] == "opened"
    assert take(evaluator, "start_prior_evaluation", started_on="2026-03-02")["state"] == "prior_evaluation"

    evaluation = evaluator.get("/api/v1/evaluations/").json()["results"][0]
    lines = [{"criterion": line["criterion"], "result": "acquired"} for line in evaluation["results"]]
    url = reverse("api:evaluation-results", kwargs={"pk": evaluation["id"]})
    assert evaluator.put(url, {"results": lines}, content_type="application/json").status_code == 200
    closed = evaluator.post(
        reverse("api:evaluation-close", kwargs={"pk": evaluation["id"]}),
        {"ended_on": "2026-03-02"},
        content_type="application/json",
    )
    assert closed.json()["all_validated"] is True
    assert counsellor.get(transitions).json() == [
        {"name": "submit_to_jury", "label": "Soumettre au jury", "arguments": ["session"]},
        {"name": "withdraw", "label": "Clore le dossier (abandon)", "arguments": ["reason"]},
    ]
    assert take(counsellor, "submit_to_jury", session=jury.session.pk)["state"] == "submitted_to_jury"

    jury_body, president = token_client(jury.admin), token_client(jury.president)

    def operate(client, name, expected=200, **data):
        url = reverse(f"api:jury-session-{name}", kwargs={"pk": jury.session.pk})
        response = client.post(url, data, content_type="application/json")
        assert response.status_code == expected, response.content
        return response.json()

    with django_capture_on_commit_callbacks(execute=True):
        assert operate(jury_body, "convene")["state"] == "convened"
    jury.session = session_day(jury.session)
    present = [{"member": member.pk, "attendance": "present"} for member in (jury.employer, jury.employee)]
    assert operate(president, "deliberate", attendance=present)["state"] == "deliberating"
    [submission] = president.get(reverse("api:jury-session-submissions", kwargs={"pk": jury.session.pk})).json()[
        "results"
    ]
    assert submission["dossier"]["id"] == created.json()["id"]
    decision = operate(president, "decisions", 201, submission=submission["id"], kind="awarded")
    assert decision["kind"] == "awarded"
    with django_capture_on_commit_callbacks(execute=True):
        assert operate(president, "close")["state"] == "closed"

    assert counsellor.get(reverse("api:dossier-detail", kwargs={"pk": created.json()["id"]})).json()["state"] == (
        "certified"
    )
    [certificate] = counsellor.get("/api/v1/certificates/").json()["results"]
    assert certificate["dossier"] == created.json()["id"]
    code = certificate["verification_code"]
    verified = Client().get(reverse("api:certificate_verify", kwargs={"code": code.lower()}))
    assert verified.status_code == 200
    assert verified.json()["valid"] is True
    assert verified.json()["holder_name"] == "Aïcha BENALI"
    assert verified.json()["number"] == certificate["number"]


def test_an_unknown_certificate_code_is_a_json_404(client):
    response = client.get(reverse("api:certificate_verify", kwargs={"code": "ZZZZZZZZ"}))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert response.json()["message"] == "Aucun certificat ne correspond à ce code."


def test_the_certificate_verification_is_throttled_per_address(client):
    statuses = [
        client.get(reverse("api:certificate_verify", kwargs={"code": "ZZZZZZZZ"})).status_code for _ in range(31)
    ]
    assert statuses[:30] == [404] * 30
    assert statuses[30] == 429


def test_the_documentation_and_the_schema_are_served_without_a_cdn(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/dossiers/{id}/transitions/" in schema.content
    docs = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in docs
    assert "cdn" not in docs.lower()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs
