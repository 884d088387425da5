"""Funding lines, batches and payments for the tests, reached through the services."""

from __future__ import annotations

import datetime
import io
import zipfile
from decimal import Decimal

from django.utils import timezone

from candidates.models import Dossier
from funding.models import ClaimBatch, Funder, FundingLine, FundingStep
from funding.references import funding_references_load
from funding.services import PaymentInput, batch_generate, batch_request, funding_line_create, funding_line_transition
from organisations.models import Membership, Organisation, Role
from tests.factories import MembershipFactory
from tests.journey import DossierFactory

TODAY = timezone.localdate


def funder(code: str = "france-travail") -> Funder:
    funding_references_load()
    return Funder.objects.get(code=code)


def org_admin(organisation: Organisation) -> Membership:
    existing = Membership.objects.filter(organisation=organisation, role=Role.ORG_ADMIN).order_by("pk").first()
    return existing or MembershipFactory(organisation=organisation, role=Role.ORG_ADMIN)


def draft_line(
    dossier: Dossier,
    *,
    step: str = FundingStep.PRIOR_EVALUATION,
    code: str = "france-travail",
    cents: int = 45000,
    vat_rate: Decimal = Decimal("20"),
    reference: str = "",
    by: Membership | None = None,
) -> FundingLine:
    return funding_line_create(
        dossier=dossier,
        by=by or dossier.team.counsellor,
        step=step,
        funder=funder(code),
        requested_cents=cents,
        vat_rate=vat_rate,
        hours=Decimal("3.5"),
        funder_reference=reference,
    )


def granted_line(
    dossier: Dossier, *, granted: int | None = None, reference: str | None = None, **kwargs
) -> FundingLine:
    line = draft_line(dossier, **kwargs)
    by = kwargs.get("by") or dossier.team.counsellor
    line = funding_line_transition(line=line, name="request", by=by)
    return funding_line_transition(
        line=line,
        name="grant",
        by=by,
        granted_cents=granted if granted is not None else line.requested_cents,
        funder_reference=reference or f"FT-{line.pk:05d}",
    )


def issued_batch(
    organisation: Organisation, *, code: str = "france-travail", start: datetime.date | None = None, end=None
) -> ClaimBatch:
    """Request and produce (in-process) a batch of the organisation's claimable lines for the funder."""
    batch = batch_request(
        organisation=organisation,
        funder=funder(code),
        period_start=start or TODAY() - datetime.timedelta(days=31),
        period_end=end or TODAY(),
        by=org_admin(organisation),
    )
    return batch_generate(batch_id=batch.pk)


def batch_with_lines(organisation: Organisation | None = None, count: int = 2, **line_kwargs) -> ClaimBatch:
    """`count` dossiers whose prior evaluation is closed, each with a granted France Travail line, claimed."""
    for _ in range(count):
        dossier = DossierFactory(organisation=organisation, state="partially_validated")
        organisation = dossier.organisation
        granted_line(dossier, **line_kwargs)
    return issued_batch(organisation)


def payment_inputs(batch: ClaimBatch) -> list[PaymentInput]:
    return [PaymentInput(line.funder_reference, line.invoiced_incl_vat_cents) for line in batch.lines.order_by("id")]


def xlsx_core_dates(content: bytes) -> bytes:
    return zipfile.ZipFile(io.BytesIO(content)).read("docProps/core.xml")


def awarded_certificate(*, days_ago: int = 0, certification: str = "clea", organisation: Organisation | None = None):
    """A certificate awarded `days_ago` days ago (the session and its decision are moved back once the dossier is
    submitted: a past session no longer takes dossiers)."""
    from juries.models import Decision, DecisionKind, JurySession
    from juries.services import certificate_generate, decision_record
    from tests.juries.factories import close, deliberating, make_jury

    jury = make_jury()
    JurySession.objects.filter(pk=jury.session.pk).update(certification=certification)
    jury.session.refresh_from_db()
    kwargs = {"organisation": organisation} if organisation is not None else {}
    dossier = DossierFactory(state="ready_for_jury", certification=certification, **kwargs)
    [submission] = deliberating(jury, dossier)
    sat_on = timezone.now() - datetime.timedelta(days=days_ago)
    JurySession.objects.filter(pk=jury.session.pk).update(date=sat_on)
    decision = decision_record(submission=submission, by=jury.president, kind=DecisionKind.AWARDED)
    Decision.objects.filter(pk=decision.pk).update(decided_at=sat_on)
    close(jury)
    return certificate_generate(decision_id=decision.pk)
