"""Who reads what of a dossier that moved (issue 19), before and after the move, for the organisation it left (A),
the one it joined (B) and a third one (C): A keeps reading its own part only, B reads everything acquired and
acts, C sees nothing. Every read goes through a scoped queryset; each action URL of A answers 404."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from candidates.models import Dossier, DossierEvent
from evaluations.models import Attestation, Evaluation
from evaluations.services import attestation_generate
from funding.models import FundingLine
from organisations.models import Role
from organisations.services import api_token_create
from tests.candidates.transfer_support import move, new_organisation
from tests.clients import logged_in_client
from tests.factories import MembershipFactory, OrganisationFactory
from tests.funding.support import draft_line
from tests.journey import DossierFactory, team_for
from tests.shared import shared_rows
from training.models import TrainingPlan
from training.services import training_plan_create

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """A's dossier, partially validated with its attestation and a funding line, then moved to B; B defines the
    training; C is a third organisation. Built once for the module's tests, which only read it."""
    with shared_rows(django_db_blocker):
        yield _world()


def _world():
    dossier = DossierFactory(partially_validated=True)
    org_a, team_a = dossier.organisation, dossier.team
    evaluation = Evaluation.objects.get(dossier=dossier)
    attestation = attestation_generate(evaluation_id=evaluation.pk)
    line = draft_line(dossier)
    org_b, team_b = new_organisation()
    org_c, team_c = new_organisation()
    before = {
        "a": _pages(logged_in_client(team_a.counsellor), dossier, evaluation, attestation, line),
        "b": _pages(logged_in_client(team_b.counsellor), dossier, evaluation, attestation, line),
    }
    transfer = move(dossier, org_b, by=team_b.counsellor)
    dossier = Dossier.objects.get(pk=dossier.pk)
    plan = training_plan_create(
        dossier=dossier,
        by=team_b.counsellor,
        trainer=team_b.trainer,
        planned_hours=Decimal("20"),
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate() + datetime.timedelta(days=30),
    )
    return {
        "dossier": dossier,
        "evaluation": evaluation,
        "attestation": attestation,
        "line": line,
        "plan": plan,
        "transfer": transfer,
        "team_a": team_a,
        "team_b": team_b,
        "team_c": team_c,
        "org_a": org_a,
        "org_b": org_b,
        "before": before,
    }


def _pages(client: Client, dossier, evaluation, attestation, line) -> dict[str, int]:
    return {
        "dossier": client.get(reverse("journey:dossier_detail", args=[dossier.pk])).status_code,
        "grid": client.get(reverse("evaluations:grid", args=[evaluation.pk])).status_code,
        "attestation": client.get(reverse("evaluations:attestation_download", args=[attestation.pk])).status_code,
        "line": client.get(reverse("funding:line_detail", args=[line.pk])).status_code,
    }


def test_before_the_move_only_a_reads_the_dossier(world):
    assert set(world["before"]["a"].values()) == {200}
    assert set(world["before"]["b"].values()) == {404}


def test_after_the_move_b_reads_what_was_acquired_and_acts(world):
    dossier, client = world["dossier"], logged_in_client(world["team_b"].counsellor)
    page = client.get(reverse("journey:dossier_detail", args=[dossier.pk]))
    assert page.status_code == 200
    assert world["attestation"].number in page.content.decode()
    assert client.get(reverse("evaluations:grid", args=[world["evaluation"].pk])).status_code == 200
    assert client.get(reverse("evaluations:attestation_download", args=[world["attestation"].pk])).status_code == 200
    assert client.get(reverse("training:plan_detail", args=[world["plan"].pk])).status_code == 200
    # The funding line stays with A, who performed its step.
    assert client.get(reverse("funding:line_detail", args=[world["line"].pk])).status_code == 404
    assert not FundingLine.objects.visible_to(world["team_b"].counsellor).filter(dossier=dossier).exists()
    listed = client.get(reverse("candidates:dossier_list")).content.decode()
    assert dossier.reference in listed


