"""Interview requests reached through the services, as a person and an organisation would."""

from __future__ import annotations

import datetime
import re

from django.utils import timezone

from intake.models import InterviewRequest, InterviewRequestState
from intake.services import (
    interview_request_answer,
    interview_request_confirm,
    interview_request_propose,
    interview_request_submit,
)
from organisations.models import Membership, Organisation, Role, Site
from outbox.models import SideEffect
from tests.factories import HabilitationFactory, MembershipFactory, OrganisationFactory, SiteFactory


def listed_site(organisation: Organisation | None = None, **fields: object) -> Site:
    """An active site of an evaluator organisation habilitated for CléA: listed in the directory."""
    organisation = organisation or OrganisationFactory()
    if not organisation.habilitations.exists():
        HabilitationFactory(organisation=organisation)
    return SiteFactory(organisation=organisation, **fields)


def last_email_body() -> str:
    return SideEffect.objects.filter(kind="email").latest("pk").arguments["body"]


def token_from(body: str, kind: str) -> str:
    """The secret of the link of `kind` ("confirmer" or "reponse") in an e-mail's body."""
    return re.search(rf"/entretien/{kind}/([^/\s]+)/", body)[1]


def counsellor_of(organisation: Organisation) -> Membership:
    found = Membership.objects.filter(organisation=organisation, role=Role.COUNSELLOR, is_active=True).first()
    return found or MembershipFactory(organisation=organisation, role=Role.COUNSELLOR)


def make_request(
    organisation: Organisation | None = None, *, state: str = InterviewRequestState.WAITING, **fields: str
) -> InterviewRequest:
    """A request in `state`, reached through the services (submitted, confirmed, proposed, answered)."""
    site = listed_site(organisation)
    data = {"first_name": "Léa", "last_name": "Martin", "email": "lea.martin@exemple.fr", **fields}
    interview_request = interview_request_submit(site=site, certification="clea", **data)
    if state == InterviewRequestState.UNCONFIRMED:
        return interview_request
    interview_request_confirm(token=token_from(last_email_body(), "confirmer"))
    interview_request.refresh_from_db()
    if state == InterviewRequestState.WAITING:
        return interview_request
    counsellor = counsellor_of(site.organisation)
    _, token = interview_request_propose(
        interview_request=interview_request,
        by=counsellor,
        starts_at=timezone.now() + datetime.timedelta(days=3),
        duration_minutes=45,
        with_membership=counsellor,
        place="1 rue de la République, Lille",
    )
    if state in (InterviewRequestState.ACCEPTED, InterviewRequestState.OTHER_TIME):
        interview_request_answer(token=token, accept=state == InterviewRequestState.ACCEPTED, message="Le lundi")
    interview_request.refresh_from_db()
    return interview_request
