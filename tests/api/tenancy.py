"""The API routes that take an id, each made for the organisation under test."""

from __future__ import annotations

from organisations.models import Role
from tests.journey import DossierFactory
from tests.tenancy_registry import Row, Target, TenantList, TenantURL, marker


def _evaluation(org) -> dict[str, int]:
    return {"pk": DossierFactory(organisation=org, state="prior_evaluation").evaluations.get().pk}


def _evaluation_results(org) -> Target:
    evaluation = DossierFactory(organisation=org, state="prior_evaluation").evaluations.get()
    line = evaluation.results.first()
    return Target({"pk": evaluation.pk}, data={"results": [{"criterion": line.criterion_id, "result": "acquired"}]})


def _evaluation_to_close(org) -> Target:
    evaluation = DossierFactory(organisation=org, state="prior_evaluation").evaluations.get()
    return Target({"pk": evaluation.pk}, data={"ended_on": evaluation.started_on.isoformat()})


def _attestation(org) -> dict[str, int]:
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        dossier = DossierFactory(organisation=org, state="partially_validated")
    return {"pk": dossier.attestations.get().pk}


def _training_plan(org) -> dict[str, int]:
    # The dossier's counsellor reads the plan (see tests/training/tenancy.py); its trainer acts on it.
    from training.models import TrainingPlan

    return {"pk": TrainingPlan.objects.get(dossier=DossierFactory(organisation=org, state="in_training")).pk}


def _trainer_plan(org) -> Target:
    from tests.training.tenancy import delivered_by

    plan, trainer = delivered_by(org)
    return Target({"pk": plan.pk}, actor=trainer)


def _trainer_new_session(org) -> Target:
    from tests.training.tenancy import delivered_by

    plan, trainer = delivered_by(org)
    data = {"date": plan.starts_on.isoformat(), "duration_hours": "2", "topic": "Calcul"}
    return Target({"pk": plan.pk}, actor=trainer, data=data)


def _trainer_session(org) -> Target:
    from tests.training.tenancy import delivered_by, planned_session

    plan, trainer = delivered_by(org)
    return Target({"pk": plan.pk, "session_pk": planned_session(plan, trainer).pk}, actor=trainer)


def _trainer_plan_ready_to_complete(org) -> Target:
    from tests.training.tenancy import delivered_by, planned_session

    plan, trainer = delivered_by(org)
    planned_session(plan, trainer, done=True)
    # 2 h done of 35: the reason is asked for.
    return Target({"pk": plan.pk}, actor=trainer, data={"shortfall_reason": "Objectifs atteints."})


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
    TenantURL("api:evaluation-results", Role.EVALUATOR, _evaluation_results, method="post"),
    TenantURL("api:evaluation-close", Role.EVALUATOR, _evaluation_to_close, method="post"),
    TenantURL("api:document-detail", Role.COUNSELLOR, _attestation),
    TenantURL("api:document-download", Role.COUNSELLOR, _attestation),
    TenantURL("api:training-plan-detail", Role.COUNSELLOR, _training_plan),
    TenantURL("api:training-plan-detail", Role.TRAINER, _trainer_plan),
    TenantURL("api:training-plan-sessions", Role.TRAINER, _trainer_new_session, method="post"),
    TenantURL("api:training-plan-session-done", Role.TRAINER, _trainer_session, method="post"),
    TenantURL("api:training-plan-session-remove", Role.TRAINER, _trainer_session, method="post"),
    TenantURL("api:training-plan-notes", Role.TRAINER, _trainer_plan, method="post", data={"text": "Progrès nets."}),
    TenantURL("api:training-plan-complete", Role.TRAINER, _trainer_plan_ready_to_complete, method="post"),
    TenantURL("api:referral-detail", Role.COUNSELLOR, _referral_to),
    # The agency's side: an advisor of another agency gets 404 on the referral its colleague's agency sent.
    TenantURL("api:referral-detail", Role.FT_ADVISOR, _referral_from),
    TenantURL("api:referral-accept", Role.COUNSELLOR, _referral_to, method="post"),
    TenantURL(
        "api:referral-decline",
        Role.COUNSELLOR,
        _referral_to,
        method="post",
        data={"reason": "Nous n'avons plus de place avant l'été."},
    ),
]


# -- Juries and funding: the owners are those of tests/juries/tenancy.py and tests/funding/tenancy.py --------------


def _jury_session(org) -> dict[str, int]:
    from tests.juries.tenancy import session_of

    return session_of(org)


def _jury_session_on_its_day(org) -> Target:
    from tests.juries.tenancy import session_on_its_day_of

    return session_on_its_day_of(org)


def _deliberating_jury_session(org) -> dict[str, int]:
    from tests.juries.tenancy import deliberating_session_of

    return deliberating_session_of(org)


def _submission_before_president(org) -> Target:
    from tests.juries.tenancy import submission_before_president_of

    submission, target = submission_before_president_of(org)
    return Target({"pk": submission.session_id}, actor=target.actor, data={"submission": submission.pk})


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


