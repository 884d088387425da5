from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from candidates.forms import (
    CONSENT_TEXT,
    TRANSFER_CONSENT_TEXT,
    CandidateIdentityForm,
    CorrectionAnswerForm,
    DossierCreateForm,
    DossierFilterForm,
    DossierNoteForm,
    DossierOpenForm,
    DossierTakeTimeForm,
    DossierWithdrawForm,
    TransferConfirmForm,
    TransferFindForm,
)
from candidates.models import (
    DOSSIER_ROLES,
    DOSSIER_SORTS,
    TRANSFERABLE_STATES,
    Candidate,
    CorrectionRequest,
    Dossier,
    DossierQuerySet,
    DossierState,
    DossierTransfer,
)
from candidates.services import (
    CANDIDATE_CORRECTION_ROLES,
    TRANSFER_ROLES,
    CorrectionAlreadyAnswered,
    DossierConflict,
    NewDossierRefusal,
    NotInInformation,
    TransferLookupsExceeded,
    TransferRefused,
    TransitionRefused,
    candidate_correct,
    correction_request_answer,
    dossier_create,
    dossier_note_add,
    dossier_open,
    dossier_take_time,
    dossier_transfer,
    dossier_withdraw,
    dossiers_export,
    transfer_find,
)
from clea_platform import spreadsheets
from clea_platform.french import of_name
from clea_platform.tenancy import membership_required
from organisations.models import Membership, Role
from referentiels.models import Referentiel

PAGE_SIZE = 25


def _visible_dossier(request: HttpRequest, pk: int) -> Dossier:
    """The dossier if the current membership may see it; 404 otherwise (missing or another organisation's)."""
    dossiers = Dossier.objects.visible_to(request.membership).select_related("candidate")
    return get_object_or_404(dossiers, pk=pk)


@dataclass(frozen=True)
class SortHeader:
    """A sortable column's header: its link sorts by the column (the other way round when it already does)."""

    label: str
    query: str
    # aria-sort of the column the list is sorted by ("ascending", "descending"); empty for the others.
    aria_sort: str
    next_direction: str


def sort_headers(request: HttpRequest, current: str) -> dict[str, SortHeader]:
    """Each sortable column's header, its link keeping the filters (and going back to the first page)."""
    kept = [(key, value) for key, value in request.GET.items() if key not in {"page", "sort"} and value]
    headers = {}
    for key, column in DOSSIER_SORTS.items():
        if current.removeprefix("-") == key:
            descending = current.startswith("-")
            aria_sort = "descending" if descending else "ascending"
            sort = key if descending else f"-{key}"
        else:
            aria_sort, sort = "", f"{column.first}{key}"
        headers[key] = SortHeader(
            label=str(column.label),
            query=urlencode([*kept, ("sort", sort)]),
            aria_sort=aria_sort,
            next_direction=_("décroissant") if sort.startswith("-") else _("croissant"),
        )
    return headers


def _listed_dossiers(request: HttpRequest) -> tuple[DossierFilterForm, DossierQuerySet]:
    """The list's filters and the dossiers they keep, sorted: the screen pages them, the export takes them all."""
    filters = DossierFilterForm(request.GET)
    dossiers = Dossier.objects.visible_to(request.membership).select_related("candidate", "organisation")
    return filters, filters.filter(dossiers)


@membership_required(*DOSSIER_ROLES)
def dossier_list(request: HttpRequest) -> HttpResponse:
    membership: Membership = request.membership
    filters, dossiers = _listed_dossiers(request)
    page = Paginator(dossiers, PAGE_SIZE).get_page(request.GET.get("page"))
    kept = [(key, value) for key, value in request.GET.items() if key != "page" and value]
    return render(
        request,
        "candidates/dossier_list.html",
        {
            "page": page,
            "filters": filters,
            "filtering": filters.is_filtering(),
            "query": urlencode(kept),
            "sort_headers": sort_headers(request, filters.current_sort()),
            "can_create": membership.role == Role.COUNSELLOR,
            "can_transfer": membership.role in TRANSFER_ROLES,
        },
    )


