"""Every write of the funding app: one transaction, rows locked, history and audit rows, side effects on commit.

Lines follow their own state machine (draft → requested → granted or refused → invoiced → paid, cancellable
before invoicing); claim batches are produced by a worker and never change once issued; payments are
reconciled with their batch; Certif'Pro's fees are recorded by the events themselves, once each.
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, models, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from candidates.models import Dossier, DossierState
from clea_platform.changes import rows_update
from clea_platform.errors import BusinessRefusal
from clea_platform.french import of_name
from clea_platform.pdf import sha256_hex
from funding.cdc import REPORT_MAX_BYTES, ReportUnreadable, flux_errors, flux_render, report_parse
from funding.documents import Column, RenderedFiles, Table, render_files
from funding.models import (
    AWAITING_PAYMENT_STATES,
    CANCELLABLE_STATES,
    BatchStatus,
    CdcDeclaration,
    CdcFlux,
    CdcReportImport,
    CdcSettings,
    ClaimBatch,
    DeclarationKind,
    DeclarationStatus,
    FeeEntry,
    FeeKind,
    Funder,
    FundingLine,
    FundingLineEvent,
    FundingLineQuerySet,
    FundingProof,
    FundingStep,
    LineState,
    MatchStatus,
    Payment,
    PaymentLine,
    Statement,
    Tariff,
    quarter_bounds,
)
from funding.money import DEFAULT_VAT_RATE, format_euros, incl_vat
from funding.payment_files import FileRow, RowError, read_payment_file
from funding.selectors import HolderIdentity, cdc_pending
from organisations.models import Habilitation, Membership, Organisation, Role, User
from organisations.services import audit_record
from organisations.transitions import transition_apply, transition_lock
from outbox.models import SideEffect
from outbox.services import DocumentNotProduced, document_replace, side_effect_add

LINE_ROLES = (Role.COUNSELLOR, Role.ORG_ADMIN)
# Transitions a user takes from a screen; "pay" is taken by `payment_record` only.
USER_TRANSITIONS = ("request", "grant", "refuse", "invoice", "cancel", "write_off")
EDITABLE_FIELDS = ("step", "funder", "hours", "vat_rate", "requested_cents", "funder_reference", "note")
PROGRESS_EVERY = 25
PROOF_MAX_BYTES = 5 * 1024 * 1024
# Each accepted extension, and how a file of that type starts: the name alone would let an HTML page or a program
# through as "accord.pdf" (ASVS 5.0 5.2.2).
PROOF_SIGNATURES = {
    ".pdf": (b"%PDF-",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
}
PROOF_TYPES = set(PROOF_SIGNATURES)


class FundingError(BusinessRefusal):
    """A funding rule refuses the action; the message says why, in French."""

    code = "funding_refused"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        # The form field the refusal is about, so that a screen shows it there (None: the whole action).
        self.field = field


def _ensure_member_of(membership: Membership, organisation_id: int, roles: Iterable[str]) -> None:
    if membership.role not in roles or membership.organisation_id != organisation_id:
        raise PermissionDenied


def _ensure_certifpro(membership: Membership) -> None:
    if not membership.is_certifpro:
        raise PermissionDenied


def _check_vat_rate(rate: Decimal) -> Decimal:
    rate = Decimal(rate)
    if not Decimal("0") <= rate <= Decimal("100"):
        raise FundingError(_("Le taux de TVA doit être compris entre 0 et 100 %."))
    return rate


# -- Lines --------------------------------------------------------------------------------------------------------


@transaction.atomic
def funding_line_create(
    *,
    dossier: Dossier,
    by: Membership,
    step: str,
    funder: Funder,
    requested_cents: int,
    vat_rate: Decimal = DEFAULT_VAT_RATE,
    hours: Decimal | None = None,
    funder_reference: str = "",
    note: str = "",
    request: HttpRequest | None = None,
) -> FundingLine:
    """A draft line for one step of the dossier and one funder. The dossier's row is locked, so that a line is
    never added while the dossier is being withdrawn (whose withdrawal cancels the open lines)."""
    _ensure_member_of(by, dossier.organisation_id, LINE_ROLES)
    locked = Dossier.objects.select_for_update(of=("self",)).get(pk=dossier.pk)
    if locked.state in {DossierState.WITHDRAWN, DossierState.EXPIRED}:
        raise FundingError(
            _("Le dossier est clos (« %(state)s ») : aucun financement ne peut y être ajouté.")
            % {"state": locked.get_state_display()}
        )
    if step not in FundingStep.values:
        raise FundingError(_("Étape inconnue."))
    if not funder.is_active:
        raise FundingError(_("Ce financeur n'est plus proposé."))
    if requested_cents <= 0:
        raise FundingError(_("Indiquez le montant demandé."), field="requested_cents")
    vat_rate = _check_vat_rate(vat_rate)
    line = FundingLine.objects.create(
        organisation_id=locked.organisation_id,
        dossier=locked,
        step=step,
        funder=funder,
        hours=hours,
        vat_rate=vat_rate,
        requested_cents=requested_cents,
        requested_incl_vat_cents=incl_vat(requested_cents, vat_rate),
        funder_reference=funder_reference.strip(),
        note=note.strip(),
        created_by=by.user,
    )
    FundingLineEvent.objects.create(line=line, actor=by.user, to_state=line.state, note=_("Ligne créée"))
    audit_record(
        action="funding_line.create", actor=by.user, organisation=line.organisation_id, obj=line, request=request
    )
    return line


def _lock_line(line: FundingLine) -> FundingLine:
    return transition_lock(
        line,
        changed=lambda locked: FundingError(
            _("La ligne a changé entre-temps (elle est maintenant « %(state)s ») : rechargez la page.")
            % {"state": locked.get_state_display()}
        ),
    )


@transaction.atomic
def funding_line_update(
    *, line: FundingLine, by: Membership, changes: dict[str, Any], request: HttpRequest | None = None
) -> FundingLine:
    """Edit a draft line (once requested, what was sent to the funder stays as it was)."""
    _ensure_member_of(by, line.organisation_id, LINE_ROLES)
    locked = _lock_line(line)
    if locked.state != LineState.DRAFT:
        raise FundingError(_("Seule une ligne en brouillon peut être modifiée."))
    changed = sorted(name for name in changes if name in EDITABLE_FIELDS)
    for name in changed:
        setattr(locked, name, changes[name])
    if "funder" in changed and not locked.funder.is_active:
        raise FundingError(_("Ce financeur n'est plus proposé."))
    if locked.requested_cents <= 0:
        raise FundingError(_("Indiquez le montant demandé."), field="requested_cents")
    locked.vat_rate = _check_vat_rate(locked.vat_rate)
    locked.requested_incl_vat_cents = incl_vat(locked.requested_cents, locked.vat_rate)
    if changed:
        locked.save()
        FundingLineEvent.objects.create(
            line=locked, actor=by.user, from_state=locked.state, to_state=locked.state, note=_("Brouillon modifié")
        )
        audit_record(
            action="funding_line.update",
            actor=by.user,
            organisation=locked.organisation_id,
            obj=locked,
            request=request,
            details={"fields": changed},
        )
    return locked


def _refusal_message(line: FundingLine, name: str) -> str:
    if name == "invoice" and line.state == LineState.GRANTED:
        by_step: dict[str, str] = {
            FundingStep.PRIOR_EVALUATION: _(
                "La ligne ne peut être facturée qu'une fois l'évaluation préalable clôturée."
            ),
            FundingStep.TRAINING: _("La ligne ne peut être facturée qu'une fois la formation terminée."),
            FundingStep.FINAL_EVALUATION: _("La ligne ne peut être facturée qu'une fois l'évaluation finale clôturée."),
        }
        return by_step[line.step]
    if name == "cancel" and line.state not in CANCELLABLE_STATES and line.invoiced_cents is not None:
        return _("Une ligne facturée ne peut plus être annulée.")
    if name == "write_off":
        return _("Seul le reste à percevoir d'une ligne payée en partie peut être abandonné.")
    return _("Ce changement n'est pas possible pour une ligne « %(state)s ».") % {"state": line.get_state_display()}


def _line_apply(
    *,
    locked: FundingLine,
    name: str,
    by: Membership | None,
    actor: User | None,
    note: str = "",
    request: HttpRequest | None = None,
    details: dict[str, Any] | None = None,
    **kwargs: Any,
) -> FundingLine:
    """Apply one transition to a locked line and record it (history and audit). `by` None: the platform acts
    (a withdrawal, a batch), and the caller already checked who may trigger it."""
    return transition_apply(
        locked,
        name,
        by=by,
        actor=actor,
        note=note,
        request=request,
        details=details,
        action="funding_line",
        refused=lambda line, name: FundingError(_refusal_message(line, name)),
        **kwargs,
    )


@transaction.atomic
def funding_line_transition(
    *,
    line: FundingLine,
    name: str,
    by: Membership,
    note: str = "",
    request: HttpRequest | None = None,
    **kwargs: Any,
) -> FundingLine:
    """Take one user transition: "request"; "grant" (granted_cents, funder_reference, granted_on, and
    override_reason when granting more than requested or dating the agreement in the future); "refuse" (note: the
    funder's reason); "invoice" (invoiced_cents ≤ granted, once the step happened); "cancel" (note), before
    invoicing; "write_off" (note), the remainder of a partly paid line, by an administrator. Raises FundingError
    with the reason, PermissionDenied for the role."""
    if name not in USER_TRANSITIONS:
        raise FundingError(_("Changement inconnu."))
    _ensure_member_of(by, line.organisation_id, LINE_ROLES)
    locked = _lock_line(line)
    note = note.strip()
    today = timezone.localdate()
    details: dict[str, Any] | None = None
    if name == "grant":
        granted = kwargs.get("granted_cents")
        reference = (kwargs.get("funder_reference") or locked.funder_reference).strip()
        if not granted or granted <= 0:
            raise FundingError(_("Indiquez le montant accordé."), field="granted_cents")
        if not reference:
            raise FundingError(
                _("Indiquez la référence du financeur (%(label)s) : elle sert aux réclamations et aux paiements.")
                % {"label": locked.funder.reference_label},
                field="funder_reference",
            )
        granted_on = kwargs.get("granted_on") or today
        departures = locked.grant_departures(granted_cents=granted, granted_on=granted_on, today=today)
        override_reason = (kwargs.get("override_reason") or "").strip()
        if departures and not override_reason:
            field, message = next(iter(departures.items()))
            raise FundingError(message, field=field)
        if departures:
            # The reason goes into the line's history with what it overrides, and into the audit row.
            note = _grant_override_note(locked, granted, granted_on, departures, override_reason)
            details = {"override": sorted(departures), "override_reason": override_reason}
        kwargs = {"granted_cents": granted, "funder_reference": reference, "granted_on": granted_on}
    elif name == "invoice":
        invoiced = kwargs.get("invoiced_cents") or locked.granted_cents
        invoiced_on = kwargs.get("invoiced_on") or today
        if locked.state == LineState.GRANTED:
            if invoiced is None or invoiced <= 0:
                raise FundingError(_("Indiquez le montant facturé."), field="invoiced_cents")
            if invoiced > (locked.granted_cents or 0):
                raise FundingError(_("Le montant facturé ne peut dépasser le montant accordé."), field="invoiced_cents")
            # An invoice bills a step that happened, on or after its day, and is dated when it is issued.
            if invoiced_on > today:
                raise FundingError(_("La date de facturation ne peut être dans le futur."), field="invoiced_on")
            done_on = locked.step_happened_on()
            if done_on is not None and invoiced_on < done_on:
                raise FundingError(
                    _("La facture ne peut précéder la réalisation de l'étape, le %(date)s.")
                    % {"date": f"{done_on:%d/%m/%Y}"},
                    field="invoiced_on",
                )
        kwargs = {"invoiced_cents": invoiced, "invoiced_on": invoiced_on}
    elif name in {"refuse", "cancel"}:
        if not note:
            raise FundingError(_("Indiquez le motif."), field="note")
        kwargs = {}
    elif name == "write_off":
        if not note:
            raise FundingError(_("Indiquez pourquoi le reste ne sera pas perçu."), field="note")
        if locked.state == LineState.PARTIALLY_PAID:
            note = _("Reste à percevoir de %(amount)s abandonné. Motif : %(reason)s") % {
                "amount": format_euros(locked.remainder_cents),
                "reason": note,
            }
            details = {"written_off_cents": locked.remainder_cents}
        kwargs = {"written_off_on": today}
    else:
        kwargs = {}
    return _line_apply(
        locked=locked, name=name, by=by, actor=by.user, note=note, request=request, details=details, **kwargs
    )


def _grant_override_note(
    line: FundingLine, granted: int, granted_on: datetime.date, departures: Collection[str], reason: str
) -> str:
    """The history's wording of what the grant overrides: one phrase per departure (`grant_departures`' keys)."""
    what = []
    if "granted_cents" in departures:
        what.append(
            _("montant accordé %(granted)s HT pour %(requested)s HT demandés")
            % {"granted": format_euros(granted), "requested": format_euros(line.requested_cents)}
        )
    if "granted_on" in departures:
        what.append(_("accord daté du %(date)s, dans le futur") % {"date": f"{granted_on:%d/%m/%Y}"})
    return _("Dérogation (%(what)s). Motif : %(reason)s") % {"what": " ; ".join(what), "reason": reason}


def _stoppable_lines(dossier: Dossier) -> FundingLineQuerySet:
    return FundingLine.objects.select_for_update(of=("self",)).filter(
        dossier_id=dossier.pk, state__in=CANCELLABLE_STATES
    )


def funding_lines_lock_for_stop(*, dossier: Dossier) -> int:
    """Lock the lines a withdrawal will stop, before its first audit row (on `dossier_withdrawal_started`, see
    candidates/signals.py for the lock order). Writes nothing; returns how many."""
    return len(list(_stoppable_lines(dossier).order_by("id").values_list("id", flat=True)))


@transaction.atomic
def funding_lines_stop(*, dossier: Dossier, by: Membership | None, reason: str = "") -> int:
    """A withdrawn dossier stops its open lines: every line not yet invoiced is cancelled, with a history entry.
    Called on `dossier_withdrawn`, inside the withdrawal's transaction. Returns how many were cancelled."""
    lines = _stoppable_lines(dossier)
    note = _("Dossier abandonné : %(reason)s") % {"reason": reason} if reason else _("Dossier abandonné")
    count = 0
    for line in lines.order_by("id"):
        _line_apply(locked=line, name="cancel", by=None, actor=by.user if by else None, note=note)
        count += 1
    return count


