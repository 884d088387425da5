import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.clients import verified_login
from tests.factories import UserFactory
from tests.journey import DossierFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    verified_login(client, UserFactory(is_staff=True, is_superuser=True))
    return client


def test_the_dossier_admin_lists_searches_and_shows_the_timeline_read_only(admin_client):
    dossier = DossierFactory(state="opened", last_name="Lefèvre")
    other = DossierFactory(last_name="Martin")
    listing = admin_client.get(reverse("admin:candidates_dossier_changelist"), {"q": "Lefèvre"})
    assert listing.status_code == 200
    assert dossier.reference in listing.content.decode()
    assert other.reference not in listing.content.decode()

    page = admin_client.get(reverse("admin:candidates_dossier_change", args=[dossier.pk]))
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert "state" not in form.fields  # read-only: steps change through the services
    assert "Consentement recueilli" in page.content.decode()
    assert admin_client.get(reverse("admin:candidates_dossier_add")).status_code == 403


def test_the_dossier_admin_list_costs_the_same_for_one_or_five_dossiers(admin_client, django_assert_num_queries):
    url = reverse("admin:candidates_dossier_changelist")
    DossierFactory()
    with CaptureQueriesContext(connection) as captured:
        admin_client.get(url)
    for _ in range(4):
        DossierFactory(state="opened")
    with django_assert_num_queries(len(captured)):
        admin_client.get(url)


def test_the_candidate_admin_searches_by_name(admin_client):
    dossier = DossierFactory(last_name="Lefèvre", first_name="Hélène")
    DossierFactory(last_name="Martin")
    response = admin_client.get(reverse("admin:candidates_candidate_changelist"), {"q": "Lefèvre"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [dossier.candidate]
    change = admin_client.get(reverse("admin:candidates_candidate_change", args=[dossier.candidate.pk]))
    assert change.status_code == 200
