"""Funding screens. Counsellors: the lines of a dossier. Organisation administrators: lines to claim, batches,
payments and reconciliation, fees. Certif'Pro: every organisation's fees and statements, the national view, the
reporting of certificates to the Caisse des Dépôts.

Every read starts from a `visible_to` queryset: another organisation's object answers 404 like a missing one.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from candidates.models import Dossier
from candidates.services import NewDossierRefusal, candidate_complete_for_cdc
from clea_platform.actions import post_only
from clea_platform.polling import next_poll, query_count
from clea_platform.tenancy import membership_required
from funding.documents import CONTENT_TYPES
from funding.forms import (
    TRANSITION_FORMS,
    BatchRequestForm,
    CdcHolderForm,
    CdcReportForm,
    FeeFilterForm,
    FundingLineForm,
    LineFilterForm,
    PaymentFileConfirmForm,
    PaymentFileForm,
    PaymentForm,
    ProofForm,
    QuarterForm,
)
from funding.models import (
    BatchStatus,
    CdcDeclaration,
    CdcFlux,
    CdcSettings,
    ClaimBatch,
    DeclarationKind,
    DeclarationStatus,
    FeeEntry,
    Funder,
    FundingLine,
    FundingLineEvent,
    FundingProof,
    LineState,
    MatchStatus,
    Payment,
    PaymentLine,
    Statement,
    cdc_deadline,
    transition_label,
)
from funding.selectors import (
    batch_remainder,
    cdc_pending,
    certificates_overdue,
    certificates_to_report,
    claim_summary,
    fee_totals,
    fees_by_kind,
    fees_by_organisation,
    funding_by_funder,
)
from funding.services import (
    USER_TRANSITIONS,
    FundingError,
    PaymentImportRefused,
    batch_request,
    batch_retry,
    batches_request,
    cdc_flux_generate,
    cdc_report_import,
    funding_line_create,
    funding_line_transition,
    funding_line_update,
    funding_proof_add,
    payment_import,
    payment_import_plan,
    payment_record,
    statements_request,
)
from juries.models import Certificate
from organisations.models import Membership, Role
from outbox.selectors import documents_regeneration

LINE_ROLES = (Role.COUNSELLOR, Role.ORG_ADMIN)
PAGE_SIZE = 25


def _page(request: HttpRequest, items: Any, size: int = PAGE_SIZE) -> Any:
    return Paginator(items, size).get_page(request.GET.get("page"))


def _kept_query(request: HttpRequest) -> str:
    return urlencode([(key, value) for key, value in request.GET.items() if key != "page" and value])


@membership_required(Role.COUNSELLOR, Role.ORG_ADMIN, Role.CERTIFPRO_ADMIN)
def index(request: HttpRequest) -> HttpResponse:
    """The funding entry point of each role."""
    role = request.membership.role
    if role == Role.ORG_ADMIN:
        return redirect("funding:claim_list")
    if role == Role.CERTIFPRO_ADMIN:
        return redirect("funding:national")
    return redirect("funding:line_list")


# -- Lines -------------------------------------------------------------------------------------------------------


def _refusal_to_form(request: HttpRequest, form: forms.Form, exc: FundingError) -> None:
    """A service's refusal, shown on the field it is about when the form has it, at the top otherwise."""
    if exc.field and exc.field in form.fields:
        form.add_error(exc.field, str(exc))
    else:
        messages.error(request, str(exc))


def _visible_line(request: HttpRequest, pk: int) -> FundingLine:
    lines = (
        FundingLine.objects.visible_to(request.membership)
        .with_step_done_on()
        .select_related("dossier__candidate", "funder", "organisation", "batch")
    )
    return get_object_or_404(lines, pk=pk)


