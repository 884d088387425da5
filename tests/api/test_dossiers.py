import pytest
from django.test import Client
from django.urls import reverse

from candidates.models import Dossier, DossierEvent
from organisations.models import Role
from tests.journey import DossierFactory, small_referentiel, team_for

pytestmark = pytest.mark.django_db

LIST = "/api/v1/dossiers/"

CANDIDATE = {"first_name": "Aïcha", "last_name": "Benali", "birth_date": "1990-02-03", "birth_place": "Roubaix"}


def _candidate_payload():
    from candidates.models import Civility, EducationLevel, Origin, RegistrationStatus

    return {
        **CANDIDATE,
        "civility": Civility.values[0],
        "registration_status": RegistrationStatus.values[0],
        "education_level": EducationLevel.values[0],
        "origin": Origin.values[0],
    }


def test_counsellor_lists_their_organisations_dossiers_with_pagination_and_filters(client_for, org_a, org_b):
    mine = DossierFactory(organisation=org_a, state="opened")
    DossierFactory(organisation=org_a)
    DossierFactory(organisation=org_b)
    client = client_for(mine.team.counsellor)

    body = client.get(LIST).json()
    assert len(body["results"]) == 2
    assert {d["organisation"] for d in body["results"]} == {org_a.name}

    opened = client.get(LIST, {"state": "opened"}).json()
    assert [d["id"] for d in opened["results"]] == [mine.pk]
    by_name = client.get(LIST, {"q": mine.candidate.last_name}).json()
    assert [d["id"] for d in by_name["results"]] == [mine.pk]


