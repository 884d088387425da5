"""Reads that span apps: what an organisation has to claim, Certif'Pro's national view, the certificates to report
to the Caisse des Dépôts."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from candidates.models import Dossier, DossierState
from clea_platform.certifications import Certification
from funding.cdc import TEXT_MAX_LENGTH, xml_clean
from funding.models import (
    AWAITING_PAYMENT_STATES,
    CDC_REPORT_MONTHS,
    CdcDeclaration,
    CdcSettings,
    ClaimBatch,
    DeclarationKind,
    DeclarationStatus,
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
    """Valid certificates (issued: their PDF stored) not declared to the Caisse des Dépôts, the oldest (nearest
    deadline) first: never in a flux, or rejected by the Caisse and not declared again since. Those marked by hand
    before the flux existed (CertificateReport) count as declared."""
    from juries.models import Certificate

    standing = CdcDeclaration.objects.standing().filter(kind=DeclarationKind.AWARD).values("certificate_id")
    return (
        Certificate.objects.valid()
        .produced()
        .filter(cdc_report__isnull=True)
        .exclude(pk__in=standing)
        .select_related("organisation", "dossier__candidate")
        .order_by("awarded_on", "id")
    )


def certificates_overdue(today: datetime.date | None = None) -> models.QuerySet[Any]:
    """Not reported and past the 3-month deadline: awarded on or before today minus 3 months."""
    today = today or timezone.localdate()
    return certificates_to_report().filter(awarded_on__lt=add_months(today, -CDC_REPORT_MONTHS))


def certificates_to_withdraw() -> models.QuerySet[Any]:
    """Revoked certificates declared to the Caisse (their award stands in a flux, or they were marked declared by
    hand before the flux existed) and whose withdrawal was not declared yet."""
    from juries.models import Certificate

    declarations = CdcDeclaration.objects.standing()
    awarded = declarations.filter(kind=DeclarationKind.AWARD).values("certificate_id")
    return (
        Certificate.objects.filter(revoked_at__isnull=False)
        .filter(models.Q(pk__in=awarded) | models.Q(cdc_report__isnull=False))
        .exclude(pk__in=declarations.filter(kind=DeclarationKind.WITHDRAWAL).values("certificate_id"))
        .annotate(award_in_flux=models.Q(pk__in=awarded))
        .select_related("dossier__candidate")
        .order_by("revoked_at", "id")
    )


@dataclass(frozen=True)
class HolderIdentity:
    """What the flux says of the holder (CdcDeclaration's snapshot fields)."""

    birth_name: str
    usual_name: str
    first_name: str
    birth_date: datetime.date
    sex: str
    birth_insee_code: str
    birth_place: str

    @classmethod
    def of_candidate(cls, candidate: Any) -> HolderIdentity:
        # Stripped of what XML 1.0 forbids (a control character typed or imported into a name would make the
        # whole flux unreadable); the snapshot is what was sent.
        return cls(
            birth_name=xml_clean(candidate.birth_name or candidate.last_name),
            usual_name=xml_clean(candidate.last_name),
            first_name=xml_clean(candidate.first_name),
            birth_date=candidate.birth_date,
            sex=candidate.sex,
            birth_insee_code=candidate.birth_insee_code,
            birth_place=xml_clean(candidate.birth_place),
        )

    def problems(self) -> list[str]:
        """What the flux schema would refuse in this identity once the missing fields are filled (funding/cdc.py):
        an empty or too long name or place, a birth year outside 1900-2099. French labels, for the list of holders
        to complete."""
        problems = []
        for name, label in (
            ("birth_name", _("nom de naissance")),
            ("first_name", _("prénom")),
            ("birth_place", _("lieu de naissance")),
        ):
            if not getattr(self, name) or len(getattr(self, name)) > TEXT_MAX_LENGTH:
                problems.append(str(label))
        if not 1900 <= self.birth_date.year <= 2099:
            problems.append(str(_("date de naissance")))
        return problems

    @classmethod
    def of_declaration(cls, declaration: CdcDeclaration) -> HolderIdentity:
        return cls(**{name: getattr(declaration, name) for name in cls.__dataclass_fields__})


@dataclass
class CdcPending:
    """What the next flux holds and what stops the rest: `ready` certificates (complete identity), those whose
    holder lacks what the Caisse needs (`incomplete`, with the missing fields' labels), those the Caisse rejected
    and whose holder's identity is unchanged since (`rejected`, with the rejection), and the revoked ones to declare
    withdrawn."""

    ready: list[Any] = field(default_factory=list)
    incomplete: list[tuple[Any, list[str]]] = field(default_factory=list)
    rejected: list[tuple[Any, CdcDeclaration]] = field(default_factory=list)
    withdrawals: list[Any] = field(default_factory=list)


def cdc_pending(settings: CdcSettings | None = None) -> CdcPending:
    """`settings`: the row the caller holds already (the view shows it, the flux locks it)."""
    from candidates.models import CANDIDATE_IDENTITY_FIELDS

    settings = settings or CdcSettings.current()
    pending = CdcPending()
    certificates = list(certificates_to_report())
    last_rejection: dict[int, CdcDeclaration] = {}
    for declaration in (
        CdcDeclaration.objects.filter(
            certificate__in=[c.pk for c in certificates], kind=DeclarationKind.AWARD, status=DeclarationStatus.REJECTED
        )
        .select_related("flux")
        .order_by("id")
    ):
        last_rejection[declaration.certificate_id] = declaration
    for certificate in certificates:
        candidate = certificate.dossier.candidate
        missing = candidate.missing_for_cdc
        identity = HolderIdentity.of_candidate(candidate)
        labels = [str(CANDIDATE_IDENTITY_FIELDS[name]) for name in dict.fromkeys(missing)]
        if not missing:
            labels = identity.problems()
        if labels:
            pending.incomplete.append((certificate, labels))
            continue
        rejection = last_rejection.get(certificate.pk)
        if rejection and (
            HolderIdentity.of_declaration(rejection) == identity
            and rejection.certification_code == settings.rs_code(certificate.certification)
            and (rejection.flux.client_id, rejection.flux.contract_id) == (settings.client_id, settings.contract_id)
        ):
            # Sent again unchanged, it would be rejected again: the identity, or the RS code or the identifiers in
            # the settings when the rejection was about them, are to be corrected first.
            pending.rejected.append((certificate, rejection))
            continue
        pending.ready.append(certificate)
    for certificate in certificates_to_withdraw():
        if not certificate.award_in_flux:
            # Marked declared by hand: no snapshot to repeat, the withdrawal says who the holder is today.
            candidate = certificate.dossier.candidate
            missing = candidate.missing_for_cdc
            labels = [str(CANDIDATE_IDENTITY_FIELDS[name]) for name in dict.fromkeys(missing)]
            labels = labels or HolderIdentity.of_candidate(candidate).problems()
            if labels:
                pending.incomplete.append((certificate, labels))
                continue
        pending.withdrawals.append(certificate)
    return pending


def cdc_deadline_of(certificate: Any) -> datetime.date:
    return cdc_deadline(certificate.awarded_on)