@membership_required(*DOSSIER_ROLES)
def dossier_export(request: HttpRequest) -> HttpResponse:
    """The list as CSV or XLSX: the same scoped and filtered dossiers, in the same order, every page."""
    fmt = request.GET.get("format", "csv")
    if fmt not in spreadsheets.CONTENT_TYPES:
        raise Http404
    filters, dossiers = _listed_dossiers(request)
    applied = filters.cleaned_data if filters.is_valid() else {}
    content = dossiers_export(
        by=request.membership,
        dossiers=dossiers,
        fmt=fmt,
        # The searched text may be a name: the audit row says a search was made, not what it was.
        filters={
            **{key: value for key, value in applied.items() if value and key != "q"},
            "search": bool(applied.get("q")),
        },
        request=request,
    )
    return spreadsheets.attachment(content, fmt, f"dossiers-{timezone.localdate():%Y-%m-%d}")


@membership_required(Role.COUNSELLOR)
def dossier_create_view(request: HttpRequest) -> HttpResponse:
    membership: Membership = request.membership
    certifications = set(membership.organisation.habilitations.in_force().values_list("certification", flat=True))
    if not certifications:
        return render(request, "candidates/dossier_create.html", {"form": None})
    form = DossierCreateForm(
        request.POST if request.method == "POST" else None, certifications=certifications, membership=membership
    )
    if request.method == "POST" and form.is_valid():
        try:
            dossier = dossier_create(
                membership=membership,
                candidate_data=form.candidate_data(),
                certification=form.cleaned_data["certification"],
                request=request,
            )
        except Referentiel.DoesNotExist:
            messages.error(
                request, _("Aucun référentiel n'est en vigueur pour cette certification : contactez Certif'Pro.")
            )
        except NewDossierRefusal as exc:  # a colleague created it since the form was checked
            form.refusal = exc
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("Le dossier %(ref)s %(of_name)s est créé.")
                % {"ref": dossier.reference, "of_name": of_name(dossier.candidate.full_name)},
            )
            return redirect("journey:dossier_detail", pk=dossier.pk)
    return render(request, "candidates/dossier_create.html", {"form": form})


@membership_required(Role.COUNSELLOR)
def dossier_open_view(request: HttpRequest, pk: int) -> HttpResponse:
    dossier = _visible_dossier(request, pk)
    if dossier.state != DossierState.INFORMATION:
        messages.info(
            request,
            _("Ce dossier est à l'étape « %(state)s » : il n'y a plus d'accord à recueillir.")
            % {"state": dossier.get_state_display()},
        )
        return redirect("journey:dossier_detail", pk=dossier.pk)
    form = DossierOpenForm(request.POST if request.method == "POST" else None, candidate=dossier.candidate)
    if request.method == "POST" and form.is_valid():
        try:
            dossier_open(
                dossier=dossier,
                by=request.membership,
                consent_text=CONSENT_TEXT,
                candidate_data=form.candidate_data(),
                notify_by_email=form.cleaned_data["notify_by_email"],
                request=request,
            )
        except (TransitionRefused, DossierConflict) as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Le dossier %(ref)s est ouvert.") % {"ref": dossier.reference})
            return redirect("journey:dossier_detail", pk=dossier.pk)
    return render(
        request, "candidates/dossier_open.html", {"dossier": dossier, "form": form, "consent_text": CONSENT_TEXT}
    )


