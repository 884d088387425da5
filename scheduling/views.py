"""Assign, book, record and download appointments; the agenda of a person (day or week, Europe/Paris)."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from candidates.models import Dossier
from clea_platform.actions import post_only
from clea_platform.tenancy import membership_required
from organisations.models import Membership, Role, Site
from scheduling.forms import AppointmentForm, AssignmentForm, CancelForm
from scheduling.ics import appointment_ics, appointment_ics_filename
from scheduling.models import SCHEDULING_ROLES, Appointment, AssignmentPurpose
from scheduling.selectors import BOOKERS, agenda_days, appointment_actions, bookable_dossiers, dossier_schedule
from scheduling.services import (
    SchedulingError,
    appointment_book,
    appointment_cancel,
    appointment_mark,
    appointment_rebook,
    appointment_reschedule,
    assignable_memberships,
    assignment_set,
    bookable_memberships,
    default_with_membership,
)

AGENDA_ROLES = (Role.COUNSELLOR, Role.EVALUATOR, Role.TRAINER, Role.ORG_ADMIN)


def _dossier_for(membership: Membership, pk: int) -> Dossier:
    return get_object_or_404(bookable_dossiers(membership).select_related("candidate", "organisation"), pk=pk)


def _back(membership: Membership, dossier_id: int | None) -> HttpResponse:
    if membership.role == Role.TRAINER or dossier_id is None:
        return redirect("scheduling:agenda")
    return redirect("journey:dossier_detail", pk=dossier_id)


def _appointment_for(membership: Membership, pk: int) -> Appointment:
    return get_object_or_404(
        Appointment.objects.visible_to(membership).select_related(
            "dossier__candidate",
            "dossier__organisation",
            "site",
            "with_membership__user",
            "with_membership__organisation",
        ),
        pk=pk,
    )


def _sites(dossier: Dossier, membership: Membership) -> Any:
    return Site.objects.active().filter(
        Q(organisation_id=dossier.organisation_id) | Q(organisation_id=membership.organisation_id)
    )


def _people(dossier: Dossier) -> list[Membership]:
    seen: dict[int, Membership] = {}
    for purpose in ("information", "prior_evaluation", "training_session"):
        for person in bookable_memberships(dossier, purpose):
            seen.setdefault(person.pk, person)
    return list(seen.values())


@membership_required(Role.COUNSELLOR, Role.ORG_ADMIN)
def assignment_create(request: HttpRequest, dossier_pk: int) -> HttpResponse:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    dossier = _dossier_for(membership, dossier_pk)
    people = assignable_memberships(dossier, AssignmentPurpose.PRIOR_EVALUATION) + assignable_memberships(
        dossier, AssignmentPurpose.TRAINING
    )
    initial = {"purpose": request.GET.get("purpose", AssignmentPurpose.PRIOR_EVALUATION)}
    form = AssignmentForm(request.POST if request.method == "POST" else None, people=people, initial=initial)
    refusal = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            assignment_set(
                dossier=dossier,
                purpose=data["purpose"],
                assignee=data["assignee"],
                by=membership,
                reason=data["reason"],
                request=request,
            )
        except SchedulingError as exc:
            refusal = str(exc)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("L'étape « %(purpose)s » est confiée à %(name)s.")
                % {
                    "purpose": AssignmentPurpose(data["purpose"]).label,
                    "name": data["assignee"].user.get_full_name(),
                },
            )
            return redirect("journey:dossier_detail", pk=dossier.pk)
    return render(request, "scheduling/assignment_form.html", {"dossier": dossier, "form": form, "refusal": refusal})


def _book_form(request: HttpRequest, dossier: Dossier, membership: Membership, **kwargs: Any) -> AppointmentForm:
    return AppointmentForm(
        request.POST if request.method == "POST" else None,
        people=_people(dossier),
        sites=_sites(dossier, membership),
        **kwargs,
    )


def _slot(form: AppointmentForm) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "starts_at": form.starts_at(),
        "duration_minutes": data["duration_minutes"],
        "modality": data["modality"],
        "site": data["site"],
        "remote_details": data["remote_details"],
    }


@membership_required(*BOOKERS)
def appointment_create(request: HttpRequest, dossier_pk: int) -> HttpResponse:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    dossier = _dossier_for(membership, dossier_pk)
    purpose = request.GET.get("purpose") or ("training_session" if membership.role == Role.TRAINER else "information")
    default = membership if membership.role == Role.TRAINER else default_with_membership(dossier, purpose)
    initial: dict[str, Any] = {"purpose": purpose, "with_membership": default, "duration_minutes": 60}
    form = _book_form(request, dossier, membership, initial=initial)
    refusal = ""
    if request.method == "POST" and form.is_valid():
        try:
            appointment = appointment_book(
                dossier=dossier,
                purpose=form.cleaned_data["purpose"],
                with_membership=form.cleaned_data["with_membership"],
                by=membership,
                request=request,
                **_slot(form),
            )
        except SchedulingError as exc:
            refusal = str(exc)
        except PermissionDenied:
            raise
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Rendez-vous pris : %(what)s.") % {"what": appointment})
            return _back(membership, dossier.pk)
    return render(
        request,
        "scheduling/appointment_form.html",
        {"dossier": dossier, "form": form, "refusal": refusal, "title": _("Prendre un rendez-vous")},
    )


def _add_errors(form: AppointmentForm, exc: ValidationError) -> None:
    """A service's errors on the form's fields (starts_at is typed as a day and a time: shown on the day)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.message_dict.items():
        target = "day" if name == "starts_at" else name
        form.add_error(target if target in form.fields else None, errors)


