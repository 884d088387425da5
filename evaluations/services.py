from __future__ import annotations

import csv
import datetime
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal
from functools import partial
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from candidates.models import Candidate, Dossier, DossierEvent, DossierState, DossierTransfer, identity_key
from candidates.services import DossierConflict, TransitionRefused, dossier_apply, dossier_lock
from clea_platform.certifications import Certification
from clea_platform.changes import rows_changed
from clea_platform.errors import BusinessRefusal
from clea_platform.pdf import render_pdf, sha256_hex
from clea_platform.verification import verification_qr_svg, verification_url
from evaluations import pix_results
from evaluations.acquisitions import attestation_outcome, dossier_outcome
from evaluations.models import (
    PIX_APPLICABLE,
    PIX_IMPORTERS,
    Attestation,
    CriterionResult,
    CriterionResultValue,
    Evaluation,
    EvaluationKind,
    EvaluationStatus,
    Modality,
    PixImport,
    PixImportRow,
    PixImportScope,
    PixImportStatus,
    PixMappingRule,
    PixMappingVersion,
    PixRowStatus,
)
from evaluations.signals import attestation_ready, evaluation_closed
from organisations.models import Membership, Role, User
from organisations.services import audit_record
from outbox.models import SideEffect
from outbox.services import document_replace, side_effect_add
from referentiels.models import Domain, SubDomain
from referentiels.outcomes import Outcome
from scheduling.models import AssignmentPurpose, has_trained
from scheduling.services import assignment_follow

# -- Evaluations -----------------------------------------------------------------------------------------------


class EvaluationError(BusinessRefusal):
    """A rule of the evaluation refused the operation; the message is for the user, in French."""

    code = "evaluation_refused"


@transaction.atomic
def evaluation_start(
    *,
    dossier: Dossier,
    by: Membership,
    started_on: datetime.date,
    modality: str = Modality.ON_SITE,
    context: str = "",
    request: HttpRequest | None = None,
) -> Evaluation:
    """Start the prior evaluation (dossier opened) or the final one (training completed).

    The grid is prepared with one "not assessed" line per criterion in scope: every criterion for the prior
    evaluation; for the final one, only the criteria still missing in the sub-domains not yet validated.
    """
    if by.role != Role.EVALUATOR:
        raise PermissionDenied
    locked = dossier_lock(dossier)
    if locked.state == DossierState.OPENED:
        kind, name, scope = EvaluationKind.PRIOR, "start_prior_evaluation", list(locked.referentiel.criteria())
    elif locked.state == DossierState.IN_TRAINING:
        if has_trained(locked, by.user_id):
            raise EvaluationError(
                _("Vous avez formé ce candidat : l'évaluation finale doit être conduite par un autre évaluateur.")
            )
        kind, name, scope = EvaluationKind.FINAL, "start_final_evaluation", dossier_outcome(locked).gap_criteria()
    else:
        raise EvaluationError(
            _("Aucune évaluation ne peut commencer à l'étape « %(state)s ».") % {"state": locked.get_state_display()}
        )
    evaluation = Evaluation(
        organisation_id=locked.organisation_id,
        dossier=locked,
        kind=kind,
        evaluator=by.user,
        started_on=started_on,
        modality=modality,
        context=context,
    )
    evaluation.validate_dates_and_duration()
    if kind == EvaluationKind.FINAL:
        _check_after_training(locked, started_on)
    dossier_apply(locked=locked, name=name, by=by, request=request)
    evaluation.save()
    CriterionResult.objects.bulk_create(CriterionResult(evaluation=evaluation, criterion=c) for c in scope)
    # The evaluator who starts is the step's assignee from now on (recorded when nobody was, handed over when a
    # colleague starts instead): the queues and the dossier page say who acts.
    assignment_follow(
        dossier=locked,
        purpose=AssignmentPurpose.PRIOR_EVALUATION
        if kind == EvaluationKind.PRIOR
        else AssignmentPurpose.FINAL_EVALUATION,
        membership=by,
        by=by.user,
        end_reason=_("Évaluation commencée par une autre personne"),
    )
    return evaluation


def _check_after_training(dossier: Dossier, started_on: datetime.date) -> None:
    """The final evaluation covers what was trained: it cannot start before the training's end."""
    plan = dossier.current_training_plan
    completed_on = timezone.localdate(plan.completed_at) if plan and plan.completed_at else None
    if completed_on and started_on < completed_on:
        raise ValidationError(
            {
                "started_on": _("L'évaluation finale ne peut pas commencer avant la fin de la formation (%(date)s).")
                % {"date": f"{completed_on:%d/%m/%Y}"}
            }
        )


def _ensure_editable(evaluation: Evaluation, by: Membership) -> None:
    if by.role != Role.EVALUATOR or by.organisation_id != evaluation.organisation_id:
        raise PermissionDenied
    if evaluation.status == EvaluationStatus.ABANDONED:
        raise EvaluationError(
            _("Cette évaluation a été abandonnée : le dossier est parti vers un autre organisme. Elle ne change plus.")
        )
    if evaluation.status != EvaluationStatus.DRAFT:
        raise EvaluationError(_("Cette évaluation est clôturée : ses résultats ne peuvent plus changer."))


