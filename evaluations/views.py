"""The evaluator's screens: start an evaluation, fill its grid criterion by criterion, close it, print the
candidate's summary, download attestations. Rules live in evaluations/services.py; these views parse and render."""

from __future__ import annotations

import functools
import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import get_template, render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from candidates.models import Dossier, DossierState
from candidates.services import DossierConflict, TransitionRefused
from clea_platform.actions import post_only
from clea_platform.templatetags.form_fields import SummaryError, form_summary_errors
from clea_platform.tenancy import membership_required
from evaluations.acquisitions import dossier_outcome
from evaluations.forms import EvaluationCloseForm, EvaluationStartForm, GridForm
from evaluations.models import (
    EVALUATION_READERS,
    Attestation,
    CriterionResult,
    CriterionResultValue,
    Evaluation,
    EvaluationKind,
    EvaluationStatus,
)
from evaluations.services import (
    EvaluationError,
    evaluation_close,
    evaluation_save_results,
    evaluation_start,
    grid_rows,
)
from organisations.models import Role
from referentiels.models import Criterion, Domain, SubDomain
from referentiels.outcomes import DomainOutcome, SubDomainOutcome, compute_outcome
from scheduling.models import Assignment, AssignmentPurpose

# Refusals whose message is written for the user: shown, and the input kept.
USER_ERRORS = (EvaluationError, TransitionRefused, DossierConflict)


def _evaluation_for(request: HttpRequest, pk: int) -> Evaluation:
    return get_object_or_404(
        Evaluation.objects.visible_to(request.membership).select_related(
            "dossier__candidate",
            "dossier__referentiel",
            "evaluator",
            "organisation",
            "abandoned_by_transfer__to_organisation",
            "pix_row__pix_import__mapping_version",
        ),
        pk=pk,
    )


def _acquired_before(evaluation: Evaluation) -> set[int]:
    """Criteria acquired at the dossier's evaluations closed before this one: what was acquired stays acquired."""
    earlier = CriterionResult.objects.filter(
        evaluation__dossier_id=evaluation.dossier_id,
        evaluation__status=EvaluationStatus.CLOSED,
        result=CriterionResultValue.ACQUIRED,
    ).exclude(evaluation_id=evaluation.pk)
    if evaluation.closed_at is not None:
        earlier = earlier.filter(evaluation__closed_at__lt=evaluation.closed_at)
    return set(earlier.values_list("criterion_id", flat=True))


# -- Start -----------------------------------------------------------------------------------------------------


def _next_kind(dossier: Dossier) -> str | None:
    if dossier.state == DossierState.OPENED:
        return EvaluationKind.PRIOR
    if dossier.state == DossierState.IN_TRAINING:
        return EvaluationKind.FINAL
    return None


@membership_required(Role.EVALUATOR)
def start(request: HttpRequest, dossier_pk: int) -> HttpResponse:
    dossier = get_object_or_404(
        Dossier.objects.visible_to(request.membership).select_related("candidate", "referentiel"), pk=dossier_pk
    )
    kind = _next_kind(dossier)
    form = EvaluationStartForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            evaluation = evaluation_start(dossier=dossier, by=request.membership, request=request, **form.cleaned_data)
        except USER_ERRORS as exc:
            messages.error(request, str(exc))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("%(kind)s commencée : saisissez les résultats critère par critère.")
                % {"kind": evaluation.get_kind_display()},
            )
            return redirect("evaluations:grid", pk=evaluation.pk)
    context: dict[str, Any] = {
        "dossier": dossier,
        "candidate": dossier.candidate,
        "form": form,
        "kind": kind,
        "kind_label": EvaluationKind(kind).label if kind else "",
        "scope": dossier_outcome(dossier).gap_criteria() if kind == EvaluationKind.FINAL else [],
        "criteria_count": dossier.referentiel.criteria().count() if kind == EvaluationKind.PRIOR else 0,
        "training_completed": dossier.training_completed() if kind == EvaluationKind.FINAL else None,
        "draft": dossier.evaluations.drafts().first() if kind is None else None,
        # The step's assignee, when someone else: starting hands the step over (scheduling.services.assignment_follow).
        "assigned_to": _assigned_elsewhere(dossier, kind, request.membership) if kind else None,
    }
    return render(request, "evaluations/start.html", context)