@membership_required(*BOOKERS)
def appointment_rebook_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    old = _appointment_for(membership, pk)
    if old.dossier is None:
        raise Http404  # another time is proposed from the intake request
    initial = {
        "with_membership": old.with_membership,
        "duration_minutes": old.duration_minutes,
        "modality": old.modality,
        "site": old.site,
        "remote_details": old.remote_details,
    }
    form = _book_form(request, old.dossier, membership, initial=initial, fixed_purpose=True)
    refusal = ""
    if request.method == "POST" and form.is_valid():
        try:
            appointment_rebook(
                appointment=old,
                by=membership,
                with_membership=form.cleaned_data["with_membership"],
                request=request,
                **_slot(form),
            )
        except SchedulingError as exc:
            refusal = str(exc)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Le rendez-vous est reprogrammé."))
            return _back(membership, old.dossier_id)
    return render(
        request,
        "scheduling/appointment_form.html",
        {
            "dossier": old.dossier,
            "form": form,
            "refusal": refusal,
            "title": _("Reprogrammer le rendez-vous"),
            "old": old,
        },
    )


@membership_required(*BOOKERS)
def appointment_reschedule_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    appointment = _appointment_for(membership, pk)
    if appointment.dossier is None:
        raise Http404  # another time is proposed from the intake request
    local = timezone.localtime(appointment.starts_at)
    initial = {
        "with_membership": appointment.with_membership,
        "day": local.date(),
        "time": local.time(),
        "duration_minutes": appointment.duration_minutes,
        "modality": appointment.modality,
        "site": appointment.site,
        "remote_details": appointment.remote_details,
    }
    form = _book_form(request, appointment.dossier, membership, initial=initial, fixed_purpose=True)
    del form.fields["with_membership"]
    refusal = ""
    if request.method == "POST" and form.is_valid():
        try:
            appointment_reschedule(appointment=appointment, by=membership, request=request, **_slot(form))
        except SchedulingError as exc:
            refusal = str(exc)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Le rendez-vous est déplacé."))
            return _back(membership, appointment.dossier_id)
    return render(
        request,
        "scheduling/appointment_form.html",
        {
            "dossier": appointment.dossier,
            "form": form,
            "refusal": refusal,
            "title": _("Déplacer le rendez-vous"),
            "old": appointment,
        },
    )