@transaction.atomic
def evaluation_save_results(
    *,
    evaluation: Evaluation,
    by: Membership,
    results: Mapping[int, tuple[str, str]],
    request: HttpRequest | None = None,
) -> int:
    """Save a draft: {criterion id: (result, comment)} for criteria in the evaluation's scope. Returns how
    many lines changed. A criterion outside the scope is an error, not silently ignored. With lines changed, an
    audit row names their criteria (not the results nor the comments, which the grid keeps)."""
    evaluation = Evaluation.objects.select_for_update().get(pk=evaluation.pk)
    _ensure_editable(evaluation, by)
    lines = {line.criterion_id: line for line in evaluation.results.all()}
    unknown = set(results) - set(lines)
    if unknown:
        raise EvaluationError(
            _("Ces critères ne font pas partie de cette évaluation : %(ids)s")
            % {"ids": ", ".join(map(str, sorted(unknown)))}
        )
    valid = set(CriterionResultValue.values)
    changed = []
    for criterion_id, (value, comment) in results.items():
        if value not in valid:
            raise EvaluationError(_("Résultat inconnu : %(value)s") % {"value": value})
        line = lines[criterion_id]
        comment = (comment or "").strip()[:500]
        if (line.result, line.comment) != (value, comment):
            line.result, line.comment = value, comment
            changed.append(line)
    CriterionResult.objects.bulk_update(changed, ["result", "comment"])
    if changed:
        rows_changed(evaluation)  # the results are part of the evaluation, and of its dossier
        audit_record(
            action="evaluation.save_results",
            actor=by.user,
            organisation=evaluation.organisation_id,
            obj=evaluation,
            request=request,
            details={"criteria": sorted(line.criterion_id for line in changed)},
        )
    return len(changed)


@transaction.atomic
def evaluation_close(
    *,
    evaluation: Evaluation,
    by: Membership,
    ended_on: datetime.date,
    duration_hours: Decimal | None = None,
    request: HttpRequest | None = None,
) -> Outcome:
    """Close the evaluation, compute what is acquired (carrying over earlier acquisitions) and move the dossier
    on. With gaps left, queue the attestation of partial validation once committed. Sends `evaluation_closed`
    (Certif'Pro's fee for a prior evaluation; the next training cycle after a final evaluation with gaps)."""
    # The dossier first, then its evaluation: the order of a move (candidates.services.dossier_transfer locks the
    # dossier, then evaluations lock its draft on `dossier_transfer_started`), so the two never wait for each other.
    locked = dossier_lock(Dossier.objects.get(pk=evaluation.dossier_id))
    evaluation = Evaluation.objects.select_for_update(of=("self",)).get(pk=evaluation.pk)
    evaluation.dossier = locked
    _ensure_editable(evaluation, by)
    evaluation.ended_on, evaluation.duration_hours = ended_on, duration_hours
    # On the fields concerned (a ValidationError: 400 through the API, on the field on screen).
    evaluation.validate_dates_and_duration()
    evaluation.status, evaluation.closed_at = EvaluationStatus.CLOSED, timezone.now()
    evaluation.save(update_fields=["status", "closed_at", "ended_on", "duration_hours"])
    outcome = dossier_outcome(locked)
    evaluation.outcome = outcome.as_json()
    evaluation.save(update_fields=["outcome"])
    validated = len(outcome.validated_domains)
    note = ngettext("%(n)s domaine validé sur %(total)s", "%(n)s domaines validés sur %(total)s", validated) % {
        "n": validated,
        "total": len(outcome.domains),
    }
    if evaluation.kind == EvaluationKind.PRIOR:
        dossier_apply(
            locked=locked,
            name="close_prior_evaluation",
            by=by,
            note=note,
            request=request,
            all_validated=outcome.all_validated,
            evaluated_on=ended_on,
        )
    else:
        dossier_apply(
            locked=locked,
            name="close_final_evaluation",
            by=by,
            note=note,
            request=request,
            all_validated=outcome.all_validated,
        )
    # Certif'Pro's fee (funding) and the next training cycle (training) follow, in this transaction.
    evaluation_closed.send(sender=Evaluation, evaluation=evaluation, dossier=locked, outcome=outcome, by=by)
    if not outcome.all_validated:
        attestation_promise(evaluation)
    return outcome


# -- A dossier moving to another organisation during an evaluation (issue 19) -------------------------------------


def evaluation_drafts_lock_for_transfer(*, dossier: Dossier) -> None:
    """Lock the draft a move will abandon (on `dossier_transfer_started`), before the move's first audit row."""
    list(Evaluation.objects.select_for_update(of=("self",)).drafts().filter(dossier=dossier).values_list("pk"))


