"""The screens of Pix results (issue 21): upload a results file, read its lines (matched, to match, in error),
choose the dossier of a line or ignore it, record the matched lines. For evaluators (their organisation's imports)
and Certif'Pro (all); others 403, another organisation's import 404. Rules live in evaluations/services.py."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from candidates.models import identity_key
from clea_platform.actions import post_only
from clea_platform.tenancy import membership_required
from evaluations.forms import PixResolveForm, PixUploadForm
from evaluations.models import PIX_IMPORTERS, PixImport, PixImportRow, PixImportStatus, PixRowStatus
from evaluations.services import (
    PIX_REFUSALS,
    PixImportRefused,
    pix_import_apply,
    pix_import_create,
    pix_import_dossiers,
    pix_row_apply_handed_over,
    pix_row_resolve,
)
from organisations.models import Role

ROWS_PER_PAGE = 50
# The lines handed over by Certif'Pro shown at once (the oldest first; each recorded one leaves the list).
HANDED_OVER_SHOWN = 50
# The filters of an import's lines: (query value, label, statuses).
ROW_FILTERS: list[tuple[str, str | Promise, tuple[str, ...]]] = [
    ("a-rapprocher", gettext_lazy("À rapprocher"), (PixRowStatus.UNMATCHED,)),
    ("rapprochees", gettext_lazy("Rapprochées"), (PixRowStatus.MATCHED, PixRowStatus.RESOLVED)),
    ("enregistrees", gettext_lazy("Enregistrées"), (PixRowStatus.APPLIED,)),
    ("en-erreur", gettext_lazy("En erreur"), (PixRowStatus.INVALID,)),
    ("ignorees", gettext_lazy("Ignorées"), (PixRowStatus.IGNORED,)),
]


def _import_for(request: HttpRequest, pk: int) -> PixImport:
    return get_object_or_404(
        PixImport.objects.visible_to(request.membership).select_related("mapping_version", "uploaded_by"), pk=pk
    )


@membership_required(*PIX_IMPORTERS)
def import_list(request: HttpRequest) -> HttpResponse:
    form = PixUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            pix_import = pix_import_create(
                content=upload.read(), filename=upload.name, by=request.membership, request=request
            )
        except PixImportRefused as exc:
            form.add_error(None, str(exc))
        else:
            earlier = (
                PixImport.objects.visible_to(request.membership)
                .filter(sha256=pix_import.sha256)
                .exclude(pk=pix_import.pk)
                .order_by("uploaded_at")
                .first()
            )
            if earlier is not None:
                # Recording stays safe (a dossier takes one prior evaluation), but the person should know.
                messages.warning(
                    request,
                    _(
                        "Ce fichier a déjà été importé le %(day)s (« %(file)s ») : vérifiez que vous ne faites pas "
                        "deux fois le même travail. Un résultat déjà enregistré ne l'est jamais deux fois."
                    )
                    % {"day": f"{timezone.localtime(earlier.uploaded_at):%d/%m/%Y}", "file": earlier.filename},
                )
            if pix_import.status == PixImportStatus.REFUSED:
                messages.error(request, _("Le fichier n'a pas pu être lu : %(error)s") % {"error": pix_import.error})
            else:
                messages.success(
                    request,
                    ngettext(
                        "Fichier lu : %(total)s ligne (rapprochées : %(matched)s, à rapprocher : %(unmatched)s).",
                        "Fichier lu : %(total)s lignes (rapprochées : %(matched)s, à rapprocher : %(unmatched)s).",
                        pix_import.rows_total,
                    )
                    % {
                        "total": pix_import.rows_total,
                        "matched": pix_import.rows_matched,
                        "unmatched": pix_import.rows_unmatched,
                    },
                )
            return redirect("evaluations:pix_import", pk=pix_import.pk)
    imports = PixImport.objects.visible_to(request.membership).select_related("uploaded_by", "organisation")
    page = Paginator(imports, 20).get_page(request.GET.get("page"))
    handed_over = (
        PixImportRow.objects.handed_over_to(request.membership)
        .select_related("dossier__candidate")
        .order_by("taken_on", "pk")[:HANDED_OVER_SHOWN]
    )
    return render(
        request,
        "evaluations/pix_import_list.html",
        {
            "form": form,
            "page": page,
            "imports": page.object_list,
            "show_organisation": request.membership.is_certifpro,
            "handed_over": handed_over,
        },
    )


@post_only("evaluations:pix_imports")
@membership_required(Role.EVALUATOR)
def row_apply(request: HttpRequest, row_pk: int) -> HttpResponse:
    """An evaluator records a line Certif'Pro matched to one of their dossiers."""
    row = get_object_or_404(PixImportRow.objects.handed_over_to(request.membership), pk=row_pk)
    try:
        pix_row_apply_handed_over(row=row, by=request.membership, request=request)
    except PIX_REFUSALS as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Résultat Pix enregistré comme évaluation préalable du dossier %(ref)s.")
            % {"ref": row.dossier.reference},
        )
    return redirect("evaluations:pix_imports")


