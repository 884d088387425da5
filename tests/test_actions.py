"""An action URL opened with GET (a reloaded page, a bookmark, a link pasted in an e-mail) leads back to the
object's page with a word of explanation, never to a bare 405 (issue 14)."""

from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from evaluations.models import EvaluationStatus
from juries.models import JurySession, SessionState
from organisations.models import Role
from tests.journey import DossierFactory
from tests.juries.factories import make_jury

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
EXPLANATION = "Cette action se fait avec son bouton, sur cette page."


def test_no_view_answers_a_get_with_a_bare_405():
    """`require_POST` answers 405 to a GET: action views use clea_platform.actions.post_only instead."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in ROOT.glob("*/**/*.py")
        if path.relative_to(ROOT).parts[0] not in {".venv", "tests", "bench"}
        and ("require_POST" in path.read_text() or "require_http_methods" in path.read_text())
    ]
    assert offenders == []


def _explained(response) -> bool:
    return EXPLANATION in [str(message) for message in get_messages(response.wsgi_request)]


def test_a_get_on_closing_an_evaluation_goes_back_to_its_grid_and_closes_nothing(client_for):
    evaluation = DossierFactory(state="prior_evaluation").evaluations.get()
    client = client_for(evaluation.dossier.team.evaluator)

    response = client.get(reverse("evaluations:close", args=[evaluation.pk]))

    assert response.status_code == 302 and response.url == reverse("evaluations:grid", args=[evaluation.pk])
    assert _explained(response)
    evaluation.refresh_from_db()
    assert evaluation.status != EvaluationStatus.CLOSED
    assert client.get(response.url).status_code == 200


def test_a_get_on_closing_a_session_goes_back_to_the_session(client_for):
    jury = make_jury()
    response = client_for(jury.president).get(reverse("juries:session_close", args=[jury.session.pk]))
    assert response.status_code == 302 and response.url == reverse("juries:session_detail", args=[jury.session.pk])
    assert JurySession.objects.get(pk=jury.session.pk).state == SessionState.PLANNED


def test_a_get_on_the_membership_switch_goes_home(client_for, make_member, org_a):
    response = client_for(make_member(org_a, role=Role.COUNSELLOR)).get(reverse("organisations:switch"))
    assert response.status_code == 302 and response.url == reverse("home")


def test_a_get_on_asking_for_a_batch_goes_back_to_the_batches(client_for, make_member, org_a):
    response = client_for(make_member(org_a, role=Role.ORG_ADMIN)).get(reverse("funding:batch_create"))
    assert response.status_code == 302 and response.url == reverse("funding:batch_list")


def test_someone_signed_out_is_led_to_the_object_then_to_the_login(org_a):
    evaluation = DossierFactory(state="prior_evaluation").evaluations.get()
    response = Client().get(reverse("evaluations:close", args=[evaluation.pk]), follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0].startswith(reverse("login"))


def test_other_methods_than_get_and_post_are_still_refused(client_for):
    evaluation = DossierFactory(state="prior_evaluation").evaluations.get()
    client = client_for(evaluation.dossier.team.evaluator)
    assert client.put(reverse("evaluations:close", args=[evaluation.pk])).status_code == 405