def evaluation_abandon_for_transfer(
    *, dossier: Dossier, transfer: DossierTransfer, by: User | None
) -> list[Evaluation]:
    """The dossier left its organisation during an evaluation (`dossier_transferred`): the previous organisation
    cannot block the move by keeping its grid open, so the draft is closed without a result. Its lines stay as they
    were, read only, for the organisation that entered them; nothing of it is acquired and no fee follows
    (`evaluation_closed` is not sent). Writes the timeline line, dated with the move so that both organisations read
    it, and an audit row for the previous organisation. The dossier is already back to the step before
    (`Dossier.transfer`); scheduling ends the evaluator's assignment, notifications tell them."""
    abandoned = []
    for evaluation in Evaluation.objects.drafts().filter(dossier=dossier).order_by("pk"):
        evaluation.abandon(transfer=transfer)
        evaluation.save(update_fields=["status", "abandoned_at", "abandoned_by_transfer"])
        words = {
            "day": f"{evaluation.started_on:%d/%m/%Y}",
            "from": transfer.from_organisation.name,
            "to": transfer.to_organisation.name,
        }
        if evaluation.kind == EvaluationKind.PRIOR:
            note = (
                _(
                    "Évaluation préalable commencée le %(day)s chez %(from)s : abandonnée, car le dossier part vers "
                    "%(to)s. Rien de cette évaluation n'est acquis. %(to)s refera l'évaluation préalable en entier."
                )
                % words
            )
        else:
            note = (
                _(
                    "Évaluation finale commencée le %(day)s chez %(from)s : abandonnée, car le dossier part vers "
                    "%(to)s. Rien de cette évaluation n'est acquis. %(to)s refera l'évaluation finale sur ce qui "
                    "reste à acquérir."
                )
                % words
            )
        DossierEvent.objects.create(dossier_id=dossier.pk, at=transfer.at, actor=by, note=note)
        audit_record(
            action="evaluation.abandon",
            actor=by,
            organisation=evaluation.organisation_id,
            obj=evaluation,
            details={"dossier": dossier.pk, "transfer": transfer.pk},
        )
        abandoned.append(evaluation)
    return abandoned


# -- Attestations ----------------------------------------------------------------------------------------------


def attestation_promise(evaluation: Evaluation) -> SideEffect:
    """The attestation of a closed evaluation with gaps, promised in the caller's transaction (the outbox)."""
    return side_effect_add(
        kind="attestation",
        key=f"attestation:{evaluation.pk}",
        label=_("Attestation du dossier %(ref)s") % {"ref": evaluation.dossier.reference},
        organisation=evaluation.organisation_id,
        arguments={"evaluation_id": evaluation.pk},
    )


# What an attestation's rendering reads with its evaluation.
ATTESTATION_RELATED = ("dossier__candidate", "dossier__referentiel", "organisation", "evaluator")


def attestation_generate(*, evaluation_id: int) -> Attestation:
    """Render and store the attestation of partial validation of a closed evaluation. Idempotent: a second
    call (a retried task, a double click) returns the document already stored."""
    existing = Attestation.objects.filter(evaluation_id=evaluation_id).first()
    if existing is not None:
        return existing
    evaluation = Evaluation.objects.select_related(*ATTESTATION_RELATED).get(
        pk=evaluation_id, status=EvaluationStatus.CLOSED
    )
    dossier = evaluation.dossier
    with transaction.atomic():
        # Versions are numbered per dossier: two evaluations' attestations generated at once take turns here.
        Dossier.objects.select_for_update(of=("self",)).filter(pk=dossier.pk).first()
        version = Attestation.objects.filter(dossier=dossier).count() + 1
        number = f"ATT-{dossier.reference}-{version}"
        # Unsaved: its verification code (a field default) is drawn now, so that the PDF prints it.
        attestation = Attestation(
            organisation_id=evaluation.organisation_id,
            dossier=dossier,
            evaluation=evaluation,
            number=number,
            version=version,
        )
        pdf = _attestation_pdf(attestation, evaluation=evaluation, issued_on=timezone.localdate())
        attestation.sha256 = sha256_hex(pdf)
        attestation.file.save(f"{number}.pdf", ContentFile(pdf), save=False)
        try:
            with transaction.atomic():
                attestation.save()
        except IntegrityError:
            # Another worker stored it first: keep theirs.
            attestation.file.delete(save=False)
            return Attestation.objects.get(evaluation_id=evaluation_id)
        DossierEvent.objects.create(
            dossier=dossier, note=_("Attestation de validation partielle %(n)s") % {"n": number}
        )
        audit_record(
            action="attestation.generate", actor=None, organisation=evaluation.organisation_id, obj=attestation
        )
        # Its people hear of it with the file there to download (notifications), in this transaction.
        attestation_ready.send(sender=Attestation, attestation=attestation)
    return attestation


def attestation_regenerate(*, document_id: int, regeneration: str, by_id: int | None, reason: str) -> Attestation:
    """The outbox's "attestation_regenerate" side effect (asked for by `outbox.services.document_regenerate`): the
    attestation rendered again with its number and its issue date, from what was acquired up to its evaluation;
    the earlier PDF kept as a DocumentVersion, and the dossier's event. Idempotent on `regeneration`."""
    attestation = Attestation.objects.get(pk=document_id)
    evaluation = Evaluation.objects.select_related(*ATTESTATION_RELATED).get(pk=attestation.evaluation_id)
    issued_on = timezone.localdate(attestation.generated_at)
    pdf = _attestation_pdf(attestation, evaluation=evaluation, issued_on=issued_on)
    with transaction.atomic():
        attestation, replaced = document_replace(
            document=attestation,
            files={"file": (f"{attestation.number}.pdf", pdf)},
            regeneration=regeneration,
            by_id=by_id,
            reason=reason,
        )
        if replaced:
            DossierEvent.objects.create(
                dossier_id=attestation.dossier_id,
                actor_id=by_id,
                note=_("Nouvelle version de l'attestation %(n)s (l'ancienne est conservée) : %(reason)s")
                % {"n": attestation.number, "reason": reason},
            )
    return attestation


