"""Certif'Pro's screens for personal data: the retention table, finding a person, the subject-access export and
erasure on request. Certif'Pro only (403 for every other role): the records of every organisation are involved.
The person's names travel in POST bodies, never in URLs (server logs, browser history)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from clea_platform.actions import post_only
from clea_platform.tenancy import membership_required
from organisations.models import Role
from privacy.forms import ErasureForm, PersonSearchForm, RecordsForm
from privacy.retention import retention_table
from privacy.selectors import PersonRecords, erasure_assessment, person_of, persons_search, record_label
from privacy.services import PrivacyRefusal, person_erase, person_export

ZIP = "application/zip"


def _person(kind: str, pk: int) -> PersonRecords:
    person = person_of(kind, pk)
    if person is None or not person.records:
        raise Http404
    return person


@membership_required(Role.CERTIFPRO_ADMIN)
def index(request: HttpRequest) -> HttpResponse:
    """The retention table, and the search for a person (posted: the name stays out of the URL)."""
    form = PersonSearchForm(request.POST if request.method == "POST" else None)
    found = persons_search(**form.cleaned_data) if request.method == "POST" and form.is_valid() else None
    return render(
        request,
        "privacy/index.html",
        {"form": form, "found": found, "table": retention_table()},
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


def _person_page(request: HttpRequest, person: PersonRecords, kind: str, pk: int, form: RecordsForm) -> HttpResponse:
    return render(
        request,
        "privacy/person.html",
        {"person": person, "kind": kind, "pk": pk, "form": form},
        status=400 if form.is_bound else 200,
    )


@membership_required(Role.CERTIFPRO_ADMIN)
def person_detail(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    person = _person(kind, pk)
    return _person_page(request, person, kind, pk, RecordsForm(person=person))


@membership_required(Role.CERTIFPRO_ADMIN)
@post_only("privacy:person")
def person_export_view(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """The ZIP of everything about the chosen records (art. 15 GDPR)."""
    person = _person(kind, pk)
    form = RecordsForm(request.POST, person=person)
    if not form.is_valid():
        return _person_page(request, person, kind, pk, form)
    content = person_export(records=form.chosen(), by=request.membership, request=request)
    response = HttpResponse(content, content_type=ZIP)
    filename = f"donnees-personnelles-{timezone.localdate():%Y-%m-%d}.zip"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@membership_required(Role.CERTIFPRO_ADMIN)
def person_erase_view(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Erase on request (art. 17 GDPR) what the law lets go now; say why the rest is kept."""
    person = _person(kind, pk)
    form = ErasureForm(request.POST if request.method == "POST" else None, person=person)
    refusal = ""
    if request.method == "POST" and form.is_valid():
        try:
            result = person_erase(
                records=form.chosen(), by=request.membership, reason=form.cleaned_data["reason"], request=request
            )
        except PrivacyRefusal as exc:
            refusal = str(exc)
        else:
            if not result.erased:
                # The page lists every record with the law's reasons to keep it: the summary says nothing was done.
                refusal = _(
                    "Aucune des fiches choisies ne peut être effacée aujourd'hui : la loi impose de les conserver "
                    "(motifs ci-dessous)."
                )
            else:
                messages.success(
                    request,
                    ngettext(
                        "%(n)s fiche effacée : l'identité et les coordonnées de la personne sont anonymisées.",
                        "%(n)s fiches effacées : l'identité et les coordonnées de la personne sont anonymisées.",
                        len(result.erased),
                    )
                    % {"n": len(result.erased)},
                )
                for record, reasons in result.kept:
                    messages.warning(
                        request,
                        _("Fiche conservée : %(record)s. %(reasons)s")
                        % {"record": record_label(record), "reasons": " ".join(reasons)},
                    )
                return redirect("privacy:index")
    assessments = erasure_assessment(person)
    return render(
        request,
        "privacy/erase.html",
        {
            "person": person,
            "kind": kind,
            "pk": pk,
            "form": form,
            "refusal": refusal,
            "assessments": assessments,
            "erasable": any(assessment.erasable for assessment in assessments),
        },
        status=409 if refusal else 400 if form.is_bound and not form.is_valid() else 200,
    )