@transaction.atomic
def funding_proof_add(
    *, line: FundingLine, by: Membership, label: str, upload: UploadedFile, request: HttpRequest | None = None
) -> FundingProof:
    """Attach a proof (PDF or image, 5 MB at most) to a line, stored with its SHA-256."""
    _ensure_member_of(by, line.organisation_id, LINE_ROLES)
    name = upload.name or "justificatif"
    extension = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    if extension not in PROOF_TYPES:
        raise FundingError(_("Déposez un fichier PDF, PNG ou JPEG."))
    if upload.size is not None and upload.size > PROOF_MAX_BYTES:
        raise FundingError(_("Le fichier dépasse 5 Mo."))
    content = upload.read()
    if not content.startswith(PROOF_SIGNATURES[extension]):
        raise FundingError(
            _("Le contenu du fichier n'est pas celui d'un fichier %(type)s.") % {"type": extension[1:].upper()}
        )
    proof = FundingProof(
        line=line,
        label=label.strip() or name,
        original_name=name[:255],
        sha256=sha256_hex(content),
        uploaded_by=by.user,
    )
    proof.file.save(f"justificatif-{line.pk}{extension}", ContentFile(content), save=False)
    proof.save()
    audit_record(
        action="funding_proof.add",
        actor=by.user,
        organisation=line.organisation_id,
        obj=proof,
        request=request,
        details={"line": line.pk, "sha256": proof.sha256},
    )
    return proof


# -- Claim batches ------------------------------------------------------------------------------------------------


def claimable_lines(*, organisation_id: int, funder_id: int | None = None) -> FundingLineQuerySet:
    lines = FundingLine.objects.filter(organisation_id=organisation_id).claimable()
    return lines.filter(funder_id=funder_id) if funder_id is not None else lines