def attestation_statement(candidate: Candidate, *, organisation: str, certification: str) -> str:
    """The attestation's opening sentence, agreed with the holder's civility ("Madame …, née le"); an unknown
    civility gets a wording without gender marks."""
    values = {
        "org": organisation,
        "holder": candidate.holder_name,
        "birth": f"{candidate.birth_date:%d/%m/%Y}",
        "place": candidate.birth_place,
        "certification": certification,
    }
    if not candidate.civility:
        neutral = (
            _(
                "%(org)s atteste que %(holder)s (date de naissance : %(birth)s, à %(place)s) a validé une partie de la "
                "certification %(certification)s."
            )
            if candidate.birth_place
            else _(
                "%(org)s atteste que %(holder)s (date de naissance : %(birth)s) a validé une partie de la "
                "certification %(certification)s."
            )
        )
        return neutral % values
    if candidate.birth_place:
        agreed = candidate.civility_agree(
            _(
                "%(org)s atteste que Monsieur %(holder)s, né le %(birth)s à %(place)s, a validé une partie de la "
                "certification %(certification)s."
            ),
            _(
                "%(org)s atteste que Madame %(holder)s, née le %(birth)s à %(place)s, a validé une partie de la "
                "certification %(certification)s."
            ),
        )
    else:
        agreed = candidate.civility_agree(
            _(
                "%(org)s atteste que Monsieur %(holder)s, né le %(birth)s, a validé une partie de la certification "
                "%(certification)s."
            ),
            _(
                "%(org)s atteste que Madame %(holder)s, née le %(birth)s, a validé une partie de la certification "
                "%(certification)s."
            ),
        )
    return agreed % values


def _attestation_pdf(attestation: Attestation, *, evaluation: Evaluation, issued_on: datetime.date) -> bytes:
    dossier = evaluation.dossier
    candidate = dossier.candidate
    holder = candidate.holder_name
    return render_pdf(
        "documents/attestation.html",
        {
            "dossier": dossier,
            "candidate": candidate,
            "holder": holder,
            "statement": attestation_statement(
                candidate, organisation=evaluation.organisation.name, certification=dossier.get_certification_display()
            ),
            # "Madame Léa MARTIN", or the name alone when the civility is unknown.
            "holder_with_civility": f"{candidate.get_civility_display()} {holder}" if candidate.civility else holder,
            "evaluation": evaluation,
            "outcome": attestation_outcome(evaluation),
            "number": attestation.number,
            "organisation": evaluation.organisation,
            "issued_on": issued_on,
            "verification_code": attestation.verification_code,
            "verification_url": verification_url(attestation.verification_code),
            "qr_svg": verification_qr_svg(attestation.verification_code),
        },
    )


def grid_rows(evaluation: Evaluation) -> Iterable[tuple[Domain, list[tuple[SubDomain, list[CriterionResult]]]]]:
    """The evaluation's lines grouped by domain and sub-domain, in référentiel order: four queries (the lines,
    then the référentiel's tree in three) whatever the number of criteria."""
    lines = {line.criterion_id: line for line in evaluation.results.all()}
    for domain in evaluation.dossier.referentiel.domains_tree():
        subs = []
        for sub in domain.subdomains.all():
            sub_lines = []
            for criterion in sub.criteria.all():
                if criterion.pk in lines:
                    lines[criterion.pk].criterion = criterion  # already loaded: no query per line
                    sub_lines.append(lines[criterion.pk])
            if sub_lines:
                subs.append((sub, sub_lines))
        if subs:
            yield domain, subs


# -- Pix results for CléA numérique (issue 21) ---------------------------------------------------------------------
# An evaluator (or Certif'Pro) uploads the results file Pix gives for its certifications. Each line is matched to a
# CléA numérique dossier waiting for its prior evaluation, by identity and birth date, never guessed: a line that
# finds no dossier, or several, waits for a person to choose. A matched line's result is then recorded as the
# dossier's prior evaluation through the grid's own services (evaluation_start, evaluation_save_results,
# evaluation_close), with the line as its source.

# The dossiers a Pix result may be recorded on: CléA numérique, waiting for or in its prior evaluation.
PIX_DOSSIER_STATES = (DossierState.OPENED, DossierState.PRIOR_EVALUATION)
PIX_MAPPING_CSV = Path(__file__).resolve().parent / "data" / "pix_clea_numerique_provisoire.csv"
PIX_PROVISIONAL_LABEL = "2026-provisoire"


class PixImportRefused(BusinessRefusal):
    code = "pix_import_refused"


def pix_mapping_load_provisional() -> PixMappingVersion:
    """The provisional mapping shipped with the platform (evaluations/data), made current when no version is.
    Idempotent: loaded once by the migration, again by `seed_demo` after a flush."""
    version, created = PixMappingVersion.objects.get_or_create(
        label=PIX_PROVISIONAL_LABEL,
        defaults={
            "is_provisional": True,
            "note": "Table provisoire livrée avec la plateforme (evaluations/data/pix_clea_numerique_provisoire.csv) : "
            "à remplacer par la correspondance officielle de Certif'Pro.",
        },
    )
    if created:
        with PIX_MAPPING_CSV.open(encoding="utf-8") as handle:
            PixMappingRule.objects.bulk_create(
                PixMappingRule(
                    version=version,
                    competence=r["competence"],
                    minimum_level=int(r["minimum_level"]),
                    domain_code=r["domain_code"],
                )
                for r in csv.DictReader(handle)
            )
    if not PixMappingVersion.objects.filter(is_current=True).exists():
        PixMappingVersion.objects.filter(pk=version.pk).update(is_current=True)
        version.is_current = True
    return version


