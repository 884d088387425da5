from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django_fsm import Transition

from candidates.forms import (
    CONSENT_TEXT,
    DossierCreateForm,
    DossierFilterForm,
    DossierOpenForm,
    DossierWithdrawForm,
)
from candidates.models import WARNING_BEFORE_DEADLINE, WINDOW_STATES, Dossier, DossierEvent, DossierState
from candidates.services import (
    DossierConflict,
    TransitionRefused,
    dossier_create,
    dossier_open,
    dossier_withdraw,
)
from clea_platform.tenancy import membership_required
from evaluations.models import Attestation, Evaluation
from organisations.models import Membership, Role
from organisations.transitions import transitions_named
from referentiels.models import Referentiel
from training.models import TrainingPlan

DOSSIER_ROLES = (Role.COUNSELLOR, Role.EVALUATOR, Role.ORG_ADMIN, Role.CERTIFPRO_ADMIN)
PAGE_SIZE = 25

# Where each user-facing transition (`custom["url"]` on the Dossier transitions) is taken, and the URL kwarg.
TRANSITION_URLS = {
    "open": ("candidates:dossier_open", "pk"),
    "withdraw": ("candidates:dossier_withdraw", "pk"),
    "evaluation_start": ("evaluations:evaluation_start", "dossier_pk"),
    "submit_to_jury": ("juries:submit", "dossier_pk"),
}


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
        else:
            messages.success(
                request,
                _("Le dossier %(ref)s de %(name)s est créé.")
                % {"ref": dossier.reference, "name": dossier.candidate.full_name},
            )
            return redirect("candidates:dossier_detail", pk=dossier.pk)
    return render(request, "candidates/dossier_create.html", {"form": form, "duplicates": form.duplicates})


@dataclass(frozen=True)
class NextAction:
    label: str
    url: str
    danger: bool = False


# Conditions that a step's own page fulfils: the "open" page collects the candidate's consent, so that step is
# offered while the consent is still missing (django-fsm, which checks every condition, would hide it).
FULFILLED_ON_ITS_PAGE = {"open": {"has_consent"}}


def offered_transitions(dossier: Dossier, membership: Membership) -> list[Transition]:
    """The transitions the membership may take now, counting the conditions their page fulfils as met."""
    offered = list(dossier.get_available_user_state_transitions(membership))
    taken = {transition.name for transition in offered}
    for name, fulfilled in FULFILLED_ON_ITS_PAGE.items():
        transition = next((t for t in transitions_named(dossier, name) if t.source == dossier.state), None)
        if name in taken or transition is None or not transition.has_perm(dossier, membership):
            continue
        if all(condition(dossier) for condition in transition.conditions if condition.__name__ not in fulfilled):
            offered.append(transition)
    return offered


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


def why_no_action(dossier: Dossier, membership: Membership) -> str:
    """One sentence telling this role why it has nothing to do on the dossier now."""
    if not dossier.is_open:
        return _("Ce dossier est clos : plus aucune étape n'est possible.")
    if membership.is_certifpro:
        return _("Certif'Pro consulte les dossiers sans intervenir dans leur parcours.")
    state = dossier.state
    if state == DossierState.INFORMATION:
        return _("Un conseiller doit d'abord ouvrir le dossier, avec l'accord du candidat.")
    if state == DossierState.OPENED:
        if membership.role == Role.EVALUATOR and not dossier.habilitation_in_force():
            return _("L'organisme n'a pas d'habilitation en cours pour cette certification.")
        return _("L'évaluation préalable est conduite par un évaluateur de l'organisme.")
    if state in {DossierState.PRIOR_EVALUATION, DossierState.FINAL_EVALUATION}:
        return _("Une évaluation est en cours : l'évaluateur la poursuit depuis sa grille.")
    if state == DossierState.PARTIALLY_VALIDATED:
        return _("Un conseiller définit maintenant le parcours de formation du candidat.")
    if state == DossierState.IN_TRAINING:
        if not dossier.training_completed():
            return _("La formation doit être déclarée terminée par le formateur avant l'évaluation finale.")
        if not dossier.within_window():
            return _("Le délai de 5 ans après l'évaluation préalable est écoulé.")
        return _("L'évaluation finale est conduite par un évaluateur de l'organisme.")
    return _("Le dossier attend sa présentation au jury paritaire.")


@membership_required(*DOSSIER_ROLES)
def dossier_detail(request: HttpRequest, pk: int) -> HttpResponse:
    membership: Membership = request.membership
    dossiers = (
        Dossier.objects.visible_to(membership)
        .select_related("candidate", "organisation", "referentiel", "counsellor")
        .prefetch_related(
            Prefetch("events", queryset=DossierEvent.objects.select_related("actor").order_by("-at", "-id")),
            Prefetch("evaluations", queryset=Evaluation.objects.select_related("evaluator")),
            Prefetch("attestations", queryset=Attestation.objects.order_by("-version")),
            Prefetch(
                "training_plans",
                queryset=TrainingPlan.objects.select_related("trainer", "organisation").order_by("-cycle"),
            ),
        )
    )
    dossier = get_object_or_404(dossiers, pk=pk)
    plans = list(dossier.training_plans.all())
    # The guards read the current plan: hand them the one already prefetched rather than query again.
    dossier.__dict__["current_training_plan"] = plans[0] if plans else None
    actions = next_actions(dossier, membership)
    days_left = dossier.days_left() if dossier.state in WINDOW_STATES else None
    return render(
        request,
        "candidates/dossier_detail.html",
        {
            "dossier": dossier,
            "candidate": dossier.candidate,
            "events": dossier.events.all(),
            "evaluations": dossier.evaluations.all(),
            "attestations": dossier.attestations.all(),
            "plans": plans,
            "actions": actions,
            "no_action_reason": "" if actions else why_no_action(dossier, membership),
            "days_left": days_left,
            "deadline_close": days_left is not None and days_left < WARNING_BEFORE_DEADLINE.days,
        },
    )


@membership_required(Role.COUNSELLOR)
def dossier_open_view(request: HttpRequest, pk: int) -> HttpResponse:
    dossier = _visible_dossier(request, pk)
    if dossier.state != DossierState.INFORMATION:
        messages.info(
            request,
            _("Ce dossier est à l'étape « %(state)s » : il n'y a plus d'accord à recueillir.")
            % {"state": dossier.get_state_display()},
        )
        return redirect("candidates:dossier_detail", pk=dossier.pk)
    form = DossierOpenForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            dossier_open(dossier=dossier, by=request.membership, consent_text=CONSENT_TEXT, request=request)
        except (TransitionRefused, DossierConflict) as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Le dossier %(ref)s est ouvert.") % {"ref": dossier.reference})
            return redirect("candidates:dossier_detail", pk=dossier.pk)
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
        return redirect("candidates:dossier_detail", pk=dossier.pk)
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
            return redirect("candidates:dossier_detail", pk=dossier.pk)
    return render(request, "candidates/dossier_withdraw.html", {"dossier": dossier, "form": form})
