"""France Travail referrals: an advisor hands a job seeker over to an evaluator's site, which accepts (opening
a dossier), declines, or lets the referral expire."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, TransitionNotAllowed, transition

from candidates.models import Civility, Dossier, EducationLevel
from clea_platform.certifications import Certification
from clea_platform.changes import TracksChanges
from organisations.models import Role, TransitionEvent
from organisations.validators import validate_postcode

if TYPE_CHECKING:
    from organisations.models import Membership


def referral_expiry_delay() -> datetime.timedelta:
    """How long a referral waits for an answer before it expires (settings.REFERRAL_EXPIRY_DAYS, 30 days)."""
    from django.conf import settings

    return datetime.timedelta(days=getattr(settings, "REFERRAL_EXPIRY_DAYS", 30))


class ReferralState(models.TextChoices):
    SENT = "sent", _("Envoyée, en attente de réponse")
    ACCEPTED = "accepted", _("Acceptée")
    DECLINED = "declined", _("Déclinée")
    EXPIRED = "expired", _("Expirée sans réponse")


# The roles `Referral.objects.visible_to` shows referrals to: the screens and the API let them in.
REFERRAL_ROLES = (Role.FT_ADVISOR, Role.COUNSELLOR, Role.ORG_ADMIN, Role.CERTIFPRO_ADMIN)
# Accepting opens the dossier at the information step with the acceptor as its counsellor: the CléA journey
# starts with a counsellor's one-to-one interview, so a counsellor accepts (dossier_create allows no other
# role). The organisation's administrator may decline, and is told who accepts.
ACCEPTING_ROLE = Role.COUNSELLOR
WHO_ACCEPTS = _(
    "Une conseillère ou un conseiller de votre organisme accepte l'orientation : c'est elle ou lui qui reçoit "
    "la personne en entretien d'information et suit le dossier créé. En tant qu'administrateur ou "
    "administratrice, vous pouvez la décliner."
)


class ReferralQuerySet(models.QuerySet["Referral"]):
    def visible_to(self, membership: Membership | None) -> ReferralQuerySet:
        """France Travail advisors: the referrals their agency sent; counsellors: those their organisation
        received; organisation administrators: both; Certif'Pro: all."""
        if membership is None:
            return self.none()
        if membership.is_certifpro:
            return self.all()
        if membership.role == Role.FT_ADVISOR:
            return self.filter(from_organisation_id=membership.organisation_id)
        if membership.role == Role.COUNSELLOR:
            return self.filter(organisation_id=membership.organisation_id)
        if membership.role == Role.ORG_ADMIN:
            return self.filter(
                models.Q(organisation_id=membership.organisation_id)
                | models.Q(from_organisation_id=membership.organisation_id)
            )
        return self.none()

    def received_by(self, membership: Membership | None) -> ReferralQuerySet:
        """Those the membership answers for: its organisation received them (Certif'Pro: all). The sending
        agency's administrator sees its referrals but answers none of them: 404, as for another's."""
        if membership is None:
            return self.none()
        if membership.is_certifpro:
            return self.all()
        return self.visible_to(membership).filter(organisation_id=membership.organisation_id)

    def awaiting_answer(self) -> ReferralQuerySet:
        return self.filter(state=ReferralState.SENT)

    def overdue(self, now: datetime.datetime | None = None) -> ReferralQuerySet:
        return self.filter(state=ReferralState.SENT, sent_at__lt=(now or timezone.now()) - referral_expiry_delay())


