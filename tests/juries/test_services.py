import csv
import datetime
import io
from decimal import Decimal
from functools import partial
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from candidates.models import Dossier, DossierEvent, DossierState
from clea_platform.certifications import Certification
from evaluations.acquisitions import dossier_outcome
from funding.models import Funder
from journey.exports import EXPORT_COLUMNS, certified_candidates, export_rows, to_csv, to_xlsx
from juries.models import SESSION_TIMEZONE as PARIS
from juries.models import (
    VERIFICATION_ALPHABET,
    VERIFICATION_CODE_LENGTH,
    Certificate,
    College,
    ConflictDeclaration,
    DecisionKind,
    SessionMinutes,
    SessionState,
    new_verification_code,
)
from juries.services import (
    JuryError,
    certificate_generate,
    conflict_declare,
    decision_record,
    decision_revoke,
    dossier_submit_to_jury,
    jury_session_close,
    jury_session_convene,
    jury_session_create,
    jury_session_set_seats,
    jury_session_start_deliberation,
    minutes_generate,
)
from juries.tasks import certificate_generate_task, minutes_generate_task
from organisations.models import AuditLog, Membership, Region, Role
from tests.documents import another_worker_while_rendering, sha256_of, stored_files
from tests.factories import MembershipFactory, OrganisationFactory
from tests.journey import DossierFactory
from tests.juries.factories import (
    certified,
    close,
    deliberating,
    everyone_present,
    jury_member,
    make_certifpro,
    make_jury,
    open_deliberation,
    session_day,
    submit,
)
from tests.waiting import wait_until
from training.services import training_plan_create

pytestmark = pytest.mark.django_db


