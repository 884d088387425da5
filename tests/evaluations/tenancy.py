"""The evaluation URLs that take an id, for tests/test_tenancy_urls.py."""

from evaluations.models import Attestation
from evaluations.services import attestation_generate
from organisations.models import Role
from tests.documents import regenerated
from tests.journey import DossierFactory
from tests.tenancy_registry import Target, TenantList, TenantURL, marker


def _draft_evaluation(org) -> dict:
    return {"pk": DossierFactory(organisation=org, state="prior_evaluation").evaluations.get().pk}


def _evaluation_to_close(org) -> Target:
    evaluation = DossierFactory(organisation=org, state="prior_evaluation").evaluations.get()
    return Target({"pk": evaluation.pk}, data={"ended_on": evaluation.started_on.isoformat(), "confirm": "on"})


def _attestation(org) -> dict:
    # Outside a committed transaction the on-commit task never runs: generate the document directly.
    evaluation = DossierFactory(organisation=org, state="partially_validated").evaluations.get()
    return {"pk": attestation_generate(evaluation_id=evaluation.pk).pk}


def _pix_import(org, filename: str = "resultats.csv"):
    """An import of one line matched to a CléA numérique dossier of the organisation, waiting for its prior
    evaluation."""
    from clea_platform.certifications import Certification
    from evaluations.services import pix_import_create, pix_mapping_load_provisional
    from tests.evaluations.support import line, pix_file

    pix_mapping_load_provisional()  # a transactional test elsewhere may have flushed the migration's rows
    dossier = DossierFactory(organisation=org, state="opened", certification=Certification.CLEA_NUMERIQUE)
    candidate = dossier.candidate
    content = pix_file(line("1", candidate.first_name, candidate.last_name, f"{candidate.birth_date:%d/%m/%Y}"))
    return pix_import_create(content=content, filename=filename, by=dossier.team.evaluator)


def _pix_row_handed_over(org) -> dict:
    """A line Certif'Pro matched to a CléA numérique dossier of the organisation."""
    from clea_platform.certifications import Certification
    from evaluations.services import pix_import_create, pix_mapping_load_provisional
    from tests.evaluations.support import line, pix_file
    from tests.factories import MembershipFactory, OrganisationFactory

    pix_mapping_load_provisional()
    dossier = DossierFactory(organisation=org, state="opened", certification=Certification.CLEA_NUMERIQUE)
    candidate = dossier.candidate
    certifpro = MembershipFactory(role=Role.CERTIFPRO_ADMIN, organisation=OrganisationFactory(certifpro=True))
    content = pix_file(line("1", candidate.first_name, candidate.last_name, f"{candidate.birth_date:%d/%m/%Y}"))
    return {"row_pk": pix_import_create(content=content, filename="national.csv", by=certifpro).rows.get().pk}


def _pix_row(org) -> dict:
    pix_import = _pix_import(org)
    return {"pk": pix_import.pk, "row_pk": pix_import.rows.get().pk}


TENANT_LISTS = [
    TenantList(
        "evaluations:pix_imports",
        Role.EVALUATOR,
        lambda org: _pix_import(org, filename=f"{marker(org, 'pix')}.csv").filename,
    ),
]

TENANT_URLS = [
    TenantURL("evaluations:pix_import", Role.EVALUATOR, lambda org: {"pk": _pix_import(org).pk}),
    TenantURL("evaluations:pix_import_file", Role.EVALUATOR, lambda org: {"pk": _pix_import(org).pk}),
    TenantURL("evaluations:pix_row_resolve", Role.EVALUATOR, _pix_row),
    TenantURL("evaluations:pix_row_apply", Role.EVALUATOR, _pix_row_handed_over, method="post"),
    TenantURL("evaluations:pix_import_apply", Role.EVALUATOR, lambda org: {"pk": _pix_import(org).pk}, method="post"),
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