def pix_candidate_dossiers(membership: Membership) -> QuerySet[Dossier]:
    """The dossiers a Pix line may be matched to by this person: those they may see, CléA numérique, at the prior
    evaluation step."""
    return Dossier.objects.visible_to(membership).filter(
        certification=Certification.CLEA_NUMERIQUE, state__in=PIX_DOSSIER_STATES, candidate__anonymised_at__isnull=True
    )


def pix_import_dossiers(pix_import: PixImport, membership: Membership) -> QuerySet[Dossier]:
    """The dossiers a line of this import may be matched to: an organisation's import stays within its
    organisation, even when Certif'Pro (who sees every dossier) resolves it — otherwise the evaluators would read
    another organisation's dossier on their own import."""
    dossiers = pix_candidate_dossiers(membership)
    if pix_import.scope != PixImportScope.CERTIFPRO:
        dossiers = dossiers.filter(organisation_id=pix_import.organisation_id)
    return dossiers


def _pix_identity_index(membership: Membership) -> dict[tuple[str, datetime.date], set[int]]:
    """{(folded names, birth date): dossier ids}, in one query, under the usage name and the birth name (Pix
    certifies the name the person gave, which may be either)."""
    index: dict[tuple[str, datetime.date], set[int]] = defaultdict(set)
    values = pix_candidate_dossiers(membership).values_list(
        "pk", "candidate__identity_key", "candidate__first_name", "candidate__birth_name", "candidate__birth_date"
    )
    for pk, key, first_name, birth_name, birth_date in values:
        index[(key, birth_date)].add(pk)
        if birth_name:
            index[(identity_key(first_name, birth_name), birth_date)].add(pk)
    return index


@transaction.atomic
def pix_import_counts(pix_import: PixImport, *, status: str | None = None) -> None:
    """The import's counts, from its rows (one query), written under the import's lock; its status changes only when
    `status` is given (a recording's run), never from a caller's possibly stale copy."""
    locked = PixImport.objects.select_for_update(of=("self",)).get(pk=pix_import.pk)
    counts = dict(
        PixImportRow.objects.filter(pix_import=pix_import).values_list("status").annotate(n=Count("pk")).order_by()
    )
    locked.rows_total = sum(counts.values())
    locked.rows_invalid = counts.get(PixRowStatus.INVALID, 0)
    locked.rows_matched = counts.get(PixRowStatus.MATCHED, 0) + counts.get(PixRowStatus.RESOLVED, 0)
    locked.rows_unmatched = counts.get(PixRowStatus.UNMATCHED, 0)
    locked.rows_ignored = counts.get(PixRowStatus.IGNORED, 0)
    locked.rows_applied = counts.get(PixRowStatus.APPLIED, 0)
    if status is not None:
        locked.status = status
    locked.save(
        update_fields=[
            "rows_total",
            "rows_invalid",
            "rows_matched",
            "rows_unmatched",
            "rows_ignored",
            "rows_applied",
            "status",
        ]
    )
    for name in ("rows_total", "rows_invalid", "rows_matched", "rows_unmatched", "rows_ignored", "rows_applied"):
        setattr(pix_import, name, getattr(locked, name))
    pix_import.status = locked.status


@transaction.atomic
def pix_import_create(
    *, content: bytes, filename: str, by: Membership, request: HttpRequest | None = None
) -> PixImport:
    """Store the file as received, read each line and match it (synchronously: 10,000 lines take a few seconds,
    bench/README.md). A file that cannot be read is kept, refused with its French reason; a line that cannot be read
    is kept with its own. Writes an audit row with the counts (never a name)."""
    if by.role not in PIX_IMPORTERS:
        raise PermissionDenied
    mapping = PixMappingVersion.objects.filter(is_current=True).first()
    if mapping is None:
        raise PixImportRefused(
            _("Aucune correspondance Pix – CléA numérique n'est en vigueur : Certif'Pro doit en définir une.")
        )
    pix_import = PixImport(
        organisation_id=by.organisation_id,
        scope=PixImportScope.CERTIFPRO if by.is_certifpro else PixImportScope.ORGANISATION,
        filename=filename[:255],
        sha256=sha256_hex(content),
        uploaded_by=by.user,
        mapping_version=mapping,
        status=PixImportStatus.READ,
    )
    pix_import.file.save(f"pix-{pix_import.sha256[:16]}.csv", ContentFile(content), save=False)
    try:
        lines = pix_results.parse(content)
    except pix_results.PixFileError as exc:
        pix_import.status, pix_import.error, lines = PixImportStatus.REFUSED, str(exc), []
    pix_import.save()
    index = _pix_identity_index(by) if lines else {}
    rows = []
    for line in lines:
        row = PixImportRow(
            pix_import=pix_import,
            line_number=line.line_number,
            raw=line.raw,
            certification_number=line.certification_number,
            first_name=line.first_name,
            last_name=line.last_name,
            birth_date=line.birth_date,
            birth_place=line.birth_place,
            external_id=line.external_id,
            pix_status=line.pix_status,
            pix_score=line.pix_score,
            taken_on=line.taken_on,
            levels=line.levels,
        )
        if line.errors or line.birth_date is None:
            row.status, row.error = PixRowStatus.INVALID, " ".join(line.errors)
        else:
            found = index.get((identity_key(line.first_name, line.last_name), line.birth_date), set())
            row.candidates_found = min(len(found), 32767)
            # Exactly one: matched. None or several (homonyms born the same day): a person chooses.
            if len(found) == 1:
                row.status, row.dossier_id = PixRowStatus.MATCHED, next(iter(found))
            else:
                row.status = PixRowStatus.UNMATCHED
        rows.append(row)
    PixImportRow.objects.bulk_create(rows, batch_size=1000)
    pix_import_counts(pix_import)
    audit_record(
        action="pix_import.create",
        actor=by.user,
        organisation=by.organisation_id,
        obj=pix_import,
        request=request,
        details={
            "rows": pix_import.rows_total,
            "matched": pix_import.rows_matched,
            "unmatched": pix_import.rows_unmatched,
            "invalid": pix_import.rows_invalid,
            "refused": pix_import.status == PixImportStatus.REFUSED,
            "mapping_version": mapping.pk,
        },
    )
    return pix_import


