"""The candidate's own space, under /mon-espace/ (issue 18), and the counsellor's button that sends a sign-in link.

Every page of the space needs a candidate session (`candidate_required`); every object is read from the person's
scope (space.selectors): another person's dossier, document or appointment is a 404, like a missing one."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache

from candidates.forms import MY_TRANSFER_CONSENT_TEXT
from candidates.models import LINK_VALIDITY, TRANSFERABLE_STATES, Candidate, Dossier
from candidates.services import correction_request_create
from clea_platform.actions import post_only
from clea_platform.downloads import file_response
from clea_platform.errors import BusinessRefusal
from clea_platform.ratelimit import over_limit
from clea_platform.request_meta import client_ip
from clea_platform.tenancy import membership_required
from clea_platform.verification import verification_qr_svg, verification_url
from credentials.services import credential_download
from juries.models import Certificate
from organisations.models import Site
from scheduling.ics import appointment_ics, appointment_ics_filename
from space import selectors
from space.forms import MoveForm, MyCorrectionForm, SignInRequestForm
from space.services import (
    LINK_SENDERS,
    LinkUnusable,
    SpaceRefusal,
    candidate_session_end,
    consent_withdraw,
    dossier_move,
    person_data_export,
    sign_in_link_request,
    sign_in_link_send,
    sign_in_link_use,
)

# Asking for links: per client address (a person on a shared connection may retry), and per e-mail address (nobody
# fills someone's mailbox with links).
REQUESTS_PER_ADDRESS = 20
REQUESTS_PER_EMAIL = 5
REQUEST_PERIOD = 60 * 60


def candidate_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A candidate session, or the page that sends a link (saying so when the session just ended for idleness)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.candidate_person is None:  # type: ignore[attr-defined]
            if request.candidate_session_ended:  # type: ignore[attr-defined]
                minutes = int(settings.CANDIDATE_SESSION_IDLE.total_seconds() // 60)
                ended = ngettext(
                    "Ma session est finie après %(n)s minute sans activité. Je demande un lien.",
                    "Ma session est finie après %(n)s minutes sans activité. Je demande un lien.",
                    minutes,
                )
                messages.info(request, ended % {"n": minutes})
            return redirect("space:sign_in_request")
        return view(request, *args, **kwargs)

    return wrapper


def _dossier(request: HttpRequest, pk: int) -> Dossier:
    try:
        return selectors.dossier_of(request.candidate_person, pk)  # type: ignore[attr-defined]
    except Dossier.DoesNotExist as exc:
        raise Http404 from exc


def _rate_limited(request: HttpRequest, email: str) -> bool:
    email_key = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    by_address = over_limit(
        scope="space-link-ip", ident=client_ip(request) or "unknown", limit=REQUESTS_PER_ADDRESS, period=REQUEST_PERIOD
    )
    by_email = over_limit(scope="space-link-email", ident=email_key, limit=REQUESTS_PER_EMAIL, period=REQUEST_PERIOD)
    return by_address or by_email


# -- Signing in ---------------------------------------------------------------------------------------------------


def sign_in_request(request: HttpRequest) -> HttpResponse:
    """The e-mail address and the birth date; the same answer whether they match a dossier or not."""
    form = SignInRequestForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if _rate_limited(request, form.cleaned_data["email"]):
            response = render(request, "space/rate_limited.html", status=429)
            response["Retry-After"] = str(REQUEST_PERIOD)
            return response
        sign_in_link_request(
            email=form.cleaned_data["email"], birth_date=form.cleaned_data["birth_date"], request=request
        )
        return redirect("space:sign_in_requested")
    return render(request, "space/sign_in_request.html", {"form": form}, status=400 if form.is_bound else 200)


def sign_in_requested(request: HttpRequest) -> HttpResponse:
    return render(request, "space/sign_in_requested.html", {"minutes": int(LINK_VALIDITY.total_seconds() // 60)})


@never_cache
def sign_in(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button and spends nothing (mail scanners open links); POST spends the link and opens the space.
    Never stored: the address holds the token."""
    if request.method == "POST":
        try:
            sign_in_link_use(token=token, request=request)
        except LinkUnusable:
            return render(request, "space/link_unusable.html", status=410)
        return redirect("space:home")
    return render(request, "space/sign_in.html", {"token": token})


@post_only("space:home")
def sign_out(request: HttpRequest) -> HttpResponse:
    candidate_session_end(request)
    return redirect("space:signed_out")