def test_after_the_move_a_reads_its_own_part_only(world):
    dossier, a = world["dossier"], world["team_a"].counsellor
    client = logged_in_client(a)
    page = client.get(reverse("journey:dossier_detail", args=[dossier.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert f"Parti vers {world['org_b'].name} le" in text
    assert world["attestation"].number in text
    assert "Vos actions" not in text
    # Its own evaluation, attestation and funding line; not B's plan, nor the timeline after the move.
    assert client.get(reverse("evaluations:grid", args=[world["evaluation"].pk])).status_code == 200
    assert client.get(reverse("evaluations:attestation_download", args=[world["attestation"].pk])).status_code == 200
    assert client.get(reverse("funding:line_detail", args=[world["line"].pk])).status_code == 200
    assert client.get(reverse("training:plan_detail", args=[world["plan"].pk])).status_code == 404
    assert not TrainingPlan.objects.visible_to(a).filter(dossier=dossier).exists()
    events = DossierEvent.objects.visible_to(a).filter(dossier=dossier)
    assert events.filter(transition="transfer").exists()
    assert not events.filter(transition="start_training").exists()
    assert "start_training" in set(DossierEvent.objects.filter(dossier=dossier).values_list("transition", flat=True))
    assert "Parcours 1 confié" not in text
    # Listed among the dossiers gone, not among its own.
    assert dossier.reference not in client.get(reverse("candidates:dossier_list")).content.decode()
    assert dossier.reference in client.get(reverse("candidates:transferred_away_list")).content.decode()


# Each action on the dossier, with the role of the organisation that takes it.
ACTION_URLS = [
    ("candidates:dossier_withdraw", "pk", "get", Role.COUNSELLOR),
    ("candidates:dossier_withdraw", "pk", "post", Role.ORG_ADMIN),
    ("candidates:candidate_correct", "pk", "get", Role.COUNSELLOR),
    ("candidates:dossier_open", "pk", "get", Role.COUNSELLOR),
    ("evaluations:evaluation_start", "dossier_pk", "get", Role.EVALUATOR),
    ("training:plan_create", "dossier_pk", "get", Role.COUNSELLOR),
    ("funding:line_create", "dossier_pk", "get", Role.COUNSELLOR),
    ("scheduling:assignment_create", "dossier_pk", "get", Role.COUNSELLOR),
    ("juries:submit", "dossier_pk", "get", Role.COUNSELLOR),
    ("space:link_send", "pk", "post", Role.COUNSELLOR),
    ("api:dossier-transitions", "pk", "get", Role.COUNSELLOR),
]


@pytest.mark.parametrize(("name", "kwarg", "method", "role"), ACTION_URLS)
def test_every_action_url_of_the_previous_organisation_answers_404(world, name, kwarg, method, role):
    member = MembershipFactory(organisation=world["org_a"], role=role)
    client = logged_in_client(member)
    url = reverse(name, kwargs={kwarg: world["dossier"].pk})
    response = getattr(client, method)(url, {"reason": "Essai"} if method == "post" else None)
    assert response.status_code == 404, (name, role, response.status_code)
    # B's member with the same role reaches the same URL (it is not a 404 for everyone).
    b_member = MembershipFactory(organisation=world["org_b"], role=role)
    if method == "get":
        assert logged_in_client(b_member).get(url).status_code != 404, name


def test_a_third_organisation_sees_nothing_of_it(world):
    c = world["team_c"].counsellor
    client = logged_in_client(c)
    assert set(_pages(client, world["dossier"], world["evaluation"], world["attestation"], world["line"]).values()) == {
        404
    }
    assert client.get(reverse("training:plan_detail", args=[world["plan"].pk])).status_code == 404
    assert world["dossier"].reference not in client.get(reverse("candidates:transferred_away_list")).content.decode()
    assert not Dossier.objects.readable_by(c).filter(pk=world["dossier"].pk).exists()
    assert not Attestation.objects.visible_to(c).exists()
    assert not Evaluation.objects.visible_to(c).filter(dossier=world["dossier"]).exists()
    assert not DossierEvent.objects.visible_to(c).filter(dossier=world["dossier"]).exists()


def test_the_api_follows_the_dossier_to_its_new_organisation(world, token_client):
    url = reverse("api:dossier-detail", args=[world["dossier"].pk])
    assert token_client(world["team_b"].counsellor).get(url).status_code == 200
    assert token_client(world["team_a"].counsellor).get(url).status_code == 404
    assert token_client(world["team_c"].counsellor).get(url).status_code == 404
    evaluations = token_client(world["team_b"].counsellor).get(reverse("api:evaluation-list")).json()
    assert world["evaluation"].pk in [row["id"] for row in evaluations["results"]]


def test_the_api_takes_in_a_dossier_with_the_candidates_consent(token_client):
    dossier = DossierFactory(opened=True)
    org_b, team_b = new_organisation()
    client = token_client(team_b.counsellor)
    url = reverse("api:dossier-transfer")
    body = {"reference": dossier.reference, "birth_date": str(dossier.candidate.birth_date), "reason": "Déménagement"}
    refused = client.post(url, {**body, "consent": False}, content_type="application/json")
    assert refused.status_code == 400
    assert [error["field"] for error in refused.json()["errors"]] == ["consent"]
    unknown = client.post(url, {**body, "birth_date": "1900-01-01", "consent": True}, content_type="application/json")
    assert unknown.status_code == 404
    taken = client.post(url, {**body, "consent": True}, content_type="application/json")
    assert taken.status_code == 201, taken.content
    assert taken.json()["organisation"] == org_b.name
    evaluator = token_client(team_for(OrganisationFactory()).evaluator)
    assert evaluator.post(url, {**body, "consent": True}, content_type="application/json").status_code == 403


@pytest.fixture
def token_client():
    def make(membership) -> Client:
        _token, key = api_token_create(
            membership=membership, name="Logiciel", expires_at=timezone.now() + datetime.timedelta(days=30)
        )
        return Client(HTTP_AUTHORIZATION=f"Token {key}")

    return make