def _assigned_elsewhere(dossier: Dossier, kind: str, membership: Any) -> Any:
    purpose = AssignmentPurpose.PRIOR_EVALUATION if kind == EvaluationKind.PRIOR else AssignmentPurpose.FINAL_EVALUATION
    current = (
        Assignment.objects.current()
        .filter(dossier=dossier, purpose=purpose)
        .exclude(assignee__user_id=membership.user_id)
        .select_related("assignee__user")
        .first()
    )
    return current.assignee.user if current else None


# -- Grid ------------------------------------------------------------------------------------------------------


@dataclass
class GridLine:
    line: CriterionResult
    result: str
    comment: str
    errors: list[str]

    @property
    def criterion(self) -> Criterion:
        return self.line.criterion


@dataclass
class GridSubDomain:
    subdomain: SubDomain
    lines: list[GridLine]
    total: int
    required: int
    acquired_before: int

    @property
    def acquired(self) -> int:
        return self.acquired_before + sum(1 for g in self.lines if g.result == CriterionResultValue.ACQUIRED)

    @property
    def validated(self) -> bool:
        mandatory_missing = any(
            g.criterion.is_mandatory and g.result != CriterionResultValue.ACQUIRED for g in self.lines
        )
        return self.acquired >= self.required and not mandatory_missing


# What `grid_rows` yields: the evaluation's lines by domain and sub-domain.
GridRows = list[tuple[Domain, list[tuple[SubDomain, list[CriterionResult]]]]]


@dataclass
class GridDomain:
    domain: Domain
    subdomains: list[GridSubDomain] = field(default_factory=list)


def _grid_lines(rows: GridRows) -> list[CriterionResult]:
    return [line for _domain, subs in rows for _sub, lines in subs for line in lines]


def _error_summary(
    lines: list[GridLine], grid_form: GridForm | None, close_form: EvaluationCloseForm | None, refusal: str
) -> list[SummaryError]:
    """What went wrong with the last post, listed where the evaluator lands (the grid runs to thousands of pixels:
    the close form at its foot would hide its own errors), each error linked to its row or field."""
    errors = [SummaryError(refusal)] if refusal else []
    if grid_form is not None:
        errors += [SummaryError(str(e)) for e in grid_form.non_field_errors()]
    for line in lines:
        for error in line.errors:
            # The radio the row shows checked (the first one if none was posted): the row's first stop.
            value = line.result if line.result in CriterionResultValue.values else CriterionResultValue.values[0]
            message = _("%(label)s : %(error)s") % {"label": line.criterion.code, "error": error}
            errors.append(SummaryError(message, f"#r{line.criterion.pk}-{value}"))
    if close_form is not None and close_form.is_bound:
        errors += form_summary_errors(close_form)
    return errors


logger = logging.getLogger(__name__)

# The grid's body (every criterion with its result and comment) depends only on the evaluation's lines, the criteria
# acquired before it, its référentiel version (frozen once a dossier uses it), whether it is editable, the language
# and the template, the catalogues and this module (what a deploy changes): an unbound grid (a GET) is rendered once
# per such content and kept in the cache under a digest of all of them, so it is never stale, and a draft saved or a
# comment purged is simply another key. Not covered: a référentiel edited outside the admin's lock (shell, data
# migration), stale for five minutes at most.
GRID_BODY_TEMPLATE = "evaluations/_grid_body.html"
# Short: the body holds the evaluators' comments (personal data) under a key that a purge cannot find, and each draft
# saved leaves a body of its own in Redis; five minutes bounds both (a grid read again soon is the case that pays).
GRID_BODY_TIMEOUT = 5 * 60