def signed_out(request: HttpRequest) -> HttpResponse:
    return render(request, "space/signed_out.html")


# -- The pages ----------------------------------------------------------------------------------------------------


@candidate_required
def home(request: HttpRequest) -> HttpResponse:
    """My dossiers; with only one (the usual case), straight to it."""
    dossiers = selectors.dossiers_of(request.candidate_person)  # type: ignore[attr-defined]
    if len(dossiers) == 1:
        return redirect("space:dossier", pk=dossiers[0].pk)
    return render(request, "space/home.html", {"dossiers": dossiers, "section": "journey"})


@candidate_required
def dossier_detail(request: HttpRequest, pk: int) -> HttpResponse:
    dossier = _dossier(request, pk)
    return render(
        request,
        "space/dossier.html",
        {
            "page": selectors.dossier_page(dossier),
            "dossier": dossier,
            "section": "journey",
            "can_move": dossier.state in TRANSFERABLE_STATES,
        },
    )


@candidate_required
def acquired(request: HttpRequest, pk: int) -> HttpResponse:
    dossier = _dossier(request, pk)
    return render(
        request,
        "space/acquired.html",
        {"dossier": dossier, "acquisitions": selectors.acquisitions(dossier), "section": "journey"},
    )


@candidate_required
def appointment_ics_view(request: HttpRequest, pk: int) -> HttpResponse:
    appointments = selectors.appointments_of(request.candidate_person).select_related(  # type: ignore[attr-defined]
        "dossier__organisation", "site", "with_membership__user"
    )
    appointment = get_object_or_404(appointments, pk=pk)
    response = HttpResponse(appointment_ics(appointment), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{appointment_ics_filename(appointment)}"'
    return response


@candidate_required
def documents(request: HttpRequest) -> HttpResponse:
    person = request.candidate_person  # type: ignore[attr-defined]
    certificates = [
        {
            "certificate": certificate,
            "url": verification_url(certificate.verification_code),
            # Large enough to be scanned off a phone's screen by another phone.
            "qr": verification_qr_svg(certificate.verification_code, scale=5),
        }
        for certificate in selectors.certificates_of(person)
    ]
    return render(
        request,
        "space/documents.html",
        {"attestations": selectors.attestations_of(person), "certificates": certificates, "section": "documents"},
    )


@candidate_required
def attestation_download(request: HttpRequest, pk: int) -> HttpResponse:
    attestations = {a.pk: a for a in selectors.attestations_of(request.candidate_person)}  # type: ignore[attr-defined]
    attestation = attestations.get(pk)
    if attestation is None or not attestation.file:
        raise Http404
    return file_response(attestation.file, attestation.filename)


def _certificate(request: HttpRequest, pk: int) -> Certificate:
    certificates = {c.pk: c for c in selectors.certificates_of(request.candidate_person)}  # type: ignore[attr-defined]
    certificate = certificates.get(pk)
    if certificate is None:
        raise Http404
    return certificate


@candidate_required
def certificate_download(request: HttpRequest, pk: int) -> HttpResponse:
    certificate = _certificate(request, pk)
    return file_response(certificate.file, certificate.filename)


@candidate_required
def credential_download_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The certificate's Open Badges credential (credentials app): the same scope as its PDF."""
    download = credential_download(_certificate(request, pk))
    if download is None:
        raise Http404
    filename, content, content_type = download
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# -- My consent ---------------------------------------------------------------------------------------------------


@candidate_required
def consent(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "space/consent.html", {"dossier": _dossier(request, pk), "section": "journey"})


@candidate_required
def consent_withdraw_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A page that says what withdrawing means, then the POST that withdraws the dossier."""
    dossier = _dossier(request, pk)
    refusal = ""
    if request.method == "POST" and dossier.is_open:
        try:
            consent_withdraw(person=request.candidate_person, dossier=dossier, request=request)  # type: ignore[attr-defined]
        except ObjectDoesNotExist as exc:
            raise Http404 from exc
        except BusinessRefusal as exc:
            refusal = str(exc)
        else:
            messages.success(request, _("C'est fait. Mon dossier est fermé."))
            return redirect("space:dossier", pk=dossier.pk)
    return render(
        request,
        "space/consent_withdraw.html",
        {"dossier": dossier, "refusal": refusal, "section": "journey"},
        status=409 if refusal else 200,
    )


# -- Changing organisation (issue 19) ------------------------------------------------------------------------------


@candidate_required
def move(request: HttpRequest, pk: int) -> HttpResponse:
    """« Changer d'organisme »: the habilitated organisations, nearest first, one site each."""
    dossier = _dossier(request, pk)
    movable = dossier.state in TRANSFERABLE_STATES
    return render(
        request,
        "space/move.html",
        {
            "dossier": dossier,
            "movable": movable,
            "sites": selectors.move_sites(dossier) if movable else [],
            "section": "journey",
        },
    )


@candidate_required
def move_confirm(request: HttpRequest, pk: int, site_pk: int) -> HttpResponse:
    """What moving means, the text the person agrees to, then the POST that moves the dossier."""
    dossier = _dossier(request, pk)
    try:
        site = selectors.move_site(dossier, site_pk)
    except Site.DoesNotExist as exc:
        raise Http404 from exc
    form = MoveForm(request.POST if request.method == "POST" else None)
    refusal = ""
    if request.method == "POST" and form.is_valid():
        try:
            dossier_move(
                person=request.candidate_person,  # type: ignore[attr-defined]
                dossier=dossier,
                site=site,
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except ObjectDoesNotExist as exc:
            raise Http404 from exc
        except BusinessRefusal as exc:
            refusal = str(exc)
        else:
            messages.success(
                request,
                _("C'est fait. Mon dossier est maintenant suivi par %(org)s.") % {"org": site.organisation.name},
            )
            return redirect("space:dossier", pk=dossier.pk)
    return render(
        request,
        "space/move_confirm.html",
        {
            "dossier": dossier,
            "site": site,
            "form": form,
            "consent_text": MY_TRANSFER_CONSENT_TEXT,
            "refusal": refusal,
            "section": "journey",
        },
        status=409 if refusal else (400 if form.errors else 200),
    )


# -- My data ------------------------------------------------------------------------------------------------------


@candidate_required
def my_data(request: HttpRequest) -> HttpResponse:
    """The copies of my data, my requests to correct it with their answers, and the form to ask for one."""
    person = request.candidate_person  # type: ignore[attr-defined]
    dossiers = selectors.dossiers_of(person)
    form = MyCorrectionForm(request.POST or None, dossiers=dossiers)
    if request.method == "POST" and dossiers and form.is_valid():
        dossier = form.dossier
        try:
            correction_request_create(
                candidate=dossier.candidate, dossier=dossier, message=form.cleaned_data["message"], request=request
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Ma demande est envoyée. La personne qui me suit va me répondre ici."))
            return redirect("space:data")
    return render(
        request,
        "space/data.html",
        {"form": form, "can_ask": bool(dossiers), "corrections": selectors.corrections_of(person), "section": "data"},
        status=400 if form.errors else 200,
    )


def _data_download(request: HttpRequest, kind: str, content_type: str) -> HttpResponse:
    try:
        content = person_data_export(person=request.candidate_person, kind=kind, request=request)  # type: ignore[attr-defined]
    except Candidate.DoesNotExist as exc:
        raise Http404 from exc
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="mes-donnees-{timezone.localdate():%Y-%m-%d}.{kind}"'
    return response


@candidate_required
def my_data_json(request: HttpRequest) -> HttpResponse:
    return _data_download(request, "json", "application/json; charset=utf-8")


@candidate_required
def my_data_pdf(request: HttpRequest) -> HttpResponse:
    return _data_download(request, "pdf", "application/pdf")


# -- The counsellor's button --------------------------------------------------------------------------------------


@membership_required(*LINK_SENDERS)
@post_only("journey:dossier_detail")
def link_send(request: HttpRequest, pk: int) -> HttpResponse:
    """Send the candidate a link to their space, from the staff dossier page (another organisation's is a 404)."""
    dossier = get_object_or_404(Dossier.objects.visible_to(request.membership), pk=pk)  # type: ignore[attr-defined]
    try:
        sign_in_link_send(dossier=dossier, by=request.membership, request=request)  # type: ignore[attr-defined]
    except SpaceRefusal as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Le lien est envoyé à %(email)s. Il est valable %(minutes)s minutes.")
            % {"email": dossier.candidate.email, "minutes": int(LINK_VALIDITY.total_seconds() // 60)},
        )
    return redirect("journey:dossier_detail", pk=dossier.pk)