# The jury body's administrator manages its sessions; the session's president records the decisions; the dossier's
# counsellor finds its decision and its certificate (revocation is Certif'Pro's: see NOT_TENANT_URLS).
TENANT_URLS += [
    TenantURL("api:jury-session-detail", Role.ORG_ADMIN, _jury_session),
    TenantURL("api:jury-session-submissions", Role.ORG_ADMIN, _jury_session),
    TenantURL("api:jury-session-convene", Role.ORG_ADMIN, _jury_session, method="post"),
    TenantURL("api:jury-session-deliberate", Role.ORG_ADMIN, _jury_session_on_its_day, method="post"),
    TenantURL(
        "api:jury-session-decisions",
        Role.JURY_MEMBER,
        _submission_before_president,
        method="post",
        data={"kind": "awarded"},
    ),
    TenantURL("api:jury-session-close", Role.ORG_ADMIN, _deliberating_jury_session, method="post"),
    TenantURL("api:jury-session-minutes", Role.ORG_ADMIN, _closed_jury_session),
    TenantURL("api:decision-detail", Role.COUNSELLOR, _decision),
    TenantURL("api:certificate-detail", Role.COUNSELLOR, _certificate),
    TenantURL("api:certificate-download", Role.COUNSELLOR, _certificate),
    TenantURL("api:funding-line-detail", Role.COUNSELLOR, _funding_line),
    TenantURL(
        "api:funding-line-detail", Role.COUNSELLOR, _funding_line, method="patch", data={"funder_reference": "FT-42"}
    ),
    TenantURL("api:funding-line-transition", Role.COUNSELLOR, _funding_line, method="post", data={"name": "request"}),
    TenantURL("api:funding-batch-detail", Role.ORG_ADMIN, _funding_batch),
    TenantURL("api:funding-batch-download", Role.ORG_ADMIN, lambda org: _funding_batch(org, fmt="csv")),
]


# -- The list endpoints: each row is recognised by its dossier's reference (or its own number) -------------------


def _dossier_reference(org, state: str = "information") -> str:
    return DossierFactory(organisation=org, state=state).reference


def _attestation_row(org) -> str:
    from evaluations.models import Attestation

    return Attestation.objects.get(pk=_attestation(org)["pk"]).dossier.reference


def _decision_row(org) -> str:
    from juries.models import Decision

    return Decision.objects.get(pk=_decision(org)["pk"]).submission.dossier.reference


def _certificate_row(org) -> str:
    from juries.models import Certificate

    return Certificate.objects.get(pk=_certificate(org)["pk"]).number


def _jury_session_row(org) -> str:
    from juries.models import JurySession

    place = marker(org, "salle")
    JurySession.objects.filter(pk=_jury_session(org)["pk"]).update(place=place)
    return place


def _funding_line_row(org) -> str:
    from funding.models import FundingLine

    return FundingLine.objects.get(pk=_funding_line(org)["pk"]).dossier.reference


def _funding_batch_row(org) -> str:
    from funding.models import ClaimBatch

    return ClaimBatch.objects.get(pk=_funding_batch(org)["pk"]).number


def _trainer_plan_row(org) -> Row:
    from tests.training.tenancy import delivered_by

    plan, trainer = delivered_by(org)
    return Row(plan.dossier.reference, actor=trainer)


def _referral_row(org, **sender) -> str:
    from tests.referrals.support import make_referral

    return make_referral(**(sender or {"to": org}), last_name=marker(org, "oriente")).last_name


TENANT_LISTS = [
    TenantList("api:dossier-list", Role.COUNSELLOR, _dossier_reference),
    TenantList("api:evaluation-list", Role.EVALUATOR, lambda org: _dossier_reference(org, "prior_evaluation")),
    TenantList("api:document-list", Role.COUNSELLOR, _attestation_row),
    TenantList("api:jury-session-list", Role.ORG_ADMIN, _jury_session_row),
    TenantList("api:decision-list", Role.COUNSELLOR, _decision_row),
    TenantList("api:certificate-list", Role.COUNSELLOR, _certificate_row),
    TenantList("api:funding-line-list", Role.COUNSELLOR, _funding_line_row),
    TenantList("api:funding-batch-list", Role.ORG_ADMIN, _funding_batch_row),
    TenantList("api:training-plan-list", Role.TRAINER, _trainer_plan_row),
    TenantList("api:training-plan-list", Role.COUNSELLOR, lambda org: _dossier_reference(org, "in_training")),
    TenantList("api:referral-list", Role.COUNSELLOR, _referral_row),
    TenantList("api:referral-list", Role.FT_ADVISOR, lambda org: _referral_row(org, from_agency=org)),
]


# -- Appointments: the counsellor of the dossier's organisation books and acts; the owners of tests/scheduling --------


def _appointment(org) -> dict[str, int]:
    from tests.scheduling.tenancy import _planned

    return {"pk": _planned(org).pk}


def _appointment_started(org) -> dict[str, int]:
    from tests.scheduling.tenancy import _started

    return _started(org)


def _appointment_cancelled(org) -> Target:
    from tests.scheduling import next_weekday_at
    from tests.scheduling.tenancy import _cancelled

    target = _cancelled(org)
    return Target(target.kwargs, data={"starts_at": next_weekday_at(15, days=4).isoformat()})


def _appointment_row(org) -> str:
    from tests.scheduling import book

    dossier = DossierFactory(organisation=org, state="opened")
    book(dossier, remote=True)
    return dossier.reference


TENANT_URLS += [
    TenantURL("api:appointment-detail", Role.COUNSELLOR, _appointment),
    TenantURL("api:appointment-ics", Role.COUNSELLOR, _appointment),
    TenantURL("api:appointment-cancel", Role.COUNSELLOR, _appointment, method="post", data={"reason": "Empêchement"}),
    TenantURL("api:appointment-done", Role.COUNSELLOR, _appointment_started, method="post"),
    TenantURL("api:appointment-missed", Role.COUNSELLOR, _appointment_started, method="post"),
    TenantURL("api:appointment-rebook", Role.COUNSELLOR, _appointment_cancelled, method="post"),
]

TENANT_LISTS += [TenantList("api:appointment-list", Role.COUNSELLOR, _appointment_row)]