@functools.cache
def _grid_body_template_digest() -> str:
    """What a deploy may change in the body, once per process: the template's source, the compiled catalogues (its
    labels) and this module (how the body is computed)."""
    digest = hashlib.sha256(get_template(GRID_BODY_TEMPLATE).template.source.encode())  # type: ignore[attr-defined]
    for catalogue in sorted(path for root in settings.LOCALE_PATHS for path in Path(root).glob("*/LC_MESSAGES/*.mo")):
        digest.update(catalogue.read_bytes())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:16]


def _grid_body_context(domains: list[GridDomain], editable: bool) -> dict[str, Any]:
    return {
        "domains": domains,
        "line_count": sum(len(s.lines) for d in domains for s in d.subdomains),
        "result_choices": CriterionResultValue.choices,
        "editable": editable,
    }


def _cached_grid_body(evaluation: Evaluation, before: set[int], editable: bool) -> tuple[SafeString, list[str]]:
    """The unbound grid's body, from the cache when the same content was rendered already, and the lines' results
    (one query of plain values either way; the référentiel's tree and the lines as models only on a miss)."""
    state = list(evaluation.results.order_by("criterion_id").values_list("criterion_id", "result", "comment"))
    content = (
        evaluation.pk,
        evaluation.dossier.referentiel_id,
        state,
        sorted(before),
        editable,
        get_language(),
        _grid_body_template_digest(),
    )
    key = "evaluation-grid:" + hashlib.sha256(repr(content).encode()).hexdigest()
    try:
        body = cache.get(key)
    except Exception:
        logger.exception("Cache unreachable: the grid is rendered.")
        body = None
    if body is None:
        rows = list(grid_rows(evaluation))
        domains = _grid_domains(rows, GridForm(lines=_grid_lines(rows)), before)
        body = render_to_string(GRID_BODY_TEMPLATE, _grid_body_context(domains, editable))
        try:
            cache.set(key, body, GRID_BODY_TIMEOUT)
        except Exception:
            logger.exception("Cache unreachable: the grid is not kept.")
    return SafeString(body), [result for _criterion, result, _comment in state]


def _grid_domains(rows: GridRows, grid_form: GridForm, before: set[int]) -> list[GridDomain]:
    domains = []
    for domain, subs in rows:
        grid_domain = GridDomain(domain)
        for sub, lines in subs:
            criteria = list(sub.criteria.all())  # prefetched by grid_rows
            grid_domain.subdomains.append(
                GridSubDomain(
                    subdomain=sub,
                    lines=[GridLine(line, *grid_form.current(line)) for line in lines],
                    total=len(criteria),
                    required=sub.required_count(len(criteria)),
                    acquired_before=sum(1 for c in criteria if c.pk in before),
                )
            )
        domains.append(grid_domain)
    return domains


def _render_grid(
    request: HttpRequest,
    evaluation: Evaluation,
    rows: GridRows | None,
    grid_form: GridForm | None,
    close_form: EvaluationCloseForm | None = None,
    refusal: str = "",
    summary_title: str = "",
) -> HttpResponse:
    """The grid page. Without a form (a GET), its body comes from `_cached_grid_body`; with the posted form, it is
    rendered with the form's values and errors."""
    editable = evaluation.is_filled_by(request.membership) and evaluation.is_draft
    before = _acquired_before(evaluation)
    if rows is None or grid_form is None:
        grid_body, results = _cached_grid_body(evaluation, before, editable)
        error_summary = _error_summary([], None, close_form, refusal)
    else:
        domains = _grid_domains(rows, grid_form, before)
        lines = [g for d in domains for s in d.subdomains for g in s.lines]
        grid_body = SafeString(render_to_string(GRID_BODY_TEMPLATE, _grid_body_context(domains, editable)))
        results = [g.result for g in lines]
        error_summary = _error_summary(lines, grid_form, close_form, refusal)
    context = {
        "error_summary": error_summary,
        "error_summary_title": summary_title,
        "evaluation": evaluation,
        "dossier": evaluation.dossier,
        "candidate": evaluation.dossier.candidate,
        "grid_body": grid_body,
        "line_count": len(results),
        "not_assessed_count": sum(1 for r in results if r == CriterionResultValue.NOT_ASSESSED),
        "editable": editable,
        "close_form": close_form or (EvaluationCloseForm(evaluation=evaluation) if editable else None),
        "attestation": Attestation.objects.filter(evaluation=evaluation).first() if evaluation.is_closed else None,
        "result": _result(evaluation) if evaluation.is_closed else None,
    }
    return render(request, "evaluations/grid.html", context)