def _pix_row_lock(row: PixImportRow) -> PixImportRow:
    return PixImportRow.objects.select_for_update(of=("self",)).select_related("pix_import").get(pk=row.pk)


@transaction.atomic
def pix_row_resolve(
    *, row: PixImportRow, by: Membership, dossier: Dossier | None, request: HttpRequest | None = None
) -> PixImportRow:
    """A person chooses the dossier of a line (among the dossiers they may see at the prior evaluation step), or
    ignores the line (`dossier` None). Only a line not yet recorded changes."""
    if by.role not in PIX_IMPORTERS:
        raise PermissionDenied
    row = _pix_row_lock(row)
    if row.status in (PixRowStatus.APPLIED, PixRowStatus.INVALID):
        raise PixImportRefused(_("Cette ligne ne peut plus être rapprochée."))
    if dossier is not None and not pix_import_dossiers(row.pix_import, by).filter(pk=dossier.pk).exists():
        raise PixImportRefused(
            _("Ce dossier n'est pas un dossier CléA numérique en attente de son évaluation préalable.")
        )
    row.dossier = dossier
    row.status = PixRowStatus.RESOLVED if dossier is not None else PixRowStatus.IGNORED
    row.resolved_by, row.resolved_at, row.error = by.user, timezone.now(), ""
    row.save(update_fields=["dossier", "status", "resolved_by", "resolved_at", "error"])
    pix_import_counts(row.pix_import)
    audit_record(
        action="pix_row.resolve" if dossier is not None else "pix_row.ignore",
        actor=by.user,
        organisation=row.pix_import.organisation_id,
        obj=row.pix_import,
        request=request,
        details={"line": row.line_number, "dossier": dossier.pk if dossier else None},
    )
    return row


PIX_REFUSALS = (EvaluationError, PixImportRefused, TransitionRefused, DossierConflict)


def _pix_results_for(evaluation: Evaluation, domains: dict[str, bool]) -> dict[int, tuple[str, str]]:
    """The grid's lines from the domains the mapping read: a domain reached, its criteria acquired; not reached,
    not acquired; a domain the mapping does not cover stays not assessed."""
    results: dict[int, tuple[str, str]] = {}
    lines = evaluation.results.select_related("criterion__subdomain__domain")
    for line in lines:
        reached = domains.get(line.criterion.subdomain.domain.code)
        if reached is None:
            continue
        value = CriterionResultValue.ACQUIRED if reached else CriterionResultValue.NOT_ACQUIRED
        results[line.criterion_id] = (value, _("Certification Pix"))
    return results


def pix_row_apply(*, row: PixImportRow, by: Membership, request: HttpRequest | None = None) -> Evaluation:
    """Record a matched line as the prior evaluation of its dossier, through the grid's services: started and ended
    on the day the certification was taken, attributed to `by` (an evaluator of the dossier's organisation, as for a
    grid), its criteria acquired domain by domain as the import's mapping version says, then closed (the dossier
    moves on, fee and attestation follow as for any grid). The evaluation points at the line, the line at the
    evaluation. A refusal leaves everything as it was and is written on the line (PIX_REFUSALS)."""
    try:
        with transaction.atomic():
            return _pix_row_apply(row=row, by=by, request=request)
    except PIX_REFUSALS as exc:
        # Not on a line already recorded (a second run, a double click): it keeps its clean record.
        PixImportRow.objects.filter(pk=row.pk).exclude(status=PixRowStatus.APPLIED).update(error=str(exc))
        row.error = str(exc)
        raise
    except ValidationError as exc:
        message = " ".join(exc.messages)
        PixImportRow.objects.filter(pk=row.pk).exclude(status=PixRowStatus.APPLIED).update(error=message)
        row.error = message
        raise PixImportRefused(message) from exc


