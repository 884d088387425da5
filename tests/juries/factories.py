"""Jury bodies, members and sessions for the tests; sessions reach their states through the services."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.utils import timezone

from juries.models import College, JuryMember, JurySession
from juries.services import jury_session_create, jury_session_set_seats
from organisations.models import Membership, Organisation, OrganisationKind, Region, Role
from tests.factories import MembershipFactory, OrganisationFactory


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
        date=timezone.now() + datetime.timedelta(days=days_ahead),
        place="Lille",
    )
    jury_session_set_seats(session=session, by=admin, member_ids=[employer.pk, employee.pk], president_id=employer.pk)
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