@membership_required(Role.COUNSELLOR, Role.ORG_ADMIN)
def dossier_withdraw_view(request: HttpRequest, pk: int) -> HttpResponse:
    dossier = _visible_dossier(request, pk)
    if not dossier.is_open:
        messages.info(
            request,
            _("Ce dossier est déjà clos (« %(state)s »).") % {"state": dossier.get_state_display()},
        )
        return redirect("journey:dossier_detail", pk=dossier.pk)
    form = DossierWithdrawForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            dossier_withdraw(
                dossier=dossier,
                by=request.membership,
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except (TransitionRefused, DossierConflict) as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Le dossier %(ref)s est clos (abandon).") % {"ref": dossier.reference})
            return redirect("journey:dossier_detail", pk=dossier.pk)
    return render(request, "candidates/dossier_withdraw.html", {"dossier": dossier, "form": form})


def _information_dossier(request: HttpRequest, pk: int) -> Dossier | HttpResponse:
    """The dossier if it may still take notes and « prend le temps de réfléchir »; else a redirect to its page."""
    dossier = _visible_dossier(request, pk)
    if dossier.state != DossierState.INFORMATION or dossier.anonymised_at is not None:
        messages.info(
            request,
            _("Ce dossier est à l'étape « %(state)s » : les notes d'entretien se prennent à l'étape « Information ».")
            % {"state": dossier.get_state_display()},
        )
        return redirect("journey:dossier_detail", pk=dossier.pk)
    return dossier


@membership_required(*CANDIDATE_CORRECTION_ROLES)
def dossier_note_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a dated note of the information interview (the earlier ones stay, on the dossier page)."""
    dossier = _information_dossier(request, pk)
    if isinstance(dossier, HttpResponse):
        return dossier
    form = DossierNoteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            dossier_note_add(dossier=dossier, by=request.membership, text=form.cleaned_data["text"], request=request)
        except NotInInformation as exc:
            messages.info(request, str(exc))
            return redirect("journey:dossier_detail", pk=dossier.pk)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("La note est enregistrée."))
            return redirect(f"{reverse('journey:dossier_detail', kwargs={'pk': dossier.pk})}#notes-title")
    return render(request, "candidates/dossier_note.html", {"dossier": dossier, "form": form})


@membership_required(*CANDIDATE_CORRECTION_ROLES)
def dossier_take_time_view(request: HttpRequest, pk: int) -> HttpResponse:
    """« La personne prend le temps de réfléchir »: she leaves without opening, maybe with a day to call her back."""
    dossier = _information_dossier(request, pk)
    if isinstance(dossier, HttpResponse):
        return dossier
    initial = {"reminder_on": dossier.reflection_reminder_on}
    form = DossierTakeTimeForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            dossier_take_time(
                dossier=dossier, by=request.membership, reminder_on=form.cleaned_data["reminder_on"], request=request
            )
        except NotInInformation as exc:
            messages.info(request, str(exc))
            return redirect("journey:dossier_detail", pk=dossier.pk)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("C'est noté : la personne prend le temps de réfléchir."))
            return redirect("journey:dossier_detail", pk=dossier.pk)
    return render(
        request,
        "candidates/dossier_take_time.html",
        {"dossier": dossier, "form": form, "idle_days": settings.INFORMATION_IDLE_DAYS},
    )


@membership_required(*CANDIDATE_CORRECTION_ROLES)
def candidate_correct_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct the identity and contact details of the dossier's candidate (`pk` is the dossier's: the page is
    reached from it, and returns to it)."""
    dossier = _visible_dossier(request, pk)
    if not dossier.candidate.can_be_corrected:
        messages.info(
            request, _("Les données personnelles de ce dossier sont anonymisées : il n'y a plus rien à corriger.")
        )
        return redirect("journey:dossier_detail", pk=dossier.pk)
    # The form works on a copy: a refused form must not leave the page's candidate half-changed.
    form = CandidateIdentityForm(
        request.POST if request.method == "POST" else None, instance=Candidate.objects.get(pk=dossier.candidate_id)
    )
    if request.method == "POST" and form.is_valid():
        try:
            changed = candidate_correct(
                candidate=dossier.candidate,
                by=request.membership,
                data={name: form.cleaned_data[name] for name in form.Meta.fields},
                request=request,
            )
        except NewDossierRefusal as exc:  # the corrected identity is someone's with a dossier or the certificate
            form.add_error(None, forms.ValidationError(str(exc), code=exc.code))
            return render(request, "candidates/candidate_correct.html", {"dossier": dossier, "form": form})
        if changed:
            messages.success(
                request,
                ngettext(
                    "%(count)s champ corrigé ; la correction figure à l'historique du dossier.",
                    "%(count)s champs corrigés ; la correction figure à l'historique du dossier.",
                    len(changed),
                )
                % {"count": len(changed)},
            )
        else:
            messages.info(request, _("Aucune modification : rien n'a été enregistré."))
        return redirect("journey:dossier_detail", pk=dossier.pk)
    return render(request, "candidates/candidate_correct.html", {"dossier": dossier, "form": form})


@membership_required(*CANDIDATE_CORRECTION_ROLES)
def correction_request_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A candidate's correction request: what they wrote, their current data with the link to correct it, and the
    answer that marks it handled. Another organisation's request is a 404 like a missing one."""
    correction = get_object_or_404(
        CorrectionRequest.objects.visible_to(request.membership).select_related("candidate", "dossier", "answered_by"),
        pk=pk,
    )
    candidate = correction.candidate
    # The correction form is reached through a dossier of the person's: the one they named, else their latest.
    dossier = correction.dossier or candidate.dossiers.order_by("-updated_at", "-pk").first()
    form = CorrectionAnswerForm(request.POST if request.method == "POST" and correction.is_open else None)
    if request.method == "POST":
        if not correction.is_open:
            messages.info(request, _("Cette demande de rectification est déjà traitée."))
            return redirect("candidates:correction_request", pk=correction.pk)
        if form.is_valid():
            try:
                correction_request_answer(
                    correction=correction, by=request.membership, answer=form.cleaned_data["answer"], request=request
                )
            except CorrectionAlreadyAnswered as exc:  # a colleague answered since the page was loaded
                messages.info(request, str(exc))
                return redirect("candidates:correction_request", pk=correction.pk)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("La demande est traitée : la personne lira votre réponse dans son espace."))
                return redirect("candidates:correction_request", pk=correction.pk)
    return render(
        request,
        "candidates/correction_request.html",
        {
            "correction": correction,
            "candidate": candidate,
            "dossier": dossier,
            "form": form,
            "can_correct_candidate": dossier is not None and candidate.can_be_corrected,
        },
    )