def pdf_text(path: str) -> str:
    """The PDF's text with its line breaks (table cells wrap) folded into single spaces."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(path).pages).split())


def fresh(dossier: Dossier) -> Dossier:
    """The dossier as stored now (its cached outcome and plan forgotten)."""
    return Dossier.objects.get(pk=dossier.pk)


# -- Parity and quorum ---------------------------------------------------------------------------------------


def convened_with(jury, members, president):
    jury_session_set_seats(
        session=jury.session,
        by=jury.admin,
        member_ids=[m.pk for m in members],
        president_id=president.pk if president else None,
    )
    return jury_session_convene(session=jury.session, by=jury.admin)


def attendance(*members, absent=(), excused=()):
    return {
        m.pk: "absent" if m in absent else "excused" if m in excused else "present"
        for m in (*members, *absent, *excused)
    }


def test_one_employer_and_one_employee_present_with_their_president_may_deliberate():
    jury = make_jury()
    session = session_day(jury_session_convene(session=jury.session, by=jury.admin))
    session = jury_session_start_deliberation(
        session=session, by=jury.president, attendance=attendance(jury.employer, jury.employee)
    )
    assert session.state == SessionState.DELIBERATING
    assert {seat.member_id: seat.attendance for seat in session.seats.all()} == {
        jury.employer.pk: "present",
        jury.employee.pk: "present",
    }


def test_the_deliberation_does_not_open_before_the_session_day():
    jury = make_jury(days_ahead=1)
    session = jury_session_convene(session=jury.session, by=jury.admin)
    day = f"{timezone.localtime(session.date, PARIS):%d/%m/%Y}"
    with pytest.raises(JuryError, match=f"avant le jour de la session, le {day}"):
        jury_session_start_deliberation(
            session=session, by=jury.president, attendance=attendance(jury.employer, jury.employee)
        )
    session.refresh_from_db(fields=["state"])
    assert session.state == SessionState.CONVENED
    # Nothing of the refused opening is kept: the attendance is recorded again on the day.
    assert set(session.seats.values_list("attendance", flat=True)) == {""}


def test_the_session_day_is_its_date_in_paris_whatever_the_hour():
    jury = make_jury()
    session = jury_session_convene(session=jury.session, by=jury.admin)
    # Late this evening in Paris: still today, although tomorrow in UTC+14 or earlier than now.
    tonight = timezone.localtime(timezone.now(), PARIS).replace(hour=23, minute=59)
    session = session_day(session, tonight)
    assert session.day == timezone.localdate(timezone=PARIS)
    session = jury_session_start_deliberation(
        session=session, by=jury.president, attendance=attendance(jury.employer, jury.employee)
    )
    assert session.state == SessionState.DELIBERATING


def test_the_deliberation_may_open_after_the_session_day():
    # The jury met yesterday; its president records the attendance and the decisions today.
    jury = make_jury()
    session = jury_session_convene(session=jury.session, by=jury.admin)
    session = session_day(session, timezone.now() - datetime.timedelta(days=1))
    session = jury_session_start_deliberation(
        session=session, by=jury.president, attendance=attendance(jury.employer, jury.employee)
    )
    assert session.state == SessionState.DELIBERATING


def test_one_employer_and_two_employees_present_may_not_deliberate():
    jury = make_jury()
    second_employee = jury_member(jury.body, College.EMPLOYEES)
    session = session_day(convened_with(jury, [jury.employer, jury.employee, second_employee], jury.employer))
    with pytest.raises(JuryError, match="nombre égal : 1 employeur, 2 salariés"):
        jury_session_start_deliberation(
            session=session, by=jury.president, attendance=attendance(jury.employer, jury.employee, second_employee)
        )
    session.refresh_from_db(fields=["state"])
    assert session.state == SessionState.CONVENED


def test_parity_counts_who_is_present_not_who_was_convened():
    # Two employers and one employee convened; one employer sends their apologies: one of each is present.
    jury = make_jury()
    second_employer = jury_member(jury.body, College.EMPLOYERS)
    session = session_day(convened_with(jury, [jury.employer, second_employer, jury.employee], jury.employer))
    session = jury_session_start_deliberation(
        session=session,
        by=jury.president,
        attendance=attendance(jury.employer, jury.employee, excused=[second_employer]),
    )
    assert session.state == SessionState.DELIBERATING
    assert session.seats.get(member=second_employer).attendance == "excused"


def test_a_college_without_anyone_present_may_not_deliberate_and_the_refusal_names_it():
    jury = make_jury()
    session = session_day(jury_session_convene(session=jury.session, by=jury.admin))
    with pytest.raises(JuryError) as refused:
        jury_session_start_deliberation(
            session=session, by=jury.president, attendance=attendance(jury.employer, absent=[jury.employee])
        )
    assert str(refused.value) == "Aucun membre du collège salariés n'est présent."


def test_every_member_convened_has_their_attendance_recorded():
    jury = make_jury()
    session = session_day(jury_session_convene(session=jury.session, by=jury.admin))
    with pytest.raises(
        JuryError, match=f"Indiquez la présence de chaque membre \\(manque : {jury.employee.user.get_full_name()}\\)"
    ):
        jury_session_start_deliberation(session=session, by=jury.president, attendance=attendance(jury.employer))
    outsider = jury_member(jury.body, College.EMPLOYEES)
    with pytest.raises(JuryError, match="membres convoqués"):
        jury_session_start_deliberation(
            session=session, by=jury.president, attendance=attendance(jury.employer, jury.employee, outsider)
        )
    with pytest.raises(JuryError, match="Présence inconnue"):
        jury_session_start_deliberation(
            session=session, by=jury.president, attendance={jury.employer.pk: "present", jury.employee.pk: "late"}
        )


def test_opening_the_deliberation_records_the_attendance_in_the_audit_log_and_the_history():
    jury = make_jury()
    second_employer = jury_member(jury.body, College.EMPLOYERS)
    session = session_day(convened_with(jury, [jury.employer, second_employer, jury.employee], jury.employer))
    jury_session_start_deliberation(
        session=session,
        by=jury.president,
        attendance=attendance(jury.employer, jury.employee, absent=[second_employer]),
    )
    audit = AuditLog.objects.get(action="jury_session.attendance")
    assert audit.details == {
        "present": sorted([jury.employer.pk, jury.employee.pk]),
        "absent": [second_employer.pk],
        "excused": [],
    }
    event = session.events.get(transition="start_deliberation")
    assert event.note == "2 membres présents sur 3"


def test_one_member_of_each_college_without_a_president_may_not_deliberate():
    jury = make_jury()
    session = session_day(convened_with(jury, [jury.employer, jury.employee], president=None))
    with pytest.raises(JuryError, match="Désignez la présidence du jury"):
        jury_session_start_deliberation(
            session=session, by=jury.admin, attendance=attendance(jury.employer, jury.employee)
        )


def test_an_absent_president_prevents_the_deliberation():
    jury = make_jury()
    second_employer = jury_member(jury.body, College.EMPLOYERS)
    session = session_day(convened_with(jury, [jury.employer, second_employer, jury.employee], jury.employer))
    with pytest.raises(JuryError) as refused:
        jury_session_start_deliberation(
            session=session,
            by=jury.admin,
            attendance=attendance(second_employer, jury.employee, excused=[jury.employer]),
        )
    assert str(refused.value) == "La personne qui préside doit être présente."


def test_a_session_is_managed_by_its_bodys_administrators_and_certifpro_and_presided_by_its_president_only():
    jury = make_jury()
    other_body = OrganisationFactory(kind=jury.body.kind, region=jury.body.region)
    other_admin = MembershipFactory(organisation=other_body, role=Role.ORG_ADMIN)
    # The president's own user, as an administrator elsewhere: presides as a juror, not through that membership.
    president_as_admin = MembershipFactory(organisation=other_body, role=Role.ORG_ADMIN, user=jury.president.user)
    session = jury.session

    certifpro = make_certifpro()

    managers = [m for m in (jury.admin, certifpro, other_admin, jury.president) if session.managed_by(m)]
    presidents = [
        m
        for m in (jury.president, jury.member_membership(jury.employee), jury.admin, president_as_admin)
        if session.presided_by(m)
    ]

    assert managers == [jury.admin, certifpro]
    assert presidents == [jury.president]


def test_a_member_who_does_not_preside_may_not_open_the_deliberation():
    jury = make_jury()
    session = jury_session_convene(session=jury.session, by=jury.admin)
    with pytest.raises(PermissionDenied):
        jury_session_start_deliberation(
            session=session_day(session),
            by=jury.member_membership(jury.employee),
            attendance=attendance(jury.employer, jury.employee),
        )


def test_the_president_must_be_one_of_the_members_convened():
    jury = make_jury()
    outsider = jury_member(jury.body, College.EMPLOYERS)
    with pytest.raises(JuryError, match="La présidence revient à l'un des membres convoqués"):
        jury_session_set_seats(
            session=jury.session,
            by=jury.admin,
            member_ids=[jury.employer.pk, jury.employee.pk],
            president_id=outsider.pk,
        )


# -- Conflicts of interest -----------------------------------------------------------------------------------


def test_members_without_any_link_have_no_conflict():
    jury = make_jury()
    submit(jury, DossierFactory(state="ready_for_jury"))
    assert not ConflictDeclaration.objects.exists()


def test_a_member_also_belonging_to_the_evaluator_organisation_is_in_conflict():
    jury = make_jury()
    dossier = DossierFactory(state="ready_for_jury")
    MembershipFactory(user=jury.employee.user, organisation=dossier.organisation, role=Role.EVALUATOR)
    submission = submit(jury, dossier)
    conflict = ConflictDeclaration.objects.get()
    assert conflict.submission == submission
    assert conflict.seat.member == jury.employee
    assert conflict.detected


def test_a_member_representing_the_training_organisation_is_in_conflict():
    jury = make_jury()
    dossier = DossierFactory(state="ready_for_jury", via_training=True)
    training_organisation = dossier.training_plans.get().organisation
    jury.employer.represented_organisation = training_organisation
    jury.employer.save()
    submit(jury, dossier)
    assert ConflictDeclaration.objects.get().seat.member == jury.employer


def test_a_member_seated_after_the_submission_is_checked_too():
    jury = make_jury()
    dossier = DossierFactory(state="ready_for_jury")
    submit(jury, dossier)
    newcomer = jury_member(jury.body, College.EMPLOYEES)
    MembershipFactory(user=newcomer.user, organisation=dossier.organisation, role=Role.COUNSELLOR)
    jury_session_set_seats(
        session=jury.session,
        by=jury.admin,
        member_ids=[jury.employer.pk, jury.employee.pk, newcomer.pk],
        president_id=jury.employer.pk,
    )
    assert ConflictDeclaration.objects.get().seat.member == newcomer


def test_the_president_in_conflict_may_not_decide_that_dossier():
    jury = make_jury()
    linked, other = DossierFactory(state="ready_for_jury"), DossierFactory(state="ready_for_jury")
    MembershipFactory(user=jury.employer.user, organisation=linked.organisation, role=Role.EVALUATOR)
    linked_submission, other_submission = deliberating(jury, linked, other)
    with pytest.raises(JuryError, match="lien avec ce dossier"):
        decision_record(submission=linked_submission, by=jury.president, kind=DecisionKind.AWARDED)
    assert fresh(linked).state == DossierState.SUBMITTED_TO_JURY
    decision_record(submission=other_submission, by=jury.president, kind=DecisionKind.AWARDED)
    assert fresh(other).state == DossierState.CERTIFIED


def test_a_president_who_declares_a_link_may_not_decide_that_dossier():
    jury = make_jury()
    [submission] = deliberating(jury, DossierFactory(state="ready_for_jury"))
    declaration = conflict_declare(submission=submission, by=jury.president, statement="Ma sœur est la candidate.")
    assert not declaration.detected
    with pytest.raises(JuryError, match="lien avec ce dossier"):
        decision_record(submission=submission, by=jury.president, kind=DecisionKind.AWARDED)


def test_a_declaration_needs_a_statement_and_a_seat():
    jury = make_jury()
    submission = submit(jury, DossierFactory(state="ready_for_jury"))
    with pytest.raises(JuryError, match="Décrivez le lien"):
        conflict_declare(submission=submission, by=jury.president, statement="  ")
    other_jury = make_jury()
    with pytest.raises(PermissionDenied):
        conflict_declare(submission=submission, by=other_jury.president, statement="Un lien")
    assert not ConflictDeclaration.objects.exists()


# -- Decisions and the dossier's state ------------------------------------------------------------------------


def test_an_award_certifies_the_dossier():
    jury = make_jury()
    dossier = DossierFactory(state="ready_for_jury")
    [submission] = deliberating(jury, dossier)
    decision = decision_record(submission=submission, by=jury.president, kind=DecisionKind.AWARDED)
    assert decision.kind == DecisionKind.AWARDED
    assert fresh(dossier).state == DossierState.CERTIFIED
    event = DossierEvent.objects.filter(dossier=dossier).order_by("-at", "-id").first()
    assert event.transition == "award"


def test_a_deferral_sends_the_named_domains_back_to_training():
    jury = make_jury()
    dossier = DossierFactory(state="ready_for_jury")
    assert dossier_outcome(dossier).all_validated
    [submission] = deliberating(jury, dossier)
    decision = decision_record(
        submission=submission,
        by=jury.president,
        kind=DecisionKind.DEFERRED,
        reason="Le calcul doit être consolidé.",
        missing_domains=["2"],
    )
    assert decision.missing_domains == ["2"]
    dossier = fresh(dossier)
    assert dossier.state == DossierState.PARTIALLY_VALIDATED
    validated = {domain.code: domain.validated for domain in dossier_outcome(dossier).domains}
    assert validated == {"1": True, "2": False}
    assert {c.code for c in dossier_outcome(dossier).gap_criteria()} == {"2.1.1", "2.1.2", "2.1.3", "2.1.4"}
    today = timezone.localdate()
    plan = training_plan_create(
        dossier=dossier,
        by=dossier.organisation.memberships.get(role=Role.COUNSELLOR),
        trainer=MembershipFactory(organisation=OrganisationFactory(training=True), role=Role.TRAINER),
        planned_hours=Decimal("20"),
        starts_on=today,
        ends_on=today + datetime.timedelta(days=60),
    )
    assert {c.code for c in plan.target_criteria.all()} == {"2.1.1", "2.1.2", "2.1.3", "2.1.4"}
    assert fresh(dossier).state == DossierState.IN_TRAINING


def test_a_deferral_needs_its_reason_and_known_domains():
    jury = make_jury()
    [submission] = deliberating(jury, DossierFactory(state="ready_for_jury"))
    with pytest.raises(JuryError, match="Motivez"):
        decision_record(submission=submission, by=jury.president, kind=DecisionKind.DEFERRED, missing_domains=["2"])
    with pytest.raises(JuryError, match="Un ajournement indique au moins un domaine à acquérir"):
        decision_record(submission=submission, by=jury.president, kind=DecisionKind.DEFERRED, reason="Motif")
    with pytest.raises(JuryError, match="domaines"):
        decision_record(
            submission=submission, by=jury.president, kind=DecisionKind.DEFERRED, reason="Motif", missing_domains=["9"]
        )


def test_an_award_names_no_domain_to_acquire():
    jury = make_jury()
    dossier = DossierFactory(state="ready_for_jury")
    [submission] = deliberating(jury, dossier)
    with pytest.raises(JuryError, match="Une certification délivrée ne laisse aucun domaine à acquérir"):
        decision_record(submission=submission, by=jury.president, kind=DecisionKind.AWARDED, missing_domains=["2"])
    assert fresh(dossier).state == DossierState.SUBMITTED_TO_JURY


@pytest.mark.parametrize("kind", [DecisionKind.REFUSED, DecisionKind.ABSENT, DecisionKind.EXCUSED])
def test_only_a_deferral_names_domains_to_acquire(kind):
    jury = make_jury()
    [submission] = deliberating(jury, DossierFactory(state="ready_for_jury"))
    with pytest.raises(JuryError, match="Seul un ajournement indique des domaines à acquérir"):
        decision_record(submission=submission, by=jury.president, kind=kind, reason="Motif", missing_domains=["2"])


def test_a_refusal_closes_the_dossier():
    jury = make_jury()
    dossier = DossierFactory(state="ready_for_jury")
    [submission] = deliberating(jury, dossier)
    with pytest.raises(JuryError, match="Motivez"):
        decision_record(submission=submission, by=jury.president, kind=DecisionKind.REFUSED)
    decision_record(submission=submission, by=jury.president, kind=DecisionKind.REFUSED, reason="Fraude avérée.")
    dossier = fresh(dossier)
    assert dossier.state == DossierState.REFUSED
    assert not dossier.is_open


@pytest.mark.parametrize("kind", [DecisionKind.ABSENT, DecisionKind.EXCUSED])
def test_an_absent_or_excused_candidate_waits_for_another_session(kind):
    jury = make_jury()
    dossier = DossierFactory(state="ready_for_jury")
    [submission] = deliberating(jury, dossier)
    decision_record(submission=submission, by=jury.president, kind=kind)
    assert fresh(dossier).state == DossierState.READY_FOR_JURY
    next_jury = make_jury()
    resubmission = dossier_submit_to_jury(dossier=fresh(dossier), session=next_jury.session, by=dossier.team.counsellor)
    assert resubmission.session == next_jury.session
    assert fresh(dossier).state == DossierState.SUBMITTED_TO_JURY


def test_only_the_president_decides_during_the_deliberation_and_once():
    jury = make_jury()
    dossier = DossierFactory(state="ready_for_jury")
    submission = submit(jury, dossier)
    with pytest.raises(JuryError, match="pendant la délibération"):
        decision_record(submission=submission, by=jury.president, kind=DecisionKind.AWARDED)
    jury.session = jury_session_convene(session=jury.session, by=jury.admin)
    open_deliberation(jury)
    for not_president in (jury.member_membership(jury.employee), jury.admin, dossier.team.counsellor):
        with pytest.raises(PermissionDenied):
            decision_record(submission=submission, by=not_president, kind=DecisionKind.AWARDED)
    with pytest.raises(JuryError, match="Décision inconnue"):
        decision_record(submission=submission, by=jury.president, kind="maybe")
    decision_record(submission=submission, by=jury.president, kind=DecisionKind.AWARDED)
    with pytest.raises(JuryError, match="déjà enregistrée"):
        decision_record(submission=submission, by=jury.president, kind=DecisionKind.REFUSED, reason="Non")


def test_a_session_closes_only_once_every_dossier_is_decided():
    jury = make_jury()
    first, second = deliberating(jury, DossierFactory(state="ready_for_jury"), DossierFactory(state="ready_for_jury"))
    decision_record(submission=first, by=jury.president, kind=DecisionKind.AWARDED)
    with pytest.raises(JuryError, match="Chaque dossier"):
        jury_session_close(session=jury.session, by=jury.president)
    decision_record(submission=second, by=jury.president, kind=DecisionKind.ABSENT)
    assert close(jury).state == SessionState.CLOSED


# -- Submission rules ----------------------------------------------------------------------------------------


def test_a_full_session_refuses_another_dossier():
    jury = make_jury(capacity=1)
    submit(jury, DossierFactory(state="ready_for_jury"))
    late = DossierFactory(state="ready_for_jury")
    with pytest.raises(JuryError, match="complète"):
        submit(jury, late)
    assert fresh(late).state == DossierState.READY_FOR_JURY


def test_a_session_of_another_region_refuses_the_dossier():
    jury = make_jury(region=Region.BRETAGNE)
    dossier = DossierFactory(state="ready_for_jury", organisation=OrganisationFactory(region=Region.HAUTS_DE_FRANCE))
    with pytest.raises(JuryError, match="autre région"):
        submit(jury, dossier)


def test_a_session_on_another_certification_refuses_the_dossier():
    jury = make_jury()
    dossier = DossierFactory(state="ready_for_jury", certification=Certification.CLEA_NUMERIQUE)
    with pytest.raises(JuryError, match="certification du dossier"):
        submit(jury, dossier)


def test_a_past_or_closed_session_accepts_no_more_dossiers():
    past = make_jury(days_ahead=-1)
    with pytest.raises(JuryError, match="n'accepte plus"):
        submit(past, DossierFactory(state="ready_for_jury"))
    closed = make_jury()
    deliberating(closed)
    close(closed)
    with pytest.raises(JuryError, match="n'accepte plus"):
        submit(closed, DossierFactory(state="ready_for_jury"))


def test_only_a_counsellor_of_the_dossier_organisation_submits_it():
    jury = make_jury()
    dossier = DossierFactory(state="ready_for_jury")
    other_counsellor = MembershipFactory(organisation=OrganisationFactory(), role=Role.COUNSELLOR)
    for who in (dossier.team.evaluator, jury.admin, other_counsellor):
        with pytest.raises(PermissionDenied):
            dossier_submit_to_jury(dossier=dossier, session=jury.session, by=who)
    assert fresh(dossier).state == DossierState.READY_FOR_JURY


# -- Revocation ----------------------------------------------------------------------------------------------


def test_certifpro_revokes_an_award_and_its_certificate():
    jury, submission, certificate = certified()
    certifpro = make_certifpro()
    decision = decision_revoke(decision=submission.decision, by=certifpro, reason="Évaluation irrégulière.")
    assert decision.is_revoked
    assert decision.revoked_by == certifpro.user
    certificate.refresh_from_db()
    assert certificate.is_revoked
    assert certificate.revocation_reason == "Évaluation irrégulière."
    dossier = fresh(submission.dossier)
    assert dossier.state == DossierState.READY_FOR_JURY
    event = dossier.events.order_by("-at", "-id").first()
    assert event.transition == "revoke_decision"
    assert "révoquée par Certif'Pro : Évaluation irrégulière." in event.note
    with pytest.raises(JuryError, match="déjà révoquée"):
        decision_revoke(decision=decision, by=certifpro, reason="Encore")


def test_only_certifpro_revokes_and_with_a_reason():
    jury, submission, certificate = certified()
    for who in (jury.president, jury.admin, submission.dossier.team.counsellor):
        with pytest.raises(PermissionDenied):
            decision_revoke(decision=submission.decision, by=who, reason="Non")
    with pytest.raises(JuryError, match="motif"):
        decision_revoke(decision=submission.decision, by=make_certifpro(), reason=" ")
    certificate.refresh_from_db()
    assert not certificate.is_revoked
    assert fresh(submission.dossier).state == DossierState.CERTIFIED


def test_a_decision_revoked_before_its_certificate_is_produced_gets_none():
    jury = make_jury()
    [submission] = deliberating(jury, DossierFactory(state="ready_for_jury"))
    decision = decision_record(submission=submission, by=jury.president, kind=DecisionKind.AWARDED)
    close(jury)
    decision_revoke(decision=decision, by=make_certifpro(), reason="Erreur de saisie.")
    with pytest.raises(decision.DoesNotExist):
        certificate_generate(decision_id=decision.pk)
    assert not Certificate.objects.exists()


# -- Convocations --------------------------------------------------------------------------------------------


def test_each_seated_member_receives_a_convocation_listing_the_dossiers(mailoutbox, django_capture_on_commit_callbacks):
    jury = make_jury()
    dossiers = [DossierFactory(state="ready_for_jury"), DossierFactory(state="ready_for_jury")]
    for dossier in dossiers:
        submit(jury, dossier)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        jury_session_convene(session=jury.session, by=jury.admin)
    assert len(callbacks) == 2
    assert sorted(mail.to[0] for mail in mailoutbox) == sorted(m.user.email for m in (jury.employer, jury.employee))
    for mail in mailoutbox:
        assert len(mail.to) == 1
        assert "Convocation au jury CléA" in mail.subject
        for dossier in dossiers:
            assert dossier.reference in mail.body
            assert dossier.candidate.full_name in mail.body


def test_no_convocation_without_members(mailoutbox, django_capture_on_commit_callbacks):
    jury = make_jury()
    jury_session_set_seats(session=jury.session, by=jury.admin, member_ids=[], president_id=None)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(JuryError):
        jury_session_convene(session=jury.session, by=jury.admin)
    assert mailoutbox == []


# -- Documents -----------------------------------------------------------------------------------------------


def test_the_certificate_pdf_names_its_holder_number_and_verification_code():
    _jury, submission, certificate = certified()
    candidate = submission.dossier.candidate
    text = pdf_text(certificate.file.path)
    assert certificate.holder_name == f"{candidate.first_name} {candidate.last_name.upper()}"
    assert certificate.holder_name in text
    assert certificate.number in text
    assert certificate.verification_code in text
    assert certificate.number.startswith(f"CLEA-{certificate.awarded_on:%Y}-")
    assert len(certificate.sha256) == 64


def test_the_minutes_list_members_colleges_and_decisions():
    jury = make_jury()
    awarded, refused = DossierFactory(state="ready_for_jury"), DossierFactory(state="ready_for_jury")
    first, second = deliberating(jury, awarded, refused)
    decision_record(submission=first, by=jury.president, kind=DecisionKind.AWARDED)
    decision_record(submission=second, by=jury.president, kind=DecisionKind.REFUSED, reason="Dossier incomplet.")
    close(jury)
    minutes = minutes_generate(session_id=jury.session.pk)
    text = pdf_text(minutes.file.path)
    for member in (jury.employer, jury.employee):
        assert member.user.last_name in text
    assert (
        "Collège employeurs : 1 membre présent sur 1 ;" in text and "collège salariés : 1 membre présent sur 1." in text
    )
    assert "Collège salariés" in text
    assert awarded.reference in text and refused.reference in text
    assert "Certification délivrée" in text
    assert "Refus" in text
    assert "Dossier incomplet." in text


def test_the_certificate_and_the_minutes_carry_the_session_date_not_the_day_the_decisions_were_typed():
    # The jury sat yesterday; its president records the attendance and the decisions this morning.
    jury = make_jury()
    second_employee = jury_member(jury.body, College.EMPLOYEES)
    dossier = DossierFactory(state="ready_for_jury")
    submission = submit(jury, dossier)
    session = convened_with(jury, [jury.employer, jury.employee, second_employee], jury.employer)
    session = session_day(session, timezone.now() - datetime.timedelta(days=1))
    yesterday = timezone.localdate(timezone=PARIS) - datetime.timedelta(days=1)
    jury.session = jury_session_start_deliberation(
        session=session,
        by=jury.president,
        attendance=attendance(jury.employer, jury.employee, excused=[second_employee]),
    )
    decision = decision_record(submission=submission, by=jury.president, kind=DecisionKind.AWARDED)
    close(jury)
    certificate = certificate_generate(decision_id=decision.pk)
    assert certificate.awarded_on == yesterday
    text = pdf_text(certificate.file.path)
    assert f"réuni le {yesterday:%d/%m/%Y}" in text
    assert f"délivré le {yesterday:%d/%m/%Y}" in text
    minutes = minutes_generate(session_id=jury.session.pk)
    assert minutes.number.startswith(f"PV-{jury.body.pk}-{yesterday:%Y%m%d}-")
    text = pdf_text(minutes.file.path)
    assert f"Fait le {yesterday:%d/%m/%Y}, jour de la session." in text
    # The attendance recorded when the deliberation opened, member by member and by college.
    assert f"{second_employee.user.get_full_name()} Collège salariés CFDT Absence excusée" in text
    assert "collège salariés : 1 membre présent sur 2." in text


def test_generating_a_certificate_or_the_minutes_twice_changes_nothing():
    jury, submission, certificate = certified()
    again = certificate_generate(decision_id=submission.decision.pk)
    assert (again.pk, again.sha256, again.file.name) == (certificate.pk, certificate.sha256, certificate.file.name)
    minutes = minutes_generate(session_id=jury.session.pk)
    minutes_again = minutes_generate(session_id=jury.session.pk)
    assert (minutes_again.pk, minutes_again.file.name) == (minutes.pk, minutes.file.name)
    assert Certificate.objects.count() == 1
    assert SessionMinutes.objects.count() == 1


def test_two_workers_rendering_the_minutes_keep_the_first_and_the_second_removes_only_its_own_file():
    """The minutes render outside any lock: the other worker stores them meanwhile, and the unique session sends
    this one back to theirs."""
    jury = make_jury()
    [submission] = deliberating(jury, DossierFactory(state="ready_for_jury"))
    decision_record(submission=submission, by=jury.president, kind=DecisionKind.REFUSED, reason="Incomplet.")
    close(jury)
    other = partial(minutes_generate, session_id=jury.session.pk)
    with another_worker_while_rendering("documents/minutes.html", other) as winner:
        returned = minutes_generate(session_id=jury.session.pk)
    [first] = winner
    assert returned == first == SessionMinutes.objects.get()
    assert stored_files("proces-verbaux") == [Path(first.file.path)]
    assert sha256_of(first.file.path) == first.sha256


def test_verification_codes_are_eight_unambiguous_characters():
    _jury, _submission, certificate = certified()
    codes = [certificate.verification_code] + [new_verification_code() for _ in range(200)]
    for code in codes:
        assert len(code) == VERIFICATION_CODE_LENGTH == 8
        assert set(code) <= set(VERIFICATION_ALPHABET)
    assert not set("01AEIOUY") & set(VERIFICATION_ALPHABET)


def test_closing_queues_the_minutes_and_one_certificate_per_award(django_capture_on_commit_callbacks):
    jury = make_jury()
    submissions = deliberating(jury, *(DossierFactory(state="ready_for_jury") for _ in range(3)))
    decision_record(submission=submissions[0], by=jury.president, kind=DecisionKind.AWARDED)
    decision_record(submission=submissions[1], by=jury.president, kind=DecisionKind.AWARDED)
    decision_record(submission=submissions[2], by=jury.president, kind=DecisionKind.EXCUSED)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        close(jury)
    assert len(callbacks) == 3
    assert not SessionMinutes.objects.exists() and not Certificate.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_worker_produces_the_minutes_and_certificates_of_a_closed_session(celery_worker):
    jury = make_jury()
    dossier = DossierFactory(state="ready_for_jury")
    [submission] = deliberating(jury, dossier)
    decision_record(submission=submission, by=jury.president, kind=DecisionKind.AWARDED)
    close(jury)
    wait_until(lambda: SessionMinutes.objects.filter(session=jury.session).exists(), timeout=60)
    wait_until(lambda: Certificate.objects.filter(dossier=dossier).exclude(sha256="").exists(), timeout=60)
    certificate = Certificate.objects.get(dossier=dossier)
    assert certificate.verification_code in pdf_text(certificate.file.path)
    # The tasks are idempotent: run again, they find the documents already there.
    assert certificate_generate_task.delay(submission.decision.pk).get(timeout=30) == certificate.pk
    assert minutes_generate_task.delay(jury.session.pk).get(timeout=30) == jury.session.minutes.pk


# -- Certif'Pro's export -------------------------------------------------------------------------------------


@pytest.fixture
def two_certified():
    """One certified straight after the prior evaluation, one after training and a final evaluation."""
    jury = make_jury()
    _jury, direct, direct_certificate = certified(jury)
    later_jury = make_jury()
    _jury, trained, trained_certificate = certified(later_jury, via_training=True)
    return (direct, direct_certificate), (trained, trained_certificate)


def period_around(certificate: Certificate) -> tuple[datetime.date, datetime.date]:
    return certificate.awarded_on - datetime.timedelta(days=1), certificate.awarded_on + datetime.timedelta(days=1)


def test_the_csv_export_has_the_expected_columns_and_first_evaluation_flag(two_certified):
    (direct, direct_certificate), (trained, trained_certificate) = two_certified
    start, end = period_around(direct_certificate)
    content = to_csv(export_rows(certified_candidates(start=start, end=end)))
    assert content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == [label for _key, label in EXPORT_COLUMNS]
    by_number = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert set(by_number) == {direct_certificate.number, trained_certificate.number}
    direct_row = by_number[direct_certificate.number]
    assert direct_row["Obtenu dès l'évaluation préalable"] == "Oui"
    assert direct_row["Code de vérification"] == direct_certificate.verification_code
    assert direct_row["Nom d'usage"] == direct.dossier.candidate.last_name
    assert direct_row["SIRET de l'organisme"] == direct.dossier.organisation.siret
    assert direct_row["Date de délivrance"] == f"{direct_certificate.awarded_on:%d/%m/%Y}"
    assert direct_row["Statut"] == "Valide"
    assert by_number[trained_certificate.number]["Obtenu dès l'évaluation préalable"] == "Non"


def test_the_xlsx_export_reads_back_with_the_same_rows(two_certified):
    (direct, direct_certificate), (trained, trained_certificate) = two_certified
    start, end = period_around(direct_certificate)
    workbook = load_workbook(io.BytesIO(to_xlsx(export_rows(certified_candidates(start=start, end=end)))))
    sheet = workbook["Certifiés"]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == [label for _key, label in EXPORT_COLUMNS]
    by_number = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert by_number[direct_certificate.number]["Obtenu dès l'évaluation préalable"] == "Oui"
    assert by_number[trained_certificate.number]["Obtenu dès l'évaluation préalable"] == "Non"
    assert by_number[direct_certificate.number]["Prénom"] == direct.dossier.candidate.first_name


def test_the_export_keeps_to_its_period(two_certified):
    (_direct, certificate), _trained = two_certified
    after = certificate.awarded_on + datetime.timedelta(days=1)
    assert not certified_candidates(start=after, end=after + datetime.timedelta(days=30)).exists()
    assert certified_candidates(start=certificate.awarded_on, end=certificate.awarded_on).count() == 2


@pytest.mark.django_db
def test_convocation_needs_both_colleges_seated():
    from juries.services import JuryError, jury_session_convene, jury_session_set_seats
    from tests.juries.factories import make_jury

    jury = make_jury()
    session = jury_session_set_seats(
        session=jury.session, by=jury.admin, member_ids=[jury.employer.pk], president_id=jury.employer.pk
    )[0].session
    with pytest.raises(JuryError, match="chaque collège"):
        jury_session_convene(session=session, by=jury.admin)


@pytest.mark.django_db
def test_when_the_president_is_linked_to_a_dossier_another_present_member_decides_it(
    django_capture_on_commit_callbacks,
):
    from juries.models import DecisionKind
    from juries.services import (
        JuryError,
        conflict_declare,
        decision_record,
        dossier_submit_to_jury,
        jury_session_convene,
        jury_session_start_deliberation,
    )
    from tests.journey import DossierFactory
    from tests.juries.factories import make_jury, session_day

    jury = make_jury()
    dossier = DossierFactory(state="ready_for_jury")
    submission = dossier_submit_to_jury(dossier=dossier, session=jury.session, by=dossier.team.counsellor)
    with django_capture_on_commit_callbacks(execute=True):
        session = jury_session_convene(session=jury.session, by=jury.admin)
    jury_session_start_deliberation(
        session=session_day(session), by=jury.president, attendance=everyone_present(session)
    )
    conflict_declare(submission=submission, by=jury.president, statement="J'ai formé ce candidat.")
    with pytest.raises(JuryError, match="lien avec ce dossier"):
        decision_record(submission=submission, by=jury.president, kind=DecisionKind.AWARDED)
    other = jury.member_membership(jury.employee)
    decision = decision_record(submission=submission, by=other, kind=DecisionKind.AWARDED)
    assert decision.decided_by == other.user
    dossier.refresh_from_db()
    assert dossier.state == "certified"


@pytest.mark.django_db
def test_an_ordinary_member_cannot_decide_when_the_president_may():
    from django.core.exceptions import PermissionDenied

    from juries.models import DecisionKind
    from juries.services import decision_record
    from tests.juries.factories import deliberating, make_jury

    jury = make_jury()
    from tests.journey import DossierFactory

    [submission] = deliberating(jury, DossierFactory(state="ready_for_jury"))
    with pytest.raises(PermissionDenied):
        decision_record(submission=submission, by=jury.member_membership(jury.employee), kind=DecisionKind.AWARDED)


def test_the_export_names_the_funders_that_granted_the_dossier(two_certified):
    from tests.funding.support import draft_line, granted_line

    (direct, direct_certificate), _trained = two_certified
    dossier = direct.dossier
    counsellor = Membership.objects.filter(organisation=dossier.organisation, role=Role.COUNSELLOR).first()
    granted_line(dossier, code="france-travail", by=counsellor)
    draft_line(dossier, code="cpf", by=counsellor)  # a draft funds nothing yet
    start, end = period_around(direct_certificate)
    rows = {row["certificate_number"]: row for row in export_rows(certified_candidates(start=start, end=end))}
    assert rows[direct_certificate.number]["funders"] == Funder.objects.get(code="france-travail").name


def test_a_session_is_planned_ahead_through_the_service_too():
    """The screen's form refused a past date; the service (and so the API) planned one: now the model says it."""
    jury = make_jury()
    with pytest.raises(ValidationError) as refused:
        jury_session_create(
            by=jury.admin,
            organisation_id=jury.body.pk,
            region=jury.session.region,
            date=timezone.now() - datetime.timedelta(hours=1),
            place="Lille",
        )
    assert refused.value.message_dict == {"date": ["La session doit avoir lieu dans le futur."]}


def test_no_convocation_once_the_session_day_is_over():
    jury = make_jury()
    held = session_day(jury.session, timezone.now() - datetime.timedelta(days=1))
    with pytest.raises(JuryError, match="La date de cette session est passée"):
        jury_session_convene(session=held, by=jury.admin)
    jury.session.refresh_from_db()
    assert jury.session.state == SessionState.PLANNED


def test_convening_on_the_session_day_itself_is_still_possible():
    jury = make_jury()
    today = session_day(jury.session)
    assert jury_session_convene(session=today, by=jury.admin).state == SessionState.CONVENED