@transaction.atomic
def batch_request(
    *,
    organisation: Organisation,
    funder: Funder,
    period_start: datetime.date,
    period_end: datetime.date,
    by: Membership,
    request: HttpRequest | None = None,
) -> ClaimBatch:
    """Number a new batch for the funder and the period, and queue its production once committed."""
    _ensure_member_of(by, organisation.pk, (Role.ORG_ADMIN,))
    if period_end < period_start:
        raise FundingError(_("La fin de la période précède son début."))
    # The organisation's row serialises the numbering and the one-batch-in-progress rule.
    Organisation.objects.select_for_update().filter(pk=organisation.pk).first()
    if (
        ClaimBatch.objects.filter(organisation=organisation, funder=funder)
        .filter(status__in=[BatchStatus.QUEUED, BatchStatus.RUNNING])
        .exists()
    ):
        raise FundingError(
            _("Un lot est déjà en cours de production pour %(funder)s : attendez qu'il soit émis.") % {"funder": funder}
        )
    lines = claimable_lines(organisation_id=organisation.pk, funder_id=funder.pk).in_period(period_start, period_end)
    if not lines.exists():
        raise FundingError(
            _("Aucune ligne à réclamer auprès %(of_funder)s sur cette période.") % {"of_funder": of_name(str(funder))}
        )
    today = timezone.localdate()
    prefix = f"LOT-{organisation.siret}-{today:%Y}-"
    sequence = ClaimBatch.objects.filter(number__startswith=prefix).count() + 1
    batch = ClaimBatch.objects.create(
        organisation=organisation,
        funder=funder,
        number=f"{prefix}{sequence:04d}",
        period_start=period_start,
        period_end=period_end,
        requested_by=by.user,
    )
    audit_record(
        action="claim_batch.request",
        actor=by.user,
        organisation=organisation,
        obj=batch,
        request=request,
        details={"funder": funder.code, "period": [f"{period_start:%Y-%m-%d}", f"{period_end:%Y-%m-%d}"]},
    )
    batch_promise(batch)
    return batch


def batch_promise(batch: ClaimBatch, *, retried_by: User | None = None) -> SideEffect:
    """The production of a batch, promised in the caller's transaction (the outbox); a retry is a new promise."""
    return side_effect_add(
        kind="batch",
        key=f"batch:{batch.pk}" if retried_by is None else f"batch:{batch.pk}:retry:{uuid.uuid4()}",
        label=(_("Lot %(number)s") if retried_by is None else _("Lot %(number)s (relance)")) % {"number": batch.number},
        organisation=batch.organisation_id,
        arguments={"batch_id": batch.pk},
        requested_by=retried_by,
    )


@transaction.atomic
def batches_request(
    *,
    organisation: Organisation,
    period_start: datetime.date,
    period_end: datetime.date,
    by: Membership,
    request: HttpRequest | None = None,
) -> list[ClaimBatch]:
    """One batch per funder that has lines to claim in the period (the bulk generation)."""
    _ensure_member_of(by, organisation.pk, (Role.ORG_ADMIN,))
    lines = claimable_lines(organisation_id=organisation.pk).in_period(period_start, period_end)
    funder_ids = sorted(set(lines.values_list("funder_id", flat=True)))
    busy = set(
        ClaimBatch.objects.filter(
            organisation=organisation, status__in=[BatchStatus.QUEUED, BatchStatus.RUNNING]
        ).values_list("funder_id", flat=True)
    )
    funders = [funder for funder in Funder.objects.filter(pk__in=funder_ids) if funder.pk not in busy]
    if not funders:
        raise FundingError(_("Aucune ligne à réclamer sur cette période (hors lots déjà en production)."))
    return [
        batch_request(
            organisation=organisation,
            funder=funder,
            period_start=period_start,
            period_end=period_end,
            by=by,
            request=request,
        )
        for funder in funders
    ]


def batch_generate(*, batch_id: int) -> ClaimBatch:
    """The worker's part: claim the lines (granted ones are invoiced at the amount granted), render the CSV, XLSX
    and PDF, store them with their SHA-256 and issue the batch. Progress is written on the batch row as it goes.

    Idempotent: an issued batch is returned untouched; a batch interrupted after claiming its lines resumes with
    the same lines (a line belongs to one batch at most). A failure leaves the batch "failed" with its reason.
    """
    batch = ClaimBatch.objects.get(pk=batch_id)
    if batch.is_issued:
        return batch
    with transaction.atomic():
        batch = ClaimBatch.objects.select_for_update().get(pk=batch_id)
        if batch.is_issued:
            return batch
        batch.status, batch.error = BatchStatus.RUNNING, ""
        batch.issued_on = batch.issued_on or timezone.localdate()
        batch.save(update_fields=["status", "error", "issued_on"])
    try:
        batch = _batch_claim_lines(batch_id)
        files = batch_render(batch, progress=lambda done: _batch_progress(batch_id, done))
        return _batch_issue(batch_id, files)
    except Exception as exc:
        rows_update(
            ClaimBatch.objects.filter(pk=batch_id).exclude(status=BatchStatus.ISSUED),
            status=BatchStatus.FAILED,
            error=str(exc)[:2000] or exc.__class__.__name__,
        )
        raise


@transaction.atomic
def _batch_claim_lines(batch_id: int) -> ClaimBatch:
    batch = ClaimBatch.objects.select_for_update(of=("self",)).select_related("requested_by").get(pk=batch_id)
    new_lines = (
        FundingLine.objects.select_for_update(of=("self",))
        .filter(organisation_id=batch.organisation_id, funder_id=batch.funder_id)
        .claimable()
        .in_period(batch.period_start, batch.period_end)
        .order_by("id")
    )
    note = _("Réclamé dans le lot %(number)s") % {"number": batch.number}
    for line in new_lines:
        line.batch = batch
        if line.state == LineState.GRANTED:
            _line_apply(
                locked=line,
                name="invoice",
                by=None,
                actor=batch.requested_by,
                note=note,
                invoiced_cents=line.granted_cents,
                invoiced_on=batch.issued_on,
            )
        else:
            line.save(update_fields=["batch", "updated_at"])
            FundingLineEvent.objects.create(
                line=line, actor=batch.requested_by, from_state=line.state, to_state=line.state, note=note
            )
    totals = batch.lines.aggregate(
        n=models.Count("id"), ht=models.Sum("invoiced_cents"), ttc=models.Sum("invoiced_incl_vat_cents")
    )
    if not totals["n"]:
        raise FundingError(_("Plus aucune ligne à réclamer sur cette période : le lot est vide."))
    batch.total_lines, batch.processed_lines = totals["n"], 0
    batch.total_cents, batch.total_incl_vat_cents = totals["ht"] or 0, totals["ttc"] or 0
    batch.save(update_fields=["total_lines", "processed_lines", "total_cents", "total_incl_vat_cents"])
    return batch


def _batch_progress(batch_id: int, done: int) -> None:
    # Written outside any transaction, so that the screen polling the batch sees it at once.
    rows_update(ClaimBatch.objects.filter(pk=batch_id, status=BatchStatus.RUNNING), processed_lines=done)


BATCH_COLUMNS = [
    Column("N° de lot"),
    Column("SIRET de l'organisme"),
    Column("Référence financeur"),
    Column("Dossier"),
    Column("Personne candidate"),
    Column("Étape"),
    Column("Date de réalisation"),
    Column("Heures"),
    Column("Montant HT", money=True),
    Column("Taux de TVA (%)"),
    Column("TVA", money=True),
    Column("Montant TTC", money=True),
]


def batch_table(batch: ClaimBatch, progress: Callable[[int], None] | None = None) -> Table:
    lines = list(batch.lines.select_related("dossier__candidate").files_order())
    rows = []
    for index, line in enumerate(lines, start=1):
        candidate = line.dossier.candidate
        rows.append(
            [
                batch.number,
                batch.organisation.siret,
                line.funder_reference,
                line.dossier.reference or str(line.dossier_id),
                f"{candidate.last_name.upper()} {candidate.first_name}",
                line.get_step_display(),
                line.service_date,
                line.hours if line.hours is not None else "",
                line.invoiced_cents,
                line.vat_rate,
                line.invoiced_incl_vat_cents - line.invoiced_cents,
                line.invoiced_incl_vat_cents,
            ]
        )
        if progress is not None and (index % PROGRESS_EVERY == 0 or index == len(lines)):
            progress(index)
    return Table(title="Lot", columns=BATCH_COLUMNS, rows=rows, total_label_column=2)