@membership_required(*TRANSFER_ROLES)
def transfer_view(request: HttpRequest) -> HttpResponse:
    """Take in a dossier the person brings from another organisation (issue 19): found by its reference and their
    birth date, never listed; then the person's agreement to the text read to them, and the move."""
    membership: Membership = request.membership
    posted = request.POST if request.method == "POST" else None
    confirming = posted is not None and "consent_step" in posted
    # The search (first step), or its reference and birth date sent back hidden with the confirmation.
    find = TransferFindForm(posted)
    confirm = TransferConfirmForm(posted if confirming else None)
    dossier = None
    too_many = False
    if find.is_bound and find.is_valid():
        try:
            dossier = transfer_find(
                membership=membership,
                reference=find.cleaned_data["reference"],
                birth_date=find.cleaned_data["birth_date"],
            )
        except TransferLookupsExceeded as exc:
            too_many = True
            find.add_error(None, str(exc))
        if dossier is None and not too_many:
            find.add_error(
                None,
                _(
                    "Aucun dossier d'un autre organisme ne correspond à cette référence et à cette date de naissance. "
                    "Vérifiez-les avec la personne."
                ),
            )
        elif not confirming:
            confirm = TransferConfirmForm(initial=find.cleaned_data)
    refusal = ""
    if dossier is not None and confirming and confirm.is_valid():
        try:
            dossier_transfer(
                dossier=dossier,
                to_organisation=membership.organisation,
                consent_text=TRANSFER_CONSENT_TEXT,
                consent_given=confirm.cleaned_data["consent"],
                reason=confirm.cleaned_data["reason"],
                by=membership,
                request=request,
            )
        except (TransferRefused, DossierConflict) as exc:
            refusal = str(exc)
        else:
            messages.success(
                request,
                _("Le dossier %(ref)s est maintenant suivi par votre organisme. Vous en êtes le conseiller.")
                % {"ref": dossier.reference},
            )
            return redirect("journey:dossier_detail", pk=dossier.pk)
    invalid = bool(find.is_bound and find.errors) or bool(confirm.is_bound and confirm.errors) or bool(refusal)
    return render(
        request,
        "candidates/transfer.html",
        {
            "dossier": dossier,
            "find": find,
            "confirm": confirm,
            "consent_text": TRANSFER_CONSENT_TEXT,
            "refusal": refusal,
            "movable": dossier is not None and dossier.state in TRANSFERABLE_STATES,
        },
        status=429 if too_many else 400 if invalid else 200,
    )


@membership_required(*DOSSIER_ROLES)
def transferred_away_list(request: HttpRequest) -> HttpResponse:
    """The dossiers that left the organisation for another (issue 19): each links to its read-only page."""
    transfers = (
        DossierTransfer.objects.visible_to(request.membership)
        .filter(from_organisation_id=request.membership.organisation_id)
        .exclude(dossier__organisation_id=request.membership.organisation_id)
        .select_related("dossier__candidate", "to_organisation")
        .order_by("-at", "-id")
    )
    page = Paginator(transfers, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "candidates/transferred_away_list.html", {"page": page})
