"""The candidate's pages take a fixed number of queries: not one more per domain, attestation or dossier."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evaluations.models import Evaluation
from evaluations.services import attestation_generate
from tests.journey import DossierFactory
from tests.space.support import candidate_client

pytestmark = pytest.mark.django_db

# Measured (session, dossier, then what the page reads: the training plan, the next appointment; the référentiel's
# tree and the acquired criteria), with a little room.
BOUNDS = {"space:dossier": 6, "space:acquired": 11, "space:consent": 3}


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("name", ["space:dossier", "space:acquired", "space:consent"])
def test_a_dossier_page_takes_as_many_queries_for_two_dossiers_of_the_person_as_for_one(org_a, org_b, name):
    first = DossierFactory(organisation=org_a, state="in_training", email="q@exemple.fr")
    client = candidate_client(first)
    one = queries(client, reverse(name, args=[first.pk]))
    DossierFactory(organisation=org_b, state="in_training", email="q@exemple.fr")
    second_client = candidate_client(first)
    assert queries(second_client, reverse(name, args=[first.pk])) == one
    assert one <= BOUNDS[name]


def test_the_documents_page_takes_as_many_queries_for_two_attestations_as_for_one(org_a, org_b):
    first = DossierFactory(organisation=org_a, state="partially_validated", email="d@exemple.fr")
    attestation_generate(evaluation_id=Evaluation.objects.get(dossier=first).pk)
    client = candidate_client(first)
    one = queries(client, reverse("space:documents"))
    other = DossierFactory(organisation=org_b, state="partially_validated", email="d@exemple.fr")
    attestation_generate(evaluation_id=Evaluation.objects.get(dossier=other).pk)
    client = candidate_client(first)
    assert queries(client, reverse("space:documents")) == one
    assert one <= 8
