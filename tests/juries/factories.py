"""Jury bodies, members and sessions for the tests; sessions reach their states through the services."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.utils import timezone

from candidates.models import Dossier
from juries.models import Attendance, Certificate, College, DecisionKind, JuryMember, JurySession, Submission
from juries.services import (
    certificate_generate,
    decision_record,
    dossier_submit_to_jury,
    jury_session_close,
    jury_session_convene,
    jury_session_create,
    jury_session_set_seats,
    jury_session_start_deliberation,
)
from organisations.models import Membership, Organisation, OrganisationKind, Region, Role
from tests.factories import MembershipFactory, OrganisationFactory
from tests.journey import DossierFactory


@dataclass
class Jury:
    body: Organisation
    admin: Membership
    president: Membership
    employer: JuryMember
    employee: JuryMember
    session: JurySession
    members: list[JuryMember] = field(default_factory=list)

    def member_membership(self, member: JuryMember) -> Membership:
        return Membership.objects.get(user=member.user, organisation=self.body, role=Role.JURY_MEMBER)


def jury_member(body: Organisation, college: str, **kwargs) -> JuryMember:
    membership = MembershipFactory(organisation=body, role=Role.JURY_MEMBER)
    return JuryMember.objects.create(
        organisation=body,
        user=membership.user,
        college=college,
        represents=kwargs.pop("represents", "MEDEF" if college == College.EMPLOYERS else "CFDT"),
        **kwargs,
    )


def make_jury(
    region: str = Region.HAUTS_DE_FRANCE, capacity: int = 30, body: Organisation | None = None, days_ahead: int = 10
) -> Jury:
    """A jury body with an employer (president) and an employee, and a planned session seating both."""
    body = body or OrganisationFactory(kind=OrganisationKind.JURY_BODY, region=region)
    admin = MembershipFactory(organisation=body, role=Role.ORG_ADMIN)
    employer = jury_member(body, College.EMPLOYERS)
    employee = jury_member(body, College.EMPLOYEES)
    session = jury_session_create(
        by=admin,
        organisation_id=body.pk,
        region=region,
        capacity=capacity,
        date=timezone.now() + datetime.timedelta(days=max(days_ahead, 1)),
        place="Lille",
    )
    jury_session_set_seats(session=session, by=admin, member_ids=[employer.pk, employee.pk], president_id=employer.pk)
    if days_ahead < 1:  # planned ahead, as every session is, and its day has come or gone since
        session = session_day(session, timezone.now() + datetime.timedelta(days=days_ahead))
    president = Membership.objects.get(user=employer.user, role=Role.JURY_MEMBER)
    return Jury(
        body=body,
        admin=admin,
        president=president,
        employer=employer,
        employee=employee,
        session=session,
        members=[employer, employee],
    )


# -- Sessions further along, through the services ---------------------------------------------------------------


def submit(jury: Jury, dossier: Dossier) -> Submission:
    """The dossier's counsellor puts it before the jury's session (`submission.dossier.team` stays at hand)."""
    submission = dossier_submit_to_jury(dossier=dossier, session=jury.session, by=dossier.team.counsellor)
    submission.dossier.team = dossier.team
    return submission


def session_day(session: JurySession, when: datetime.datetime | None = None) -> JurySession:
    """The session's day has come: it is dated `when` (now by default). The dossiers were submitted while it lay
    ahead (only a future session takes them); the deliberation opens on its day, not before."""
    JurySession.objects.filter(pk=session.pk).update(date=when or timezone.now())
    return JurySession.objects.get(pk=session.pk)


def everyone_present(session: JurySession) -> dict[int, str]:
    """The attendance of a session where every member convened came."""
    return dict.fromkeys(session.seats.values_list("member_id", flat=True), Attendance.PRESENT)


def open_deliberation(jury: Jury, *, by: Membership | None = None, **attendance: str) -> JurySession:
    """On the session's day, its president (or `by`) opens the deliberation with everyone present, but for the
    members named by their attribute on `jury` (`employee="absent"`). `jury.session` follows."""
    recorded = everyone_present(jury.session) | {getattr(jury, name).pk: status for name, status in attendance.items()}
    jury.session = session_day(jury.session)
    jury.session = jury_session_start_deliberation(session=jury.session, by=by or jury.president, attendance=recorded)
    return jury.session


def deliberating(jury: Jury, *dossiers: Dossier) -> list[Submission]:
    """Submit the dossiers, convene the members, and, on the session's day, open the deliberation with everyone
    present (`jury.session` follows)."""
    submissions = [submit(jury, dossier) for dossier in dossiers]
    jury.session = jury_session_convene(session=jury.session, by=jury.admin)
    open_deliberation(jury)
    return submissions


def close(jury: Jury) -> JurySession:
    """Close the session (the documents are queued on commit: wrap in django_capture_on_commit_callbacks to
    produce them)."""
    jury.session = jury_session_close(session=jury.session, by=jury.president)
    return jury.session


def certified(jury: Jury | None = None, **dossier_kwargs) -> tuple[Jury, Submission, Certificate]:
    """A dossier awarded by a closed session, with its certificate produced (the worker's part, in-process)."""
    jury = jury or make_jury()
    dossier = DossierFactory(state="ready_for_jury", **dossier_kwargs)
    [submission] = deliberating(jury, dossier)
    decision = decision_record(submission=submission, by=jury.president, kind=DecisionKind.AWARDED)
    close(jury)
    return jury, submission, certificate_generate(decision_id=decision.pk)


def make_certifpro() -> Membership:
    return MembershipFactory(organisation=OrganisationFactory(certifpro=True), role=Role.CERTIFPRO_ADMIN)
