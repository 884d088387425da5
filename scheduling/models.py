"""Who does the next step of a dossier (assignments) and when they meet the candidate (appointments)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, TransitionNotAllowed, transition

from clea_platform.changes import TracksChanges
from organisations.models import OrganisationKind, Role, TenantQuerySet

if TYPE_CHECKING:
    from candidates.models import Dossier, DossierEvent
    from organisations.models import Membership


class AssignmentPurpose(models.TextChoices):
    PRIOR_EVALUATION = "prior_evaluation", _("Évaluation préalable")
    FINAL_EVALUATION = "final_evaluation", _("Évaluation finale")
    TRAINING = "training", _("Formation")


EVALUATION_PURPOSES = frozenset({AssignmentPurpose.PRIOR_EVALUATION, AssignmentPurpose.FINAL_EVALUATION})

# The role the assignee holds for each purpose.
ASSIGNMENT_ROLE: dict[str, str] = {
    AssignmentPurpose.PRIOR_EVALUATION: Role.EVALUATOR,
    AssignmentPurpose.FINAL_EVALUATION: Role.EVALUATOR,
    AssignmentPurpose.TRAINING: Role.TRAINER,
}

# Who assigns and books for the dossier's organisation.
SCHEDULING_ROLES = frozenset({Role.COUNSELLOR, Role.ORG_ADMIN})


# -- The CléA rule: the trainer is never the evaluator ---------------------------------------------------------------
# One home for it: training/services.py (naming a plan's trainer), evaluations/services.py (starting the final
# evaluation) and the assignments below all ask these two questions.


def has_evaluated(dossier: Dossier, user_id: int) -> bool:
    """Whether the person evaluated this dossier, or is its assigned evaluator now."""
    return (
        dossier.evaluations.filter(evaluator_id=user_id).exists()
        or Assignment.objects.current()
        .filter(dossier=dossier, purpose__in=EVALUATION_PURPOSES, assignee__user_id=user_id)
        .exists()
    )


def has_trained(dossier: Dossier, user_id: int) -> bool:
    """Whether the person trains (or trained) this candidate for this dossier, or is its assigned trainer now."""
    return (
        dossier.training_plans.filter(trainer_id=user_id).exists()
        or Assignment.objects.current()
        .filter(dossier=dossier, purpose=AssignmentPurpose.TRAINING, assignee__user_id=user_id)
        .exists()
    )


def eligible_memberships_filter(purpose: str, organisation_id: int) -> models.Q:
    """Who may be assigned `purpose` for a dossier of the organisation: its evaluators for an evaluation; for the
    training, its own trainers or those of a training organisation (CléA lets another organisation train, as
    training_plan_create does)."""
    role = ASSIGNMENT_ROLE[purpose]
    if role == Role.TRAINER:
        return models.Q(role=role) & (
            models.Q(organisation_id=organisation_id) | models.Q(organisation__kind=OrganisationKind.TRAINING)
        )
    return models.Q(role=role, organisation_id=organisation_id)


# -- Assignments -----------------------------------------------------------------------------------------------------


class AssignmentQuerySet(TenantQuerySet):
    """The dossier's organisation (counsellors, evaluators, administrators); a trainer of another organisation sees
    the assignments made to them; Certif'Pro all."""

    def visible_to_others(self, membership: Membership) -> AssignmentQuerySet:
        if membership.role == Role.TRAINER:
            return self.filter(assignee=membership)
        return self.none()

    def current(self) -> AssignmentQuerySet:
        return self.filter(ended_at__isnull=True)


