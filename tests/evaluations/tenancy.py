"""The evaluation URLs that take an id, for tests/test_tenancy_urls.py."""

from evaluations.models import Attestation
from evaluations.services import attestation_generate
from organisations.models import Role
from tests.documents import regenerated
from tests.journey import DossierFactory
from tests.tenancy_registry import Target, TenantURL


def _draft_evaluation(org) -> dict:
    return {"pk": DossierFactory(organisation=org, state="prior_evaluation").evaluations.get().pk}


def _evaluation_to_close(org) -> Target:
    evaluation = DossierFactory(organisation=org, state="prior_evaluation").evaluations.get()
    return Target({"pk": evaluation.pk}, data={"ended_on": evaluation.started_on.isoformat(), "confirm": "on"})


def _attestation(org) -> dict:
    # Outside a committed transaction the on-commit task never runs: generate the document directly.
    evaluation = DossierFactory(organisation=org, state="partially_validated").evaluations.get()
    return {"pk": attestation_generate(evaluation_id=evaluation.pk).pk}


TENANT_URLS = [
    TenantURL(
        "evaluations:evaluation_start",
        Role.EVALUATOR,
        lambda org: {"dossier_pk": DossierFactory(organisation=org, state="opened").pk},
    ),
    TenantURL("evaluations:grid", Role.EVALUATOR, _draft_evaluation),
    TenantURL("evaluations:close", Role.EVALUATOR, _evaluation_to_close, method="post"),
    TenantURL("evaluations:summary", Role.COUNSELLOR, _draft_evaluation),
    TenantURL("evaluations:attestation_download", Role.COUNSELLOR, _attestation),
    TenantURL(
        "documents:regenerate",
        Role.ORG_ADMIN,
        lambda org: Target({"kind": "attestation", **_attestation(org)}, data={"reason": "Gabarit corrigé"}),
        method="post",
    ),
    TenantURL(
        "documents:version_download",
        Role.ORG_ADMIN,
        lambda org: {"pk": regenerated(Attestation.objects.get(pk=_attestation(org)["pk"])).pk},
    ),
]
