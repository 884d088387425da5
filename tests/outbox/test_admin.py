"""The administration shows the side effects to Certif'Pro's staff, read-only: a retry goes through the operators'
page and its service (audit row, dispatch), never through an edited row."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from organisations.models import Role
from outbox.models import SideEffectState
from tests.clients import page_text, verified_login
from tests.outbox.support import side_effect

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:outbox_sideeffect_changelist")


@pytest.fixture
def staff_client(make_member) -> Client:
    certifpro = make_member(role=Role.CERTIFPRO_ADMIN, is_staff=True, is_superuser=True)
    client = Client()
    verified_login(client, certifpro.user)
    return client


def labels(response) -> list[str]:
    return [row.label for row in response.context["cl"].result_list]


def test_side_effects_are_read_only(staff_client, org_a):
    row = side_effect(org_a)
    change = reverse("admin:outbox_sideeffect_change", args=[row.pk])

    response = staff_client.get(change)
    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    assert not response.context["has_delete_permission"]
    assert staff_client.post(change, {"state": SideEffectState.PENDING}).status_code == 403
    assert staff_client.get(reverse("admin:outbox_sideeffect_add")).status_code == 403
    assert (
        staff_client.post(reverse("admin:outbox_sideeffect_delete", args=[row.pk]), {"post": "yes"}).status_code == 403
    )
    row.refresh_from_db()
    assert row.state == SideEffectState.FAILED


def test_the_list_filters_by_state_and_kind_and_searches_keys_and_labels(staff_client, org_a):
    side_effect(org_a, label="Courriel en échec")
    side_effect(org_a, label="Courriel fait", state=SideEffectState.DONE)
    side_effect(org_a, label="Certificat de Léa", kind="certificate", key="certificate:42")

    assert sorted(labels(staff_client.get(CHANGELIST, {"state": "done"}))) == ["Courriel fait"]
    assert labels(staff_client.get(CHANGELIST, {"kind": "certificate"})) == ["Certificat de Léa"]
    assert labels(staff_client.get(CHANGELIST, {"q": "certificate:42"})) == ["Certificat de Léa"]
    assert labels(staff_client.get(CHANGELIST, {"q": "en échec"})) == ["Courriel en échec"]
    # The kinds by their French names, in the filter and in the rows.
    body = page_text(staff_client.get(CHANGELIST))
    assert "Attestation de validation partielle" in body
    assert '<td class="field-kind_name">Certificat</td>' in body


def test_a_member_without_staff_access_is_kept_out(org_a, make_member, client_for):
    side_effect(org_a)
    response = client_for(make_member(org_a, role=Role.ORG_ADMIN)).get(CHANGELIST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
