"""A person's own request for an information interview, sent from the public directory to a site ("toute personne
peut s'adresser directement à l'organisme de son choix"): confirmed by e-mail, answered by the organisation with a
proposed meeting, accepted or asked for another time by the person, and converted into an information dossier.

Only what is needed to call the person back: a name, an e-mail address, an optional phone number, preferred times.
The request is seen by its organisation only (TenantQuerySet), never by anyone else nor in public."""

from __future__ import annotations

import datetime
import hashlib
import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from clea_platform.certifications import Certification
from organisations.models import Membership, Role, TenantQuerySet
from scheduling.models import Appointment


class InterviewRequestState(models.TextChoices):
    UNCONFIRMED = "unconfirmed", _("Adresse e-mail à confirmer")
    WAITING = "waiting", _("À traiter")
    PROPOSED = "proposed", _("Rendez-vous proposé")
    OTHER_TIME = "other_time", _("Autre horaire demandé")
    ACCEPTED = "accepted", _("Rendez-vous accepté")
    CONVERTED = "converted", _("Dossier ouvert")
    EXPIRED = "expired", _("Expirée sans réponse")


# Where the organisation has something to do: propose a meeting, propose another, or open the dossier.
TO_HANDLE = (InterviewRequestState.WAITING, InterviewRequestState.OTHER_TIME, InterviewRequestState.ACCEPTED)
# Not answered yet by the organisation: reminded, then expired (services.interview_requests_follow_up).
UNANSWERED = (InterviewRequestState.WAITING, InterviewRequestState.OTHER_TIME)
CLOSED = (InterviewRequestState.CONVERTED, InterviewRequestState.EXPIRED)