@membership_required(*LINE_ROLES, Role.CERTIFPRO_ADMIN)
def line_list(request: HttpRequest) -> HttpResponse:
    filters = LineFilterForm(request.GET)
    lines = filters.filter(
        FundingLine.objects.visible_to(request.membership)
        .select_related("dossier__candidate", "funder", "organisation")
        .order_by("-updated_at", "-id")
    )
    return render(
        request,
        "funding/line_list.html",
        {"page": _page(request, lines), "filters": filters, "query": _kept_query(request)},
    )


@membership_required(*LINE_ROLES)
def line_create(request: HttpRequest, dossier_pk: int) -> HttpResponse:
    dossier = get_object_or_404(
        Dossier.objects.visible_to(request.membership).select_related("candidate"), pk=dossier_pk
    )
    form = FundingLineForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            line = funding_line_create(dossier=dossier, by=request.membership, request=request, **form.cleaned_data)
        except FundingError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("La ligne de financement est créée (brouillon)."))
            return redirect("funding:line_detail", pk=line.pk)
    return render(request, "funding/line_form.html", {"form": form, "dossier": dossier, "line": None})


@membership_required(*LINE_ROLES)
def line_edit(request: HttpRequest, pk: int) -> HttpResponse:
    line = _visible_line(request, pk)
    if line.state != LineState.DRAFT:
        messages.info(request, _("Seule une ligne en brouillon peut être modifiée."))
        return redirect("funding:line_detail", pk=line.pk)
    form = FundingLineForm(
        request.POST if request.method == "POST" else None, initial=FundingLineForm.initial_for(line)
    )
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            funding_line_update(line=line, by=request.membership, changes=changes, request=request)
        except FundingError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("La ligne de financement est enregistrée."))
            return redirect("funding:line_detail", pk=line.pk)
    return render(request, "funding/line_form.html", {"form": form, "dossier": line.dossier, "line": line})


@membership_required(*LINE_ROLES, Role.CERTIFPRO_ADMIN)
def line_detail(request: HttpRequest, pk: int) -> HttpResponse:
    line = _visible_line(request, pk)
    may_act = request.membership.role in LINE_ROLES
    return render(
        request,
        "funding/line_detail.html",
        {
            "line": line,
            "dossier": line.dossier,
            "actions": line.actions_for(request.membership) if may_act else [],
            "events": FundingLineEvent.objects.filter(line=line).select_related("actor"),
            "proofs": FundingProof.objects.filter(line=line).select_related("uploaded_by"),
            "proof_form": ProofForm() if may_act else None,
            "may_act": may_act,
        },
    )