def _pix_row_apply(*, row: PixImportRow, by: Membership, request: HttpRequest | None) -> Evaluation:
    if by.role != Role.EVALUATOR:
        raise PixImportRefused(
            _("Seul un évaluateur ou une évaluatrice de l'organisme du dossier enregistre une évaluation préalable.")
        )
    row = _pix_row_lock(row)
    if row.status == PixRowStatus.APPLIED:
        raise PixImportRefused(_("Ce résultat est déjà enregistré."))
    if not row.is_applicable or row.dossier_id is None or row.taken_on is None:
        raise PixImportRefused(_("Cette ligne n'est rapprochée d'aucun dossier."))
    dossier = Dossier.objects.visible_to(by).filter(pk=row.dossier_id).first()
    if dossier is None:
        raise PixImportRefused(_("Ce dossier n'est pas celui de votre organisme."))
    # Matched when read, the dossier may have moved since (a grid started, a transfer, a training begun): checked
    # again under its lock, so a result never starts a final evaluation nor lands on another certification.
    dossier = dossier_lock(dossier)
    if dossier.certification != Certification.CLEA_NUMERIQUE or dossier.state not in PIX_DOSSIER_STATES:
        raise PixImportRefused(
            _("Le dossier n'attend plus son évaluation préalable CléA numérique (il est à l'étape « %(state)s »).")
            % {"state": dossier.get_state_display()}
        )
    opened_on = timezone.localdate(dossier.consent_at) if dossier.consent_at else None
    if opened_on and row.taken_on < opened_on:
        raise PixImportRefused(
            _(
                "La certification Pix a été passée le %(taken)s, avant l'ouverture du dossier (%(opened)s) : elle ne "
                "peut pas en être l'évaluation préalable."
            )
            % {"taken": f"{row.taken_on:%d/%m/%Y}", "opened": f"{opened_on:%d/%m/%Y}"}
        )
    mapping = PixMappingVersion.objects.prefetch_related("rules").get(pk=row.pix_import.mapping_version_id)
    domains = mapping.domain_results(row.levels)
    context = _("Certification Pix n° %(number)s (fichier %(file)s, ligne %(line)s)") % {
        "number": row.certification_number or "—",
        "file": row.pix_import.filename,
        "line": row.line_number,
    }
    # A grid being filled (by anyone, the importer included) is never overwritten: its person decides first.
    if dossier.evaluations.drafts().filter(kind=EvaluationKind.PRIOR).exists():
        raise PixImportRefused(
            _(
                "Une grille d'évaluation préalable de ce dossier est en cours : terminez ou abandonnez la grille en "
                "cours, puis enregistrez ce résultat."
            )
        )
    evaluation = evaluation_start(
        dossier=dossier,
        by=by,
        started_on=row.taken_on,
        modality=Modality.ON_SITE,
        context=context[:255],
        request=request,
    )
    if evaluation.kind != EvaluationKind.PRIOR:
        raise PixImportRefused(_("Un résultat Pix ne peut être enregistré que comme évaluation préalable."))
    evaluation_save_results(
        evaluation=evaluation, by=by, results=_pix_results_for(evaluation, domains), request=request
    )
    evaluation_close(evaluation=evaluation, by=by, ended_on=row.taken_on, request=request)
    Evaluation.objects.filter(pk=evaluation.pk).update(pix_row=row)
    evaluation.pix_row = row
    row.status, row.domain_results, row.applied_at, row.error = PixRowStatus.APPLIED, domains, timezone.now(), ""
    row.save(update_fields=["status", "domain_results", "applied_at", "error"])
    audit_record(
        action="pix_row.apply",
        actor=by.user,
        organisation=row.pix_import.organisation_id,
        obj=evaluation,
        request=request,
        details={"import": row.pix_import_id, "line": row.line_number, "mapping_version": mapping.pk},
    )
    return evaluation


# The lines one run of the outbox records (each ~130 ms, bench/README.md): well within the light queue's 60 s soft
# limit; the next batch is queued by the run itself.
PIX_APPLY_BATCH = 200


@transaction.atomic
def pix_import_apply(*, pix_import: PixImport, by: Membership, request: HttpRequest | None = None) -> SideEffect:
    """Ask for the import's matched lines to be recorded, by the outbox (a worker; in the request when Celery is
    eager): PIX_APPLY_BATCH lines per run, each line in its own transaction, so a refused one stops nothing and a
    second run skips what is done. Refused while a recording of the import runs (a double click)."""
    if by.role != Role.EVALUATOR:
        raise PixImportRefused(
            _("Seul un évaluateur ou une évaluatrice de l'organisme du dossier enregistre une évaluation préalable.")
        )
    pix_import = PixImport.objects.select_for_update(of=("self",)).get(pk=pix_import.pk)
    if pix_import.status == PixImportStatus.APPLYING:
        raise PixImportRefused(_("L'enregistrement des résultats de ce fichier est déjà en cours."))
    if not pix_import.rows.filter(status__in=PIX_APPLICABLE).exists():
        raise PixImportRefused(_("Aucune ligne rapprochée n'attend d'être enregistrée."))
    pix_import.status = PixImportStatus.APPLYING
    pix_import.save(update_fields=["status"])
    audit_record(
        action="pix_import.apply",
        actor=by.user,
        organisation=pix_import.organisation_id,
        obj=pix_import,
        request=request,
    )
    return _pix_apply_queue(pix_import, by, after=0, run=timezone.now().timestamp())


