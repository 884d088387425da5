"""The journey's screens: each role's home page, and the dossier page, which shows every step of one dossier
(its timeline, evaluations and attestations, training plans, funding) and the steps the user may take now."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, fields

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from candidates.models import (
    DOSSIER_ROLES,
    WARNING_BEFORE_DEADLINE,
    CorrectionRequest,
    Dossier,
    DossierEvent,
    DossierNote,
    DossierState,
)
from candidates.selectors import earlier_information_notes, offered_transitions
from candidates.services import CANDIDATE_CORRECTION_ROLES
from clea_platform import spreadsheets
from clea_platform.tenancy import membership_required
from evaluations.models import Attestation, Evaluation
from funding.selectors import dossier_funding
from journey.diagram import dossier_diagram
from journey.forms import ExportForm
from journey.next_steps import Facts, next_step, reader_note
from journey.selectors import TODO_PAGE_SIZE, WorkQueuePages, dashboard_for, work_queue
from journey.services import certified_export
from juries.models import Certificate
from juries.selectors import jury_session_of
from organisations.models import Membership, Role
from outbox.selectors import documents_regeneration
from scheduling.models import AppointmentState
from scheduling.selectors import dossier_schedule
from training.models import TrainingPlan

# Where each user-facing transition (`custom["url"]` on the Dossier transitions) is taken, and the URL kwarg.
TRANSITION_URLS = {
    "open": ("candidates:dossier_open", "pk"),
    "withdraw": ("candidates:dossier_withdraw", "pk"),
    "evaluation_start": ("evaluations:evaluation_start", "dossier_pk"),
    "submit_to_jury": ("juries:submit", "dossier_pk"),
}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The home page of the current role: `templates/dashboard/<role>.html`, each field of its dashboard a
    template variable."""
    if request.membership is None:
        return render(request, "no_membership.html", status=403)
    dashboard = dashboard_for(request.membership)
    context = {field.name: getattr(dashboard, field.name) for field in fields(dashboard)}
    return render(request, "home.html", {**context, "todo": work_queue(request.membership)})


@membership_required()
def todo(request: HttpRequest) -> HttpResponse:
    """The whole "À faire" of the current role, oldest first, a page at a time."""
    number = request.GET.get("page")
    asked = int(number) if number and number.isdigit() and int(number) > 0 else 1
    items = WorkQueuePages(request.membership, upto=asked * TODO_PAGE_SIZE)
    page = Paginator(items, TODO_PAGE_SIZE).get_page(asked)
    return render(request, "journey/todo.html", {"page": page})


@dataclass(frozen=True)
class NextAction:
    label: str
    url: str
    danger: bool = False


def next_actions(dossier: Dossier, membership: Membership) -> list[NextAction]:
    """The steps the membership may take on the dossier now, as links to the pages that take them."""
    actions = []
    for transition in offered_transitions(dossier, membership):
        custom = transition.custom
        if custom.get("automatic") or "label" not in custom:
            continue
        url_name, kwarg = TRANSITION_URLS[custom["url"]]
        actions.append(
            NextAction(str(custom["label"]), reverse(url_name, kwargs={kwarg: dossier.pk}), custom.get("danger", False))
        )
    # Partially validated means no training is under way (after a prior evaluation or a jury's deferral).
    if membership.role == Role.COUNSELLOR and dossier.state == DossierState.PARTIALLY_VALIDATED:
        url = reverse("training:plan_create", kwargs={"dossier_pk": dossier.pk})
        actions.append(NextAction(_("Définir le parcours de formation"), url))
    # The dangerous step (closing the dossier) comes last.
    return sorted(actions, key=lambda action: action.danger)


