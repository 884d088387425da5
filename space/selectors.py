"""What the candidate's pages show, read for one person. Every read starts from `Dossier.objects.of_person(person)`:
another person's dossier, document or appointment is a DoesNotExist, like a missing one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from candidates.models import CandidatePerson, CorrectionRequest, Dossier, DossierState
from clea_platform.french import of_name
from directory.models import Commune
from directory.selectors import NearbySite, directory_sites, sites_nearby
from evaluations.acquisitions import dossier_outcome
from evaluations.models import Attestation, Evaluation, EvaluationStatus
from juries.models import Certificate, Submission
from scheduling.models import Appointment, AppointmentState
from space.words import (
    COUNSELLOR,
    EVALUATORS,
    JURY,
    STEP_OF_STATE,
    STEPS,
    TRAINER,
    WHAT_COMES_NEXT,
    WHERE_I_AM,
    WHO_ACTS,
    Step,
    plain_title,
)

if TYPE_CHECKING:
    from organisations.models import Organisation, Site
    from training.models import TrainingPlan


def dossiers_of(person: CandidatePerson) -> list[Dossier]:
    return list(
        Dossier.objects.of_person(person)
        .select_related("organisation", "counsellor", "candidate")
        .order_by("-created_at", "-pk")
    )


def dossier_of(person: CandidatePerson, pk: int) -> Dossier:
    """The person's dossier `pk` (Dossier.DoesNotExist for anyone else's)."""
    return Dossier.objects.of_person(person).select_related("organisation", "counsellor", "candidate").get(pk=pk)


def corrections_of(person: CandidatePerson) -> list[CorrectionRequest]:
    """My requests to correct my data, the latest first, with their answers."""
    return list(
        CorrectionRequest.objects.filter(
            candidate_id__in=person.candidate_ids, candidate__anonymised_at__isnull=True
        ).order_by("-created_at", "-pk")
    )


def attestations_of(person: CandidatePerson) -> list[Attestation]:
    return list(
        Attestation.objects.filter(dossier__in=Dossier.objects.of_person(person))
        .select_related("evaluation")
        .order_by("-generated_at", "-pk")
    )


def certificates_of(person: CandidatePerson) -> list[Certificate]:
    """Issued (their PDF exists) and not revoked: what the person may show an employer."""
    return [
        certificate
        for certificate in Certificate.objects.filter(
            dossier__in=Dossier.objects.of_person(person), revoked_at__isnull=True
        ).order_by("-awarded_on", "-pk")
        if certificate.is_produced
    ]


def appointments_of(person: CandidatePerson) -> QuerySet[Appointment]:
    return Appointment.objects.filter(dossier__in=Dossier.objects.of_person(person))


@dataclass(frozen=True)
class StepView:
    step: Step
    status: str  # "done", "skipped" (no training needed), "current" or "todo"


@dataclass(frozen=True)
class Contact:
    """Who I can call or write to about my dossier."""

    name: str
    organisation: str
    phone: str
    email: str


@dataclass(frozen=True)
class DossierPage:
    dossier: Dossier
    steps: list[StepView]
    where: str
    next_thing: str
    who: str
    contact: Contact
    appointment: Appointment | None
    closed: bool


# The training step, which a dossier validated in full at its prior evaluation goes past without (about a quarter).
TRAINING_STEP = 3


def _steps(dossier: Dossier) -> list[StepView]:
    current = STEP_OF_STATE.get(dossier.state)
    certified = dossier.state == DossierState.CERTIFIED
    past_training = certified or (current is not None and current > TRAINING_STEP)
    skipped_training = past_training and not dossier.training_plans.exists()
    views = []
    for step in STEPS:
        if step.number == TRAINING_STEP and skipped_training:
            status = "skipped"
        elif certified or (current is not None and step.number < current):
            status = "done"
        elif current == step.number:
            status = "current"
        else:
            status = "todo"
        views.append(StepView(step, status))
    return views


def _who(dossier: Dossier, kind: str) -> str:
    if kind == COUNSELLOR:
        return _("%(name)s, qui me suit.") % {"name": dossier.counsellor.get_full_name()}
    if kind == EVALUATORS:
        draft: Evaluation | None = (
            dossier.evaluations.filter(status=EvaluationStatus.DRAFT)
            .select_related("evaluator")
            .order_by("-pk")
            .first()
        )
        if draft is not None:
            return _("%(name)s, %(of_organisation)s.") % {
                "name": draft.evaluator.get_full_name(),
                "of_organisation": of_name(dossier.organisation.name),
            }
        return _("L'équipe %(of_organisation)s.") % {"of_organisation": of_name(dossier.organisation.name)}
    if kind == TRAINER:
        plan: TrainingPlan | None = (
            dossier.training_plans.select_related("trainer", "organisation").order_by("-cycle").first()
        )
        if plan is not None:
            return _("%(name)s, %(of_organisation)s.") % {
                "name": plan.trainer.get_full_name(),
                "of_organisation": of_name(plan.organisation.name),
            }
        return _("%(name)s, qui me suit.") % {"name": dossier.counsellor.get_full_name()}
    if kind == JURY:
        submission = Submission.objects.filter(dossier=dossier).select_related("session").order_by("-pk").first()
        if submission is not None:
            return _("Un jury. Il se réunit le %(date)s.") % {
                "date": f"{timezone.localtime(submission.session.date):%d/%m/%Y}"
            }
        return _("Un jury.")
    return ""


def _contact(dossier: Dossier) -> Contact:
    organisation: Organisation = dossier.organisation
    return Contact(
        name=dossier.counsellor.get_full_name(),
        organisation=organisation.name,
        phone=organisation.phone,
        email=organisation.email,
    )


def next_appointment(dossier: Dossier) -> Appointment | None:
    return (
        Appointment.objects.filter(dossier=dossier, state=AppointmentState.PLANNED, ends_at__gte=timezone.now())
        .select_related("site", "with_membership__user")
        .order_by("starts_at")
        .first()
    )


def dossier_page(dossier: Dossier) -> DossierPage:
    """The dossier as its candidate reads it: the four steps, where I am, what comes next and who does it, whom to
    call, my next appointment."""
    kind = WHO_ACTS.get(dossier.state, "")
    return DossierPage(
        dossier=dossier,
        steps=_steps(dossier),
        where=str(WHERE_I_AM[dossier.state]),
        next_thing=str(WHAT_COMES_NEXT.get(dossier.state, "")),
        who=_who(dossier, kind),
        contact=_contact(dossier),
        appointment=next_appointment(dossier) if dossier.is_open else None,
        closed=not dossier.is_open,
    )


@dataclass(frozen=True)
class SubDomainView:
    code: str
    title: str
    validated: bool
    # What I still have to learn there: the référentiel's words for each criterion not acquired.
    remaining: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DomainView:
    code: str
    title: str
    validated: bool
    subdomains: list[SubDomainView]


@dataclass(frozen=True)
class Acquisitions:
    evaluated: bool
    domains: list[DomainView]

    @property
    def acquired(self) -> list[DomainView]:
        return [d for d in self.domains if d.validated]

    @property
    def remaining(self) -> list[DomainView]:
        return [d for d in self.domains if not d.validated]


def acquisitions(dossier: Dossier) -> Acquisitions:
    """What I have acquired, domain by domain, and what remains, criterion by criterion (evaluations.acquisitions),
    in plain words where the space has them (space.words)."""
    evaluated = dossier.evaluations.filter(status=EvaluationStatus.CLOSED).exists()
    if not evaluated:
        return Acquisitions(evaluated=False, domains=[])
    outcome = dossier_outcome(dossier)
    certification = dossier.certification
    domains = [
        DomainView(
            code=domain.code,
            title=plain_title(certification, domain.code, domain.title),
            validated=domain.validated,
            subdomains=[
                SubDomainView(
                    code=sub.code,
                    title=plain_title(certification, sub.code, sub.title),
                    validated=sub.validated,
                    remaining=[] if sub.validated else [criterion.title for criterion in sub.gaps],
                )
                for sub in domain.subdomains
            ],
        )
        for domain in outcome.domains
    ]
    return Acquisitions(evaluated=True, domains=domains)


# -- Changing organisation (issue 19) -------------------------------------------------------------------------------

# How many organisations the page offers: the nearest first, enough to choose, short enough to read on a phone.
MOVE_CHOICES = 10
MOVE_RADIUS_KM = 100


def move_sites(dossier: Dossier) -> list[NearbySite]:
    """Where the person may move their dossier: one site per organisation habilitated for its certification today
    (the nearest one to the person's commune when their postcode is known), their current organisation left out,
    nearest first (the directory's order)."""
    postcode = dossier.candidate.postcode
    commune = (
        Commune.objects.filter(postcode_rows__postcode=postcode).order_by("-population", "pk").first()
        if postcode
        else None
    )
    if commune is not None:
        search = sites_nearby(
            latitude=commune.latitude,
            longitude=commune.longitude,
            radius_km=MOVE_RADIUS_KM,
            certification=dossier.certification,
        )
        entries = search.results
    else:
        entries = [
            NearbySite(site=site, distance_km=-1)
            for site in directory_sites(dossier.certification).order_by("city", "name")[: MOVE_CHOICES * 5]
        ]
    chosen: dict[int, NearbySite] = {}
    for entry in entries:
        organisation_id = entry.site.organisation_id
        if organisation_id != dossier.organisation_id and organisation_id not in chosen:
            chosen[organisation_id] = entry
        if len(chosen) == MOVE_CHOICES:
            break
    return list(chosen.values())


def move_site(dossier: Dossier, site_id: int) -> Site:
    """One of the sites the dossier may move to (DoesNotExist otherwise: another organisation's site without the
    habilitation, an inactive one, or the current organisation's)."""
    return directory_sites(dossier.certification).exclude(organisation_id=dossier.organisation_id).get(pk=site_id)