@membership_required(*PIX_IMPORTERS)
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    pix_import = _import_for(request, pk)
    rows = pix_import.rows.select_related("dossier").order_by("line_number")
    current = request.GET.get("statut", "")
    filters = {value: statuses for value, _label, statuses in ROW_FILTERS}
    if current in filters:
        rows = rows.filter(status__in=filters[current])
    page = Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    context: dict[str, Any] = {
        "pix_import": pix_import,
        "page": page,
        "rows": page.object_list,
        "filters": [(value, label) for value, label, _statuses in ROW_FILTERS],
        "current": current,
        "query": f"statut={current}" if current in filters else "",
        "can_apply": request.membership.role == "evaluator"
        and pix_import.rows_matched > 0
        and pix_import.status != PixImportStatus.APPLYING,
    }
    return render(request, "evaluations/pix_import_detail.html", context)


@membership_required(*PIX_IMPORTERS)
def row_resolve(request: HttpRequest, pk: int, row_pk: int) -> HttpResponse:
    pix_import = _import_for(request, pk)
    row = get_object_or_404(PixImportRow.objects.filter(pix_import=pix_import), pk=row_pk)
    candidates = pix_import_dossiers(pix_import, request.membership).select_related("candidate")
    # Suggestions, never a choice made for the person: the dossiers born the same day, of the same names, or whose
    # reference is the line's external id.
    same = Q(candidate__identity_key=identity_key(row.first_name, row.last_name))
    if row.birth_date:
        same |= Q(candidate__birth_date=row.birth_date)
    if row.external_id:
        # Organisations often enter the dossier's reference as the candidate's external id in Pix Certif.
        same |= Q(reference__iexact=row.external_id)
    suggestions = list(candidates.filter(same).order_by("candidate__last_name")[:20])
    choices = [
        (d.pk, f"{d.candidate.full_name} – {d.candidate.birth_date:%d/%m/%Y} – {d.reference}") for d in suggestions
    ]
    form = PixResolveForm(request.POST or None, suggestions=choices)
    if request.method == "POST":
        if "ignore" in request.POST:
            try:
                pix_row_resolve(row=row, by=request.membership, dossier=None, request=request)
            except PIX_REFUSALS as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _("Ligne %(n)s ignorée.") % {"n": row.line_number})
            return redirect(f"{_detail_url(pix_import)}?statut=a-rapprocher")
        if form.is_valid():
            chosen = form.cleaned_data.get("dossier")
            reference = form.cleaned_data["reference"].strip()
            dossier = (
                candidates.filter(pk=chosen).first()
                if chosen
                else candidates.filter(reference__iexact=reference).first()
            )
            if dossier is None:
                form.add_error(
                    "reference" if reference else None,
                    _(
                        "Aucun dossier CléA numérique de votre périmètre en attente d'évaluation préalable "
                        "n'a cette référence."
                    ),
                )
            else:
                try:
                    pix_row_resolve(row=row, by=request.membership, dossier=dossier, request=request)
                except PIX_REFUSALS as exc:
                    form.add_error(None, str(exc))
                else:
                    messages.success(
                        request,
                        _("Ligne %(n)s rapprochée du dossier %(ref)s.")
                        % {"n": row.line_number, "ref": dossier.reference},
                    )
                    return redirect(f"{_detail_url(pix_import)}?statut=a-rapprocher")
    return render(request, "evaluations/pix_row_resolve.html", {"pix_import": pix_import, "row": row, "form": form})


def _detail_url(pix_import: PixImport) -> str:
    return reverse("evaluations:pix_import", args=[pix_import.pk])


@post_only("evaluations:pix_import")
@membership_required(*PIX_IMPORTERS)
def import_apply(request: HttpRequest, pk: int) -> HttpResponse:
    pix_import = _import_for(request, pk)
    try:
        pix_import_apply(pix_import=pix_import, by=request.membership, request=request)
    except PIX_REFUSALS as exc:
        messages.error(request, str(exc))
    else:
        pix_import.refresh_from_db()
        if pix_import.status == PixImportStatus.DONE:
            messages.success(
                request,
                ngettext(
                    "%(n)s résultat enregistré comme évaluation préalable.",
                    "%(n)s résultats enregistrés comme évaluations préalables.",
                    pix_import.rows_applied,
                )
                % {"n": pix_import.rows_applied},
            )
        else:
            messages.success(request, _("Enregistrement demandé : les résultats apparaissent au fur et à mesure."))
    return redirect("evaluations:pix_import", pk=pix_import.pk)


@membership_required(*PIX_IMPORTERS)
def import_file(request: HttpRequest, pk: int) -> FileResponse:
    """The file as it was received: nothing of it is lost, whatever could be read."""
    pix_import = _import_for(request, pk)
    if not pix_import.file:
        raise Http404  # past its retention: deleted
    return FileResponse(
        pix_import.file.open("rb"), as_attachment=True, filename=pix_import.filename, content_type="text/csv"
    )