def _result(evaluation: Evaluation) -> dict[str, Any]:
    """The outcome recorded at closing (as it was then), and what comes next for the dossier."""
    recorded = evaluation.outcome or {}
    domains = recorded.get("domains", [])
    dossier = evaluation.dossier
    latest = not dossier.evaluations.filter(pk__gt=evaluation.pk).exists()
    if latest and dossier.state == DossierState.READY_FOR_JURY:
        next_step = _("Tous les domaines sont validés : le dossier est prêt pour le jury.")
    elif latest and dossier.state == DossierState.PARTIALLY_VALIDATED:
        next_step = _(
            "Validation partielle : l'attestation est remise au candidat, et le conseiller ou la conseillère "
            "définit avec lui le parcours de formation sur ce qui reste à acquérir."
        )
    elif latest and dossier.state == DossierState.IN_TRAINING and evaluation.kind == EvaluationKind.FINAL:
        next_step = _(
            "Un nouveau cycle de formation est ouvert sur ce qui reste à acquérir ; l'évaluation finale suivante "
            "ne portera que sur ces critères."
        )
    else:
        next_step = _("Étape actuelle du dossier : %(state)s.") % {"state": dossier.get_state_display()}
    return {
        "all_validated": recorded.get("all_validated", False),
        "domains": domains,
        "validated_count": sum(1 for d in domains if d.get("validated")),
        "next_step": next_step,
    }


@membership_required(*EVALUATION_READERS)
def grid(request: HttpRequest, pk: int) -> HttpResponse:
    evaluation = _evaluation_for(request, pk)
    if request.method != "POST":
        return _render_grid(request, evaluation, None, None)
    rows = list(grid_rows(evaluation))
    lines = _grid_lines(rows)
    if not evaluation.is_filled_by(request.membership):
        raise PermissionDenied
    form = GridForm(request.POST, lines=lines)
    refusal = ""
    if form.is_valid():
        last_changed = form.last_changed()
        try:
            changed = evaluation_save_results(
                evaluation=evaluation, by=request.membership, results=form.results(), request=request
            )
        except USER_ERRORS as exc:
            refusal = str(exc)
        else:
            messages.success(
                request,
                ngettext(
                    "Brouillon enregistré (%(n)s critère modifié).",
                    "Brouillon enregistré (%(n)s critères modifiés).",
                    changed,
                )
                % {"n": changed},
            )
            # Back where the evaluator was, not at the top of a page of 107 criteria: the static script focuses
            # the criterion the fragment names.
            fragment = f"#criterion-{last_changed}" if last_changed else ""
            return redirect(reverse("evaluations:grid", args=[evaluation.pk]) + fragment)
    else:
        refusal = _("Corrigez les lignes signalées.")
    return _render_grid(
        request, evaluation, rows, form, refusal=refusal, summary_title=_("La grille n'a pas été enregistrée")
    )


