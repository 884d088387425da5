"""Reads that span apps: what an organisation has to claim, Certif'Pro's national view, the certificates to report
to the Caisse des Dépôts."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models.functions import Coalesce
from django.utils import timezone

from candidates.models import Dossier, DossierState
from clea_platform.certifications import Certification
from funding.documents import Column, Table
from funding.models import (
    AWAITING_PAYMENT_STATES,
    CDC_REPORT_MONTHS,
    ClaimBatch,
    FeeEntry,
    FeeKind,
    FundingLine,
    LineState,
    add_months,
    cdc_deadline,
)
from organisations.models import Membership, Role

ZERO = models.Value(0, output_field=models.BigIntegerField())
# The SQL twin of FundingLine.due_cents (what the funder owes on a line, including VAT), for the sums of the lists:
# a change to one is a change to both (tests/funding/test_models.py holds them together).
LINE_DUE = models.ExpressionWrapper(
    Coalesce("invoiced_incl_vat_cents", ZERO) - Coalesce("paid_cents", ZERO), output_field=models.BigIntegerField()
)

# The roles that see a dossier's funding, and those of them that may act on it (Certif'Pro only reads).
FUNDING_READERS = {Role.COUNSELLOR, Role.ORG_ADMIN, Role.CERTIFPRO_ADMIN}
FUNDING_ACTORS = {Role.COUNSELLOR, Role.ORG_ADMIN}


def _sum(field: str) -> Coalesce:
    return Coalesce(models.Sum(field), ZERO)


@dataclass(frozen=True)
class DossierFunding:
    # Each line with the transitions the membership may take on it now.
    lines: list[tuple[FundingLine, list[dict[str, Any]]]]
    can_create: bool


def dossier_funding(membership: Membership | None, dossier: Dossier) -> DossierFunding | None:
    """The dossier's funding lines with the actions the membership may take, in one query; None for the roles
    that do not see funding (the dossier page hides the section)."""
    if membership is None or membership.role not in FUNDING_READERS:
        return None
    lines = list(
        FundingLine.objects.visible_to(membership)
        .filter(dossier_id=dossier.pk)
        .with_step_done_on()
        .select_related("funder")
        .order_by("step", "created_at", "id")
    )
    may_act = membership.role in FUNDING_ACTORS
    return DossierFunding(
        lines=[(line, line.actions_for(membership) if may_act else []) for line in lines],
        # Not on a dossier that left the organisation (issue 19): its lines stay, the new ones are the new owner's.
        can_create=may_act
        and dossier.organisation_id == membership.organisation_id
        and dossier.state not in {DossierState.WITHDRAWN, DossierState.EXPIRED},
    )


def claim_summary(lines: models.QuerySet[FundingLine]) -> list[Mapping[str, Any]]:
    """Per funder, the lines to claim and their amount incl. VAT (invoiced if already invoiced, else granted)."""
    amount = Coalesce("invoiced_incl_vat_cents", "granted_incl_vat_cents", ZERO)
    return list(
        lines.order_by()
        .values("funder_id", "funder__name")
        .annotate(count=models.Count("id"), amount=Coalesce(models.Sum(amount), ZERO))
        .order_by("funder__name")
    )


@dataclass
class FeeTotals:
    count: int = 0
    amount_cents: int = 0
    incl_vat_cents: int = 0


def fee_totals(entries: models.QuerySet[FeeEntry]) -> FeeTotals:
    totals = entries.order_by().aggregate(n=models.Count("id"), ht=_sum("amount_cents"), ttc=_sum("incl_vat_cents"))
    return FeeTotals(totals["n"], totals["ht"], totals["ttc"])


def fees_by_organisation(entries: models.QuerySet[FeeEntry]) -> list[Mapping[str, Any]]:
    return list(
        entries.order_by()
        .values("organisation_id", "organisation__name", "organisation__siret")
        .annotate(count=models.Count("id"), amount=_sum("amount_cents"), incl_vat=_sum("incl_vat_cents"))
        .order_by("organisation__name")
    )


def fees_by_kind(entries: models.QuerySet[FeeEntry]) -> list[dict[str, Any]]:
    rows = (
        entries.order_by()
        .values("certification", "kind")
        .annotate(count=models.Count("id"), amount=_sum("amount_cents"), incl_vat=_sum("incl_vat_cents"))
        .order_by("certification", "kind")
    )
    return [
        {
            **row,
            "certification_label": Certification(row["certification"]).label,
            "kind_label": FeeKind(row["kind"]).label,
        }
        for row in rows
    ]


def funding_by_funder(lines: models.QuerySet[FundingLine]) -> list[Mapping[str, Any]]:
    """Per funder: lines by state and the amounts requested, granted (a cancelled line's grant no longer counts),
    invoiced, paid (as received), still to receive and written off (incl. VAT). One aggregate query."""
    awaiting = models.Q(state__in=AWAITING_PAYMENT_STATES)
    rows = (
        lines.order_by()
        .values("funder__name")
        .annotate(
            count=models.Count("id"),
            open=models.Count("id", filter=models.Q(state__in=[LineState.DRAFT, LineState.REQUESTED])),
            refused=models.Count("id", filter=models.Q(state=LineState.REFUSED)),
            requested=_sum("requested_incl_vat_cents"),
            granted=Coalesce(models.Sum("granted_incl_vat_cents", filter=~models.Q(state=LineState.CANCELLED)), ZERO),
            invoiced=_sum("invoiced_incl_vat_cents"),
            paid=_sum("paid_cents"),
            remainder=Coalesce(
                models.Sum(LINE_DUE, filter=awaiting),
                ZERO,
            ),
            written_off=_sum("written_off_cents"),
        )
        .order_by("funder__name")
    )
    return list(rows)


def batch_remainder(batch: ClaimBatch) -> int:
    """What the funder still owes on the batch, including VAT: its lines awaiting payment, less what they got."""
    return FundingLine.objects.filter(batch=batch, state__in=AWAITING_PAYMENT_STATES).aggregate(
        rest=Coalesce(models.Sum(LINE_DUE), ZERO)
    )["rest"]


def certificates_to_report() -> models.QuerySet[Any]:
    """Valid certificates (issued: their PDF stored) not yet reported to the Caisse des Dépôts, the oldest (nearest
    deadline) first."""
    from juries.models import Certificate

    return (
        Certificate.objects.valid()
        .produced()
        .filter(cdc_report__isnull=True)
        .select_related("organisation", "dossier__candidate")
        .order_by("awarded_on", "id")
    )


def certificates_overdue(today: datetime.date | None = None) -> models.QuerySet[Any]:
    """Not reported and past the 3-month deadline: awarded on or before today minus 3 months."""
    today = today or timezone.localdate()
    return certificates_to_report().filter(awarded_on__lt=add_months(today, -CDC_REPORT_MONTHS))


CDC_COLUMNS = [
    Column("Numéro national"),
    Column("Certification"),
    Column("Code de vérification"),
    Column("Nom"),
    Column("Prénom"),
    Column("Date de naissance"),
    Column("Délivré le"),
    Column("Organisme évaluateur"),
    Column("SIRET de l'organisme"),
    Column("À déclarer avant le"),
]


def cdc_table(certificates: Any) -> Table:
    """The certificates to report, one row each (format of the Caisse des Dépôts: provisional, to confirm)."""
    rows = []
    for certificate in certificates:
        candidate = certificate.dossier.candidate
        rows.append(
            [
                certificate.number,
                certificate.get_certification_display(),
                certificate.verification_code,
                candidate.last_name.upper(),
                candidate.first_name,
                candidate.birth_date,
                certificate.awarded_on,
                certificate.organisation.name,
                certificate.organisation.siret,
                cdc_deadline(certificate.awarded_on),
            ]
        )
    return Table(title="Certificats", columns=CDC_COLUMNS, rows=rows)
