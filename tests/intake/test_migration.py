"""intake 0002: the proposals stored on the requests before become appointments, in the state their answer gives."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from intake.models import InterviewRequest
from scheduling.models import Appointment, AppointmentState
from tests.intake.support import counsellor_of, listed_site

BEFORE = [("intake", "0001_initial"), ("scheduling", "0002_appointment_without_dossier")]


@pytest.mark.django_db(transaction=True)
def test_existing_proposals_become_appointments_without_a_dossier():
    site = listed_site()
    counsellor = counsellor_of(site.organisation)
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps.get_model("intake", "InterviewRequest")
    starts = timezone.now() + datetime.timedelta(days=2)
    common = {
        "organisation_id": site.organisation_id,
        "site_id": site.pk,
        "certification": "clea",
        "consent_at": timezone.now(),
        "proposed_starts_at": starts,
        "proposed_duration_minutes": 45,
        "proposed_with_id": counsellor.pk,
        "proposed_place": "Salle 2",
    }
    accepted = old.objects.create(
        first_name="Léa", last_name="Martin", email="lea@exemple.fr", state="accepted", **common
    )
    moved = old.objects.create(first_name="Jo", last_name="Roy", email="jo@exemple.fr", state="other_time", **common)
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    planned = InterviewRequest.objects.get(pk=accepted.pk).appointment
    assert planned.state == AppointmentState.PLANNED and planned.dossier is None
    assert (planned.person_name, planned.person_email) == ("Léa Martin", "lea@exemple.fr")
    assert planned.starts_at == starts and planned.duration_minutes == 45 and planned.with_membership == counsellor
    cancelled = InterviewRequest.objects.get(pk=moved.pk).appointment
    assert cancelled.state == AppointmentState.CANCELLED
    assert Appointment.objects.count() == 2
