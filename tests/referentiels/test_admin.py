import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clea_platform.certifications import Certification
from organisations.models import AuditLog
from referentiels.models import Criterion, Domain, Referentiel
from tests.clients import page_text, verified_login
from tests.factories import UserFactory
from tests.journey import DossierFactory, small_referentiel

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    verified_login(client, UserFactory(is_staff=True, is_superuser=True))
    return client


def change_url(obj) -> str:
    return reverse(f"admin:referentiels_{obj._meta.model_name}_change", args=[obj.pk])


def run_action(client, action: str, *referentiels):
    return client.post(
        reverse("admin:referentiels_referentiel_changelist"),
        {"action": action, "_selected_action": [r.pk for r in referentiels]},
        follow=True,
    )


def test_a_referentiel_not_used_yet_is_editable(admin_client):
    referentiel = small_referentiel()
    response = admin_client.get(change_url(referentiel))
    assert response.status_code == 200
    assert response.context["has_change_permission"]
    assert "déjà utilisé par des dossiers" not in page_text(response)


@pytest.mark.parametrize("model", [Referentiel, Domain, Criterion])
def test_every_part_of_a_locked_referentiel_is_read_only_with_the_way_out(admin_client, model):
    DossierFactory(state="opened")
    obj = model.objects.first()
    response = admin_client.get(change_url(obj))
    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    assert not response.context["has_delete_permission"]
    assert "créez une nouvelle version" in page_text(response)
    assert admin_client.post(change_url(obj), {}).status_code == 403


def test_no_part_can_be_added_to_a_locked_referentiel(admin_client):
    DossierFactory(state="opened")
    subdomain = Criterion.objects.first().subdomain
    response = admin_client.post(
        reverse("admin:referentiels_criterion_add"),
        {"subdomain": subdomain.pk, "code": "1.1.9", "title": "Nouveau", "position": 9},
    )
    assert response.status_code == 200
    assert "créez une nouvelle version" in page_text(response)
    assert not Criterion.objects.filter(code="1.1.9").exists()


def test_the_action_creates_a_new_version_with_a_free_name(admin_client):
    source = small_referentiel()
    DossierFactory(state="opened")  # a locked version can be copied: that is the way to change it
    expected = f"test-copie-{timezone.localdate():%Y%m%d}"

    response = run_action(admin_client, "create_new_version", source)
    assert f"La version « {expected} » est créée" in page_text(response)
    run_action(admin_client, "create_new_version", source)

    copies = Referentiel.objects.exclude(pk=source.pk).order_by("pk")
    assert [c.version for c in copies] == [expected, f"{expected}-2"]
    assert all(c.criteria().count() == 9 and not c.is_current and not c.is_locked for c in copies)


def test_the_action_makes_a_version_current_and_the_previous_one_not(admin_client):
    old = small_referentiel()
    run_action(admin_client, "create_new_version", old)
    new = Referentiel.objects.exclude(pk=old.pk).get()

    response = run_action(admin_client, "make_current", new)

    assert "est maintenant la version en vigueur" in page_text(response)
    assert Referentiel.objects.current_for(Certification.CLEA) == new
    assert AuditLog.objects.filter(action="referentiel.make_current", object_id=str(new.pk)).exists()


def test_two_versions_of_one_certification_cannot_both_become_current(admin_client):
    old = small_referentiel()
    run_action(admin_client, "create_new_version", old)
    new = Referentiel.objects.exclude(pk=old.pk).get()

    response = run_action(admin_client, "make_current", old, new)

    assert "Une seule version peut être en vigueur par certification" in page_text(response)
    assert Referentiel.objects.current_for(Certification.CLEA) == old


@pytest.mark.parametrize("model", ["referentiel", "domain", "subdomain", "criterion"])
def test_the_admin_lists_render(admin_client, model, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        DossierFactory(state="partially_validated")
    assert admin_client.get(reverse(f"admin:referentiels_{model}_changelist")).status_code == 200
