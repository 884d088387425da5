import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from evaluations.models import CriterionResultValue, Evaluation
from organisations.models import Role
from tests.journey import DossierFactory, criteria_by_code

pytestmark = pytest.mark.django_db


def _evaluation(org):
    dossier = DossierFactory(organisation=org, state="prior_evaluation")
    evaluation = dossier.evaluations.get()
    evaluation.team = dossier.team
    return evaluation


def _results_url(evaluation):
    return reverse("api:evaluation-results", kwargs={"pk": evaluation.pk})


def test_the_evaluator_reads_an_evaluation_with_its_criterion_results(client_for, org_a):
    evaluation = _evaluation(org_a)
    body = client_for(evaluation.team.evaluator).get(reverse("api:evaluation-detail", kwargs={"pk": evaluation.pk}))
    assert body.status_code == 200
    assert len(body.json()["results"]) == 9
    assert {line["result"] for line in body.json()["results"]} == {"not_assessed"}


@pytest.mark.parametrize("rows", [1, 3])
def test_the_evaluation_list_costs_the_same_queries_whatever_the_rows(
    rows, client_for, org_a, django_assert_num_queries
):
    for _ in range(rows):
        evaluation = _evaluation(org_a)
    client = client_for(evaluation.team.evaluator)
    client.get("/api/v1/evaluations/")
    # No count since the cursor pagination (issue 20): one query fewer.
    with django_assert_num_queries(5):
        assert len(client.get("/api/v1/evaluations/").json()["results"]) == rows


def test_the_evaluator_sets_results_in_bulk_then_closes(client_for, org_a, django_capture_on_commit_callbacks):
    evaluation = _evaluation(org_a)
    criteria = criteria_by_code(evaluation.dossier.referentiel)
    client = client_for(evaluation.team.evaluator)
    lines = [
        {
            "criterion": criterion.pk,
            "result": "not_acquired" if code in {"2.1.3", "2.1.4"} else "acquired",
            "comment": "ok",
        }
        for code, criterion in criteria.items()
    ]
    saved = client.put(_results_url(evaluation), {"results": lines}, content_type="application/json")
    assert saved.status_code == 200, saved.content
    assert evaluation.results.filter(result=CriterionResultValue.ACQUIRED).count() == 7

    with django_capture_on_commit_callbacks(execute=True):
        closed = client.post(
            reverse("api:evaluation-close", kwargs={"pk": evaluation.pk}),
            {"ended_on": evaluation.started_on.isoformat(), "duration_hours": "3.5"},
            content_type="application/json",
        )
    assert closed.status_code == 200, closed.content
    assert closed.json()["all_validated"] is False
    assert closed.json()["validated_domains"] == ["1"]
    evaluation.dossier.refresh_from_db()
    assert evaluation.dossier.state == "partially_validated"
    documents = client.get("/api/v1/documents/").json()["results"]
    assert [d["evaluation"] for d in documents] == [evaluation.pk]
    download = client.get(reverse("api:document-download", kwargs={"pk": documents[0]["id"]}))
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content).startswith(b"%PDF")


def test_a_criterion_outside_the_evaluation_is_a_409_from_the_service(client_for, org_a):
    evaluation = _evaluation(org_a)
    response = client_for(evaluation.team.evaluator).post(
        _results_url(evaluation),
        {"results": [{"criterion": 987654, "result": "acquired"}]},
        content_type="application/json",
    )
    assert response.status_code == 409
    assert "987654" in response.json()["message"]


def test_a_bad_result_names_the_field(client_for, org_a):
    evaluation = _evaluation(org_a)
    line = evaluation.results.first()
    response = client_for(evaluation.team.evaluator).post(
        _results_url(evaluation),
        {"results": [{"criterion": line.criterion_id, "result": "maybe"}]},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "results.0.result", "code": "invalid_choice", "message": response.json()["errors"][0]["message"]}
    ]


def test_closing_without_an_end_date_names_the_field(client_for, org_a):
    evaluation = _evaluation(org_a)
    response = client_for(evaluation.team.evaluator).post(
        reverse("api:evaluation-close", kwargs={"pk": evaluation.pk}), {}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "ended_on"


@pytest.mark.parametrize(("role", "status"), [(Role.COUNSELLOR, 403), (Role.ORG_ADMIN, 403), (Role.EVALUATOR, 200)])
def test_only_an_evaluator_of_the_organisation_fills_the_grid(role, status, client_for, make_member, org_a):
    evaluation = _evaluation(org_a)
    line = evaluation.results.first()
    response = client_for(make_member(org_a, role=role)).post(
        _results_url(evaluation),
        {"results": [{"criterion": line.criterion_id, "result": "acquired"}]},
        content_type="application/json",
    )
    assert response.status_code == status
    assert len(client_for(make_member(org_a, role=role)).get("/api/v1/evaluations/").json()["results"]) == 1


def test_a_trainer_reads_no_evaluation(client_for, make_member, org_a):
    _evaluation(org_a)
    assert client_for(make_member(org_a, role=Role.TRAINER)).get("/api/v1/evaluations/").status_code == 403


def test_an_evaluator_of_another_organisation_gets_404(client_for, make_member, org_a, org_b):
    evaluation = _evaluation(org_b)
    client = client_for(make_member(org_a, role=Role.EVALUATOR))
    assert client.get(reverse("api:evaluation-detail", kwargs={"pk": evaluation.pk})).status_code == 404
    assert client.post(_results_url(evaluation), {"results": []}, content_type="application/json").status_code == 404
    assert Evaluation.objects.get(pk=evaluation.pk).status == "draft"


def test_the_referentiels_are_read_only_with_their_tree(client_for, org_a):
    evaluation = _evaluation(org_a)
    client = client_for(evaluation.team.counsellor)
    listed = client.get("/api/v1/referentiels/").json()["results"]
    assert len(listed) == 1
    detail = client.get(reverse("api:referentiel-detail", kwargs={"pk": listed[0]["id"]})).json()
    assert [d["code"] for d in detail["domains"]] == ["1", "2"]
    assert [c["code"] for c in detail["domains"][0]["subdomains"][1]["criteria"]] == ["1.2.1", "1.2.2", "1.2.3"]
    assert detail["domains"][0]["subdomains"][1]["criteria"][0]["is_mandatory"] is True
    assert client.post("/api/v1/referentiels/", {}).status_code == 405


@pytest.mark.parametrize(
    ("days", "hours", "field"), [(1, "4", "ended_on"), (0, "41", "duration_hours"), (0, "120", "duration_hours")]
)
def test_closing_with_an_end_in_the_future_or_a_duration_out_of_bounds_is_400_on_the_field(
    days, hours, field, client_for, org_a
):
    evaluation = _evaluation(org_a)
    ended_on = timezone.localdate() + datetime.timedelta(days=days)
    response = client_for(evaluation.team.evaluator).post(
        reverse("api:evaluation-close", kwargs={"pk": evaluation.pk}),
        {"ended_on": ended_on.isoformat(), "duration_hours": hours},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == [field]
    evaluation.refresh_from_db()
    assert not evaluation.is_closed
