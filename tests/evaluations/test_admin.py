import pytest
from django.test import Client
from django.urls import reverse

from tests.clients import page_text, verified_login
from tests.factories import UserFactory
from tests.journey import DossierFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    verified_login(client, UserFactory(is_staff=True, is_superuser=True))
    return client


def change_url(obj) -> str:
    return reverse(f"admin:evaluations_{obj._meta.model_name}_change", args=[obj.pk])


def test_evaluations_and_attestations_are_read_only(admin_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        dossier = DossierFactory(state="partially_validated")
    evaluation, attestation = dossier.evaluations.get(), dossier.attestations.get()
    for obj in (evaluation, attestation):
        response = admin_client.get(change_url(obj))
        assert response.status_code == 200
        assert not response.context["has_change_permission"]
        assert not response.context["has_delete_permission"]
        assert admin_client.post(change_url(obj), {}).status_code == 403
    assert admin_client.get(reverse("admin:evaluations_evaluation_add")).status_code == 403
    assert "Critère 2.1.3" in page_text(admin_client.get(change_url(evaluation)))


@pytest.mark.parametrize("model", ["evaluation", "attestation"])
def test_the_admin_lists_render(admin_client, model, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        DossierFactory(state="partially_validated")
    assert admin_client.get(reverse(f"admin:evaluations_{model}_changelist")).status_code == 200