class Referral(ConcurrentTransitionMixin, TracksChanges, models.Model):
    """A France Travail advisor hands a job seeker (who agreed to it) over to an evaluator's site.

    Owned by the receiving evaluator organisation; the sending agency keeps sight of its status and, once a
    dossier exists, of that dossier's step only, never of the evaluation's content."""

    # The rows whose updated_at moves with this one's changes (clea_platform/changes.py).
    feed_parents = ("dossier",)

    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="referrals_received",
        verbose_name=_("organisme évaluateur"),
    )
    site = models.ForeignKey(
        "organisations.Site", on_delete=models.PROTECT, related_name="referrals", verbose_name=_("site")
    )
    from_organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="referrals_sent",
        verbose_name=_("agence France Travail"),
    )
    advisor = models.ForeignKey(
        "organisations.User",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("conseil France Travail"),
    )
    certification = models.CharField(_("certification visée"), max_length=20, choices=Certification.choices)
    civility = models.CharField(_("civilité"), max_length=3, choices=Civility.choices)
    first_name = models.CharField(_("prénom"), max_length=150)
    last_name = models.CharField(_("nom d'usage"), max_length=150)
    birth_date = models.DateField(_("date de naissance"))
    birth_place = models.CharField(_("lieu de naissance"), max_length=150, blank=True)
    email = models.EmailField(_("adresse e-mail"), blank=True)
    phone = models.CharField(_("téléphone"), max_length=20, blank=True)
    postcode = models.CharField(_("code postal"), max_length=5, blank=True, validators=[validate_postcode])
    city = models.CharField(_("commune"), max_length=120, blank=True)
    education_level = models.CharField(
        _("niveau de formation"), max_length=4, choices=EducationLevel.choices, blank=True
    )
    note = models.TextField(_("note pour l'organisme"), blank=True)
    consent_at = models.DateTimeField(_("consentement recueilli le"))
    consent_text = models.TextField(_("texte présenté à la personne"))
    state = FSMField(
        _("état"), default=ReferralState.SENT, choices=ReferralState.choices, protected=True, db_index=True
    )
    sent_at = models.DateTimeField(_("envoyée le"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True, db_index=True)
    answered_at = models.DateTimeField(_("réponse le"), null=True, blank=True)
    answered_by = models.ForeignKey(
        "organisations.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("réponse de"),
    )
    decline_reason = models.TextField(_("motif du refus"), blank=True)
    dossier = models.ForeignKey(
        Dossier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals",
        verbose_name=_("dossier ouvert"),
    )
    # Set once by privacy.services, past the retention or on request: the person's identity is gone for good.
    anonymised_at = models.DateTimeField(_("anonymisée le"), null=True, blank=True, editable=False)

    objects = ReferralQuerySet.as_manager()

    class Meta:
        verbose_name = _("orientation France Travail")
        verbose_name_plural = _("orientations France Travail")
        ordering = ["-sent_at", "-id"]
        indexes = [
            models.Index(fields=["organisation", "state", "-sent_at"], name="referral_received_idx"),
            models.Index(fields=["from_organisation", "-sent_at"], name="referral_sent_idx"),
        ]
        constraints = [
            # An accepted referral has its dossier, and a dossier comes from one referral at most.
            models.CheckConstraint(
                condition=~models.Q(state="accepted") | models.Q(dossier__isnull=False),
                name="referral_accepted_has_dossier",
            ),
            models.UniqueConstraint(
                fields=["dossier"], condition=models.Q(dossier__isnull=False), name="referral_one_per_dossier"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.last_name.upper()} {self.first_name} → {self.site.name}"

    def audit_label(self) -> str:
        """What the audit log keeps of this row: no name, which the log, unalterable, could never give up when
        the person's data is anonymised."""
        return gettext("Orientation France Travail n° %(id)s") % {"id": self.pk}

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def expires_at(self) -> datetime.datetime:
        return self.sent_at + referral_expiry_delay()

    def is_received_by(self, membership: Membership) -> bool:
        """Whether the membership speaks for the receiving organisation (`received_by`), and so sees the job
        seeker's details and the dossier opened; the sending agency learns the dossier's step only."""
        return membership.is_certifpro or membership.organisation_id == self.organisation_id

    def is_overdue(self, now: datetime.datetime | None = None) -> bool:
        return self.state == ReferralState.SENT and self.expires_at <= (now or timezone.now())

    def record_event(self, **fields: Any) -> ReferralEvent:
        """The referral's history row for a transition (organisations.transitions writes it)."""
        return ReferralEvent.objects.create(referral=self, **fields)

    # -- Transitions: each changes this instance only; referrals/services.py persists and records them ---

    @transition(field=state, source=ReferralState.SENT, target=ReferralState.ACCEPTED)
    def accept(self, *, dossier: Dossier, answered_by: Any, at: datetime.datetime) -> None:
        self.dossier, self.answered_by, self.answered_at = dossier, answered_by, at

    @transition(field=state, source=ReferralState.SENT, target=ReferralState.DECLINED)
    def decline(self, *, reason: str, answered_by: Any, at: datetime.datetime) -> None:
        self.decline_reason, self.answered_by, self.answered_at = reason, answered_by, at

    @transition(field=state, source=ReferralState.SENT, target=ReferralState.EXPIRED)
    def expire(self, *, now: datetime.datetime) -> None:
        # A guard inside the method, as for dossiers: the daily job says what time it is.
        if not self.is_overdue(now):
            raise TransitionNotAllowed("The referral still awaits an answer.", object=self, method=self.expire)
        self.answered_at = now


class ReferralEventQuerySet(models.QuerySet["ReferralEvent"]):
    def visible_to(self, membership: Membership | None) -> ReferralEventQuerySet:
        return self.filter(referral__in=Referral.objects.visible_to(membership))


class ReferralEvent(TransitionEvent):
    """A referral's history: its sending and its answer (or expiry), who, when, from, to, why. Append-only."""

    referral = models.ForeignKey(
        Referral, on_delete=models.CASCADE, related_name="events", verbose_name=_("orientation")
    )
    from_state = models.CharField(_("état de départ"), max_length=20, choices=ReferralState.choices, blank=True)
    to_state = models.CharField(_("état d'arrivée"), max_length=20, choices=ReferralState.choices)

    objects = ReferralEventQuerySet.as_manager()
    tenant_path = "referral__organisation"

    class Meta(TransitionEvent.Meta):
        verbose_name = _("événement d'une orientation")
        verbose_name_plural = _("historique des orientations")