def batch_render(batch: ClaimBatch, progress: Callable[[int], None] | None = None) -> RenderedFiles:
    """The batch's three files, from its lines and its issue date only: rendering again gives the same bytes."""
    batch = ClaimBatch.objects.select_related("organisation", "funder").get(pk=batch.pk)
    if batch.issued_on is None:  # batch_generate dates the batch before it renders
        raise ValueError(f"Claim batch {batch.pk} has no issue date yet: it cannot be rendered.")
    table = batch_table(batch, progress)
    return render_files(
        table,
        template="documents/funding_batch.html",
        context={"batch": batch, "organisation": batch.organisation, "funder": batch.funder},
        issued_on=batch.issued_on,
    )


@transaction.atomic
def _batch_issue(batch_id: int, files: RenderedFiles) -> ClaimBatch:
    batch = ClaimBatch.objects.select_for_update().get(pk=batch_id)
    if batch.is_issued:
        return batch
    for extension in ("csv", "xlsx", "pdf"):
        getattr(batch, f"{extension}_file").save(
            batch.filename(extension), ContentFile(getattr(files, extension)), save=False
        )
        setattr(batch, f"{extension}_sha256", files.sha256(extension))
    batch.status, batch.issued_at, batch.processed_lines = BatchStatus.ISSUED, timezone.now(), batch.total_lines
    batch.save(
        update_fields=[
            "csv_file",
            "xlsx_file",
            "pdf_file",
            "csv_sha256",
            "xlsx_sha256",
            "pdf_sha256",
            "status",
            "issued_at",
            "processed_lines",
        ]
    )
    audit_record(
        action="claim_batch.issue",
        actor=None,
        organisation=batch.organisation_id,
        obj=batch,
        details={"lines": batch.total_lines, "total_incl_vat_cents": batch.total_incl_vat_cents},
    )
    return batch


def batch_regenerate(*, document_id: int, regeneration: str, by_id: int | None, reason: str) -> ClaimBatch:
    """The outbox's "batch_regenerate" side effect (asked for by `outbox.services.document_regenerate`): an issued
    batch's CSV, XLSX and PDF rendered again from its lines and its issue date (`batch_render`), the earlier files
    kept as DocumentVersions. Its lines, totals and status do not change. Idempotent on `regeneration`."""
    batch = ClaimBatch.objects.get(pk=document_id)
    if not batch.is_issued:
        raise DocumentNotProduced
    files = batch_render(batch)
    with transaction.atomic():
        batch, _replaced = document_replace(
            document=batch,
            files={
                f"{extension}_file": (batch.filename(extension), getattr(files, extension))
                for extension in ("csv", "xlsx", "pdf")
            },
            regeneration=regeneration,
            by_id=by_id,
            reason=reason,
        )
    return batch


@transaction.atomic
def batch_retry(*, batch: ClaimBatch, by: Membership, request: HttpRequest | None = None) -> ClaimBatch:
    """Queue a failed batch again (its lines, if already claimed, stay with it)."""
    _ensure_member_of(by, batch.organisation_id, (Role.ORG_ADMIN,))
    locked = ClaimBatch.objects.select_for_update().get(pk=batch.pk)
    if locked.status != BatchStatus.FAILED:
        raise FundingError(_("Seul un lot en échec peut être relancé."))
    locked.status = BatchStatus.QUEUED
    locked.save(update_fields=["status"])
    audit_record(action="claim_batch.retry", actor=by.user, organisation=locked.organisation_id, obj=locked)
    batch_promise(locked, retried_by=by.user)
    return locked


# -- Payments and reconciliation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentInput:
    funder_reference: str
    amount_cents: int


@dataclass
class Reconciliation:
    """Each payment line with its status and the batch line it settles; and the batch lines nobody paid."""

    results: list[tuple[PaymentInput, str, FundingLine | None]] = field(default_factory=list)
    missing: list[FundingLine] = field(default_factory=list)

    def of(self, status: str) -> list[tuple[PaymentInput, FundingLine | None]]:
        return [(item, line) for item, result, line in self.results if result == status]

    @property
    def matched(self) -> list[tuple[PaymentInput, FundingLine | None]]:
        return self.of(MatchStatus.MATCHED)

    @property
    def differences(self) -> list[tuple[PaymentInput, FundingLine | None]]:
        return self.of(MatchStatus.AMOUNT_DIFFERENCE)

    @property
    def unexpected(self) -> list[PaymentInput]:
        return [item for item, _line in self.of(MatchStatus.UNEXPECTED)]


_REFERENCE_NOISE = re.compile(r"[\s\-_./]")


def normalise_reference(reference: str) -> str:
    """Funders write their references with or without spaces, dashes or dots, in any case."""
    return _REFERENCE_NOISE.sub("", reference).upper()


def reconcile(*, expected: list[FundingLine], received: list[PaymentInput]) -> Reconciliation:
    """Match payment lines with the batch lines awaiting payment by the funder's reference (the amount still due
    first when a reference repeats, then a line owing at least the amount): matched (the amount due, paid in
    full), amount differences (less than due: partly paid; more: an overpayment, which `payment_record`
    refuses), unexpected (no such reference left), missing (not in this payment)."""
    pool: dict[str, list[FundingLine]] = defaultdict(list)
    for line in expected:
        pool[normalise_reference(line.funder_reference)].append(line)
    outcome = Reconciliation()
    for item in received:
        candidates = pool.get(normalise_reference(item.funder_reference), [])
        if not candidates:
            outcome.results.append((item, MatchStatus.UNEXPECTED, None))
            continue
        exact = next((line for line in candidates if line.due_cents == item.amount_cents), None)
        covering = next((line for line in candidates if line.due_cents > item.amount_cents), None)
        line = exact or covering or candidates[0]
        candidates.remove(line)
        outcome.results.append((item, MatchStatus.MATCHED if exact else MatchStatus.AMOUNT_DIFFERENCE, line))
    settled = {line.pk for _item, _status, line in outcome.results if line is not None}
    outcome.missing = [line for line in expected if line.pk not in settled]
    return outcome


def overpayments(outcome: Reconciliation) -> list[tuple[int, PaymentInput, FundingLine]]:
    """The payment lines (their index in the payment) that pay more than their line still owes."""
    return [
        (index, item, line)
        for index, (item, _status, line) in enumerate(outcome.results)
        if line is not None and item.amount_cents > line.due_cents
    ]


def overpayment_message(item: PaymentInput, line: FundingLine) -> str:
    return _(
        "%(ref)s : %(amount)s payés pour %(due)s restant à percevoir ; un paiement ne peut dépasser ce qui reste dû."
    ) % {
        "ref": item.funder_reference,
        "amount": format_euros(item.amount_cents),
        "due": format_euros(line.due_cents),
    }