class Assignment(models.Model):
    """Who does one step of a dossier. One current per (dossier, purpose); a reassignment ends it and adds a row, so
    the history stays."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("organisation")
    )
    dossier = models.ForeignKey(
        "candidates.Dossier", on_delete=models.PROTECT, related_name="assignments", verbose_name=_("dossier")
    )
    purpose = models.CharField(_("étape"), max_length=20, choices=AssignmentPurpose.choices)
    assignee = models.ForeignKey(
        "organisations.Membership", on_delete=models.PROTECT, related_name="assignments", verbose_name=_("confiée à")
    )
    assigned_by = models.ForeignKey(
        "organisations.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("par")
    )
    assigned_at = models.DateTimeField(_("le"), default=timezone.now)
    ended_at = models.DateTimeField(_("fin"), null=True, blank=True)
    end_reason = models.CharField(_("motif de fin"), max_length=255, blank=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("affectation")
        verbose_name_plural = _("affectations")
        ordering = ["-assigned_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dossier", "purpose"],
                condition=models.Q(ended_at__isnull=True),
                name="assignment_one_current_per_purpose",
            ),
        ]
        indexes = [models.Index(fields=["assignee", "ended_at"], name="assignment_assignee_idx")]

    def __str__(self) -> str:
        return f"{self.dossier} – {self.get_purpose_display()}"

    def audit_label(self) -> str:
        # No name: the audit log outlives the person's data.
        return gettext("Affectation n° %(id)s") % {"id": self.pk}

    @property
    def is_current(self) -> bool:
        return self.ended_at is None


# -- Appointments ----------------------------------------------------------------------------------------------------


class AppointmentPurpose(models.TextChoices):
    INFORMATION = "information", _("Entretien d'information")
    PRIOR_EVALUATION = "prior_evaluation", _("Évaluation préalable")
    FINAL_EVALUATION = "final_evaluation", _("Évaluation finale")
    TRAINING_SESSION = "training_session", _("Séance de formation")


# The role of the person the candidate meets, for each purpose.
APPOINTMENT_ROLE: dict[str, str] = {
    AppointmentPurpose.INFORMATION: Role.COUNSELLOR,
    AppointmentPurpose.PRIOR_EVALUATION: Role.EVALUATOR,
    AppointmentPurpose.FINAL_EVALUATION: Role.EVALUATOR,
    AppointmentPurpose.TRAINING_SESSION: Role.TRAINER,
}

# The assignment whose assignee is the default person for an appointment of this purpose.
APPOINTMENT_ASSIGNMENT: dict[str, str] = {
    AppointmentPurpose.PRIOR_EVALUATION: AssignmentPurpose.PRIOR_EVALUATION,
    AppointmentPurpose.FINAL_EVALUATION: AssignmentPurpose.FINAL_EVALUATION,
    AppointmentPurpose.TRAINING_SESSION: AssignmentPurpose.TRAINING,
}


class AppointmentModality(models.TextChoices):
    SITE = "site", _("Sur site")
    REMOTE = "remote", _("À distance")


class AppointmentState(models.TextChoices):
    PLANNED = "planned", _("Prévu")
    DONE = "done", _("Réalisé")
    MISSED = "missed", _("Manqué")
    CANCELLED = "cancelled", _("Annulé")


MIN_DURATION_MINUTES = 15
MAX_DURATION_MINUTES = 480


def may_book(membership: Membership, purpose: str) -> bool:
    """The counsellor (or the administrator) books every appointment of the organisation's dossiers; a trainer books
    the training sessions of the dossiers assigned to them (checked against the dossier by the service)."""
    if membership.role in SCHEDULING_ROLES:
        return True
    return membership.role == Role.TRAINER and purpose == AppointmentPurpose.TRAINING_SESSION


# Transition permissions: django-fsm-2 calls them with what `has_perm` got, our Membership (its types say a Django
# user, hence `Any`).


def _may_record(appointment: Any, membership: Any) -> bool:
    """Done or missed: the person the candidate meets, or the organisation's counsellor or administrator."""
    if membership.pk == appointment.with_membership_id:
        return True
    return membership.role in SCHEDULING_ROLES and membership.organisation_id == appointment.organisation_id