def test_an_invalid_filter_is_a_json_error_naming_the_field(client_for, org_a):
    team = team_for(org_a)
    response = client_for(team.counsellor).get(LIST, {"state": "nonsense"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["message"]
    assert [error["field"] for error in body["errors"]] == ["state"]


@pytest.mark.parametrize("rows", [1, 5])
def test_the_dossier_list_costs_the_same_queries_whatever_the_rows(rows, client_for, org_a, django_assert_num_queries):
    for _ in range(rows):
        dossier = DossierFactory(organisation=org_a)
    client = client_for(dossier.team.counsellor)
    client.get(LIST)  # warm the session
    # No count since the cursor pagination (issue 20): one query fewer.
    with django_assert_num_queries(4):
        assert len(client.get(LIST).json()["results"]) == rows


def test_counsellor_creates_a_dossier_through_the_service(client_for, org_a):
    small_referentiel()
    team = team_for(org_a)
    response = client_for(team.counsellor).post(
        LIST, {"certification": "clea", "candidate": _candidate_payload()}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    dossier = Dossier.objects.get(pk=response.json()["id"])
    assert dossier.state == "information"
    assert dossier.reference == response.json()["reference"]
    assert DossierEvent.objects.filter(dossier=dossier).count() == 1


@pytest.mark.parametrize("birth_date", ["03/04/1990", "3 avril 1990", "1990-04-03T00:00:00"])
def test_dates_are_iso_8601_only(birth_date, client_for, org_a):
    """The screens read French dates; the API only ISO 8601, which no program can misread (issue 20)."""
    small_referentiel()
    team = team_for(org_a)
    payload = {"certification": "clea", "candidate": {**_candidate_payload(), "birth_date": birth_date}}
    response = client_for(team.counsellor).post(LIST, payload, content_type="application/json")
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["candidate.birth_date"]
    assert not Dossier.objects.exists()


def test_creating_a_dossier_with_bad_input_names_the_fields(client_for, org_a):
    small_referentiel()
    team = team_for(org_a)
    # A country's INSEE code for a birth in France (born_abroad false): refused on its field.
    candidate = {**_candidate_payload(), "birth_date": "hier", "birth_insee_code": "99109"}
    payload = {"certification": "nope", "candidate": candidate}
    response = client_for(team.counsellor).post(LIST, payload, content_type="application/json")
    assert response.status_code == 400
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {"certification", "candidate.birth_date", "candidate.birth_insee_code"}


def test_a_duplicate_candidate_is_refused_with_409(client_for, org_a):
    existing = DossierFactory(organisation=org_a)
    candidate = existing.candidate
    payload = {
        "certification": "clea",
        "candidate": {
            **_candidate_payload(),
            "first_name": candidate.first_name,
            "last_name": candidate.last_name,
            "birth_date": candidate.birth_date.isoformat(),
        },
    }
    client = client_for(existing.team.counsellor)
    refused = client.post(LIST, payload, content_type="application/json")
    assert refused.status_code == 409
    assert refused.json()["code"] == "dossier_already_open"
    assert existing.reference in refused.json()["message"]  # the organisation's own dossier may be named
    confirmed = client.post(LIST, {**payload, "confirm_duplicate": True}, content_type="application/json")
    assert confirmed.status_code == 409
    assert Dossier.objects.count() == 1


@pytest.mark.parametrize("role", [Role.EVALUATOR, Role.ORG_ADMIN])
def test_only_a_counsellor_creates_dossiers(role, client_for, make_member, org_a):
    small_referentiel()
    team_for(org_a)
    response = client_for(make_member(org_a, role=role)).post(
        LIST, {"certification": "clea", "candidate": _candidate_payload()}, content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.COUNSELLOR, 200),
        (Role.EVALUATOR, 200),
        (Role.ORG_ADMIN, 200),
        (Role.TRAINER, 403),
        (Role.FT_ADVISOR, 403),
    ],
)
def test_the_dossier_list_by_role(role, status, client_for, make_member, org_a):
    DossierFactory(organisation=org_a)
    assert client_for(make_member(org_a, role=role)).get(LIST).status_code == status


def test_anonymous_gets_401_as_json():
    response = Client().get(LIST)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_counsellor_of_another_organisation_gets_404(client_for, make_member, org_a, org_b):
    dossier = DossierFactory(organisation=org_b)
    client = client_for(make_member(org_a, role=Role.COUNSELLOR))
    response = client.get(reverse("api:dossier-detail", kwargs={"pk": dossier.pk}))
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": response.json()["message"]}
    assert (
        client.post(
            reverse("api:dossier-transitions", kwargs={"pk": dossier.pk}),
            {"name": "withdraw", "reason": "x"},
            content_type="application/json",
        ).status_code
        == 404
    )


# -- Transitions -------------------------------------------------------------------------------------------------


def _transitions(dossier):
    return reverse("api:dossier-transitions", kwargs={"pk": dossier.pk})


def test_the_counsellor_sees_the_steps_they_may_take_with_their_labels(client_for, org_a):
    dossier = DossierFactory(organisation=org_a)
    body = client_for(dossier.team.counsellor).get(_transitions(dossier)).json()
    names = {step["name"]: step for step in body}
    assert set(names) == {"open", "withdraw"}
    assert names["open"]["label"] == "Ouvrir le dossier"
    assert names["open"]["arguments"] == ["consent", "notify_by_email"]


def test_the_evaluator_sees_the_evaluation_start(client_for, org_a):
    dossier = DossierFactory(organisation=org_a, state="opened")
    body = client_for(dossier.team.evaluator).get(_transitions(dossier)).json()
    assert [step["name"] for step in body] == ["start_prior_evaluation"]


def test_opening_a_dossier_through_the_api_records_the_consent(client_for, org_a):
    dossier = DossierFactory(organisation=org_a)
    response = client_for(dossier.team.counsellor).post(
        _transitions(dossier), {"name": "open", "consent": True}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "opened"
    dossier.refresh_from_db()
    assert dossier.consent_at is not None
    assert not dossier.notify_by_email  # off unless asked


def test_opening_through_the_api_records_the_consent_to_emails(client_for, org_a):
    dossier = DossierFactory(organisation=org_a)
    client_for(dossier.team.counsellor).post(
        _transitions(dossier),
        {"name": "open", "consent": True, "notify_by_email": True},
        content_type="application/json",
    )
    dossier.refresh_from_db()
    assert dossier.notify_by_email and dossier.notify_by_email_at == dossier.consent_at


def test_a_step_missing_its_argument_names_the_field(client_for, org_a):
    dossier = DossierFactory(organisation=org_a)
    response = client_for(dossier.team.counsellor).post(
        _transitions(dossier), {"name": "withdraw"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "reason"


def test_the_state_machine_refusal_is_a_409_with_the_french_explanation(client_for, org_a):
    dossier = DossierFactory(organisation=org_a, state="withdrawn")
    response = client_for(dossier.team.counsellor).post(
        _transitions(dossier), {"name": "withdraw", "reason": "Encore"}, content_type="application/json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "transition_refused"
    assert "Abandonné" in response.json()["message"]


def test_a_role_that_may_not_take_the_step_gets_403(client_for, org_a):
    dossier = DossierFactory(organisation=org_a, state="opened")
    response = client_for(dossier.team.counsellor).post(
        _transitions(dossier), {"name": "start_prior_evaluation"}, content_type="application/json"
    )
    assert response.status_code == 403
    dossier.refresh_from_db()
    assert dossier.state == "opened"


def test_an_automatic_step_is_refused_and_an_unknown_one_is_bad_input(client_for, org_a):
    dossier = DossierFactory(organisation=org_a, state="opened")
    client = client_for(dossier.team.evaluator)
    automatic = client.post(_transitions(dossier), {"name": "close_prior_evaluation"}, content_type="application/json")
    assert automatic.status_code == 409
    unknown = client.post(_transitions(dossier), {"name": "fly"}, content_type="application/json")
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["field"] == "name"


def test_the_evaluator_starts_the_prior_evaluation_through_the_api(client_for, org_a):
    dossier = DossierFactory(organisation=org_a, state="opened")
    response = client_for(dossier.team.evaluator).post(
        _transitions(dossier),
        {"name": "start_prior_evaluation", "started_on": "2026-01-05", "modality": "on_site"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "prior_evaluation"
    assert dossier.evaluations.get().started_on.isoformat() == "2026-01-05"
