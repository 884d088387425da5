"""The candidate's space follows the rule of every role: a person reaches their own records only; another person's
dossier, document or appointment is a 404, like a missing one. Staff and candidate sessions never open each other's
pages."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from candidates.models import SignInLink
from evaluations.models import Evaluation
from evaluations.services import attestation_generate
from tests.clients import logged_in_client
from tests.journey import DossierFactory
from tests.juries.factories import certified
from tests.scheduling import book
from tests.space.support import candidate_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def person_a(org_a):
    return DossierFactory(organisation=org_a, opened=True, email="a@exemple.fr", birth_date=datetime.date(1980, 1, 1))


@pytest.fixture
def person_b(org_a):
    """In the same organisation as A: the person, not the organisation, is the boundary."""
    dossier = DossierFactory(
        organisation=org_a, state="partially_validated", email="b@exemple.fr", birth_date=datetime.date(1981, 2, 2)
    )
    attestation = attestation_generate(evaluation_id=Evaluation.objects.get(dossier=dossier).pk)
    appointment = book(dossier)
    return dossier, attestation, appointment


def b_urls(person_b) -> dict[str, str]:
    dossier, attestation, appointment = person_b
    return {
        "dossier": reverse("space:dossier", args=[dossier.pk]),
        "acquired": reverse("space:acquired", args=[dossier.pk]),
        "consent": reverse("space:consent", args=[dossier.pk]),
        "consent_withdraw": reverse("space:consent_withdraw", args=[dossier.pk]),
        "attestation": reverse("space:attestation_download", args=[attestation.pk]),
        "ics": reverse("space:appointment_ics", args=[appointment.pk]),
    }


def test_person_a_cannot_reach_b_s_dossier_documents_or_appointment(person_a, person_b):
    client = candidate_client(person_a)
    for name, url in b_urls(person_b).items():
        assert client.get(url).status_code == 404, name
    assert client.post(reverse("space:consent_withdraw", args=[person_b[0].pk])).status_code == 404
    person_b[0].refresh_from_db()
    assert person_b[0].is_open


def test_person_b_reaches_the_same_urls(person_b):
    client = candidate_client(person_b[0])
    for name, url in b_urls(person_b).items():
        assert client.get(url).status_code == 200, name


def test_a_missing_object_is_also_a_404(person_a):
    client = candidate_client(person_a)
    for name in ("space:dossier", "space:acquired", "space:attestation_download", "space:appointment_ics"):
        assert client.get(reverse(name, args=[987654321])).status_code == 404, name


def test_a_s_documents_page_lists_none_of_b_s(person_a, person_b):
    _dossier, attestation, _appointment = person_b
    page = candidate_client(person_a).get(reverse("space:documents")).content.decode()
    assert reverse("space:attestation_download", args=[attestation.pk]) not in page


def test_another_person_s_certificate_is_a_404(person_a):
    _jury, _submission, certificate = certified(email="c@exemple.fr", birth_date=datetime.date(1970, 3, 3))
    client, holder = candidate_client(person_a), candidate_client(certificate.dossier)
    for name in ("space:certificate_download", "space:credential_download"):
        assert client.get(reverse(name, args=[certificate.pk])).status_code == 404, name
        assert holder.get(reverse(name, args=[certificate.pk])).status_code == 200, name


def test_a_staff_session_does_not_open_the_space(person_a):
    client = logged_in_client(person_a.team.counsellor)
    for url in (reverse("space:home"), reverse("space:dossier", args=[person_a.pk]), reverse("space:documents")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == reverse("space:sign_in_request"), url


def test_a_candidate_session_does_not_open_staff_pages(person_a):
    client = candidate_client(person_a)
    for url in (
        reverse("home"),
        reverse("journey:dossier_detail", args=[person_a.pk]),
        reverse("candidates:dossier_list"),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url


def test_a_staff_member_signing_in_ends_the_candidate_s_session(person_a):
    client = candidate_client(person_a)
    client.force_login(person_a.team.counsellor.user)
    assert client.get(reverse("space:dossier", args=[person_a.pk])).status_code == 302


def test_the_counsellor_of_another_organisation_cannot_send_a_link(person_a, org_b, make_member):
    outsider = logged_in_client(make_member(org_b))
    assert outsider.post(reverse("space:link_send", args=[person_a.pk])).status_code == 404
    assert not SignInLink.objects.exists()


def test_an_anonymous_visitor_is_sent_to_ask_for_a_link(person_a):
    response = Client().get(reverse("space:dossier", args=[person_a.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("space:sign_in_request")