def _may_cancel(appointment: Any, membership: Any) -> bool:
    if membership.role in SCHEDULING_ROLES and membership.organisation_id == appointment.organisation_id:
        return True
    return (
        appointment.purpose == AppointmentPurpose.TRAINING_SESSION and membership.pk == appointment.with_membership_id
    )


class AppointmentQuerySet(TenantQuerySet):
    """The dossier's organisation (counsellors, evaluators, administrators); a trainer the appointments they hold,
    whatever the organisation; Certif'Pro all."""

    def visible_to_others(self, membership: Membership) -> AppointmentQuerySet:
        if membership.role == Role.TRAINER:
            return self.filter(with_membership=membership)
        return self.none()

    def planned(self) -> AppointmentQuerySet:
        return self.filter(state=AppointmentState.PLANNED)

    def of_person(self, user_id: int) -> AppointmentQuerySet:
        """The appointments a person holds, under any of their memberships."""
        return self.filter(with_membership__user_id=user_id)

    def between(self, start: datetime.datetime, end: datetime.datetime) -> AppointmentQuerySet:
        """Those that overlap [start, end)."""
        return self.filter(starts_at__lt=end, ends_at__gt=start)


class Appointment(ConcurrentTransitionMixin, TracksChanges, models.Model):
    """A meeting of the candidate with a counsellor, an evaluator or a trainer: planned, then done, missed or
    cancelled (with a reason). A missed or cancelled one is rebooked as a new appointment linked to it."""

    # The rows whose updated_at moves with this one's changes (clea_platform/changes.py).
    feed_parents = ("dossier",)

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("organisation")
    )
    # None for an information interview a person asked from the directory before any dossier (app intake, which
    # points here): then the person's name and address below say who comes; attached to the dossier once opened.
    dossier = models.ForeignKey(
        "candidates.Dossier",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appointments",
        verbose_name=_("dossier"),
    )
    person_name = models.CharField(_("personne"), max_length=300, blank=True)
    person_email = models.EmailField(_("adresse e-mail de la personne"), blank=True)
    purpose = models.CharField(_("objet"), max_length=20, choices=AppointmentPurpose.choices)
    with_membership = models.ForeignKey(
        "organisations.Membership",
        on_delete=models.PROTECT,
        related_name="appointments",
        verbose_name=_("avec"),
    )
    starts_at = models.DateTimeField(_("début"), db_index=True)
    duration_minutes = models.PositiveSmallIntegerField(
        _("durée (minutes)"),
        validators=[MinValueValidator(MIN_DURATION_MINUTES), MaxValueValidator(MAX_DURATION_MINUTES)],
    )
    # Derived from starts_at and duration_minutes by the services: the overlap test and the agenda read it.
    ends_at = models.DateTimeField(_("fin"), editable=False)
    modality = models.CharField(_("modalité"), max_length=10, choices=AppointmentModality.choices)
    site = models.ForeignKey(
        "organisations.Site",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appointments",
        verbose_name=_("site"),
    )
    remote_details = models.CharField(
        _("modalités à distance"),
        max_length=255,
        blank=True,
        help_text=_("Lien de visioconférence ou numéro à appeler."),
    )
    state = FSMField(
        _("état"), default=AppointmentState.PLANNED, choices=AppointmentState.choices, protected=True, db_index=True
    )
    cancel_reason = models.TextField(_("motif d'annulation"), blank=True)
    rebooked_from = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rebooked_as",
        verbose_name=_("remplace le rendez-vous"),
    )
    booked_by = models.ForeignKey(
        "organisations.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("pris par")
    )
    booked_at = models.DateTimeField(_("pris le"), default=timezone.now)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True, db_index=True)
    # The iCalendar SEQUENCE: bumped on every change the attendee's calendar must pick up.
    sequence = models.PositiveIntegerField(default=0, editable=False)

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("rendez-vous")
        verbose_name_plural = _("rendez-vous")
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gte=MIN_DURATION_MINUTES)
                & models.Q(duration_minutes__lte=MAX_DURATION_MINUTES),
                name="appointment_duration_range",
            ),
            models.CheckConstraint(
                condition=~models.Q(modality="site") | models.Q(site__isnull=False),
                name="appointment_site_when_on_site",
            ),
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="appointment_ends_after"
            ),
            # Without a dossier: only the information interview, the first meeting. The person's name and address
            # only without one (a dossier carries them, and anonymises them with the candidate).
            models.CheckConstraint(
                condition=models.Q(dossier__isnull=False) | models.Q(purpose="information"),
                name="appointment_without_dossier_is_information",
            ),
            models.CheckConstraint(
                condition=models.Q(dossier__isnull=True) | (models.Q(person_name="") & models.Q(person_email="")),
                name="appointment_person_only_without_dossier",
            ),
        ]
        indexes = [
            models.Index(fields=["with_membership", "starts_at"], name="appointment_agenda_idx"),
            models.Index(fields=["site", "purpose", "booked_at"], name="appointment_site_wait_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} {timezone.localtime(self.starts_at):%d/%m/%Y %H:%M}"

    def audit_label(self) -> str:
        return gettext("Rendez-vous n° %(id)s") % {"id": self.pk}

    @property
    def who(self) -> str:
        """Whom the staff meet: the candidate, or the person who asked from the directory."""
        if self.dossier is not None:
            return self.dossier.candidate.full_name
        return self.person_name or gettext("Personne effacée")

    @property
    def is_planned(self) -> bool:
        return self.state == AppointmentState.PLANNED

    def was_rebooked(self) -> bool:
        return Appointment.objects.filter(rebooked_from=self).exists()

    @property
    def can_be_rebooked(self) -> bool:
        return self.state in (AppointmentState.MISSED, AppointmentState.CANCELLED) and not self.was_rebooked()

    def has_started(self, now: datetime.datetime | None = None) -> bool:
        return self.starts_at <= (now or timezone.now())

    def record_event(
        self, *, transition: str, from_state: str, to_state: str, actor: Any, note: str
    ) -> DossierEvent | None:
        """The dossier's timeline row for the appointment's transition (organisations.transitions writes it); none
        without a dossier (the audit row and the intake request's history tell it)."""
        from candidates.models import DossierEvent

        if self.dossier_id is None:
            return None

        label = {
            "mark_done": gettext("Rendez-vous réalisé : %(what)s"),
            "mark_missed": gettext("Rendez-vous manqué : %(what)s"),
            "cancel": gettext("Rendez-vous annulé : %(what)s"),
        }[transition] % {"what": str(self)}
        return DossierEvent.objects.create(
            dossier_id=self.dossier_id,
            actor=actor,
            transition=f"appointment_{transition}",
            note=f"{label} – {note}" if note else label,
        )

    # -- Transitions: each changes this instance only; scheduling/services.py persists and records them ----------

    @transition(field=state, source=AppointmentState.PLANNED, target=AppointmentState.DONE, permission=_may_record)
    def mark_done(self, *, now: datetime.datetime) -> None:
        self._check_started(now, self.mark_done)
        self.sequence += 1

    @transition(field=state, source=AppointmentState.PLANNED, target=AppointmentState.MISSED, permission=_may_record)
    def mark_missed(self, *, now: datetime.datetime) -> None:
        self._check_started(now, self.mark_missed)
        self.sequence += 1

    @transition(field=state, source=AppointmentState.PLANNED, target=AppointmentState.CANCELLED, permission=_may_cancel)
    def cancel(self, *, reason: str) -> None:
        self.cancel_reason = reason
        self.sequence += 1

    def _check_started(self, now: datetime.datetime, method: Any) -> None:
        # A guard inside the method, as for referrals: the service says what time it is.
        if not self.has_started(now):
            raise TransitionNotAllowed("The appointment has not started yet.", object=self, method=method)
