"""Public pages (the person: ask, confirm, answer) and the organisation's pages (its requests, a proposal, the
dossier opened from a request). Thin: they parse, call intake.services and render."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from candidates.forms import DossierCreateForm
from candidates.models import Origin
from candidates.services import NewDossierRefusal, dossier_create
from clea_platform.ratelimit import over_limit
from clea_platform.request_meta import client_ip
from clea_platform.tenancy import membership_required
from directory.selectors import directory_sites
from intake.forms import AnswerForm, InterviewRequestForm, ProposalForm
from intake.ics import proposal_ics
from intake.models import InterviewRequest, InterviewRequestState
from intake.services import (
    interview_request_answer,
    interview_request_confirm,
    interview_request_convert,
    interview_request_propose,
    interview_request_submit,
    proposable_memberships,
)
from organisations.models import Membership, Role, Site
from referentiels.models import Referentiel

PAGE_SIZE = 25
HANDLING_ROLES = (Role.COUNSELLOR, Role.ORG_ADMIN)


# -- The person -----------------------------------------------------------------------------------------------------


def _listed_site(pk: int) -> Site:
    """A site of the public directory (active, of an evaluator organisation with a habilitation in force)."""
    site = directory_sites().filter(pk=pk).first()
    if site is None:
        raise Http404
    return site


def _rate_limited(request: HttpRequest, email: str) -> bool:
    email_key = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    period = settings.INTAKE_REQUEST_PERIOD
    by_address = over_limit(
        scope="intake-ip",
        ident=client_ip(request) or "unknown",
        limit=settings.INTAKE_REQUESTS_PER_ADDRESS,
        period=period,
    )
    by_email = over_limit(
        scope="intake-email", ident=email_key, limit=settings.INTAKE_REQUESTS_PER_EMAIL, period=period
    )
    return by_address or by_email


def request_create(request: HttpRequest, site_pk: int) -> HttpResponse:
    site = _listed_site(site_pk)
    certifications = [h.certification for h in getattr(site.organisation, "habilitations_in_force", [])]
    form = InterviewRequestForm(request.POST if request.method == "POST" else None, certifications=certifications)
    if request.method == "POST" and form.is_valid():
        if form.is_robot:
            return redirect("intake:sent")
        if _rate_limited(request, form.cleaned_data["email"]):
            response = render(request, "rate_limited.html", {"period": settings.INTAKE_REQUEST_PERIOD}, status=429)
            response["Retry-After"] = str(settings.INTAKE_REQUEST_PERIOD)
            return response
        interview_request_submit(
            site=site,
            certification=form.cleaned_data["certification"],
            first_name=form.cleaned_data["first_name"],
            last_name=form.cleaned_data["last_name"],
            email=form.cleaned_data["email"],
            phone=form.cleaned_data["phone"],
            preferred_times=form.preferred_text(),
        )
        return redirect("intake:sent")
    return render(
        request, "intake/request_form.html", {"form": form, "site": site}, status=400 if form.is_bound else 200
    )


def request_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "intake/request_sent.html")


def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button, POST confirms: mail scanners open links, they do not press buttons."""
    if request.method == "POST":
        if interview_request_confirm(token=token) is None:
            return render(request, "intake/link_unusable.html", status=410)
        return render(request, "intake/confirmed.html")
    return render(request, "intake/confirm.html")


def _proposed(token: str) -> InterviewRequest:
    found = (
        InterviewRequest.objects.by_token(token, InterviewRequestState.PROPOSED, timezone.now())
        .select_related("site", "organisation", "appointment__with_membership__user")
        .first()
    )
    if found is None:
        raise Http404
    return found


def answer(request: HttpRequest, token: str) -> HttpResponse:
    """The proposed meeting, and two buttons: accept, or ask for another time (with a message)."""
    try:
        interview_request = _proposed(token)
    except Http404:
        return render(request, "intake/link_unusable.html", status=410)
    form = AnswerForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        accept = request.POST.get("choice") == "accept"
        if interview_request_answer(token=token, accept=accept, message=form.cleaned_data["message"]) is None:
            return render(request, "intake/link_unusable.html", status=410)
        return render(request, "intake/answered.html", {"accepted": accept})
    return render(
        request,
        "intake/answer.html",
        {"interview_request": interview_request, "form": form, "token": token},
        status=400 if form.is_bound else 200,
    )


