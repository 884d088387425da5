"""The journey's lists: « À faire » shows the work of the member's own organisation only."""

from __future__ import annotations

from candidates.services import correction_request_create
from organisations.models import Organisation, Role
from tests.journey import DossierFactory
from tests.referrals.support import make_referral
from tests.tenancy_registry import TenantList, marker


def correction_request_marker(organisation: Organisation) -> str:
    """A correction request waiting in the administrator's queue; the queue names the candidate."""
    dossier = DossierFactory(organisation=organisation, state="opened", last_name=marker(organisation, "rectif"))
    correction_request_create(candidate=dossier.candidate, dossier=dossier, message="Ma date de naissance est fausse.")
    return dossier.candidate.last_name


TENANT_LISTS = [
    # A referral to answer, and an evaluation to start; the queue upper-cases the last names.
    TenantList(
        "journey:todo", Role.COUNSELLOR, lambda org: make_referral(to=org, last_name=marker(org, "todo")).last_name
    ),
    TenantList(
        "journey:todo",
        Role.EVALUATOR,
        lambda org: DossierFactory(organisation=org, state="opened", last_name=marker(org, "todo")).candidate.last_name,
    ),
    TenantList("journey:todo", Role.ORG_ADMIN, correction_request_marker),
]
