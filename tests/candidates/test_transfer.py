"""Changing organisation with the dossier (issue 19): the service's rules and what it closes, writes and keeps."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from candidates.models import Dossier, DossierEvent, DossierState, DossierTransfer
from candidates.services import TransferRefused, dossier_transfer, dossier_withdraw, transfer_find
from evaluations.acquisitions import dossier_outcome
from evaluations.models import Attestation, Evaluation
from funding.models import FundingLine
from notifications.models import Notification
from organisations.models import AuditLog, Habilitation, Role
from scheduling.models import Appointment, AppointmentState, Assignment, AssignmentPurpose
from scheduling.services import assignment_set
from tests.candidates.transfer_support import CONSENT, REASON, move, new_organisation
from tests.factories import MembershipFactory
from tests.funding.support import draft_line
from tests.journey import DossierFactory
from tests.juries.factories import certified, make_jury, submit
from tests.scheduling import book

pytestmark = pytest.mark.django_db


def test_the_new_organisations_counsellor_takes_the_dossier_with_the_candidates_consent():
    dossier = DossierFactory(partially_validated=True)
    previous, deadline = dossier.organisation, dossier.deadline
    org_b, team_b = new_organisation()

    transfer = move(dossier, org_b, by=team_b.counsellor)

    dossier.refresh_from_db()
    assert dossier.organisation == org_b
    assert dossier.counsellor == team_b.counsellor.user
    assert dossier.state == DossierState.PARTIALLY_VALIDATED
    assert dossier.deadline == deadline  # the 5-year window does not move
    assert (transfer.from_organisation, transfer.to_organisation) == (previous, org_b)
    assert (transfer.requested_by, transfer.by_candidate) == (team_b.counsellor, False)
    assert transfer.consent_text == CONSENT and transfer.reason == REASON
    event = dossier.events.get(transition="transfer")
    assert previous.name in event.note and org_b.name in event.note and REASON in event.note
    assert event.at <= transfer.at
    actions = set(AuditLog.objects.filter(object_id=str(dossier.pk)).values_list("action", "organisation_id"))
    assert {("dossier.transfer", org_b.pk), ("dossier.transferred_away", previous.pk)} <= actions


def test_the_candidate_moves_their_dossier_to_the_new_organisations_first_counsellor():
    dossier = DossierFactory(ready_for_jury=True)
    org_b, _team = new_organisation()
    first = org_b.memberships.filter(role=Role.COUNSELLOR).order_by("pk").first()
    MembershipFactory(organisation=org_b, role=Role.COUNSELLOR)  # a later colleague

    transfer = move(dossier, org_b, by=None)

    dossier.refresh_from_db()
    assert dossier.counsellor == first.user
    assert transfer.by_candidate and transfer.requested_by is None
    assert "depuis son espace" in dossier.events.get(transition="transfer").note


def test_only_an_organisation_habilitated_for_the_certification_takes_a_dossier():
    dossier = DossierFactory(opened=True)
    org_b, team_b = new_organisation()
    Habilitation.objects.filter(organisation=org_b, certification=dossier.certification).delete()
    with pytest.raises(TransferRefused, match="habilité"):
        move(dossier, org_b, by=team_b.counsellor)
    dossier.refresh_from_db()
    assert not DossierTransfer.objects.exists()


@pytest.mark.parametrize("state", ["information", "submitted_to_jury", "withdrawn", "certified"])
def test_a_dossier_moves_only_between_opening_and_the_jury(state):
    if state == "submitted_to_jury":
        dossier = DossierFactory(ready_for_jury=True)
        submit(make_jury(), dossier)
        dossier = Dossier.objects.get(pk=dossier.pk)
    elif state == "certified":
        _jury, submission, _certificate = certified()
        dossier = Dossier.objects.get(pk=submission.dossier_id)
    else:
        dossier = DossierFactory(state=state)
    org_b, team_b = new_organisation()
    with pytest.raises(TransferRefused):
        move(dossier, org_b, by=team_b.counsellor)
    assert not DossierTransfer.objects.exists()


@pytest.mark.parametrize(
    "state", ["opened", "prior_evaluation", "partially_validated", "in_training", "final_evaluation", "ready_for_jury"]
)
def test_a_dossier_moves_from_every_step_before_the_jury(state):
    dossier = DossierFactory(state=state)
    org_b, team_b = new_organisation()
    move(dossier, org_b, by=team_b.counsellor)
    dossier.refresh_from_db()
    assert dossier.organisation == org_b


def test_the_consent_and_the_reason_are_required():
    dossier = DossierFactory(opened=True)
    org_b, team_b = new_organisation()
    with pytest.raises(ValidationError) as error:
        dossier_transfer(
            dossier=dossier, to_organisation=org_b, consent_text=CONSENT, reason=REASON, by=team_b.counsellor
        )
    assert "consent" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        dossier_transfer(
            dossier=dossier,
            to_organisation=org_b,
            consent_text=CONSENT,
            consent_given=True,
            reason=" ",
            by=team_b.counsellor,
        )
    assert "reason" in error.value.message_dict


def test_only_a_counsellor_or_administrator_of_the_new_organisation_asks():
    dossier = DossierFactory(opened=True)
    org_b, team_b = new_organisation()
    with pytest.raises(PermissionDenied):
        move(dossier, org_b, by=team_b.evaluator)
    with pytest.raises(PermissionDenied):
        move(dossier, org_b, by=dossier.team.counsellor)  # the previous organisation does not push it away
    with pytest.raises(TransferRefused):
        move(dossier, dossier.organisation, by=dossier.team.counsellor)


def test_appointments_are_cancelled_and_assignments_end_with_the_reason():
    dossier = DossierFactory(opened=True)
    appointment = book(dossier)
    assignment_set(
        dossier=dossier,
        purpose=AssignmentPurpose.PRIOR_EVALUATION,
        assignee=dossier.team.evaluator,
        by=dossier.team.counsellor,
    )
    assert Assignment.objects.current().filter(dossier=dossier).exists()
    org_b, team_b = new_organisation()

    move(dossier, org_b, by=team_b.counsellor)

    appointment.refresh_from_db()
    assert appointment.state == AppointmentState.CANCELLED
    assert REASON in appointment.cancel_reason
    assert not Assignment.objects.current().filter(dossier=dossier).exists()
    assert all(REASON in a.end_reason for a in Assignment.objects.filter(dossier=dossier))
    assert appointment.organisation_id == dossier.team.organisation.pk  # it stays with who booked it
    assert Appointment.objects.filter(dossier=dossier, state=AppointmentState.PLANNED).count() == 0


def test_a_training_in_progress_is_closed_and_the_new_organisation_defines_its_own():
    dossier = DossierFactory(in_training=True)
    plan = dossier.current_training_plan
    org_b, team_b = new_organisation()

    move(dossier, org_b, by=team_b.counsellor)

    plan.refresh_from_db()
    dossier = Dossier.objects.get(pk=dossier.pk)
    assert plan.completed_at is not None and REASON in plan.shortfall_reason
    assert dossier.state == DossierState.PARTIALLY_VALIDATED
    assert DossierEvent.objects.filter(dossier=dossier, note__contains="arrêté").exists()


def test_what_remains_is_computed_from_the_previous_organisations_evaluation():
    dossier = DossierFactory(partially_validated=True)
    before = dossier_outcome(dossier).gap_criteria()
    org_b, team_b = new_organisation()
    move(dossier, org_b, by=team_b.counsellor)
    dossier = Dossier.objects.get(pk=dossier.pk)
    assert [c.code for c in dossier_outcome(dossier).gap_criteria()] == [c.code for c in before]
    assert {c.code for c in before} == {"2.1.3", "2.1.4"}


def test_funding_lines_and_evaluations_keep_their_organisation():
    dossier = DossierFactory(partially_validated=True)
    previous = dossier.organisation
    line = draft_line(dossier)
    org_b, team_b = new_organisation()
    move(dossier, org_b, by=team_b.counsellor)
    line.refresh_from_db()
    assert line.organisation == previous
    assert FundingLine.objects.filter(dossier=dossier).count() == 1
    assert set(Evaluation.objects.filter(dossier=dossier).values_list("organisation_id", flat=True)) == {previous.pk}
    assert set(Attestation.objects.filter(dossier=dossier).values_list("organisation_id", flat=True)) <= {previous.pk}


def test_the_previous_organisation_is_told_and_the_new_counsellor_hears_of_a_candidates_move():
    dossier = DossierFactory(partially_validated=True)
    previous_counsellor = dossier.team.counsellor
    admin_a = MembershipFactory(organisation=dossier.organisation, role=Role.ORG_ADMIN)
    org_b, team_b = new_organisation()

    move(dossier, org_b, by=None)

    away = Notification.objects.filter(kind="dossier_transferred_away")
    assert set(away.values_list("recipient_id", flat=True)) == {previous_counsellor.user_id, admin_a.user_id}
    assert org_b.name in away.first().title
    arrived = Notification.objects.filter(kind="dossier_transferred_in")
    assert list(arrived.values_list("recipient_id", flat=True)) == [team_b.counsellor.user_id]


def test_the_new_organisation_finds_a_dossier_by_reference_and_birth_date_only():
    dossier = DossierFactory(opened=True, birth_date=datetime.date(1980, 1, 2))
    _org_b, team_b = new_organisation()
    assert (
        transfer_find(
            membership=team_b.counsellor, reference=dossier.reference, birth_date=dossier.candidate.birth_date
        )
        == dossier
    )
    assert (
        transfer_find(membership=team_b.counsellor, reference=dossier.reference, birth_date=datetime.date(1980, 1, 3))
        is None
    )
    assert (
        transfer_find(membership=team_b.evaluator, reference=dossier.reference, birth_date=dossier.candidate.birth_date)
        is None
    )
    assert (
        transfer_find(
            membership=dossier.team.counsellor, reference=dossier.reference, birth_date=dossier.candidate.birth_date
        )
        is None
    )


def test_anonymising_the_dossier_blanks_the_moves_reason_and_keeps_the_move():
    from privacy.services import retention_apply
    from tests.privacy.support import later, staff_still_logging_in

    dossier = DossierFactory(opened=True)
    org_b, team_b = new_organisation()
    move(dossier, org_b, by=team_b.counsellor, reason="Je déménage chez ma sœur à Roubaix.")
    dossier = Dossier.objects.get(pk=dossier.pk)
    dossier_withdraw(dossier=dossier, by=team_b.counsellor, reason="Arrêt")
    staff_still_logging_in(later(years=6))
    retention_apply(now=later(years=6))

    transfer = DossierTransfer.objects.get(dossier=dossier)
    assert transfer.reason == "" and transfer.to_organisation == org_b
