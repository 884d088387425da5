"""Anonymising a person blanks what their appointments and assignments say in free text."""

from __future__ import annotations

import pytest
from django.utils import timezone

from privacy.services import candidate_anonymise
from scheduling.models import Appointment, AssignmentPurpose
from scheduling.services import appointment_cancel, assignment_set
from tests.journey import DossierFactory
from tests.scheduling import book

pytestmark = pytest.mark.django_db


def test_anonymising_blanks_the_appointments_and_assignments_free_texts():
    dossier = DossierFactory(state="opened")
    team = dossier.team
    appointment = book(dossier, remote=True)
    appointment_cancel(appointment=appointment, by=team.counsellor, reason="Mme est hospitalisée")
    assignment_set(
        dossier=dossier, purpose=AssignmentPurpose.PRIOR_EVALUATION, assignee=team.evaluator, by=team.counsellor
    )
    assignment_set(
        dossier=dossier,
        purpose=AssignmentPurpose.PRIOR_EVALUATION,
        assignee=team.final_evaluator,
        by=team.counsellor,
        reason="Demande de la candidate, qui connaît l'évaluateur",
    )
    assert candidate_anonymise(candidate=dossier.candidate, now=timezone.now())
    appointment = Appointment.objects.get(pk=appointment.pk)
    assert (appointment.cancel_reason, appointment.remote_details) == ("", "")
    assert set(dossier.assignments.values_list("end_reason", flat=True)) == {""}
    assert appointment.state == "cancelled"
