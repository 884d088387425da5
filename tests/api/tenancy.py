"""The API routes that take an id, each made for the organisation under test."""

from __future__ import annotations

from organisations.models import Role
from tests.journey import DossierFactory
from tests.tenancy_registry import TenantURL


def _evaluation(org) -> dict[str, int]:
    return {"pk": DossierFactory(organisation=org, state="prior_evaluation").evaluations.get().pk}


def _attestation(org) -> dict[str, int]:
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        dossier = DossierFactory(organisation=org, state="partially_validated")
    return {"pk": dossier.attestations.get().pk}


def _training_plan(org) -> dict[str, int]:
    # Declared for the dossier's counsellor (see tests/training/tenancy.py): the trainer's actions answer 403.
    from training.models import TrainingPlan

    return {"pk": TrainingPlan.objects.get(dossier=DossierFactory(organisation=org, state="in_training")).pk}


def _training_session(org) -> dict[str, int]:
    import datetime
    from decimal import Decimal

    from training.models import TrainingPlan
    from training.services import training_session_add

    dossier = DossierFactory(organisation=org, state="in_training")
    plan = TrainingPlan.objects.get(dossier=dossier)
    session = training_session_add(
        plan=plan, by=dossier.team.trainer, date=datetime.date(2030, 1, 7), duration_hours=Decimal("2"), topic="Calcul"
    )
    return {"pk": plan.pk, "session_pk": session.pk}


def _referral_to(org) -> dict[str, int]:
    from tests.referrals.support import make_referral

    return {"pk": make_referral(to=org).pk}


def _referral_from(org) -> dict[str, int]:
    from tests.referrals.support import make_referral

    return {"pk": make_referral(from_agency=org).pk}


TENANT_URLS = [
    TenantURL("api:dossier-detail", Role.COUNSELLOR, lambda org: {"pk": DossierFactory(organisation=org).pk}),
    TenantURL("api:dossier-transitions", Role.COUNSELLOR, lambda org: {"pk": DossierFactory(organisation=org).pk}),
    TenantURL("api:evaluation-detail", Role.EVALUATOR, _evaluation),
    TenantURL("api:evaluation-results", Role.EVALUATOR, _evaluation, method="post"),
    TenantURL("api:evaluation-close", Role.EVALUATOR, _evaluation, method="post"),
    TenantURL("api:document-detail", Role.COUNSELLOR, _attestation),
    TenantURL("api:document-download", Role.COUNSELLOR, _attestation),
    TenantURL("api:training-plan-detail", Role.COUNSELLOR, _training_plan),
    TenantURL("api:training-plan-sessions", Role.COUNSELLOR, _training_plan, method="post"),
    TenantURL("api:training-plan-session-done", Role.COUNSELLOR, _training_session, method="post"),
    TenantURL("api:training-plan-notes", Role.COUNSELLOR, _training_plan, method="post"),
    TenantURL("api:training-plan-complete", Role.COUNSELLOR, _training_plan, method="post"),
    TenantURL("api:referral-detail", Role.COUNSELLOR, _referral_to),
    # The agency's side: an advisor of another agency gets 404 on the referral its colleague's agency sent.
    TenantURL("api:referral-detail", Role.FT_ADVISOR, _referral_from),
    TenantURL("api:referral-accept", Role.COUNSELLOR, _referral_to, method="post"),
    TenantURL("api:referral-decline", Role.COUNSELLOR, _referral_to, method="post"),
]


# -- Juries and funding: the owners are those of tests/juries/tenancy.py and tests/funding/tenancy.py --------------


def _jury_session(org) -> dict[str, int]:
    from tests.juries.tenancy import session_of

    return session_of(org)


def _closed_jury_session(org) -> dict[str, int]:
    from tests.juries.tenancy import closed_session_of

    return closed_session_of(org)


def _decision(org) -> dict[str, int]:
    from tests.juries.tenancy import decision_on_dossier_of

    return decision_on_dossier_of(org)


def _certificate(org) -> dict[str, int]:
    from tests.juries.tenancy import certificate_of

    return certificate_of(org)


def _funding_line(org) -> dict[str, int]:
    from tests.funding.support import draft_line

    return {"pk": draft_line(DossierFactory(organisation=org, state="opened")).pk}


def _funding_batch(org, **extra: str) -> dict[str, int | str]:
    from tests.funding.support import batch_with_lines

    return {"pk": batch_with_lines(org, count=1).pk, **extra}


# The jury body's administrator owns its sessions (the jurors' decision answers them 403: no seat); the dossier's
# counsellor finds its decision (revocation: 403, Certif'Pro's) and its certificate.
TENANT_URLS += [
    TenantURL("api:jury-session-detail", Role.ORG_ADMIN, _jury_session),
    TenantURL("api:jury-session-submissions", Role.ORG_ADMIN, _jury_session),
    TenantURL("api:jury-session-convene", Role.ORG_ADMIN, _jury_session, method="post"),
    TenantURL("api:jury-session-deliberate", Role.ORG_ADMIN, _jury_session, method="post"),
    TenantURL("api:jury-session-decisions", Role.ORG_ADMIN, _jury_session, method="post"),
    TenantURL("api:jury-session-close", Role.ORG_ADMIN, _jury_session, method="post"),
    TenantURL("api:jury-session-minutes", Role.ORG_ADMIN, _closed_jury_session),
    TenantURL("api:decision-detail", Role.COUNSELLOR, _decision),
    TenantURL("api:decision-revoke", Role.COUNSELLOR, _decision, method="post"),
    TenantURL("api:certificate-detail", Role.COUNSELLOR, _certificate),
    TenantURL("api:certificate-download", Role.COUNSELLOR, _certificate),
    TenantURL("api:funding-line-detail", Role.COUNSELLOR, _funding_line),
    TenantURL("api:funding-line-detail", Role.COUNSELLOR, _funding_line, method="patch"),
    TenantURL("api:funding-line-transition", Role.COUNSELLOR, _funding_line, method="post"),
    TenantURL("api:funding-batch-detail", Role.ORG_ADMIN, _funding_batch),
    TenantURL("api:funding-batch-download", Role.ORG_ADMIN, lambda org: _funding_batch(org, fmt="csv")),
]
