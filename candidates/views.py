from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from candidates.forms import (
    CONSENT_TEXT,
    DossierCreateForm,
    DossierFilterForm,
    DossierOpenForm,
    DossierWithdrawForm,
)
from candidates.models import DOSSIER_ROLES, Dossier, DossierState
from candidates.services import (
    DossierConflict,
    NewDossierRefusal,
    TransitionRefused,
    dossier_create,
    dossier_open,
    dossier_withdraw,
)
from clea_platform.tenancy import membership_required
from organisations.models import Membership, Role
from referentiels.models import Referentiel

PAGE_SIZE = 25


def _visible_dossier(request: HttpRequest, pk: int) -> Dossier:
    """The dossier if the current membership may see it; 404 otherwise (missing or another organisation's)."""
    dossiers = Dossier.objects.visible_to(request.membership).select_related("candidate")
    return get_object_or_404(dossiers, pk=pk)


@membership_required(*DOSSIER_ROLES)
def dossier_list(request: HttpRequest) -> HttpResponse:
    membership: Membership = request.membership
    filters = DossierFilterForm(request.GET)
    dossiers = filters.filter(Dossier.objects.visible_to(membership).select_related("candidate", "organisation"))
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
            "can_create": membership.role == Role.COUNSELLOR,
        },
    )


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
                _("Le dossier %(ref)s de %(name)s est créé.")
                % {"ref": dossier.reference, "name": dossier.candidate.full_name},
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