def new_token() -> tuple[str, str]:
    """A link's secret and the sha256 stored in its place (the link is the only copy of the secret)."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class InterviewRequestQuerySet(TenantQuerySet):
    """The organisation's counsellors and administrators; Certif'Pro all. An evaluator has no use of it."""

    organisation_roles = frozenset({Role.COUNSELLOR, Role.ORG_ADMIN})

    def confirmed(self) -> InterviewRequestQuerySet:
        return self.exclude(state=InterviewRequestState.UNCONFIRMED)

    def to_handle(self) -> InterviewRequestQuerySet:
        return self.filter(state__in=TO_HANDLE)

    def by_token(self, token: str, state: str, now: datetime.datetime) -> InterviewRequestQuerySet:
        return self.filter(token_sha256=token_hash(token), state=state, token_expires_at__gt=now)


class InterviewRequest(models.Model):
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("organisation")
    )
    site = models.ForeignKey(
        "organisations.Site", on_delete=models.PROTECT, related_name="interview_requests", verbose_name=_("site")
    )
    certification = models.CharField(_("certification"), max_length=20, choices=Certification.choices)
    first_name = models.CharField(_("prénom"), max_length=150)
    last_name = models.CharField(_("nom"), max_length=150)
    email = models.EmailField(_("adresse e-mail"))
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    preferred_times = models.CharField(_("moments préférés"), max_length=500, blank=True)
    consent_at = models.DateTimeField(_("accord pour être contacté le"))
    state = models.CharField(
        _("état"),
        max_length=20,
        choices=InterviewRequestState.choices,
        default=InterviewRequestState.UNCONFIRMED,
        db_index=True,
    )
    created_at = models.DateTimeField(_("envoyée le"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("adresse confirmée le"), null=True, blank=True)
    # The link of the moment: the e-mail confirmation, then the answer to a proposal. Only its sha256 is kept; it
    # is cleared once used, so a link works once.
    token_sha256 = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    token_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Since when the organisation has had something to answer (confirmation, or the person's request for another
    # time): the reminder and the expiry count from here.
    waiting_since = models.DateTimeField(_("en attente depuis"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("rappelée à l'organisme le"), null=True, blank=True)
    # The proposed meeting (the last one): an appointment in the named counsellor's agenda, without a dossier until
    # the request is converted (then attached to it). The earlier proposals, cancelled, are its `rebooked_from`s.
    appointment = models.OneToOneField(
        "scheduling.Appointment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        # The agenda reads it by this name to link to the request (scheduling never imports intake).
        related_name="interview_request",
        verbose_name=_("rendez-vous proposé"),
    )
    # The words the person was sent for the place (a room, a video link): the appointment keeps the site.
    proposed_place = models.CharField(_("lieu"), max_length=500, blank=True)
    answer_message = models.TextField(_("message de la personne"), blank=True)
    answered_at = models.DateTimeField(_("réponse de la personne le"), null=True, blank=True)
    closed_at = models.DateTimeField(_("close le"), null=True, blank=True, db_index=True)
    dossier = models.OneToOneField(
        "candidates.Dossier",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="interview_request",
        verbose_name=_("dossier"),
    )

    objects = InterviewRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("demande d'entretien")
        verbose_name_plural = _("demandes d'entretien")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(state="converted") | models.Q(closed_at__isnull=False),
                name="interview_request_closed_when_converted",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "state"], name="interview_request_queue_idx")]

    def __str__(self) -> str:
        return f"{self.last_name.upper()} {self.first_name}"

    def audit_label(self) -> str:
        # Never the person's name: the audit log outlives the request.
        return gettext("Demande d'entretien n° %(id)s") % {"id": self.pk}

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    # The proposed meeting, as the templates and e-mails read it.
    @property
    def proposed_starts_at(self) -> datetime.datetime | None:
        return self.appointment.starts_at if self.appointment is not None else None

    @property
    def proposed_duration_minutes(self) -> int | None:
        return self.appointment.duration_minutes if self.appointment is not None else None

    @property
    def proposed_ends_at(self) -> datetime.datetime | None:
        return self.appointment.ends_at if self.appointment is not None else None

    @property
    def proposed_with(self) -> Membership | None:
        return self.appointment.with_membership if self.appointment is not None else None

    @property
    def may_propose(self) -> bool:
        return self.state in (
            InterviewRequestState.WAITING,
            InterviewRequestState.OTHER_TIME,
            InterviewRequestState.PROPOSED,
            InterviewRequestState.ACCEPTED,
        )

    @property
    def may_convert(self) -> bool:
        return self.state in TO_HANDLE or self.state == InterviewRequestState.PROPOSED


EVENT_LABELS = {
    "submit": _("Demande envoyée depuis l'annuaire"),
    "confirm": _("Adresse e-mail confirmée"),
    "propose": _("Rendez-vous proposé"),
    "accept": _("Rendez-vous accepté par la personne"),
    "other_time": _("Autre horaire demandé par la personne"),
    "cancelled": _("Rendez-vous annulé depuis l'agenda"),
    "remind": _("Rappel envoyé à l'organisme"),
    "expire": _("Expirée sans réponse de l'organisme"),
    "convert": _("Dossier ouvert"),
}


class InterviewRequestEvent(models.Model):
    """The request's history, shown on its page: who did what, when (the actor None: the person or the platform)."""

    request = models.ForeignKey(InterviewRequest, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey("organisations.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    action = models.CharField(max_length=30)
    note = models.TextField(blank=True)

    tenant_path = "request__organisation"

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.action} {self.at:%Y-%m-%d}"

    @property
    def label(self) -> str:
        return str(EVENT_LABELS.get(self.action, self.action))


def requests_appointment_ids(requests: models.QuerySet[InterviewRequest]) -> list[int]:
    """Every appointment these requests proposed: the last one and, back along `rebooked_from`, those it replaced
    (the privacy job blanks the person's data on them before deleting the requests)."""
    found: set[int] = set()
    frontier = {pk for pk in requests.values_list("appointment_id", flat=True) if pk is not None}
    while frontier:
        found |= frontier
        frontier = {
            pk
            for pk in Appointment.objects.filter(pk__in=frontier).values_list("rebooked_from_id", flat=True)
            if pk is not None and pk not in found
        }
    return sorted(found)
