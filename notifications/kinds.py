"""The one table of who hears of what (issue 17): each kind of notification and its recipients rule.

A rule names people through the objects of the event; `services.notify` then keeps only those who still hold an
active membership of the organisation named with them (never anyone of another organisation, never a former
member), drops the person who acted, and writes one row per (event, recipient). To add a kind (the scheduling
app's appointments): a line here, and a receiver in receivers.py that builds its Event.

`email=False`: the platform already sends this event's formal e-mail itself (the jury's convocation, the
referral's messages to the site and to the advisor, the 3-month deadline warning of candidates.services), so its
notification stays in the centre: one e-mail per event, not two. The README's table says the same."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from organisations.models import Membership, Role

if TYPE_CHECKING:
    from candidates.models import Dossier
    from juries.models import JurySession
    from referrals.models import Referral
    from scheduling.models import Appointment, Assignment
    from training.models import TrainingPlan

# (user id, organisation id): a person, as a member of one organisation.
Person = tuple[int, int]


@dataclass
class Event:
    """What happened, as the receivers tell it: its kind, its key (unique per event), the objects the rules read,
    and the words of its notification. `candidate_*`: the e-mail to the candidate, for the kinds that have one."""

    kind: str
    key: str
    organisation_id: int
    title: str
    body: str = ""
    url: str = ""
    # A link of its own for the members of one organisation (the jury body reads the session, not the dossier).
    url_by_organisation: dict[int, str] = field(default_factory=dict)
    actor_id: int | None = None
    dossier: Dossier | None = None
    plan: TrainingPlan | None = None
    session: JurySession | None = None
    referral: Referral | None = None
    appointment: Appointment | None = None
    assignment: Assignment | None = None
    # The assignment a reassignment just ended: its assignee hears that the step is no longer theirs.
    previous_assignment: Assignment | None = None
    # What one person reads instead of the event's words: {user id: {"title": ..., "body": ..., "url": ...}}
    # (the previous assignee's « no longer yours », a trainer's link to their agenda rather than a dossier).
    personal: dict[int, dict[str, str]] = field(default_factory=dict)
    candidate_title: str = ""
    candidate_body: str = ""
    attachments: list[dict[str, Any]] = field(default_factory=list)
    # What a rule needs beyond the objects (e.g. the referral's expiry).
    extra: dict[str, Any] = field(default_factory=dict)


Rule = Callable[[Event], Iterable[Person]]


def dossier_counsellor(event: Event) -> Iterable[Person]:
    dossier = event.dossier
    if dossier is not None and dossier.counsellor_id is not None:
        yield (dossier.counsellor_id, dossier.organisation_id)


def dossier_evaluators(event: Event) -> Iterable[Person]:
    """Everyone who evaluated the dossier (prior and final), in the evaluator organisation that owns it."""
    dossier = event.dossier
    if dossier is not None:
        for evaluator_id in dossier.evaluations.values_list("evaluator_id", flat=True).distinct():
            yield (evaluator_id, dossier.organisation_id)


def prior_evaluator(event: Event) -> Iterable[Person]:
    """Who evaluated the dossier first: the final evaluation, after the training, is usually theirs."""
    dossier = event.dossier
    if dossier is not None:
        first = dossier.evaluations.order_by("started_on", "pk").values_list("evaluator_id", flat=True).first()
        if first is not None:
            yield (first, dossier.organisation_id)


def plan_trainer(event: Event) -> Iterable[Person]:
    plan = event.plan
    if plan is not None:
        yield (plan.trainer_id, plan.organisation_id)


def session_jurors(event: Event) -> Iterable[Person]:
    """The members seated in this session, and no other juror."""
    session = event.session
    if session is not None:
        yield from session.seats.values_list("member__user_id", "member__organisation_id")


def session_organisers(event: Event) -> Iterable[Person]:
    """The administrators of the jury body that holds the session."""
    session = event.session
    if session is not None:
        yield from members_with_role(session.organisation_id, Role.ORG_ADMIN)


def referral_answerers(event: Event) -> Iterable[Person]:
    """The members of the receiving organisation with the role that answers referrals."""
    from referrals.models import ACCEPTING_ROLE

    referral = event.referral
    if referral is not None:
        yield from members_with_role(referral.organisation_id, ACCEPTING_ROLE)


def referral_advisor(event: Event) -> Iterable[Person]:
    referral = event.referral
    if referral is not None:
        yield (referral.advisor_id, referral.from_organisation_id)


def assignee(event: Event) -> Iterable[Person]:
    """The person the step is assigned to, in the organisation of their membership (a trainer's may be another)."""
    assignment = event.assignment
    if assignment is not None:
        yield (assignment.assignee.user_id, assignment.assignee.organisation_id)


def previous_assignee(event: Event) -> Iterable[Person]:
    assignment = event.previous_assignment
    if assignment is not None:
        yield (assignment.assignee.user_id, assignment.assignee.organisation_id)


def appointment_attendee(event: Event) -> Iterable[Person]:
    """The person the candidate meets, in the organisation of their membership (a trainer's may be another)."""
    appointment = event.appointment
    if appointment is not None:
        yield (appointment.with_membership.user_id, appointment.with_membership.organisation_id)


def interview_request_handlers(event: Event) -> Iterable[Person]:
    """The counsellors of the organisation a person asked for an interview (app intake)."""
    organisation_id = event.extra.get("interview_request_organisation")
    if organisation_id is not None:
        yield from members_with_role(organisation_id, Role.COUNSELLOR)


def interview_request_counsellor(event: Event) -> Iterable[Person]:
    """The counsellor named in the meeting proposed to the person, else the organisation's counsellors."""
    membership = event.extra.get("interview_request_with")
    if membership is not None:
        yield (membership.user_id, membership.organisation_id)
    else:
        yield from interview_request_handlers(event)


def previous_organisation(event: Event) -> Iterable[Person]:
    """A dossier that moved to another organisation (issue 19): who followed it at the one it left (the event names
    that organisation), the evaluator of an evaluation the move abandoned, and its administrators."""
    counsellor_id = event.extra.get("previous_counsellor_id")
    if counsellor_id is not None:
        yield (counsellor_id, event.organisation_id)
    for evaluator_id in event.extra.get("evaluator_ids", ()):
        yield (evaluator_id, event.organisation_id)
    yield from members_with_role(event.organisation_id, Role.ORG_ADMIN)


def webhook_managers(event: Event) -> Iterable[Person]:
    """A webhook subscription paused after its failures (issue 20): who created it, under the membership it reads
    with, and the administrators of its organisation."""
    owner = event.extra.get("owner_id")
    if owner is not None:
        yield (owner, event.organisation_id)
    yield from members_with_role(event.organisation_id, Role.ORG_ADMIN)


def organisation_admins(event: Event) -> Iterable[Person]:
    """The administrators of the organisation the event concerns (a habilitation's: the evaluator organisation)."""
    yield from members_with_role(event.organisation_id, Role.ORG_ADMIN)


def members_with_role(organisation_id: int, role: str) -> list[Person]:
    return [
        (user_id, organisation_id)
        for user_id in Membership.objects.active()
        .filter(organisation_id=organisation_id, role=role)
        .values_list("user_id", flat=True)
    ]


@dataclass(frozen=True)
class Kind:
    label: str | Promise
    recipients: tuple[Rule, ...]
    # The candidate too, by e-mail, when they agreed at opening and an address is known (their documents, the
    # decision, their appointments).
    candidate: bool = False
    # False: the event's formal e-mail already leaves from its own app (see the module's docstring).
    email: bool = True


KINDS: dict[str, Kind] = {
    "evaluation_closed": Kind(_("Évaluation clôturée"), (dossier_counsellor,)),
    "attestation_ready": Kind(_("Attestation disponible"), (dossier_counsellor,), candidate=True),
    "training_plan_created": Kind(_("Parcours de formation confié"), (plan_trainer,)),
    "training_plan_completed": Kind(_("Formation terminée"), (dossier_counsellor, prior_evaluator)),
    "dossier_submitted": Kind(_("Dossier soumis au jury"), (dossier_counsellor, session_organisers)),
    "session_convened": Kind(_("Convocation à un jury"), (session_jurors,), email=False),
    "session_dossier_added": Kind(_("Dossier ajouté à une session convoquée"), (session_jurors,)),
    "decision_recorded": Kind(_("Décision du jury"), (dossier_counsellor, dossier_evaluators), candidate=True),
    "certificate_ready": Kind(_("Certificat disponible"), (dossier_counsellor,), candidate=True),
    # Closed by someone else than the counsellor: the candidate from their space, an administrator, the platform.
    "dossier_withdrawn": Kind(_("Dossier clos (abandon)"), (dossier_counsellor,)),
    # A dossier moved to another organisation (issue 19): the one it left cannot block it, it is told; the new
    # counsellor hears when the candidate moved it themself (otherwise they asked for it).
    "dossier_transferred_away": Kind(_("Dossier parti vers un autre organisme"), (previous_organisation,)),
    "dossier_transferred_in": Kind(_("Dossier arrivé d'un autre organisme"), (dossier_counsellor,)),
    "referral_received": Kind(_("Orientation reçue"), (referral_answerers,), email=False),
    "referral_answered": Kind(_("Réponse à une orientation"), (referral_advisor,), email=False),
    "referral_expiring": Kind(_("Orientation bientôt expirée"), (referral_answerers,)),
    "deadline_3_months": Kind(_("Échéance des 5 ans dans 3 mois"), (dossier_counsellor,), email=False),
    "deadline_1_month": Kind(_("Échéance des 5 ans dans 1 mois"), (dossier_counsellor,)),
    "assignment": Kind(_("Étape confiée"), (assignee, previous_assignee)),
    "appointment_booked": Kind(_("Rendez-vous pris"), (appointment_attendee, dossier_counsellor), candidate=True),
    "appointment_changed": Kind(_("Rendez-vous déplacé"), (appointment_attendee, dossier_counsellor), candidate=True),
    "appointment_cancelled": Kind(_("Rendez-vous annulé"), (appointment_attendee, dossier_counsellor), candidate=True),
    # The counsellor rebooks: the person met, who recorded it or let the counsellor do so, knows already.
    "appointment_missed": Kind(_("Rendez-vous manqué"), (dossier_counsellor,)),
    "appointment_reminder": Kind(_("Rappel de rendez-vous"), (appointment_attendee,), candidate=True),
    # A person who came directly from the directory (app intake): their request confirmed, their answer.
    "interview_request_received": Kind(_("Demande d'entretien reçue"), (interview_request_handlers,)),
    "interview_request_answered": Kind(_("Réponse à un rendez-vous proposé"), (interview_request_counsellor,)),
    "correction_requested": Kind(_("Demande de rectification"), (dossier_counsellor,)),
    # The candidate alone: the counsellor who answered knows.
    "correction_answered": Kind(_("Réponse à une demande de rectification"), (), candidate=True),
    # Its receiver kept failing: events are no longer sent until someone resumes it (webhooks).
    "webhook_paused": Kind(_("Webhook mis en pause après des échecs"), (webhook_managers,)),
    # Certif'Pro instructed the organisation's habilitation (granted, refused, renewed, suspended, reinstated,
    # withdrawn); and, once, 3 months before one ends without a renewal (the daily job).
    "habilitation_decision": Kind(_("Décision sur une habilitation"), (organisation_admins,)),
    "habilitation_expiring": Kind(_("Habilitation bientôt terminée"), (organisation_admins,)),
}


def kind_label(kind: str) -> str:
    known = KINDS.get(kind)
    return str(known.label) if known is not None else kind
