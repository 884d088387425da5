"""Page titles that say what the page shows (issue 15, WCAG 2.4.2): the number of results of a filtered list or a
search, the page beyond the first, and "Erreur" first when a form was refused."""

import html
import re

import pytest
from django.core.paginator import Paginator
from django.template import engines
from django.test import RequestFactory
from django.urls import reverse

from clea_platform.certifications import Certification
from organisations.models import Role
from tests.factories import HabilitationFactory
from tests.journey import DossierFactory, small_referentiel

LIST_URL = reverse("candidates:dossier_list")


def title(response) -> str:
    match = re.search(r"<title>(.*?)</title>", response.content.decode(), re.S)
    assert match is not None
    return html.unescape(match[1])


@pytest.fixture
def counsellor(org_a, make_member):
    HabilitationFactory(organisation=org_a, certification=Certification.CLEA)
    small_referentiel(Certification.CLEA)
    return make_member(org_a, role=Role.COUNSELLOR)


def render_title(query: dict[str, str], count: int, number: int = 1) -> str:
    page = Paginator(range(count), 25).get_page(number)
    template = engines["django"].from_string('{% load page_titles %}{% results_title "Dossiers" page %}')
    return template.render({"page": page}, request=RequestFactory().get("/", query))


@pytest.mark.parametrize(
    ("query", "count", "number", "expected"),
    [
        ({}, 12, 1, "Dossiers"),
        ({"sort": "name"}, 12, 1, "Dossiers"),  # a sort order is not a search
        ({"q": "martin"}, 12, 1, "Dossiers – 12 résultats"),
        ({"q": "martin"}, 1, 1, "Dossiers – 1 résultat"),
        ({"q": "martin"}, 0, 1, "Dossiers – aucun résultat"),
        ({"q": "  "}, 12, 1, "Dossiers"),  # an emptied search box
        ({}, 60, 2, "Dossiers – page 2 sur 3"),
        ({"state": "open", "page": "3"}, 60, 3, "Dossiers – 60 résultats – page 3 sur 3"),
    ],
)
def test_a_list_title_gives_the_results_of_a_search_and_the_page(query, count, number, expected):
    assert render_title(query, count, number) == expected


@pytest.mark.django_db
def test_the_dossier_list_titles_its_search_results(counsellor, org_a, client_for):
    DossierFactory(organisation=org_a, last_name="Martin")
    DossierFactory(organisation=org_a, last_name="Martinez")
    DossierFactory(organisation=org_a, last_name="Durand")
    client = client_for(counsellor)
    assert title(client.get(LIST_URL)) == "Dossiers – CléA"
    assert title(client.get(LIST_URL, {"q": "martin"})) == "Dossiers – 2 résultats – CléA"
    assert title(client.get(LIST_URL, {"q": "personne"})) == "Dossiers – aucun résultat – CléA"


@pytest.mark.django_db
def test_a_refused_form_says_erreur_first_in_the_title(counsellor, client_for):
    client = client_for(counsellor)
    url = reverse("candidates:dossier_create")
    assert title(client.get(url)) == "Nouveau dossier – CléA"
    refused = client.post(url, {"last_name": "Lefèvre"})
    assert refused.status_code == 200
    assert title(refused) == "Erreur – Nouveau dossier – CléA"


@pytest.mark.django_db
def test_a_refused_login_says_erreur_first_in_the_title(client):
    refused = client.post(reverse("login"), {"username": "personne@exemple.fr", "password": "faux"})
    assert title(refused) == "Erreur – Connexion – CléA"
