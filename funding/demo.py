"""Demo funding for the northern evaluator's demo dossiers: lines in every state, an issued batch with a payment
reconciled against it, the fees of the demo events and a quarterly statement. Called by `seed_demo`."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from candidates.models import Dossier
from funding.models import Funder, FundingLine, FundingStep, LineState, previous_quarter
from funding.references import funding_references_load
from funding.services import (
    FundingError,
    PaymentInput,
    batch_generate,
    batch_request,
    cdc_flux_generate,
    cdc_report_import,
    fee_entries_catch_up,
    funding_line_create,
    funding_line_transition,
    payment_record,
    statement_generate,
)
from organisations.models import Membership, Organisation, Role

L = LineState
# (candidate's first name, step, funder code, euros excl. VAT, VAT rate, state to reach, funder reference)
DEMO_LINES = [
    ("Kevin", FundingStep.PRIOR_EVALUATION, "cpf", "450", "20", LineState.DRAFT, ""),
    ("Sandrine", FundingStep.PRIOR_EVALUATION, "france-travail", "450", "20", LineState.REQUESTED, ""),
    ("Julie", FundingStep.TRAINING, "region", "1750", "0", LineState.GRANTED, "HDF-PRF-2026-0117"),
    ("Patrick", FundingStep.TRAINING, "opco", "1750", "0", LineState.REFUSED, ""),
    ("Mohamed", FundingStep.PRIOR_EVALUATION, "france-travail", "450", "20", LineState.INVOICED, "FT-59-2026-0342"),
    ("Aïcha", FundingStep.PRIOR_EVALUATION, "france-travail", "450", "20", LineState.PAID, "FT-59-2026-0343"),
    ("Nadia", FundingStep.PRIOR_EVALUATION, "employeur", "380", "20", LineState.CANCELLED, ""),
    ("Éric", FundingStep.PRIOR_EVALUATION, "france-travail", "450", "20", LineState.PARTIALLY_PAID, "FT-59-2026-0344"),
    ("Patrick", FundingStep.PRIOR_EVALUATION, "france-travail", "450", "20", LineState.WRITTEN_OFF, "FT-59-2026-0345"),
]


@transaction.atomic
def seed_funding(orgs: dict[str, Organisation]) -> int:
    """Idempotent: the funders and tariffs are loaded, fees caught up, and the demo lines created only once.
    Returns how many lines it created."""
    funding_references_load()
    fee_entries_catch_up()
    nord = orgs["nord"]
    created = 0
    if not FundingLine.objects.filter(organisation=nord).exists():
        created = _seed_lines(nord)
    _seed_statement(nord)
    _seed_cdc()
    return created


def _seed_cdc() -> None:
    """A first flux to the Caisse des Dépôts and its report, once: the demo's certificates holders get a sex and a
    birth code (with three or more, the last one is left to complete, for that queue), the report accepts the first
    and rejects the second (for the queue of rejections to correct)."""
    from candidates.models import Candidate
    from funding.cdc import report_render
    from funding.models import CdcFlux, CdcSettings
    from funding.selectors import certificates_to_report

    CdcSettings.current()
    certificates = list(certificates_to_report())
    if CdcFlux.objects.exists() or len(certificates) < 2:
        return
    certifpro = Membership.objects.filter(role=Role.CERTIFPRO_ADMIN).order_by("pk").first()
    if certifpro is None:
        return
    # The last holder is left to complete when that still leaves two to declare (one accepted, one rejected).
    to_complete = certificates[:-1] if len(certificates) >= 3 else certificates
    for index, certificate in enumerate(to_complete):
        Candidate.objects.filter(pk=certificate.dossier.candidate_id).update(
            sex="F" if index % 2 == 0 else "M", birth_insee_code="59350", birth_place="Lille", born_abroad=False
        )
    flux = cdc_flux_generate(by=certifpro)
    declared = [d.technical_id for d in flux.declarations.order_by("technical_id")]
    lines = [(declared[0], True, "")]
    if len(declared) > 1:
        lines.append((declared[1], False, "Aucun titulaire ne correspond aux critères obligatoires"))
    cdc_report_import(
        upload=SimpleUploadedFile("compte-rendu-demo.xml", report_render(flux.flux_id, lines)), by=certifpro
    )


def _seed_lines(nord: Organisation) -> int:
    counsellor = Membership.objects.get(user__email="conseillere@evaluateur-nord.demo", role=Role.COUNSELLOR)
    admin = Membership.objects.get(user__email="conseillere@evaluateur-nord.demo", role=Role.ORG_ADMIN)
    lines: dict[str, FundingLine] = {}  # by the state each line is to reach
    for first_name, step, code, euros, rate, target, reference in DEMO_LINES:
        dossier = Dossier.objects.filter(organisation=nord, candidate__first_name=first_name).order_by("id").first()
        if dossier is None:
            continue
        line = funding_line_create(
            dossier=dossier,
            by=counsellor,
            step=step,
            funder=Funder.objects.get(code=code),
            requested_cents=int(Decimal(euros) * 100),
            vat_rate=Decimal(rate),
            hours=Decimal("35") if step == FundingStep.TRAINING else Decimal("3.5"),
        )
        if target == LineState.DRAFT:
            lines[target] = line
            continue
        line = funding_line_transition(line=line, name="request", by=counsellor)
        if target == LineState.REFUSED:
            line = funding_line_transition(
                line=line, name="refuse", by=counsellor, note="Hors du périmètre du plan de l'entreprise."
            )
        elif target not in {LineState.REQUESTED, LineState.CANCELLED}:
            line = funding_line_transition(
                line=line, name="grant", by=counsellor, granted_cents=line.requested_cents, funder_reference=reference
            )
        if target == LineState.CANCELLED:
            line = funding_line_transition(
                line=line, name="cancel", by=counsellor, note="La candidate finance finalement elle-même."
            )
        lines[target] = line
    # The France Travail lines of the closed prior evaluations go into one batch, and a payment settles one.
    today = timezone.localdate()
    try:
        batch = batch_request(
            organisation=nord,
            funder=Funder.objects.get(code="france-travail"),
            period_start=today - datetime.timedelta(days=31),
            period_end=today,
            by=admin,
        )
    except FundingError:
        return len(lines)
    batch = batch_generate(batch_id=batch.pk)
    # One payment: a line paid in full, two paid 40 € short (one of whose remainder is then written off), and a
    # reference the batch does not know.
    paid, short, written_off = (lines.get(state) for state in (L.PAID, L.PARTIALLY_PAID, L.WRITTEN_OFF))
    if paid is not None and short is not None and written_off is not None:
        for line in (paid, short, written_off):
            line.refresh_from_db()
        payment_record(
            batch=batch,
            by=admin,
            received_on=today,
            reference="VIR-FT-2026-118",
            lines=[
                PaymentInput(paid.funder_reference, paid.invoiced_incl_vat_cents or 0),
                PaymentInput(short.funder_reference, (short.invoiced_incl_vat_cents or 0) - 4000),
                PaymentInput(written_off.funder_reference, (written_off.invoiced_incl_vat_cents or 0) - 4000),
                PaymentInput("FT-59-2026-9999", 54000),
            ],
        )
        funding_line_transition(
            line=FundingLine.objects.get(pk=written_off.pk),
            name="write_off",
            by=admin,
            note="Plafond de prise en charge du financeur atteint.",
        )
    return len(lines)


def _seed_statement(nord: Organisation) -> None:
    """Last quarter's statement: the fees of the demo events up to then (the expired dossier's prior evaluation,
    the habilitations). One per quarter, so seeding again changes nothing."""
    year, quarter = previous_quarter(timezone.localdate())
    try:
        statement_generate(organisation_id=nord.pk, year=year, quarter=quarter)
    except FundingError:
        pass
