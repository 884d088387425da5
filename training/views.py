"""The individualised training screens: the trainer's plans, the counsellor's plan definition, the plan page.

A trainer of another tenant reaches a plan through `TrainingPlan.objects.visible_to`, never the dossier: the
plan page shows the candidate's identity and the plan, nothing of the evaluator organisation's records.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from candidates.models import Dossier, DossierState
from candidates.services import DossierConflict, TransitionRefused
from clea_platform.actions import post_only
from clea_platform.tenancy import membership_required
from evaluations.acquisitions import dossier_outcome
from organisations.models import Role
from training.forms import ProgressNoteForm, TrainingPlanCompleteForm, TrainingPlanForm, TrainingSessionForm
from training.models import TrainingPlan, TrainingSession
from training.services import (
    TrainingError,
    objectives_from_gaps,
    trainer_memberships,
    training_note_add,
    training_plan_complete,
    training_plan_create,
    training_session_add,
    training_session_mark_done,
    training_session_remove,
)

PLANS_PER_PAGE = 25


def _visible_plan(request: HttpRequest, pk: int) -> TrainingPlan:
    return get_object_or_404(
        TrainingPlan.objects.visible_to(request.membership).select_related("dossier__candidate", "organisation"),
        pk=pk,
    )


def _plan_for_action(request: HttpRequest, pk: int) -> TrainingPlan:
    plan = _visible_plan(request, pk)
    if not plan.is_delivered_by(request.membership):
        raise PermissionDenied
    return plan


# -- The list ---------------------------------------------------------------------------------------------------


@membership_required(Role.TRAINER, Role.ORG_ADMIN, Role.CERTIFPRO_ADMIN)
def plan_list(request: HttpRequest) -> HttpResponse:
    plans = TrainingPlan.objects.visible_to(request.membership).listed()
    page = Paginator(plans, PLANS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "training/plan_list.html",
        {"page": page, "show_trainer": request.membership.role != Role.TRAINER},
    )


# -- The counsellor defines a plan ------------------------------------------------------------------------------


@membership_required(Role.COUNSELLOR)
def plan_create(request: HttpRequest, dossier_pk: int) -> HttpResponse:
    dossier = get_object_or_404(
        Dossier.objects.visible_to(request.membership).select_related("candidate", "referentiel"), pk=dossier_pk
    )
    gaps = dossier_outcome(dossier).gap_criteria()
    form = TrainingPlanForm(
        request.POST if request.method == "POST" else None,
        dossier=dossier,
        trainers=trainer_memberships(),
        initial={"objectives": objectives_from_gaps(gaps)},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            plan = training_plan_create(
                dossier=dossier,
                by=request.membership,
                trainer=data["trainer"],
                planned_hours=data["planned_hours"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                objectives=data["objectives"],
                request=request,
            )
        except (TrainingError, TransitionRefused, DossierConflict) as exc:
            messages.error(request, str(exc))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("Le parcours de formation est défini et confié à %(trainer)s.")
                % {"trainer": data["trainer"].user.get_full_name()},
            )
            return redirect("training:plan_detail", pk=plan.pk)
    return render(
        request,
        "training/plan_form.html",
        {
            "dossier": dossier,
            "form": form,
            "gaps": gaps,
            "can_define": dossier.state == DossierState.PARTIALLY_VALIDATED,
        },
    )


# -- The plan page and its actions ------------------------------------------------------------------------------


def _detail_context(request: HttpRequest, plan: TrainingPlan, **forms: Any) -> dict[str, Any]:
    membership = request.membership
    prefetch_related_objects([plan], "sessions")  # the calendar and its hours done, in one query
    sessions = list(plan.sessions.all())
    can_act = plan.is_delivered_by(membership) and not plan.is_completed
    return {
        "plan": plan,
        "candidate": plan.dossier.candidate,
        "sessions": sessions,
        "hours_done": plan.sessions_done_hours(),
        "can_act": can_act,
        "session_form": forms.get("session_form") or (TrainingSessionForm(plan=plan) if can_act else None),
        "note_form": forms.get("note_form") or (ProgressNoteForm() if can_act else None),
    }


def _render_detail(request: HttpRequest, plan: TrainingPlan, **forms: Any) -> HttpResponse:
    context = _detail_context(request, plan, **forms)
    context["notes"] = plan.notes.select_related("author")
    context["criteria"] = plan.target_criteria.select_related("subdomain__domain").in_referentiel_order()
    # The link back to the dossier only for those who may open it: never the training organisation's people.
    context["dossier_visible"] = Dossier.objects.visible_to(request.membership).filter(pk=plan.dossier_id).exists()
    return render(request, "training/plan_detail.html", context)


# The plan page's sections an action answers with: the fragment htmx swaps in, and the section's anchor.
SECTIONS = {"sessions": ("training/_sessions.html", "#seances"), "notes": ("training/_notes.html", "#notes")}


def _section_answer(
    request: HttpRequest, plan: TrainingPlan, section: str, *, message: str = "", error: str = "", **kept_forms: Any
) -> HttpResponse:
    """The answer to an action on a section of the plan page ("sessions", "notes"). To htmx: the section again,
    the message or the error announced, a refused form (`session_form`, `note_form`) kept as typed. Otherwise: the
    message or the error at the top of the page, back at the section; with a refused form, the page again, with it."""
    template, anchor = SECTIONS[section]
    if request.htmx:
        context = {**_detail_context(request, plan, **kept_forms), "status_message": message, "error": error}
        if section == "notes":
            context["notes"] = plan.notes.select_related("author")
        return render(request, template, context)
    if error:
        messages.error(request, error)
    elif message:
        messages.success(request, message)
    if kept_forms:
        return _render_detail(request, plan, **kept_forms)
    return redirect(reverse("training:plan_detail", kwargs={"pk": plan.pk}) + anchor)


@membership_required()
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _visible_plan(request, pk))


@post_only("training:plan_detail")
@membership_required()
def session_add(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan_for_action(request, pk)
    form = TrainingSessionForm(request.POST, plan=plan)
    error = ""
    if form.is_valid():
        try:
            training_session_add(plan=plan, by=request.membership, request=request, **form.cleaned_data)
        except TrainingError as exc:
            error = str(exc)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return _section_answer(request, plan, "sessions", message=_("La séance est ajoutée au calendrier."))
    return _section_answer(request, plan, "sessions", error=error, session_form=form)


def _plan_page_of_session(request: HttpRequest, pk: int) -> str:
    visible_plans = TrainingPlan.objects.visible_to(getattr(request, "membership", None))
    plan_id = TrainingSession.objects.filter(plan__in=visible_plans, pk=pk).values_list("plan_id", flat=True).first()
    return reverse("training:plan_detail", kwargs={"pk": plan_id}) if plan_id else reverse("training:plan_list")


def _session_for_action(request: HttpRequest, pk: int) -> tuple[TrainingSession, TrainingPlan]:
    visible_plans = TrainingPlan.objects.visible_to(request.membership)
    session = get_object_or_404(TrainingSession.objects.filter(plan__in=visible_plans), pk=pk)
    return session, _plan_for_action(request, session.plan_id)


@post_only(_plan_page_of_session)
@membership_required()
def session_done(request: HttpRequest, pk: int) -> HttpResponse:
    session, plan = _session_for_action(request, pk)
    try:
        training_session_mark_done(session=session, by=request.membership, request=request)
    except TrainingError as exc:
        return _section_answer(request, plan, "sessions", error=str(exc))
    except ValidationError as exc:
        return _section_answer(request, plan, "sessions", error=" ".join(exc.messages))
    message = _("La séance du %(date)s est réalisée.") % {"date": f"{session.date:%d/%m/%Y}"}
    return _section_answer(request, plan, "sessions", message=message)


@post_only(_plan_page_of_session)
@membership_required()
def session_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """A session that did not take place leaves the calendar (one done stays: the service refuses)."""
    session, plan = _session_for_action(request, pk)
    try:
        training_session_remove(session=session, by=request.membership, request=request)
    except TrainingError as exc:
        return _section_answer(request, plan, "sessions", error=str(exc))
    message = _("La séance du %(date)s est retirée du calendrier.") % {"date": f"{session.date:%d/%m/%Y}"}
    return _section_answer(request, plan, "sessions", message=message)


@post_only("training:plan_detail")
@membership_required()
def note_add(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan_for_action(request, pk)
    form = ProgressNoteForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            training_note_add(plan=plan, by=request.membership, text=form.cleaned_data["text"], request=request)
        except TrainingError as exc:
            error = str(exc)
        else:
            return _section_answer(request, plan, "notes", message=_("La note de progression est enregistrée."))
    return _section_answer(request, plan, "notes", error=error, note_form=form)


@membership_required()
def plan_complete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation (the trainer cannot undo it), with the reason when hours are missing; POST
    declares the training done."""
    plan = _plan_for_action(request, pk)
    context = _detail_context(request, plan)
    form = TrainingPlanCompleteForm(
        request.POST if request.method == "POST" else None, plan=plan, hours_done=context["hours_done"]
    )
    if request.method == "POST" and form.is_valid():
        try:
            training_plan_complete(
                plan=plan,
                by=request.membership,
                shortfall_reason=form.cleaned_data.get("shortfall_reason", ""),
                request=request,
            )
        except TrainingError as exc:
            messages.error(request, str(exc))
            return redirect("training:plan_detail", pk=plan.pk)
        except ValidationError as exc:
            # The plan's rules, on the reason's field or above the form; what was typed stays.
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("La formation est terminée : l'organisme évaluateur peut organiser l'évaluation finale."),
            )
            return redirect("training:plan_detail", pk=plan.pk)
    return render(request, "training/plan_complete.html", {**context, "form": form})