@membership_required(*DOSSIER_ROLES)
def dossier_detail(request: HttpRequest, pk: int) -> HttpResponse:
    membership: Membership = request.membership
    # An organisation the dossier left reads it too (issue 19), and each part through its own scoped queryset:
    # its own evaluations, attestations, plans and the timeline up to the move, nothing after.
    dossiers = (
        Dossier.objects.readable_by(membership)
        .with_departure(membership)
        .select_related("candidate", "organisation", "referentiel", "counsellor", "certificate")
        .prefetch_related(
            Prefetch(
                "events",
                queryset=DossierEvent.objects.visible_to(membership).select_related("actor").order_by("-at", "-id"),
            ),
            Prefetch("evaluations", queryset=Evaluation.objects.visible_to(membership).select_related("evaluator")),
            Prefetch("attestations", queryset=Attestation.objects.visible_to(membership).order_by("-version")),
            Prefetch(
                "training_plans",
                queryset=TrainingPlan.objects.visible_to(membership)
                .select_related("trainer", "organisation")
                .order_by("-cycle"),
            ),
        )
    )
    dossier = get_object_or_404(dossiers, pk=pk)
    # Gone to another organisation: read only, no step to take (each action URL starts from visible_to: a 404).
    left = getattr(dossier, "left_at", None) is not None
    plans = list(dossier.training_plans.all())
    # The guards read the current plan: hand them the one already prefetched rather than query again.
    dossier.__dict__["current_training_plan"] = plans[0] if plans else None
    actions = [] if left else next_actions(dossier, membership)
    events = list(dossier.events.all())
    evaluations = list(dossier.evaluations.all())
    # The one step whose actor the page has not loaded yet: the jury session the dossier is before.
    session = jury_session_of(dossier, membership) if dossier.state == DossierState.SUBMITTED_TO_JURY else None
    step = (
        None
        if left
        else next_step(Facts(dossier=dossier, reader=membership, plans=plans, evaluations=evaluations, session=session))
    )
    attestations = list(dossier.attestations.all())
    certificate: Certificate | None = getattr(dossier, "certificate", None)
    if certificate is not None and not certificate.is_produced:
        certificate = None  # not issued until its PDF exists
    documents_regeneration(membership, [*attestations, *filter(None, [certificate])])
    days_left = dossier.days_left() if dossier.final_evaluation_due else None
    # The information interview's notes, the organisation's own (jury members read none): each note wrote its event,
    # so a dossier without one costs no query.
    notes = []
    if any(event.transition == "note" for event in events):
        notes = list(
            DossierNote.objects.visible_to(membership)
            .filter(dossier=dossier)
            .select_related("author")
            .order_by("-at", "-id")
        )
    schedule = dossier_schedule(membership, dossier)
    in_information = dossier.state == DossierState.INFORMATION
    information_closes_on = None
    if in_information:
        # The day the daily job closes it if nothing happens (candidates.services.dossiers_close_idle_information):
        # its last activity, or a planned appointment after it, and the idle days.
        planned = [a.starts_at for a in schedule.appointments if a.state == AppointmentState.PLANNED]
        if dossier.reflection_reminder_on is not None:  # a call-back day agreed with the person counts the same
            planned.append(
                timezone.make_aware(datetime.datetime.combine(dossier.reflection_reminder_on, datetime.time()))
            )
        last_activity = max([dossier.updated_at, *(event.at for event in events[:1]), *planned])
        information_closes_on = timezone.localdate(
            last_activity + datetime.timedelta(days=settings.INFORMATION_IDLE_DAYS)
        )
    # The person's requests to correct their data, whichever of their dossiers they named: the data is theirs.
    corrections = (
        []
        if left
        else list(
            CorrectionRequest.objects.visible_to(membership)
            .open()
            .filter(candidate_id=dossier.candidate_id)
            .order_by("created_at", "id")
        )
    )
    may_correct = membership.role in CANDIDATE_CORRECTION_ROLES and not left
    return render(
        request,
        "journey/dossier_detail.html",
        {
            "dossier": dossier,
            "candidate": dossier.candidate,
            "events": events,
            "evaluations": evaluations,
            "attestations": attestations,
            "certificate": certificate,
            "plans": plans,
            "actions": actions,
            "next_step": step,
            "reader_note": "" if actions or left else reader_note(dossier, membership),
            "left": left,
            "diagram": dossier_diagram(dossier, events),
            "days_left": days_left,
            "deadline_close": days_left is not None and days_left < WARNING_BEFORE_DEADLINE.days,
            "funding": dossier_funding(membership, dossier),
            "schedule": schedule,
            "can_correct_candidate": may_correct and dossier.candidate.can_be_corrected,
            "corrections": corrections,
            "notes": notes,
            "in_information": in_information,
            "information_closes_on": information_closes_on,
            "can_write_information": in_information and may_correct and dossier.anonymised_at is None,
            # « Information précédente »: what the person said at an earlier interview here, when they come back.
            "earlier_notes": earlier_information_notes(membership, dossier) if in_information else [],
            "can_answer_corrections": may_correct,
            # The candidate's own space (issue 18): who keeps the person's contact data sends them the sign-in link.
            "can_send_space_link": may_correct and bool(dossier.candidate.email) and dossier.candidate.can_be_corrected,
        },
    )


@membership_required(Role.CERTIFPRO_ADMIN)
def certified_export_view(request: HttpRequest) -> HttpResponse:
    asked = any(key in request.GET for key in ("start", "end", "format"))
    form = ExportForm(request.GET if asked else None)
    if asked and form.is_valid():
        start, end, fmt = form.cleaned_data["start"], form.cleaned_data["end"], form.cleaned_data["format"]
        content = certified_export(by=request.membership, start=start, end=end, fmt=fmt, request=request)
        return spreadsheets.attachment(content, fmt, f"certifies-clea-{start:%Y-%m-%d}-au-{end:%Y-%m-%d}")
    return render(request, "journey/certified_export.html", {"form": form}, status=400 if asked else 200)