@membership_required(*LINE_ROLES)
def line_transition(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """A transition's page: its form (amount, reference, reason) and the button. The service decides."""
    if name not in USER_TRANSITIONS:
        raise Http404
    line = _visible_line(request, pk)
    offered = {action["name"] for action in line.actions_for(request.membership)}
    if request.method != "POST" and name not in offered:
        messages.info(
            request,
            _("Ce changement n'est pas possible pour une ligne « %(state)s ».") % {"state": line.get_state_display()},
        )
        return redirect("funding:line_detail", pk=line.pk)
    form = TRANSITION_FORMS[name](request.POST if request.method == "POST" else None, line=line)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        note = data.pop("note", "")
        try:
            line = funding_line_transition(
                line=line, name=name, by=request.membership, note=note, request=request, **data
            )
        except FundingError as exc:
            _refusal_to_form(request, form, exc)
        else:
            messages.success(request, _("La ligne est maintenant « %(state)s ».") % {"state": line.get_state_display()})
            return redirect("funding:line_detail", pk=line.pk)
    return render(
        request,
        "funding/line_transition.html",
        {"line": line, "dossier": line.dossier, "form": form, "name": name, "label": transition_label(name)},
    )


@membership_required(*LINE_ROLES)
@post_only("funding:line_detail")
def proof_add(request: HttpRequest, pk: int) -> HttpResponse:
    line = _visible_line(request, pk)
    form = ProofForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            funding_proof_add(
                line=line,
                by=request.membership,
                label=form.cleaned_data["label"],
                upload=form.cleaned_data["file"],
                request=request,
            )
        except FundingError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Le justificatif est joint à la ligne."))
            return redirect("funding:line_detail", pk=line.pk)
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("funding:line_detail", pk=line.pk)


@membership_required(*LINE_ROLES, Role.CERTIFPRO_ADMIN)
def proof_download(request: HttpRequest, pk: int) -> FileResponse:
    # A proof erased past its retention (privacy.services) has no file left: like a missing one.
    proof = get_object_or_404(FundingProof.objects.visible_to(request.membership).exclude(file=""), pk=pk)
    return FileResponse(proof.file.open("rb"), as_attachment=True, filename=proof.original_name)


# -- Claims and batches (organisation administrators) -----------------------------------------------------------


@membership_required(Role.ORG_ADMIN)
def claim_list(request: HttpRequest) -> HttpResponse:
    membership: Membership = request.membership
    lines = (
        FundingLine.objects.visible_to(membership)
        .claimable()
        .select_related("dossier__candidate", "funder")
        .order_by("funder__name", "step_done_on", "id")
    )
    funders = Funder.objects.filter(pk__in=lines.values("funder_id")).order_by("position", "name")
    form = BatchRequestForm(funders=funders)
    return render(
        request,
        "funding/claim_list.html",
        {"page": _page(request, lines), "summary": claim_summary(lines), "form": form},
    )


@membership_required(Role.ORG_ADMIN)
@post_only("funding:batch_list")
def batch_create(request: HttpRequest) -> HttpResponse:
    membership: Membership = request.membership
    form = BatchRequestForm(request.POST, funders=Funder.objects.all())
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("funding:claim_list")
    data = form.cleaned_data
    try:
        if data["funder"] is not None:
            batches = [
                batch_request(
                    organisation=membership.organisation,
                    funder=data["funder"],
                    period_start=data["period_start"],
                    period_end=data["period_end"],
                    by=membership,
                    request=request,
                )
            ]
        else:
            batches = batches_request(
                organisation=membership.organisation,
                period_start=data["period_start"],
                period_end=data["period_end"],
                by=membership,
                request=request,
            )
    except FundingError as exc:
        messages.error(request, str(exc))
        return redirect("funding:claim_list")
    if len(batches) == 1:
        messages.success(request, _("Le lot %(n)s est en production.") % {"n": batches[0].number})
        return redirect("funding:batch_detail", pk=batches[0].pk)
    messages.success(
        request,
        ngettext("%(count)s lot est en production.", "%(count)s lots sont en production.", len(batches))
        % {"count": len(batches)},
    )
    return redirect("funding:batch_list")


def _visible_batch(request: HttpRequest, pk: int) -> ClaimBatch:
    return get_object_or_404(
        ClaimBatch.objects.visible_to(request.membership).select_related("funder", "organisation"), pk=pk
    )


@membership_required(Role.ORG_ADMIN, Role.CERTIFPRO_ADMIN)
def batch_list(request: HttpRequest) -> HttpResponse:
    batches = (
        ClaimBatch.objects.visible_to(request.membership)
        .select_related("funder", "organisation")
        .order_by("-created_at", "-id")
    )
    return render(request, "funding/batch_list.html", {"page": _page(request, batches)})


@membership_required(Role.ORG_ADMIN, Role.CERTIFPRO_ADMIN)
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _visible_batch(request, pk)
    lines = batch.lines.select_related("dossier__candidate").files_order()  # type: ignore[attr-defined]
    documents_regeneration(request.membership, [batch] if batch.is_issued else [])
    return render(
        request,
        "funding/batch_detail.html",
        {
            "batch": batch,
            "remainder": batch_remainder(batch),
            "page": _page(request, lines, 50),
            "payments": batch.payments.select_related("recorded_by").order_by("-received_on", "-id"),
        },
    )


@membership_required(Role.ORG_ADMIN, Role.CERTIFPRO_ADMIN)
def batch_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The batch's status fragment: htmx polls it while the worker runs, and stops once issued or failed, or at the
    polling limit (clea_platform/polling.py). `step` is the quarter of the lines the page has already shown."""
    batch = _visible_batch(request, pk)
    following = next_poll(request, pending=batch.in_progress)
    stopped = batch.in_progress and following is None
    return render(
        request,
        "funding/_batch_status.html",
        {
            "batch": batch,
            "next_poll": following,
            "poll_stopped": stopped,
            "status_message": _batch_status_message(batch, shown_step=query_count(request, "step"), stopped=stopped),
            # The link reloads the page that polled (the list or the batch's page), else the batch's page.
            "refresh_url": request.htmx.current_url_abs_path or reverse("funding:batch_detail", args=[batch.pk]),
        },
    )


def _batch_status_message(batch: ClaimBatch, *, shown_step: int, stopped: bool) -> str:
    """What the live region says after a poll: the end of the production, each quarter of the lines passed, or that
    the page stops following it. Nothing otherwise: a screen reader must not read the bar out at every poll."""
    number = batch.number
    if batch.is_issued:
        return ngettext(
            "Le lot %(number)s est émis : %(n)s ligne.",
            "Le lot %(number)s est émis : %(n)s lignes.",
            batch.total_lines,
        ) % {"number": number, "n": batch.total_lines}
    if batch.status == BatchStatus.FAILED:
        return _("La production du lot %(number)s a échoué.") % {"number": number}
    if stopped:
        return _("Le lot %(number)s est toujours en production : cette page ne se met plus à jour toute seule.") % {
            "number": number
        }
    if batch.progress_step > shown_step:
        return _("Lot %(number)s : %(percent)s %% des lignes produites.") % {
            "number": number,
            "percent": batch.progress_percent,
        }
    return ""


@membership_required(Role.ORG_ADMIN, Role.CERTIFPRO_ADMIN)
def batch_download(request: HttpRequest, pk: int, fmt: str) -> FileResponse:
    batch = _visible_batch(request, pk)
    if fmt not in CONTENT_TYPES or not batch.is_issued:
        raise Http404
    return FileResponse(
        getattr(batch, f"{fmt}_file").open("rb"),
        as_attachment=True,
        filename=batch.filename(fmt),
        content_type=CONTENT_TYPES[fmt],
    )


@membership_required(Role.ORG_ADMIN)
@post_only("funding:batch_detail")
def batch_retry_view(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _visible_batch(request, pk)
    try:
        batch_retry(batch=batch, by=request.membership, request=request)
    except FundingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Le lot %(n)s est relancé.") % {"n": batch.number})
    return redirect("funding:batch_detail", pk=batch.pk)


# -- Payments ------------------------------------------------------------------------------------------------


@membership_required(Role.ORG_ADMIN)
def payment_create(request: HttpRequest, batch_pk: int) -> HttpResponse:
    batch = _visible_batch(request, batch_pk)
    form = PaymentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            payment = payment_record(
                batch=batch,
                by=request.membership,
                received_on=data["received_on"],
                reference=data["reference"],
                lines=data["lines"],
                request=request,
            )
        except FundingError as exc:
            _refusal_to_form(request, form, exc)
        else:
            messages.success(request, _("Le paiement est enregistré et rapproché du lot."))
            return redirect("funding:payment_detail", pk=payment.pk)
    return render(request, "funding/payment_form.html", {"batch": batch, "form": form})


@membership_required(Role.ORG_ADMIN)
def payment_import_view(request: HttpRequest, batch_pk: int) -> HttpResponse:
    """The funder's payment file: uploaded, previewed (what will be recorded, every row error; nothing written),
    then confirmed, all or nothing."""
    batch = _visible_batch(request, batch_pk)
    if not batch.is_issued:
        messages.info(request, _("Un paiement s'enregistre sur un lot émis."))
        return redirect("funding:batch_detail", pk=batch.pk)
    upload = PaymentFileForm(request.POST or None, request.FILES or None)
    confirm = PaymentFileConfirmForm(request.POST if "token" in request.POST else None, batch_pk=batch.pk)
    context: dict[str, Any] = {"batch": batch, "upload": upload, "plan": None, "confirm": None}
    if request.method == "POST" and "token" in request.POST:
        upload = PaymentFileForm()
        context["upload"] = upload
        if not confirm.is_valid():
            messages.error(request, " ".join(str(e) for errors in confirm.errors.values() for e in errors))
            return render(request, "funding/payment_import.html", context)
        try:
            plan, payments = payment_import(
                batch=batch, by=request.membership, content=confirm.cleaned_data["token"], request=request
            )
        except PaymentImportRefused as exc:
            # The preview's alert says it, above the file's errors: no second message on top of the page.
            context["plan"] = exc.plan
            return render(request, "funding/payment_import.html", context)
        except FundingError as exc:
            messages.error(request, str(exc))
            return render(request, "funding/payment_import.html", context)
        messages.success(request, _import_summary(len(payments), len(plan.already_recorded)))
        return redirect("funding:batch_detail", pk=batch.pk)
    if request.method == "POST" and upload.is_valid():
        content = upload.cleaned_data["file"]
        plan = payment_import_plan(batch=batch, content=content)
        context["plan"] = plan
        if not plan.errors and plan.payments:
            context["confirm"] = PaymentFileConfirmForm(
                initial={"token": PaymentFileConfirmForm.sign(content, batch_pk=batch.pk)}, batch_pk=batch.pk
            )
    return render(request, "funding/payment_import.html", context)


def _import_summary(recorded: int, skipped: int) -> str:
    summary = ngettext(
        "%(count)s paiement enregistré et rapproché du lot.",
        "%(count)s paiements enregistrés et rapprochés du lot.",
        recorded,
    ) % {"count": recorded}
    if skipped:
        summary += " " + ngettext(
            "%(count)s paiement du fichier était déjà enregistré : il est ignoré.",
            "%(count)s paiements du fichier étaient déjà enregistrés : ils sont ignorés.",
            skipped,
        ) % {"count": skipped}
    return summary


@membership_required(Role.ORG_ADMIN, Role.CERTIFPRO_ADMIN)
def payment_list(request: HttpRequest) -> HttpResponse:
    payments = (
        Payment.objects.visible_to(request.membership)
        .select_related("batch__funder", "organisation")
        .order_by("-received_on", "-id")
    )
    return render(request, "funding/payment_list.html", {"page": _page(request, payments)})


@membership_required(Role.ORG_ADMIN, Role.CERTIFPRO_ADMIN)
def payment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    payments = Payment.objects.visible_to(request.membership).select_related("batch__funder", "recorded_by")
    payment = get_object_or_404(
        payments.prefetch_related(
            Prefetch("lines", queryset=PaymentLine.objects.select_related("funding_line__dossier__candidate"))
        ),
        pk=pk,
    )
    lines = list(payment.lines.all())
    missing = list(
        FundingLine.objects.filter(pk__in=payment.missing_line_ids, batch=payment.batch)
        .select_related("dossier__candidate")
        .files_order()
    )
    return render(
        request,
        "funding/payment_detail.html",
        {
            "payment": payment,
            "batch": payment.batch,
            "matched": [pl for pl in lines if pl.status == MatchStatus.MATCHED],
            "differences": [pl for pl in lines if pl.status == MatchStatus.AMOUNT_DIFFERENCE],
            "unexpected": [pl for pl in lines if pl.status == MatchStatus.UNEXPECTED],
            "missing": missing,
        },
    )


# -- Fees and statements ---------------------------------------------------------------------------------------


@membership_required(Role.ORG_ADMIN, Role.CERTIFPRO_ADMIN)
def fee_list(request: HttpRequest) -> HttpResponse:
    filters = FeeFilterForm(request.GET)
    entries = filters.filter(
        FeeEntry.objects.visible_to(request.membership)
        .select_related("organisation", "dossier", "statement")
        .order_by("-occurred_on", "-id")
    )
    return render(
        request,
        "funding/fee_list.html",
        {
            "page": _page(request, entries),
            "filters": filters,
            "totals": fee_totals(entries),
            "query": _kept_query(request),
            "show_organisation": request.membership.is_certifpro,
        },
    )


@membership_required(Role.ORG_ADMIN, Role.CERTIFPRO_ADMIN)
def statement_list(request: HttpRequest) -> HttpResponse:
    statements = (
        Statement.objects.visible_to(request.membership)
        .select_related("organisation")
        .order_by("-period_start", "organisation__name")
    )
    page = _page(request, statements)
    documents_regeneration(request.membership, page.object_list)
    return render(
        request,
        "funding/statement_list.html",
        {
            "page": page,
            "form": QuarterForm() if request.membership.is_certifpro else None,
            "show_organisation": request.membership.is_certifpro,
        },
    )


@membership_required(Role.CERTIFPRO_ADMIN)
@post_only("funding:statement_list")
def statement_request(request: HttpRequest) -> HttpResponse:
    form = QuarterForm(request.POST)
    if form.is_valid():
        year, quarter = form.cleaned_data["quarter"]
        try:
            queued = statements_request(year=year, quarter=quarter, by=request.membership, request=request)
        except FundingError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                ngettext(
                    "Le relevé de %(count)s organisme est en production.",
                    "Les relevés de %(count)s organismes sont en production.",
                    len(queued),
                )
                % {"count": len(queued)},
            )
    else:
        messages.error(request, _("Choisissez un trimestre terminé."))
    return redirect("funding:statement_list")


@membership_required(Role.ORG_ADMIN, Role.CERTIFPRO_ADMIN)
def statement_download(request: HttpRequest, pk: int, fmt: str) -> FileResponse:
    statement = get_object_or_404(Statement.objects.visible_to(request.membership), pk=pk)
    if fmt not in {"csv", "pdf"}:
        raise Http404
    return FileResponse(
        getattr(statement, f"{fmt}_file").open("rb"),
        as_attachment=True,
        filename=statement.filename(fmt),
        content_type=CONTENT_TYPES[fmt],
    )


# -- Certif'Pro ------------------------------------------------------------------------------------------------


@membership_required(Role.CERTIFPRO_ADMIN)
def national(request: HttpRequest) -> HttpResponse:
    filters = FeeFilterForm(request.GET)
    entries = filters.filter(FeeEntry.objects.visible_to(request.membership))
    return render(
        request,
        "funding/national.html",
        {
            "filters": filters,
            "fees_by_organisation": fees_by_organisation(entries),
            "fees_by_kind": fees_by_kind(entries),
            "fee_totals": fee_totals(entries),
            "funding": funding_by_funder(FundingLine.objects.visible_to(request.membership)),
            "to_report": certificates_to_report().count(),
            "overdue": certificates_overdue().count(),
        },
    )


@membership_required(Role.CERTIFPRO_ADMIN)
def cdc_list(request: HttpRequest) -> HttpResponse:
    """The declarations to the Caisse des Dépôts: what the next flux holds, what stops the rest (holders to
    complete, rejections to correct), the fluxes sent and their reports."""
    settings = CdcSettings.current()
    pending = cdc_pending(settings)
    fluxes = _page(
        request,
        CdcFlux.objects.visible_to(request.membership)
        .annotate(
            awards=Count("declarations", filter=Q(declarations__kind=DeclarationKind.AWARD)),
            withdrawals=Count("declarations", filter=Q(declarations__kind=DeclarationKind.WITHDRAWAL)),
            accepted=Count("declarations", filter=Q(declarations__status=DeclarationStatus.ACCEPTED)),
            rejected=Count("declarations", filter=Q(declarations__status=DeclarationStatus.REJECTED)),
        )
        .order_by("-number"),
        10,
    )
    today = timezone.localdate()
    return render(
        request,
        "funding/cdc_list.html",
        {
            "pending": pending,
            "ready_rows": [(c, cdc_deadline(c.awarded_on)) for c in pending.ready[:100]],
            "overdue": certificates_overdue(today).count(),
            "fluxes": fluxes,
            "settings": settings,
            "today": today,
        },
    )


@membership_required(Role.CERTIFPRO_ADMIN)
@post_only("funding:cdc_list")
def cdc_generate(request: HttpRequest) -> HttpResponse:
    try:
        flux = cdc_flux_generate(by=request.membership, request=request)
    except FundingError as exc:
        messages.error(request, str(exc))
    else:
        count = flux.declarations.count()
        messages.success(
            request,
            ngettext(
                "Flux %(flux)s produit et validé : %(count)s certificat déclaré. Téléchargez-le et déposez-le sur "
                "le portail de la Caisse des Dépôts.",
                "Flux %(flux)s produit et validé : %(count)s certificats déclarés. Téléchargez-le et déposez-le sur "
                "le portail de la Caisse des Dépôts.",
                count,
            )
            % {"flux": flux.flux_id, "count": count},
        )
    return redirect("funding:cdc_list")


@membership_required(Role.CERTIFPRO_ADMIN)
def cdc_flux_download(request: HttpRequest, pk: int) -> FileResponse:
    flux = get_object_or_404(CdcFlux.objects.visible_to(request.membership), pk=pk)
    return FileResponse(
        flux.file.open("rb"), as_attachment=True, filename=flux.filename, content_type="application/xml"
    )


@membership_required(Role.CERTIFPRO_ADMIN)
def cdc_report_import_view(request: HttpRequest) -> HttpResponse:
    form = CdcReportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            imported = cdc_report_import(upload=form.cleaned_data["file"], by=request.membership, request=request)
        except FundingError as exc:
            _refusal_to_form(request, form, exc)
        else:
            accepted = ngettext(
                "%(count)s déclaration acceptée", "%(count)s déclarations acceptées", imported.accepted
            ) % {"count": imported.accepted}
            rejected = ngettext("%(count)s rejetée", "%(count)s rejetées", imported.rejected) % {
                "count": imported.rejected
            }
            messages.success(
                request,
                _("Compte rendu du flux %(flux)s importé : %(accepted)s, %(rejected)s.")
                % {"flux": imported.flux.flux_id, "accepted": accepted, "rejected": rejected},
            )
            return redirect("funding:cdc_list")
    return render(request, "funding/cdc_report_import.html", {"form": form})


@membership_required(Role.CERTIFPRO_ADMIN)
def cdc_holder(request: HttpRequest, certificate_pk: int) -> HttpResponse:
    """Complete or correct the civil status of a certificate's holder, for the Caisse des Dépôts."""
    certificate = get_object_or_404(
        Certificate.objects.visible_to(request.membership).produced().select_related("dossier__candidate"),
        pk=certificate_pk,
    )
    candidate = certificate.dossier.candidate
    rejection = (
        CdcDeclaration.objects.filter(certificate=certificate, status=DeclarationStatus.REJECTED)
        .order_by("-id")
        .first()
    )
    form = CdcHolderForm(request.POST or None, candidate=candidate)
    changed: list[str] | None = None
    if request.method == "POST" and form.is_valid():
        try:
            changed = candidate_complete_for_cdc(
                candidate=candidate, by=request.membership, data=form.service_data(), request=request
            )
        except NewDossierRefusal as exc:  # the corrected identity is another holder's
            form.add_error(None, str(exc))
    if changed is not None:
        if changed:
            messages.success(
                request,
                _("État civil de %(name)s enregistré : le certificat sera déclaré dans le prochain flux.")
                % {"name": certificate.holder_name},
            )
        else:
            messages.info(request, _("Rien n'a changé."))
        return redirect("funding:cdc_list")
    return render(
        request,
        "funding/cdc_holder.html",
        {"certificate": certificate, "candidate": candidate, "form": form, "rejection": rejection},
    )
