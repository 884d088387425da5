"""The API routes that take an id, each made for the organisation under test."""

from __future__ import annotations

from organisations.models import Role
from tests.journey import DossierFactory
from tests.tenancy_registry import TenantURL


def _evaluation(org) -> dict[str, int]:  # noqa: ANN001
    return {"pk": DossierFactory(organisation=org, state="prior_evaluation").evaluations.get().pk}


def _attestation(org) -> dict[str, int]:  # noqa: ANN001
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        dossier = DossierFactory(organisation=org, state="partially_validated")
    return {"pk": dossier.attestations.get().pk}


TENANT_URLS = [
    TenantURL("api:dossier-detail", Role.COUNSELLOR, lambda org: {"pk": DossierFactory(organisation=org).pk}),
    TenantURL("api:dossier-transitions", Role.COUNSELLOR, lambda org: {"pk": DossierFactory(organisation=org).pk}),
    TenantURL("api:evaluation-detail", Role.EVALUATOR, _evaluation),
    TenantURL("api:evaluation-results", Role.EVALUATOR, _evaluation, method="post"),
    TenantURL("api:evaluation-close", Role.EVALUATOR, _evaluation, method="post"),
    TenantURL("api:document-detail", Role.COUNSELLOR, _attestation),
    TenantURL("api:document-download", Role.COUNSELLOR, _attestation),
]