@transaction.atomic
def payment_record(
    *,
    batch: ClaimBatch,
    by: Membership,
    received_on: datetime.date,
    reference: str,
    lines: list[PaymentInput],
    request: HttpRequest | None = None,
) -> Payment:
    """Record a funder's payment against an issued batch, line by line, and reconcile it: a line paid what it
    still owes is paid; paid less, it is partly paid and its remainder stays due (later payments or a write-off
    settle it); the batch lines it does not cover are listed as missing, and payment lines matching nothing as
    unexpected. Refused: paying a line more than it owes, a date in the future, a transfer already recorded on
    the batch (the same reference)."""
    _ensure_member_of(by, batch.organisation_id, (Role.ORG_ADMIN,))
    locked = ClaimBatch.objects.select_for_update().get(pk=batch.pk)
    if not locked.is_issued:
        raise FundingError(_("Un paiement s'enregistre sur un lot émis."))
    if not lines:
        raise FundingError(_("Indiquez au moins une ligne de paiement."), field="lines")
    if any(item.amount_cents <= 0 for item in lines):
        raise FundingError(_("Chaque montant payé doit être positif."), field="lines")
    if not reference.strip():
        raise FundingError(_("Indiquez la référence du virement."), field="reference")
    if received_on > timezone.localdate():
        raise FundingError(_("La date de réception ne peut être dans le futur."), field="received_on")
    if payment_already_recorded(locked, reference):
        raise FundingError(
            _("Le virement %(ref)s est déjà enregistré sur ce lot.") % {"ref": reference.strip()}, field="reference"
        )
    expected = list(
        FundingLine.objects.select_for_update(of=("self",))
        .filter(batch=locked, state__in=AWAITING_PAYMENT_STATES)
        .files_order()
    )
    outcome = reconcile(expected=expected, received=lines)
    overpaid = overpayments(outcome)
    if overpaid:
        raise FundingError(" ".join(overpayment_message(item, line) for _i, item, line in overpaid), field="lines")
    payment = Payment.objects.create(
        organisation_id=locked.organisation_id,
        batch=locked,
        received_on=received_on,
        reference=reference.strip(),
        total_cents=sum(item.amount_cents for item in lines),
        missing_line_ids=[line.pk for line in outcome.missing],
        recorded_by=by.user,
    )
    note = _("Paiement %(ref)s du %(date)s") % {"ref": payment.reference, "date": f"{received_on:%d/%m/%Y}"}
    for position, (item, status, line) in enumerate(outcome.results, start=1):
        PaymentLine.objects.create(
            payment=payment,
            position=position,
            funder_reference=item.funder_reference,
            amount_cents=item.amount_cents,
            status=status,
            funding_line=line,
            expected_cents=line.due_cents if line is not None else None,
        )
        if line is not None:
            due = line.due_cents
            line_note = note
            if item.amount_cents < due:
                line_note = _("%(note)s : %(amount)s reçus, reste à percevoir %(rest)s") % {
                    "note": note,
                    "amount": format_euros(item.amount_cents),
                    "rest": format_euros(due - item.amount_cents),
                }
            _line_apply(
                locked=line,
                name="pay",
                by=by,
                actor=by.user,
                note=line_note,
                request=request,
                amount_cents=item.amount_cents,
                paid_on=received_on,
            )
    audit_record(
        action="payment.record",
        actor=by.user,
        organisation=locked.organisation_id,
        obj=payment,
        request=request,
        details={
            "batch": locked.number,
            "matched": len(outcome.matched),
            "differences": len(outcome.differences),
            "unexpected": len(outcome.unexpected),
            "missing": len(outcome.missing),
        },
    )
    return payment


@dataclass(frozen=True)
class PlannedEntry:
    """One row of the file and what recording it does: the line it pays, what the line owed, what remains."""

    row: FileRow
    line: FundingLine
    due_before_cents: int

    @property
    def remainder_cents(self) -> int:
        return self.due_before_cents - self.row.amount_cents


@dataclass
class PlannedPayment:
    reference: str
    received_on: datetime.date
    entries: list[PlannedEntry] = field(default_factory=list)

    @property
    def total_cents(self) -> int:
        return sum(entry.row.amount_cents for entry in self.entries)


@dataclass
class ImportPlan:
    """What importing a payment file would record on a batch: new transfers, those already recorded (skipped),
    and every error, by row and column. Recorded only when there is no error (all or nothing)."""

    payments: list[PlannedPayment] = field(default_factory=list)
    already_recorded: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    sha256: str = ""


class PaymentImportRefused(FundingError):
    """The file has errors: nothing was recorded; `plan` lists them."""

    code = "payment_file_refused"

    def __init__(self, plan: ImportPlan) -> None:
        count = len(plan.errors)
        super().__init__(
            ngettext(
                "Le fichier contient %(count)s erreur : rien n'est enregistré.",
                "Le fichier contient %(count)s erreurs : rien n'est enregistré.",
                count,
            )
            % {"count": count},
            field="file",
        )
        self.plan = plan


def payment_import_plan(*, batch: ClaimBatch, content: bytes) -> ImportPlan:
    """Read a funder's payment file (funding/payment_files.py) against the batch, writing nothing: each new
    transfer with the lines it pays, as `payment_record` will reconcile them one transfer after the other, the
    transfers already recorded on the batch (skipped: importing a file again records nothing twice), and the
    errors: a row for another batch, a reference no line awaiting payment carries, an amount above what remains
    due, a transfer dated differently on two rows."""
    parsed = read_payment_file(content)
    plan = ImportPlan(errors=list(parsed.errors), sha256=sha256_hex(content))
    groups: dict[str, PlannedPayment] = {}
    rows_of: dict[str, list[FileRow]] = defaultdict(list)
    for row in parsed.rows:
        if row.batch_reference and normalise_reference(row.batch_reference) != normalise_reference(batch.number):
            plan.errors.append(
                RowError(
                    row.number,
                    "lot",
                    _("Cette ligne concerne le lot %(other)s, pas le lot %(batch)s.")
                    % {"other": row.batch_reference, "batch": batch.number},
                )
            )
            continue
        key = normalise_reference(row.payment_reference)
        group = groups.setdefault(key, PlannedPayment(row.payment_reference, row.paid_on))
        if row.paid_on != group.received_on:
            plan.errors.append(
                RowError(
                    row.number,
                    "date",
                    _("Le paiement %(ref)s est daté du %(date)s sur une ligne précédente.")
                    % {"ref": group.reference, "date": f"{group.received_on:%d/%m/%Y}"},
                )
            )
            continue
        rows_of[key].append(row)
    # The lines as each transfer will find them, the file's earlier transfers counted in memory (never saved).
    lines = list(
        FundingLine.objects.filter(batch=batch, state__in=AWAITING_PAYMENT_STATES)
        .select_related("dossier__candidate")
        .files_order()
    )
    for key, group in groups.items():
        if payment_already_recorded(batch, group.reference):
            plan.already_recorded.append(group.reference)
            continue
        rows = rows_of[key]
        awaiting = [line for line in lines if line.due_cents > 0]
        outcome = reconcile(
            expected=awaiting, received=[PaymentInput(row.line_reference, row.amount_cents) for row in rows]
        )
        for row, (item, _status, line) in zip(rows, outcome.results, strict=True):
            if line is None:
                plan.errors.append(
                    RowError(
                        row.number,
                        "reference_ligne",
                        _("Aucune ligne de ce lot en attente de paiement ne porte la référence %(ref)s.")
                        % {"ref": row.line_reference},
                    )
                )
            elif item.amount_cents > line.due_cents:
                plan.errors.append(RowError(row.number, "montant", overpayment_message(item, line)))
            else:
                group.entries.append(PlannedEntry(row, line, line.due_cents))
                line.paid_cents = (line.paid_cents or 0) + item.amount_cents
        if group.entries:
            plan.payments.append(group)
    plan.errors.sort(key=lambda error: (error.number or 0, error.column))
    return plan


@transaction.atomic
def payment_import(
    *, batch: ClaimBatch, by: Membership, content: bytes, request: HttpRequest | None = None
) -> tuple[ImportPlan, list[Payment]]:
    """Record the transfers of a funder's payment file on the batch, all or nothing: the plan is made again with
    the batch locked, any error refuses the whole file (PaymentImportRefused, nothing written), and each new
    transfer is recorded by `payment_record`. Transfers already recorded are skipped, so importing the same file
    again records nothing. One audit row names the file by its SHA-256."""
    _ensure_member_of(by, batch.organisation_id, (Role.ORG_ADMIN,))
    locked = ClaimBatch.objects.select_for_update().get(pk=batch.pk)
    if not locked.is_issued:
        raise FundingError(_("Un paiement s'enregistre sur un lot émis."))
    plan = payment_import_plan(batch=locked, content=content)
    if plan.errors:
        raise PaymentImportRefused(plan)
    payments = [
        payment_record(
            batch=locked,
            by=by,
            received_on=planned.received_on,
            reference=planned.reference,
            lines=[PaymentInput(entry.row.line_reference, entry.row.amount_cents) for entry in planned.entries],
            request=request,
        )
        for planned in plan.payments
    ]
    audit_record(
        action="payment.import",
        actor=by.user,
        organisation=locked.organisation_id,
        obj=locked,
        request=request,
        details={
            "sha256": plan.sha256,
            "payments": [payment.reference for payment in payments],
            "already_recorded": plan.already_recorded,
        },
    )
    return plan, payments


