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


def _admin_post_data(admin_client, candidate, **changes):
    """What the change form would post: its own initial values, with `changes` typed over them."""
    page = admin_client.get(reverse("admin:candidates_candidate_change", args=[candidate.pk]))
    form = page.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None:
            continue
        data[name] = value.isoformat() if hasattr(value, "isoformat") else value
    data.update(changes)
    return data


def test_an_identity_typed_in_the_admin_cannot_be_that_of_a_person_in_training_elsewhere(admin_client):
    """Certif'Pro's admin correction obeys the one-dossier rule like the organisation's: turning the candidate
    into a person with a journey in progress at another organisation is refused on the form, nothing saved."""
    dossier = DossierFactory(state="opened", first_name="Hélène", last_name="Lefèvre")
    elsewhere = DossierFactory(state="in_training", first_name="Inès", last_name="Moreau")
    elsewhere.candidate.birth_date = dossier.candidate.birth_date
    elsewhere.candidate.save(update_fields=["birth_date"])
    candidate = dossier.candidate
    url = reverse("admin:candidates_candidate_change", args=[candidate.pk])

    refused = admin_client.post(url, _admin_post_data(admin_client, candidate, first_name="Ines", last_name="MOREAU"))
    assert refused.status_code == 200
    assert "déjà un parcours pour cette certification dans un autre organisme" in refused.content.decode()
    candidate.refresh_from_db()
    assert candidate.last_name == "Lefèvre"

    # The control: a correction to nobody else's identity goes through.
    saved = admin_client.post(url, _admin_post_data(admin_client, candidate, last_name="Lefebvre"))
    assert saved.status_code == 302
    candidate.refresh_from_db()
    assert candidate.last_name == "Lefebvre"