def _pix_apply_queue(pix_import: PixImport, by: Membership, *, after: int, run: float) -> SideEffect:
    """One batch of a recording: the lines after line `after`. The key names the recording and the batch, so a
    batch is queued once."""
    return side_effect_add(
        kind="pix_import_apply",
        key=f"pix_import_apply:{pix_import.pk}:{run}:{after}",
        label=_("Résultats Pix du fichier %(file)s") % {"file": pix_import.filename},
        organisation=pix_import.organisation_id,
        arguments={"import_id": pix_import.pk, "membership_id": by.pk, "after": after, "run": run},
        requested_by=by.user,
    )


def pix_import_apply_run(*, import_id: int, membership_id: int, after: int = 0, run: float = 0) -> str:
    """The outbox's "pix_import_apply": record up to PIX_APPLY_BATCH matched lines after line `after`, then queue
    the next batch or mark the import done; the counts follow each batch. Idempotent (recorded lines are skipped);
    refusals stay written on their lines. A run that fails (a worker's time limit, the database) puts the import
    back to « lu » so it can be asked again, and the outbox retries it."""
    by = Membership.objects.select_related("user", "organisation").get(pk=membership_id)
    pix_import = PixImport.objects.get(pk=import_id)
    applied = refused = 0
    try:
        batch = list(
            pix_import.rows.filter(status__in=PIX_APPLICABLE, line_number__gt=after).order_by("line_number")[
                : PIX_APPLY_BATCH + 1
            ]
        )
        for row in batch[:PIX_APPLY_BATCH]:
            try:
                pix_row_apply(row=row, by=by)
            except PIX_REFUSALS:
                refused += 1
            else:
                applied += 1
        with transaction.atomic():
            if len(batch) > PIX_APPLY_BATCH:
                _pix_apply_queue(pix_import, by, after=batch[PIX_APPLY_BATCH - 1].line_number, run=run)
                pix_import_counts(pix_import, status=PixImportStatus.APPLYING)
            else:
                pix_import_counts(pix_import, status=PixImportStatus.DONE)
    except Exception:
        pix_import_counts(pix_import, status=PixImportStatus.READ)
        raise
    return f"{applied} / {refused}"


@transaction.atomic
def pix_mapping_new_version(
    *, source: PixMappingVersion, label: str, by: User | None = None, request: HttpRequest | None = None
) -> PixMappingVersion:
    """A copy of a mapping version and its rules, not current, to edit (a version used by recorded results is
    frozen)."""
    copy = PixMappingVersion.objects.create(
        label=label, is_provisional=source.is_provisional, note=source.note, is_current=False
    )
    PixMappingRule.objects.bulk_create(
        PixMappingRule(version=copy, competence=r.competence, minimum_level=r.minimum_level, domain_code=r.domain_code)
        for r in source.rules.all()
    )
    audit_record(action="pix_mapping.new_version", actor=by, obj=copy, request=request, details={"source": source.pk})
    return copy


@transaction.atomic
def pix_mapping_make_current(
    *, version: PixMappingVersion, by: User | None = None, request: HttpRequest | None = None
) -> None:
    """New imports use this version from now on; earlier imports keep the one they recorded."""
    PixMappingVersion.objects.select_for_update().filter(is_current=True).exclude(pk=version.pk).update(
        is_current=False
    )
    PixMappingVersion.objects.filter(pk=version.pk).update(is_current=True)
    # Which table decides the results from now on: Certif'Pro's decision, on the record.
    audit_record(action="pix_mapping.make_current", actor=by, obj=version, request=request)


def pix_rows_forget(*, dossiers: QuerySet[Dossier]) -> int:
    """The Pix lines matched to these dossiers, their person anonymised (privacy.services.candidate_anonymise, in
    its transaction): the identity they read and their raw cells erased, the levels and the link to the evaluation
    kept. The uploaded file itself, which holds every line, is not rewritten (README « Résultats Pix »)."""
    return PixImportRow.objects.filter(dossier__in=dossiers).update(
        raw={}, first_name="", last_name="", birth_date=None, birth_place="", external_id="", certification_number=""
    )


def pix_import_expire(*, pix_import: PixImport) -> bool:
    """At the end of its retention (settings.DATA_RETENTION["pix_imports"]): the file received, which names every
    person of the session, and the lines matched to no dossier are deleted; the import keeps its counts, and the lines
    of a dossier stay with it (erased with the person, pix_rows_forget). Called by the retention job, in its
    transaction; the file leaves the storage once that commits."""
    name = pix_import.file.name or ""
    PixImportRow.objects.filter(pix_import=pix_import, dossier__isnull=True).delete()
    PixImport.objects.filter(pk=pix_import.pk).update(file="")
    storage = pix_import.file.storage
    transaction.on_commit(partial(storage.delete, name))
    return True


def pix_row_apply_handed_over(*, row: PixImportRow, by: Membership, request: HttpRequest | None = None) -> Evaluation:
    """An evaluator records one line Certif'Pro matched to a dossier of theirs (PixImportRow.handed_over_to), then the
    import's counts follow."""
    if not PixImportRow.objects.handed_over_to(by).filter(pk=row.pk).exists():
        raise PixImportRefused(_("Cette ligne n'attend pas d'être enregistrée par vous."))
    evaluation = pix_row_apply(row=row, by=by, request=request)
    pix_import_counts(PixImport.objects.get(pk=row.pix_import_id))
    return evaluation