def payment_already_recorded(batch: ClaimBatch, reference: str) -> bool:
    """Whether a transfer with this reference (written with or without spaces, dashes, in any case) is recorded
    on the batch: what makes recording, or importing, the same payment twice impossible."""
    wanted = normalise_reference(reference)
    return any(normalise_reference(known) == wanted for known in batch.payments.values_list("reference", flat=True))


# -- Certif'Pro fees ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeeFacts:
    source: str
    organisation_id: int
    certification: str
    occurred_on: datetime.date
    links: dict[str, Any]


def _fee_facts(kind: str, source: Any) -> FeeFacts | None:
    from evaluations.models import Evaluation, EvaluationKind, EvaluationStatus
    from juries.models import Certificate

    if kind == FeeKind.PRIOR_EVALUATION and isinstance(source, Evaluation):
        if source.kind != EvaluationKind.PRIOR or source.status != EvaluationStatus.CLOSED:
            return None
        dossier = source.dossier
        return FeeFacts(
            source=f"evaluation:{source.pk}",
            organisation_id=source.organisation_id,
            certification=dossier.certification,
            occurred_on=source.ended_on or timezone.localdate(),
            links={"evaluation": source, "dossier_id": source.dossier_id},
        )
    if kind == FeeKind.CERTIFICATE and isinstance(source, Certificate):
        if not source.is_produced:  # not issued until its PDF is stored with it (juries.services)
            return None
        return FeeFacts(
            source=f"certificate:{source.pk}",
            organisation_id=source.organisation_id,
            certification=source.certification,
            occurred_on=source.awarded_on,
            links={"certificate": source, "dossier_id": source.dossier_id},
        )
    if kind in {FeeKind.APPLICATION, FeeKind.ESTABLISHMENT} and isinstance(source, Habilitation):
        siret = source.organisation.siret
        if kind == FeeKind.ESTABLISHMENT:  # each period, first or renewed
            key = f"habilitation:{source.pk}:siret:{siret}"
        elif source.application_id is not None:  # once per application, first or renewal
            key = f"habilitation_application:{source.application_id}:{source.certification}"
        elif source.previous_id is None:  # entered in the administration: its application was made on paper
            key = f"habilitation:{source.pk}"
        else:  # renewed by Certif'Pro without an application: no application fee
            return None
        return FeeFacts(
            source=key,
            organisation_id=source.organisation_id,
            certification=source.certification,
            occurred_on=source.valid_from,
            links={"habilitation": source, "siret": siret if kind == FeeKind.ESTABLISHMENT else ""},
        )
    raise ValueError(f"No fee of kind {kind!r} for {source!r}")


def _fee_entry_record(*, kind: str, source: Any) -> tuple[FeeEntry | None, bool]:
    facts = _fee_facts(kind, source)
    if facts is None:
        return None, False
    existing = FeeEntry.objects.filter(kind=kind, source=facts.source).first()
    if existing is not None:
        return existing, False
    tariff = Tariff.objects.in_force(certification=facts.certification, kind=kind, on=facts.occurred_on)
    if tariff is None:
        return None, False
    try:
        # A savepoint: when a retried event races this one, its row wins and ours rolls back alone.
        with transaction.atomic():
            entry = FeeEntry.objects.create(
                organisation_id=facts.organisation_id,
                kind=kind,
                certification=facts.certification,
                source=facts.source,
                tariff=tariff,
                amount_cents=tariff.amount_cents,
                vat_rate=tariff.vat_rate,
                incl_vat_cents=incl_vat(tariff.amount_cents, tariff.vat_rate),
                occurred_on=facts.occurred_on,
                **facts.links,
            )
    except IntegrityError:
        return FeeEntry.objects.get(kind=kind, source=facts.source), False
    return entry, True


def fee_entry_record(*, kind: str, source: Any) -> FeeEntry | None:
    """Record the Certif'Pro fee that an event owes, at the tariff in force on the event's date: a closed prior
    evaluation (`FeeKind.PRIOR_EVALUATION`, an Evaluation), an issued certificate (`CERTIFICATE`, a
    Certificate whose PDF is stored), a habilitation (a Habilitation: `ESTABLISHMENT` for each period, `APPLICATION`
    once per application that granted it, none for a renewal without an application). Exactly
    once per event (unique on kind and source): calling it again returns the entry already recorded. None when no
    tariff applies (a certification without that fee) or the event has not happened (a certificate without its
    PDF). Runs inside the caller's transaction."""
    return _fee_entry_record(kind=kind, source=source)[0]


def fee_entries_catch_up(*, since: datetime.date | None = None) -> int:
    """Record the fees of events that have none yet (an event recorded before its hook existed, a habilitation
    entered in the administration). Idempotent; returns how many entries it created."""
    from evaluations.models import Evaluation, EvaluationKind, EvaluationStatus
    from juries.models import Certificate

    created = 0
    evaluations = (
        Evaluation.objects.filter(kind=EvaluationKind.PRIOR, status=EvaluationStatus.CLOSED)
        .exclude(pk__in=FeeEntry.objects.filter(evaluation__isnull=False).values("evaluation_id"))
        .select_related("dossier")
    )
    # Only issued certificates: a row left without its PDF (before issue 13) owes nothing until it is issued.
    certificates = Certificate.objects.produced().exclude(
        pk__in=FeeEntry.objects.filter(certificate__isnull=False).values("certificate_id")
    )
    if since is not None:
        evaluations = evaluations.filter(ended_on__gte=since)
        certificates = certificates.filter(awarded_on__gte=since)
    for evaluation in evaluations.order_by("id"):
        with transaction.atomic():
            created += _fee_entry_record(kind=FeeKind.PRIOR_EVALUATION, source=evaluation)[1]
    for certificate in certificates.order_by("id"):
        with transaction.atomic():
            created += _fee_entry_record(kind=FeeKind.CERTIFICATE, source=certificate)[1]
    for kind in (FeeKind.APPLICATION, FeeKind.ESTABLISHMENT):
        habilitations = Habilitation.objects.exclude(
            pk__in=FeeEntry.objects.filter(kind=kind, habilitation__isnull=False).values("habilitation_id")
        ).select_related("organisation")
        if kind == FeeKind.APPLICATION:  # a renewal without an application owes none (see _fee_facts)
            habilitations = habilitations.exclude(application__isnull=True, previous__isnull=False)
        for habilitation in habilitations.order_by("id"):
            with transaction.atomic():
                created += _fee_entry_record(kind=kind, source=habilitation)[1]
    return created


# -- Quarterly statements ------------------------------------------------------------------------------------------


STATEMENT_COLUMNS = [
    Column("N° de relevé"),
    Column("Date"),
    Column("Redevance"),
    Column("Certification"),
    Column("Dossier ou habilitation"),
    Column("Montant HT", money=True),
    Column("Taux de TVA (%)"),
    Column("TVA", money=True),
    Column("Montant TTC", money=True),
]


def _entry_subject(entry: FeeEntry) -> str:
    if entry.dossier is not None:
        return entry.dossier.reference or str(entry.dossier_id)
    if entry.habilitation_id:
        subject = f"Habilitation n° {entry.habilitation_id}"
        return f"{subject}, SIRET {entry.siret}" if entry.siret else subject
    return entry.source


def statement_table(number: str, entries: list[FeeEntry]) -> Table:
    rows = [
        [
            number,
            entry.occurred_on,
            entry.get_kind_display(),
            entry.get_certification_display(),
            _entry_subject(entry),
            entry.amount_cents,
            entry.vat_rate,
            entry.vat_cents,
            entry.incl_vat_cents,
        ]
        for entry in entries
    ]
    return Table(title="Relevé", columns=STATEMENT_COLUMNS, rows=rows, total_label_column=4)


