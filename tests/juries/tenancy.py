"""The juries URLs that take an id, each made for the organisation under test.

The harness hands an evaluator organisation: for the session URLs it becomes a jury body (its org_admin owns
the sessions). The jurors' URLs on a submitted dossier (review, conflict, decision) are owned at URL level by
the jury body's org_admin: the scoped lookup finds the submission (another organisation's answers 404), then
the page answers 403 because only the session's jurors read or act on it. Revocation and the certificate
belong to the dossier's evaluator organisation: its counsellor finds them (and is refused revocation, 403).
"""

from __future__ import annotations

from typing import Any

from juries.models import DecisionKind
from juries.services import decision_record, minutes_generate
from organisations.models import Organisation, OrganisationKind, Role
from tests.journey import DossierFactory
from tests.juries.factories import Jury, certified, close, deliberating, make_jury, submit
from tests.tenancy_registry import TenantURL


def jury_of(org: Organisation) -> Jury:
    org.kind = OrganisationKind.JURY_BODY
    org.save(update_fields=["kind"])
    return make_jury(body=org)


def session_of(org: Organisation) -> dict[str, Any]:
    return {"pk": jury_of(org).session.pk}


def closed_session_of(org: Organisation) -> dict[str, Any]:
    jury = jury_of(org)
    deliberating(jury)
    close(jury)
    minutes_generate(session_id=jury.session.pk)
    return {"pk": jury.session.pk}


def submission_in_session_of(org: Organisation) -> dict[str, Any]:
    jury = jury_of(org)
    return {"pk": submit(jury, DossierFactory(state="ready_for_jury")).pk}


def decision_on_dossier_of(org: Organisation) -> dict[str, Any]:
    jury = make_jury()
    [submission] = deliberating(jury, DossierFactory(organisation=org, state="ready_for_jury"))
    decision = decision_record(submission=submission, by=jury.president, kind=DecisionKind.REFUSED, reason="Motif")
    return {"pk": decision.pk}


def certificate_of(org: Organisation) -> dict[str, Any]:
    _jury, _submission, certificate = certified(organisation=org)
    return {"pk": certificate.pk}


TENANT_URLS = [
    TenantURL(
        "juries:submit",
        Role.COUNSELLOR,
        lambda org: {"dossier_pk": DossierFactory(organisation=org, state="ready_for_jury").pk},
    ),
    TenantURL("juries:session_detail", Role.ORG_ADMIN, session_of),
    TenantURL("juries:session_seats", Role.ORG_ADMIN, session_of),
    TenantURL("juries:session_convene", Role.ORG_ADMIN, session_of, method="post"),
    TenantURL("juries:session_deliberate", Role.ORG_ADMIN, session_of, method="post"),
    TenantURL("juries:session_close", Role.ORG_ADMIN, session_of, method="post"),
    TenantURL("juries:minutes_download", Role.ORG_ADMIN, closed_session_of),
    TenantURL("juries:review", Role.ORG_ADMIN, submission_in_session_of),
    TenantURL("juries:conflict_declare", Role.ORG_ADMIN, submission_in_session_of, method="post"),
    TenantURL("juries:decide", Role.ORG_ADMIN, submission_in_session_of, method="post"),
    TenantURL("juries:decision_revoke", Role.COUNSELLOR, decision_on_dossier_of),
    TenantURL("juries:certificate_download", Role.COUNSELLOR, certificate_of),
]
