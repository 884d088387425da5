"""The funding URLs that take an id, each made for the organisation under test.

Lines belong to the dossier's evaluator organisation (its counsellors and administrators); batches, payments
and statements to its administrators."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from funding.models import ClaimBatch, FeeEntry, Statement, quarter_of
from funding.references import funding_references_load
from funding.services import (
    FundingError,
    batch_generate,
    batch_request,
    funding_line_transition,
    funding_proof_add,
    payment_record,
    statement_generate,
)
from organisations.models import Organisation, Role
from tests.documents import regenerated
from tests.funding.support import batch_with_lines, draft_line, funder, granted_line, org_admin, payment_inputs
from tests.journey import DossierFactory
from tests.tenancy_registry import Target, TenantList, TenantURL, marker


def _line(org: Organisation) -> dict[str, Any]:
    return {"pk": draft_line(DossierFactory(organisation=org, state="opened")).pk}


def _transition(org: Organisation) -> dict[str, Any]:
    return {**_line(org), "name": "request"}


def _line_and_upload(org: Organisation) -> Target:
    upload = SimpleUploadedFile("accord.pdf", b"%PDF-1.4 accord", content_type="application/pdf")
    return Target(_line(org), data={"label": "Accord de prise en charge", "file": upload})


def _proof(org: Organisation) -> dict[str, Any]:
    dossier = DossierFactory(organisation=org, state="opened")
    line = draft_line(dossier)
    upload = SimpleUploadedFile("accord.pdf", b"%PDF-1.4 accord", content_type="application/pdf")
    return {"pk": funding_proof_add(line=line, by=dossier.team.counsellor, label="Accord", upload=upload).pk}


def _batch(org: Organisation) -> dict[str, Any]:
    return {"pk": batch_with_lines(org, count=1).pk}


def _failed_batch(org: Organisation) -> dict[str, Any]:
    """Only a failed batch is retried: its one line was cancelled between the request and the worker."""
    dossier = DossierFactory(organisation=org, state="partially_validated")
    line = granted_line(dossier)
    today = timezone.localdate()
    batch = batch_request(
        organisation=org,
        funder=funder(),
        period_start=today - datetime.timedelta(days=31),
        period_end=today,
        by=org_admin(org),
    )
    funding_line_transition(line=line, name="cancel", by=dossier.team.counsellor, note="Doublon")
    try:
        batch_generate(batch_id=batch.pk)
    except FundingError:
        pass
    return {"pk": batch.pk}


def _batch_file(org: Organisation) -> dict[str, Any]:
    return {**_batch(org), "fmt": "csv"}


def _batch_and_payment_file(org: Organisation) -> Target:
    """An issued batch and the funder's payment file for it, as the administrator uploads it for the preview:
    one transfer paying every line in full, today."""
    batch = ClaimBatch.objects.get(pk=_batch(org)["pk"])
    rows = [
        f"{line.funder_reference};{line.invoiced_incl_vat_cents // 100},{line.invoiced_incl_vat_cents % 100:02d};"
        f"{timezone.localdate():%d/%m/%Y};VIR-{org.siret}"
        for line in batch.lines.order_by("id")
    ]
    content = "\n".join(["reference_ligne;montant;date;reference_paiement", *rows]).encode()
    upload = SimpleUploadedFile("paiement.csv", content, content_type="text/csv")
    return Target({"batch_pk": batch.pk}, data={"file": upload})


def _payment(org: Organisation) -> dict[str, Any]:
    batch = batch_with_lines(org, count=1)
    payment = payment_record(
        batch=batch, by=org_admin(org), received_on=timezone.localdate(), reference="VIR-1", lines=payment_inputs(batch)
    )
    return {"pk": payment.pk}


def _statement(org: Organisation) -> dict[str, Any]:
    funding_references_load()
    long_ago = timezone.localdate() - datetime.timedelta(days=200)
    DossierFactory(organisation=org, state="partially_validated", evaluated_on=long_ago)
    year, quarter = quarter_of(FeeEntry.objects.get(organisation=org).occurred_on)
    return {"pk": statement_generate(organisation_id=org.pk, year=year, quarter=quarter).pk, "fmt": "pdf"}


TENANT_URLS = [
    TenantURL("funding:line_create", Role.COUNSELLOR, lambda org: {"dossier_pk": DossierFactory(organisation=org).pk}),
    TenantURL("funding:line_detail", Role.COUNSELLOR, _line),
    TenantURL("funding:line_edit", Role.COUNSELLOR, _line),
    TenantURL("funding:line_transition", Role.COUNSELLOR, _transition),
    TenantURL("funding:proof_add", Role.COUNSELLOR, _line_and_upload, method="post"),
    TenantURL("funding:proof_download", Role.COUNSELLOR, _proof),
    TenantURL("funding:batch_detail", Role.ORG_ADMIN, _batch),
    TenantURL("funding:batch_status", Role.ORG_ADMIN, _batch),
    TenantURL("funding:batch_retry", Role.ORG_ADMIN, _failed_batch, method="post"),
    TenantURL("funding:batch_download", Role.ORG_ADMIN, _batch_file),
    TenantURL("funding:payment_create", Role.ORG_ADMIN, lambda org: {"batch_pk": _batch(org)["pk"]}),
    TenantURL("funding:payment_import", Role.ORG_ADMIN, lambda org: {"batch_pk": _batch(org)["pk"]}),
    # The upload of the funder's file and its preview, not only the page with the upload form.
    TenantURL("funding:payment_import", Role.ORG_ADMIN, _batch_and_payment_file, method="post"),
    TenantURL("funding:payment_detail", Role.ORG_ADMIN, _payment),
    TenantURL("funding:statement_download", Role.ORG_ADMIN, _statement),
    # A new version of a batch's or a statement's files (issue 13), and the earlier ones.
    TenantURL(
        "documents:regenerate",
        Role.ORG_ADMIN,
        lambda org: Target({"kind": "batch", **_batch(org)}, data={"reason": "Gabarit corrigé"}),
        method="post",
    ),
    TenantURL(
        "documents:regenerate",
        Role.ORG_ADMIN,
        lambda org: Target({"kind": "statement", "pk": _statement(org)["pk"]}, data={"reason": "Gabarit corrigé"}),
        method="post",
    ),
    TenantURL(
        "documents:version_download",
        Role.ORG_ADMIN,
        lambda org: {"pk": regenerated(ClaimBatch.objects.get(pk=_batch(org)["pk"])).pk},
    ),
    TenantURL(
        "documents:version_download",
        Role.ORG_ADMIN,
        lambda org: {"pk": regenerated(Statement.objects.get(pk=_statement(org)["pk"])).pk},
    ),
]


def _claimable_line(org: Organisation) -> str:
    dossier = DossierFactory(organisation=org, state="partially_validated")
    granted_line(dossier)
    return dossier.reference


def _payment_row(org: Organisation) -> str:
    batch = batch_with_lines(org, count=1)
    reference = marker(org, "vir")
    payment_record(
        batch=batch,
        by=org_admin(org),
        received_on=timezone.localdate(),
        reference=reference,
        lines=payment_inputs(batch),
    )
    return reference


def _fee_row(org: Organisation) -> str:
    # The prior evaluation's close records the fee Certif'Pro charges.
    funding_references_load()
    return DossierFactory(organisation=org, state="partially_validated").reference


def _statement_row(org: Organisation) -> str:
    return Statement.objects.get(pk=_statement(org)["pk"]).number


TENANT_LISTS = [
    TenantList(
        "funding:line_list",
        Role.COUNSELLOR,
        lambda org: draft_line(DossierFactory(organisation=org, state="opened")).dossier.reference,
    ),
    TenantList("funding:claim_list", Role.ORG_ADMIN, _claimable_line),
    TenantList("funding:batch_list", Role.ORG_ADMIN, lambda org: batch_with_lines(org, count=1).number),
    TenantList("funding:payment_list", Role.ORG_ADMIN, _payment_row),
    TenantList("funding:fee_list", Role.ORG_ADMIN, _fee_row),
    TenantList("funding:statement_list", Role.ORG_ADMIN, _statement_row),
]