@membership_required(*BOOKERS)
def appointment_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    appointment = _appointment_for(membership, pk)
    form = CancelForm(request.POST if request.method == "POST" else None)
    refusal = ""
    if request.method == "POST" and form.is_valid():
        try:
            appointment_cancel(
                appointment=appointment, by=membership, reason=form.cleaned_data["reason"], request=request
            )
        except SchedulingError as exc:
            refusal = str(exc)
        except ValidationError as exc:
            form.add_error("reason", exc.messages)
        else:
            messages.success(request, _("Le rendez-vous est annulé."))
            return _back(membership, appointment.dossier_id)
    return render(
        request, "scheduling/appointment_cancel.html", {"appointment": appointment, "form": form, "refusal": refusal}
    )


def _agenda_url(request: HttpRequest, *args: Any, **kwargs: Any) -> str:
    return reverse("scheduling:agenda")


@membership_required(*AGENDA_ROLES)
@post_only(_agenda_url)
def appointment_mark_view(request: HttpRequest, pk: int, outcome: str) -> HttpResponse:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    appointment = _appointment_for(membership, pk)
    if outcome not in ("done", "missed"):
        raise Http404
    message = error = ""
    try:
        appointment_mark(appointment=appointment, by=membership, done=outcome == "done", request=request)
    except SchedulingError as exc:
        error = str(exc)
    else:
        message = _("Le rendez-vous est noté réalisé.") if outcome == "done" else _("Le rendez-vous est noté manqué.")
    dossier = Dossier.objects.visible_to(membership).filter(pk=appointment.dossier_id).first()
    if request.htmx and dossier is not None:  # type: ignore[attr-defined]
        # From the dossier page: its appointments section again, the message announced.
        context = {
            "dossier": dossier,
            "schedule": dossier_schedule(membership, dossier),
            "status_message": message,
            "error": error,
        }
        return render(request, "scheduling/_appointments.html", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, message)
    # Back where the button was: the agenda, or the dossier page (which a trainer does not see).
    if request.POST.get("next") == "agenda" or dossier is None:
        return redirect("scheduling:agenda")
    return redirect("journey:dossier_detail", pk=appointment.dossier_id)


@membership_required()
def appointment_ics_view(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = _appointment_for(request.membership, pk)  # type: ignore[attr-defined]
    response = HttpResponse(appointment_ics(appointment), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{appointment_ics_filename(appointment)}"'
    return response


@membership_required(*AGENDA_ROLES)
def agenda(request: HttpRequest) -> HttpResponse:
    """A person's appointments, by day or by week (Monday first), Europe/Paris. Counsellors and administrators may
    read a colleague's agenda in their organisation; others their own."""
    membership: Membership = request.membership  # type: ignore[attr-defined]
    person = membership
    colleagues: list[Membership] = []
    if membership.role in SCHEDULING_ROLES:
        colleagues = list(
            Membership.objects.active()
            .filter(
                organisation_id=membership.organisation_id, role__in=[Role.COUNSELLOR, Role.EVALUATOR, Role.TRAINER]
            )
            .select_related("user")
            .order_by("user__last_name", "user__first_name")
        )
        if request.GET.get("person"):
            try:
                person_id = int(request.GET["person"])
            except ValueError as exc:
                raise Http404 from exc
            person = next((c for c in colleagues if c.pk == person_id), None) or _raise404()
    view = "day" if request.GET.get("view") == "day" else "week"
    try:
        day = datetime.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        day = timezone.localdate()
    if view == "week":
        start, length, step = day - datetime.timedelta(days=day.weekday()), 7, 7
    else:
        start, length, step = day, 1, 1
    days = agenda_days(membership, person, start, length)
    now = timezone.now()
    # Rebooking is offered from the dossier page: in the agenda, a missed or cancelled one counts as rebooked.
    actions = {a.pk: appointment_actions(a, membership, now, rebooked=True) for day_ in days for a in day_.appointments}
    return render(
        request,
        "scheduling/agenda.html",
        {
            "person": person,
            "is_own": person.user_id == membership.user_id,
            "colleagues": colleagues,
            "view": view,
            "start": start,
            "end": start + datetime.timedelta(days=length - 1),
            "days": days,
            "empty": not any(d.appointments for d in days),
            "previous": start - datetime.timedelta(days=step),
            "next": start + datetime.timedelta(days=step),
            "today": timezone.localdate(),
            "agenda_actions": actions,
        },
    )


def _raise404() -> Membership:
    raise Http404