@post_only("evaluations:grid")
@membership_required(Role.EVALUATOR)
def close(request: HttpRequest, pk: int) -> HttpResponse:
    evaluation = _evaluation_for(request, pk)
    if not evaluation.is_filled_by(request.membership):
        raise PermissionDenied
    form = EvaluationCloseForm(request.POST, evaluation=evaluation)
    refusal = ""
    if form.is_valid():
        try:
            outcome = evaluation_close(
                evaluation=evaluation,
                by=request.membership,
                ended_on=form.cleaned_data["ended_on"],
                duration_hours=form.cleaned_data["duration_hours"],
                request=request,
            )
        except USER_ERRORS as exc:
            refusal = str(exc)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                ngettext(
                    "Évaluation clôturée : %(n)s domaine validé sur %(total)s.",
                    "Évaluation clôturée : %(n)s domaines validés sur %(total)s.",
                    len(outcome.validated_domains),
                )
                % {"n": len(outcome.validated_domains), "total": len(outcome.domains)},
            )
            return redirect("evaluations:grid", pk=evaluation.pk)
    rows = list(grid_rows(evaluation))
    return _render_grid(
        request,
        evaluation,
        rows,
        GridForm(lines=_grid_lines(rows)),
        close_form=form,
        refusal=refusal,
        summary_title=_("L'évaluation n'est pas clôturée"),
    )


# -- Summary ---------------------------------------------------------------------------------------------------


@dataclass
class SummarySubDomain:
    subdomain: SubDomain
    outcome: SubDomainOutcome
    acquired: list[Criterion]


@dataclass
class SummaryDomain:
    domain: Domain
    outcome: DomainOutcome
    subdomains: list[SummarySubDomain]


@membership_required(*EVALUATION_READERS)
def summary(request: HttpRequest, pk: int) -> HttpResponse:
    """The candidate's summary: strengths first (validated domains and sub-domains, acquired criteria), then
    what remains to acquire. Acquisitions of earlier evaluations count: what was acquired stays acquired. None for an
    abandoned evaluation: nothing of it was acquired, its grid says so."""
    evaluation = _evaluation_for(request, pk)
    if evaluation.is_abandoned:
        raise Http404
    acquired = _acquired_before(evaluation) | set(
        evaluation.results.filter(result=CriterionResultValue.ACQUIRED).values_list("criterion_id", flat=True)
    )
    tree = evaluation.dossier.referentiel.domains_tree()
    outcome = compute_outcome(tree, acquired)
    domains = [
        SummaryDomain(
            domain=domain,
            outcome=domain_outcome,
            subdomains=[
                SummarySubDomain(sub, sub_outcome, [c for c in sub.criteria.all() if c.pk in acquired])
                for sub, sub_outcome in zip(domain.subdomains.all(), domain_outcome.subdomains, strict=True)
            ],
        )
        for domain, domain_outcome in zip(tree, outcome.domains, strict=True)
    ]
    context = {
        "evaluation": evaluation,
        "dossier": evaluation.dossier,
        "candidate": evaluation.dossier.candidate,
        "outcome": outcome,
        "domains": domains,
        "validated_subdomains": [s for d in domains for s in d.subdomains if s.outcome.validated],
        "partial_subdomains": [s for d in domains for s in d.subdomains if not s.outcome.validated and s.acquired],
        "missing_subdomains": [s for d in domains for s in d.subdomains if not s.outcome.validated],
        "attestation": Attestation.objects.filter(evaluation=evaluation).first() if evaluation.is_closed else None,
    }
    return render(request, "evaluations/summary.html", context)


# -- Attestations ----------------------------------------------------------------------------------------------


@membership_required()
def attestation_download(request: HttpRequest, pk: int) -> FileResponse:
    """Whoever may see the dossier may download its attestations (not one whose file was deleted past its
    retention: privacy.services)."""
    attestation = get_object_or_404(Attestation.objects.visible_to(request.membership).exclude(file=""), pk=pk)
    return FileResponse(
        attestation.file.open("rb"), as_attachment=True, filename=attestation.filename, content_type="application/pdf"
    )
