from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from candidates.services import NewDossierRefusal
from clea_platform.french import of_name
from clea_platform.tenancy import membership_required
from directory.selectors import directory_sites
from organisations.models import Membership, Role
from referrals.forms import ReferralAcceptForm, ReferralDeclineForm, ReferralFilterForm, ReferralForm
from referrals.models import ACCEPTING_ROLE, REFERRAL_ROLES, WHO_ACCEPTS, Referral, ReferralQuerySet, ReferralState
from referrals.services import (
    ReferralError,
    referral_accept,
    referral_consent_text,
    referral_decline,
    referral_new_dossier_refusal,
    referral_send,
)

PAGE_SIZE = 25


def _referral(referrals: ReferralQuerySet, pk: int) -> Referral:
    """The referral among those given (visible to, or received by, the membership); 404 otherwise."""
    return get_object_or_404(
        referrals.select_related("site", "organisation", "from_organisation", "advisor", "answered_by", "dossier"),
        pk=pk,
    )


@membership_required(*REFERRAL_ROLES)
def referral_list(request: HttpRequest) -> HttpResponse:
    membership: Membership = request.membership
    filters = ReferralFilterForm(request.GET)
    referrals = filters.filter(
        Referral.objects.visible_to(membership).select_related(
            "site", "organisation", "from_organisation", "advisor", "dossier"
        )
    )
    page = Paginator(referrals, PAGE_SIZE).get_page(request.GET.get("page"))
    kept = [(key, value) for key, value in request.GET.items() if key != "page" and value]
    return render(
        request,
        "referrals/referral_list.html",
        {
            "page": page,
            "filters": filters,
            "filtering": bool(request.GET.get("state")),
            "query": urlencode(kept),
            "sender_view": membership.role == Role.FT_ADVISOR,
            "who_accepts": WHO_ACCEPTS if membership.role == Role.ORG_ADMIN else "",
        },
    )


@membership_required(Role.FT_ADVISOR)
def referral_create(request: HttpRequest) -> HttpResponse:
    """Refer a job seeker to a directory site (?site=<id>, as the directory links it)."""
    membership: Membership = request.membership
    try:
        site_id = int(request.GET.get("site", ""))
    except ValueError as exc:
        raise Http404 from exc
    site = get_object_or_404(directory_sites(), pk=site_id)
    certifications = [h.certification for h in site.organisation.habilitations_in_force]
    wanted = request.GET.get("certification", "")
    initial = {"certification": wanted} if wanted in certifications else {}
    form = ReferralForm(
        request.POST if request.method == "POST" else None, certifications=certifications, initial=initial
    )
    certification = form.data.get("certification") or initial.get("certification") or certifications[0]
    consent_text = referral_consent_text(
        site=site, certification=certification if certification in certifications else certifications[0]
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            referral = referral_send(
                by=membership,
                site=site,
                certification=data["certification"],
                identity=form.identity(),
                note=data["note"],
                consent_text=referral_consent_text(site=site, certification=data["certification"]),
                request=request,
            )
        except ReferralError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("L'orientation %(of_name)s vers %(organisation)s est envoyée.")
                % {"of_name": of_name(referral.full_name), "organisation": site.organisation.name},
            )
            return redirect("referrals:detail", pk=referral.pk)
    return render(
        request,
        "referrals/referral_form.html",
        {"form": form, "site": site, "consent_text": consent_text},
    )


@membership_required(*REFERRAL_ROLES)
def referral_detail(request: HttpRequest, pk: int) -> HttpResponse:
    membership: Membership = request.membership
    referral = _referral(Referral.objects.visible_to(membership), pk)
    receives = referral.is_received_by(membership)
    return render(
        request,
        "referrals/referral_detail.html",
        {
            "referral": referral,
            "events": referral.events.select_related("actor"),
            # France Travail learns the answer and its date, not who answered in the organisation (as in the API).
            "hide_actors": not receives,
            "receives": receives,
            # The sending agency learns the dossier's step, nothing of its content.
            "dossier_step": referral.dossier.get_state_display() if referral.dossier_id else "",
            "can_answer": receives
            and referral.state == ReferralState.SENT
            and membership.role in {Role.COUNSELLOR, Role.ORG_ADMIN},
            "can_accept": receives and referral.state == ReferralState.SENT and membership.role == ACCEPTING_ROLE,
            "who_accepts": WHO_ACCEPTS,
        },
    )


def _answerable(request: HttpRequest, referral: Referral) -> bool:
    """Only a referral awaiting an answer can be answered; otherwise say why and go back to it."""
    if referral.state == ReferralState.SENT:
        return True
    messages.info(
        request,
        _("Cette orientation est « %(state)s » : elle n'attend plus de réponse.")
        % {"state": referral.get_state_display()},
    )
    return False


@membership_required(Role.COUNSELLOR, Role.ORG_ADMIN)
def referral_accept_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership: Membership = request.membership
    referral = _referral(Referral.objects.received_by(membership), pk)
    if not _answerable(request, referral):
        return redirect("referrals:detail", pk=referral.pk)
    if membership.role != ACCEPTING_ROLE:
        # The administrator who followed a link here learns who accepts rather than meeting a bare 403.
        messages.info(request, WHO_ACCEPTS)
        return redirect("referrals:detail", pk=referral.pk)
    initial = {"birth_place": referral.birth_place, "education_level": referral.education_level}
    # Shown before the counsellor fills anything in; referral_accept refuses the same way.
    refusal = referral_new_dossier_refusal(referral=referral)
    form = ReferralAcceptForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            referral = referral_accept(
                referral=referral,
                by=membership,
                extra={
                    "birth_place": form.cleaned_data["birth_place"],
                    "education_level": form.cleaned_data["education_level"],
                },
                request=request,
            )
        except NewDossierRefusal as exc:  # shown in the page's refusal box
            refusal = exc
        except ReferralError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("Orientation acceptée : le dossier %(ref)s %(of_name)s est créé à l'étape « Information ».")
                % {"ref": referral.dossier.reference, "of_name": of_name(referral.full_name)},
            )
            return redirect("journey:dossier_detail", pk=referral.dossier_id)
    return render(
        request,
        "referrals/referral_accept.html",
        {"referral": referral, "form": form, "refusal": refusal},
    )


@membership_required(Role.COUNSELLOR, Role.ORG_ADMIN)
def referral_decline_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership: Membership = request.membership
    referral = _referral(Referral.objects.received_by(membership), pk)
    if not _answerable(request, referral):
        return redirect("referrals:detail", pk=referral.pk)
    form = ReferralDeclineForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            referral_decline(referral=referral, by=membership, reason=form.cleaned_data["reason"], request=request)
        except ReferralError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request, _("L'orientation %(of_name)s est déclinée.") % {"of_name": of_name(referral.full_name)}
            )
            return redirect("referrals:list")
    return render(request, "referrals/referral_decline.html", {"referral": referral, "form": form})