def answer_ics(request: HttpRequest, token: str) -> HttpResponse:
    interview_request = _proposed(token)
    response = HttpResponse(proposal_ics(interview_request), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="entretien-{interview_request.pk}.ics"'
    return response


# -- The organisation -----------------------------------------------------------------------------------------------


def _visible(request: HttpRequest, pk: int) -> InterviewRequest:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    found = (
        InterviewRequest.objects.visible_to(membership)
        .confirmed()
        .select_related("site", "dossier", "appointment__with_membership__user")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404
    return found


@membership_required(*HANDLING_ROLES)
def request_list(request: HttpRequest) -> HttpResponse:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    rows = InterviewRequest.objects.visible_to(membership).confirmed().select_related("site").order_by("-created_at")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "intake/request_list.html", {"page": page})


@membership_required(*HANDLING_ROLES)
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    interview_request = _visible(request, pk)
    events = interview_request.events.select_related("actor")
    return render(request, "intake/request_detail.html", {"interview_request": interview_request, "events": events})


@membership_required(*HANDLING_ROLES)
def request_propose(request: HttpRequest, pk: int) -> HttpResponse:
    interview_request = _visible(request, pk)
    if not interview_request.may_propose:
        messages.info(request, _("Cette demande est close : il n'y a plus de rendez-vous à proposer."))
        return redirect("intake:detail", pk=pk)
    people = proposable_memberships(interview_request.organisation_id)
    site = interview_request.site
    form = ProposalForm(
        request.POST if request.method == "POST" else None,
        people=people,
        initial={"place": f"{site.name}, {site.address}, {site.postcode} {site.city}"},
    )
    if request.method == "POST" and form.is_valid():
        try:
            interview_request_propose(
                interview_request=interview_request,
                by=request.membership,  # type: ignore[attr-defined]
                starts_at=form.starts_at(),
                duration_minutes=form.cleaned_data["duration_minutes"],
                with_membership=form.cleaned_data["with_membership"],
                place=form.cleaned_data["place"],
                request=request,
            )
        except ValidationError as exc:
            if not hasattr(exc, "error_dict"):  # the request closed meanwhile
                form.add_error(None, exc.messages)
            else:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Le rendez-vous est proposé : la personne a reçu un courriel."))
            return redirect("intake:detail", pk=pk)
    return render(
        request,
        "intake/propose.html",
        {"interview_request": interview_request, "form": form},
        status=400 if form.is_bound else 200,
    )


@membership_required(Role.COUNSELLOR)
def request_convert(request: HttpRequest, pk: int) -> HttpResponse:
    """The existing dossier form, filled from the request; the dossier starts at « Information »."""
    interview_request = _visible(request, pk)
    if not interview_request.may_convert:
        messages.info(request, _("Un dossier ne peut plus être ouvert depuis cette demande."))
        return redirect("intake:detail", pk=pk)
    membership: Membership = request.membership  # type: ignore[attr-defined]
    certifications = set(membership.organisation.habilitations.in_force().values_list("certification", flat=True))
    form = DossierCreateForm(
        request.POST if request.method == "POST" else None,
        certifications=certifications,
        membership=membership,
        initial={
            "first_name": interview_request.first_name,
            "last_name": interview_request.last_name,
            "email": interview_request.email,
            "phone": interview_request.phone,
            "certification": interview_request.certification,
            "origin": Origin.OWN_INITIATIVE,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                dossier = dossier_create(
                    membership=membership,
                    candidate_data=form.candidate_data(),
                    certification=form.cleaned_data["certification"],
                    request=request,
                )
                interview_request_convert(
                    interview_request=interview_request, dossier=dossier, by=membership, request=request
                )
        except Referentiel.DoesNotExist:
            messages.error(
                request, _("Aucun référentiel n'est en vigueur pour cette certification : contactez Certif'Pro.")
            )
        except NewDossierRefusal as exc:
            form.refusal = exc
            form.add_error(None, str(exc))
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(
                request, _("Le dossier %(ref)s est créé à partir de la demande.") % {"ref": dossier.reference}
            )
            return redirect("journey:dossier_detail", pk=dossier.pk)
    return render(
        request,
        "candidates/dossier_create.html",
        {"form": form, "interview_request": interview_request},
        status=400 if form.is_bound else 200,
    )