def statement_render(statement: Statement) -> RenderedFiles:
    """The statement's CSV and PDF again, from its entries: the same bytes as stored."""
    entries = list(statement.entries.select_related("dossier").order_by("occurred_on", "kind", "source", "id"))
    return _statement_files(
        statement.organisation,
        statement.number,
        statement.period_start,
        statement.period_end,
        statement.issued_on,
        entries,
    )


def _statement_files(
    organisation: Organisation,
    number: str,
    start: datetime.date,
    end: datetime.date,
    issued_on: datetime.date,
    entries: list[FeeEntry],
) -> RenderedFiles:
    year, quarter = start.year, (start.month - 1) // 3 + 1
    return render_files(
        statement_table(number, entries),
        template="documents/funding_statement.html",
        context={
            "organisation": organisation,
            "number": number,
            "period_start": start,
            "period_end": end,
            "quarter_label": f"T{quarter} {year}",
        },
        issued_on=issued_on,
        xlsx=False,
    )


def statement_generate(
    *, organisation_id: int, year: int, quarter: int, today: datetime.date | None = None
) -> Statement:
    """An organisation's statement of the quarter: its fee entries of the quarter and any earlier one not yet on a
    statement (a late event is billed next time, never lost). Idempotent: one statement per organisation and
    quarter. Raises FundingError for a quarter not yet over, or with nothing to bill."""
    start, end = quarter_bounds(year, quarter)
    existing = Statement.objects.filter(organisation_id=organisation_id, period_start=start).first()
    if existing is not None:
        return existing
    if end >= (today or timezone.localdate()):
        raise FundingError(_("Le trimestre n'est pas terminé : son relevé sera produit ensuite."))
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().get(pk=organisation_id)
        existing = Statement.objects.filter(organisation=organisation, period_start=start).first()
        if existing is not None:
            return existing
        entries = list(
            FeeEntry.objects.select_for_update(of=("self",))
            .select_related("dossier")
            .filter(organisation=organisation, statement__isnull=True, occurred_on__lte=end)
            .order_by("occurred_on", "kind", "source", "id")
        )
        if not entries:
            raise FundingError(_("Aucune redevance à relever pour ce trimestre."))
        number = f"RLV-{year}-T{quarter}-{organisation.siret}"
        issued_on = today or timezone.localdate()
        files = _statement_files(organisation, number, start, end, issued_on, entries)
        statement = Statement(
            organisation=organisation,
            number=number,
            period_start=start,
            period_end=end,
            entry_count=len(entries),
            total_cents=sum(entry.amount_cents for entry in entries),
            total_incl_vat_cents=sum(entry.incl_vat_cents for entry in entries),
            issued_on=issued_on,
            csv_sha256=files.sha256("csv"),
            pdf_sha256=files.sha256("pdf"),
        )
        statement.csv_file.save(statement.filename("csv"), ContentFile(files.csv), save=False)
        statement.pdf_file.save(statement.filename("pdf"), ContentFile(files.pdf), save=False)
        statement.save()
        FeeEntry.objects.filter(pk__in=[entry.pk for entry in entries]).update(statement=statement)
        audit_record(
            action="statement.generate",
            actor=None,
            organisation=organisation,
            obj=statement,
            details={"entries": len(entries), "total_incl_vat_cents": statement.total_incl_vat_cents},
        )
    return statement


def statement_produce(*, organisation_id: int, year: int, quarter: int) -> Statement | None:
    """The outbox's "statement" side effect: None when there is nothing to bill (the fees went on another
    statement meanwhile), which is not a failure to retry."""
    try:
        return statement_generate(organisation_id=organisation_id, year=year, quarter=quarter)
    except FundingError:
        return None


def statement_regenerate(*, document_id: int, regeneration: str, by_id: int | None, reason: str) -> Statement:
    """The outbox's "statement_regenerate" side effect: a statement's CSV and PDF rendered again from its entries
    and its issue date (`statement_render`), the earlier files kept as DocumentVersions. Idempotent on
    `regeneration`."""
    statement = Statement.objects.select_related("organisation").get(pk=document_id)
    files = statement_render(statement)
    with transaction.atomic():
        statement, _replaced = document_replace(
            document=statement,
            files={
                f"{extension}_file": (statement.filename(extension), getattr(files, extension))
                for extension in ("pdf", "csv")
            },
            regeneration=regeneration,
            by_id=by_id,
            reason=reason,
        )
    return statement


@transaction.atomic
def statements_request(*, year: int, quarter: int, by: Membership, request: HttpRequest | None = None) -> list[int]:
    """Certif'Pro queues the quarter's statement of every organisation with fees to bill; returns their ids."""
    _ensure_certifpro(by)
    start, end = quarter_bounds(year, quarter)
    if end >= timezone.localdate():
        raise FundingError(_("Le trimestre n'est pas terminé : son relevé sera produit ensuite."))
    organisation_ids = sorted(
        set(
            FeeEntry.objects.filter(statement__isnull=True, occurred_on__lte=end)
            .exclude(organisation__fee_statements__period_start=start)
            .values_list("organisation_id", flat=True)
        )
    )
    if not organisation_ids:
        raise FundingError(_("Aucune redevance à relever pour ce trimestre."))
    audit_record(
        action="statement.request",
        actor=by.user,
        organisation=by.organisation,
        request=request,
        details={"year": year, "quarter": quarter, "organisations": organisation_ids},
    )
    for organisation_id in organisation_ids:
        side_effect_add(
            kind="statement",
            key=f"statement:{organisation_id}:{year}T{quarter}:{uuid.uuid4()}",
            label=_("Relevé de redevances du %(quarter)se trimestre %(year)s") % {"quarter": quarter, "year": year},
            organisation=organisation_id,
            arguments={"organisation_id": organisation_id, "year": year, "quarter": quarter},
            requested_by=by.user,
        )
    return organisation_ids


# -- The flux to the Caisse des Dépôts -----------------------------------------------------------------------


# At most this many certificates per flux: the schema's validation (pure Python) takes about 0.6 s per thousand
# (bench/cdc_flux.py), and the flux is produced in the request; what is left goes into the next flux.
CDC_FLUX_MAX_DECLARATIONS = 2000


class CdcFluxInvalid(FundingError):
    """The rendered flux does not validate against the schema: nothing is stored, the errors are audited."""

    def __init__(self, errors: list[str]) -> None:
        # The validator's reasons are English and technical: the audit row keeps them; the user reads which
        # elements are at fault (the schema's names), and where to look.
        elements = sorted({match[1] for error in errors if (match := re.search(r"cpf:(\w+)[^/]*:", error))})
        super().__init__(
            ngettext(
                "Le flux produit ne respecte pas le schéma de la Caisse des Dépôts (%(count)s erreur) ; il n'a pas "
                "été enregistré. Éléments en cause : %(elements)s. Vérifiez les paramètres de la Caisse des Dépôts "
                "dans l'administration ; le détail est au journal d'audit.",
                "Le flux produit ne respecte pas le schéma de la Caisse des Dépôts (%(count)s erreurs) ; il n'a pas "
                "été enregistré. Éléments en cause : %(elements)s. Vérifiez les paramètres de la Caisse des Dépôts "
                "dans l'administration ; le détail est au journal d'audit.",
                len(errors),
            )
            % {"count": len(errors), "elements": ", ".join(elements) or "flux"}
        )
        self.errors = errors


def _declaration(flux: CdcFlux, certificate: Any, kind: str, code: str, **snapshot: Any) -> CdcDeclaration:
    return CdcDeclaration(
        flux=flux,
        certificate=certificate,
        kind=kind,
        technical_id=certificate.number,
        certification_code=code,
        **snapshot,
    )


@transaction.atomic
def _cdc_flux_write(*, by: Membership, request: HttpRequest | None) -> CdcFlux:
    # The settings row, locked: two Certif'Pro administrators generating at once get consecutive numbers, and the
    # second one finds the first one's certificates already declared.
    CdcSettings.current()
    settings = CdcSettings.objects.select_for_update().get(pk=1)
    pending = cdc_pending(settings)
    pending.withdrawals = pending.withdrawals[:CDC_FLUX_MAX_DECLARATIONS]
    pending.ready = pending.ready[: CDC_FLUX_MAX_DECLARATIONS - len(pending.withdrawals)]
    if not pending.ready and not pending.withdrawals:
        raise FundingError(_("Aucun certificat n'est prêt à être déclaré : le flux n'a pas été produit."))
    last = CdcFlux.objects.aggregate(n=models.Max("number"))["n"] or 0
    flux = CdcFlux(
        number=last + 1,
        # Whole seconds: the XML's horodatage, and what a regeneration reads back from the row.
        generated_at=timezone.now().replace(microsecond=0),
        client_id=settings.client_id,
        contract_id=settings.contract_id,
        generated_by=by.user,
    )
    declarations = [
        _declaration(
            flux,
            certificate,
            DeclarationKind.AWARD,
            settings.rs_code(certificate.certification),
            valid_from=certificate.awarded_on,
            valid_until=None,
            **asdict(HolderIdentity.of_candidate(certificate.dossier.candidate)),
        )
        for certificate in pending.ready
    ]
    for certificate in pending.withdrawals:
        award = CdcDeclaration.objects.standing().filter(certificate=certificate, kind=DeclarationKind.AWARD).first()
        if award is None:
            # Marked declared by hand before the flux existed (CertificateReport): what the award would have said.
            code, valid_from = settings.rs_code(certificate.certification), certificate.awarded_on
            identity = HolderIdentity.of_candidate(certificate.dossier.candidate)
        else:
            code, valid_from = award.certification_code, award.valid_from
            identity = HolderIdentity.of_declaration(award)
        declarations.append(
            _declaration(
                flux,
                certificate,
                DeclarationKind.WITHDRAWAL,
                code,
                valid_from=valid_from,
                valid_until=timezone.localdate(certificate.revoked_at),
                **asdict(identity),
            )
        )
    content = flux_render(flux, declarations)
    errors = flux_errors(content)
    excluded: dict[str, list[str]] = {}
    if errors:
        # One holder the schema refuses must not stop the others: each declaration is validated alone, the ones
        # refused are left out (they stay to declare, audited) and the rest is validated again as a whole.
        for declaration in declarations:
            alone = flux_errors(flux_render(flux, [declaration]), limit=3)
            if alone:
                excluded[declaration.technical_id] = alone
        declarations = [d for d in declarations if d.technical_id not in excluded]
        if not declarations:
            raise CdcFluxInvalid(errors)
        content = flux_render(flux, declarations)
        errors = flux_errors(content)
        if errors:
            raise CdcFluxInvalid(errors)
    flux.sha256 = sha256_hex(content)
    # The row is immutable once saved, so its file is stored first; should a row after it fail, the file goes
    # with the rolled-back rows instead of staying behind, unreferenced.
    flux.file.save(flux.filename, ContentFile(content), save=False)
    try:
        flux.save()
        CdcDeclaration.objects.bulk_create(declarations)
        audit_record(
            action="cdc_flux.generate",
            actor=by.user,
            organisation=by.organisation,
            obj=flux,
            request=request,
            details={
                "flux": flux.flux_id,
                "sha256": flux.sha256,
                "awards": sum(1 for d in declarations if d.kind == DeclarationKind.AWARD),
                "withdrawals": sum(1 for d in declarations if d.kind == DeclarationKind.WITHDRAWAL),
                "excluded": excluded,
            },
        )
    except BaseException:
        flux.file.delete(save=False)
        raise
    return flux


def cdc_flux_generate(*, by: Membership, request: HttpRequest | None = None) -> CdcFlux:
    """Produce the next flux to the Caisse des Dépôts: every valid certificate not declared yet whose holder's
    identity is complete (and, after a rejection, corrected since), and every revoked one whose award stands,
    declared withdrawn. Writes the flux (its XML file and SHA-256) and one declaration per certificate with its
    snapshot, and an audit row, in one transaction. The XML is validated against the schema first: when it does
    not validate, nothing is stored and the errors are audited (CdcFluxInvalid). FundingError when nothing is
    ready."""
    _ensure_certifpro(by)
    try:
        return _cdc_flux_write(by=by, request=request)
    except CdcFluxInvalid as exc:
        with transaction.atomic():
            audit_record(
                action="cdc_flux.invalid",
                actor=by.user,
                organisation=by.organisation,
                request=request,
                details={"errors": exc.errors[:20]},
            )
        raise


def cdc_flux_content(flux: CdcFlux) -> bytes:
    """The flux rendered again from its rows: the same bytes as its file (tests and the README's check)."""
    return flux_render(flux, list(flux.declarations.all()))


@transaction.atomic
def cdc_report_import(*, upload: UploadedFile, by: Membership, request: HttpRequest | None = None) -> CdcReportImport:
    """Import the Caisse's processing report of a flux (provisional format, funding/cdc.py): each declaration it
    names becomes accepted or rejected (with the reason). All or nothing: an unreadable file, an unknown flux, a
    passage that is not in that flux, or one already processed otherwise refuses the whole file with a French
    message (FundingError on "file") and writes nothing. Writes the statuses, the report row with its file and
    SHA-256, and an audit row."""
    _ensure_certifpro(by)
    # Never more than one byte past the limit in memory: report_parse refuses what is longer.
    content = upload.read(REPORT_MAX_BYTES + 1)
    try:
        report = report_parse(content)
    except ReportUnreadable as exc:
        raise FundingError(str(exc), field="file") from exc
    match = re.fullmatch(r"CLEA-CDC-(\d{6})", report.flux_id)
    flux = CdcFlux.objects.filter(number=int(match[1])).first() if match else None
    if flux is None:
        raise FundingError(
            _("Le compte rendu porte sur le flux « %(id)s », que la plateforme n'a pas produit.")
            % {"id": report.flux_id},
            field="file",
        )
    sha256 = sha256_hex(content)
    if CdcReportImport.objects.filter(flux=flux, sha256=sha256).exists():
        raise FundingError(_("Ce compte rendu a déjà été importé."), field="file")
    declarations = {d.technical_id: d for d in CdcDeclaration.objects.select_for_update().filter(flux=flux)}
    seen: set[str] = set()
    problems: list[str] = []
    for line in report.lines:
        declaration = declarations.get(line.technical_id)
        if line.technical_id in seen:
            problems.append(_("« %(id)s » figure deux fois.") % {"id": line.technical_id})
        elif declaration is None:
            problems.append(_("« %(id)s » n'est pas dans le flux %(flux)s.") % {"id": line.technical_id, "flux": flux})
        elif (
            declaration.status != DeclarationStatus.SENT
            and (declaration.status == DeclarationStatus.ACCEPTED) != line.accepted
        ):
            problems.append(
                _("« %(id)s » a déjà été traité autrement par un compte rendu précédent.") % {"id": line.technical_id}
            )
        seen.add(line.technical_id)
    if problems:
        raise FundingError(
            ngettext(
                "Le compte rendu n'a pas été importé (%(count)s erreur) : %(list)s",
                "Le compte rendu n'a pas été importé (%(count)s erreurs) : %(list)s",
                len(problems),
            )
            % {"count": len(problems), "list": " ".join(problems[:10])},
            field="file",
        )
    now = timezone.now()
    changed = []
    for line in report.lines:
        declaration = declarations[line.technical_id]
        if declaration.status != DeclarationStatus.SENT:
            continue
        declaration.status = DeclarationStatus.ACCEPTED if line.accepted else DeclarationStatus.REJECTED
        declaration.rejection_reason = "" if line.accepted else (line.reason or _("Motif non précisé"))[:500]
        declaration.processed_at = now
        changed.append(declaration)
    CdcDeclaration.objects.bulk_update(changed, ["status", "rejection_reason", "processed_at"])
    accepted = sum(1 for line in report.lines if line.accepted)
    imported = CdcReportImport(
        flux=flux, sha256=sha256, accepted=accepted, rejected=len(report.lines) - accepted, imported_by=by.user
    )
    imported.file.save(f"compte-rendu-{flux.flux_id}-{now:%Y%m%d%H%M%S}.xml", ContentFile(content), save=False)
    imported.save()
    audit_record(
        action="cdc_report.import",
        actor=by.user,
        organisation=by.organisation,
        obj=imported,
        request=request,
        details={"flux": flux.flux_id, "accepted": imported.accepted, "rejected": imported.rejected},
    )
    return imported
