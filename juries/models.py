from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from clea_platform.certifications import Certification
from clea_platform.changes import TracksChanges
from clea_platform.verification import CERTIFICATE_CODE_LENGTH, verification_code_new
from clea_platform.verification import VERIFICATION_ALPHABET as VERIFICATION_ALPHABET  # the bench draws from it
from organisations.models import Region, Role, TenantQuerySet, TransitionEvent

if TYPE_CHECKING:
    from organisations.models import Membership

# A certificate's code: 8 characters of Pix's alphabet (clea_platform.verification, shared with attestations).
VERIFICATION_CODE_LENGTH = CERTIFICATE_CODE_LENGTH


# The CléA rules date a jury's decisions on the session; its day is the day in metropolitan France, where
# Certif'Pro keeps the national register (a session of an overseas region still counts in Paris' calendar).
SESSION_TIMEZONE = ZoneInfo("Europe/Paris")


def new_verification_code() -> str:
    return verification_code_new(VERIFICATION_CODE_LENGTH)


class College(models.TextChoices):
    EMPLOYERS = "employers", _("Collège employeurs")
    EMPLOYEES = "employees", _("Collège salariés")


class JuryMemberQuerySet(TenantQuerySet):
    """The jury body's administrators: its pool; a juror: their own seats in it; Certif'Pro: all."""

    organisation_roles = frozenset({Role.ORG_ADMIN})

    def visible_to_others(self, membership: Membership) -> JuryMemberQuerySet:
        if membership.role == Role.JURY_MEMBER:
            return self.filter(user_id=membership.user_id)
        return self.none()


class JuryMember(models.Model):
    """A person in a jury body's pool, for one college, representing an employers' or employees' organisation."""

    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="jury_members",
        verbose_name=_("organisateur de jurys"),
    )
    user = models.ForeignKey(
        "organisations.User", on_delete=models.PROTECT, related_name="jury_seats", verbose_name=_("personne")
    )
    college = models.CharField(_("collège"), max_length=10, choices=College.choices)
    represents = models.CharField(
        _("organisation représentée"),
        max_length=200,
        help_text=_("Ex. MEDEF, CPME, U2P, CFDT, CGT, FO, CFE-CGC, CFTC."),
    )
    # When the represented organisation is also on the platform (an evaluator or a training organisation), the
    # conflict of interest is detected from it.
    represented_organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("organisation représentée (sur la plateforme)"),
    )
    is_active = models.BooleanField(_("actif"), default=True)

    objects = JuryMemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("membre de jury")
        verbose_name_plural = _("membres de jury")
        ordering = ["user__last_name", "user__first_name"]
        constraints = [models.UniqueConstraint(fields=["organisation", "user"], name="jury_member_unique_person")]

    def __str__(self) -> str:
        return f"{self.user.get_full_name()} ({self.get_college_display()}, {self.represents})"

    def linked_organisation_ids(self) -> set[int]:
        """The organisations this member belongs to or represents: a dossier they touched is a conflict."""
        ids = set(self.user.memberships.values_list("organisation_id", flat=True))
        if self.represented_organisation_id:
            ids.add(self.represented_organisation_id)
        return ids


class SessionState(models.TextChoices):
    PLANNED = "planned", _("Planifiée")
    CONVENED = "convened", _("Convoquée")
    DELIBERATING = "deliberating", _("En délibération")
    CLOSED = "closed", _("Clôturée")


# The composition of a session may change until its deliberation opens.
EDITABLE_STATES = (SessionState.PLANNED, SessionState.CONVENED)
# The roles `JurySession.objects.visible_to` shows sessions to: the screens and the API let them in.
SESSION_ROLES = (Role.ORG_ADMIN, Role.CERTIFPRO_ADMIN, Role.JURY_MEMBER)


class JurySessionQuerySet(TenantQuerySet):
    """Jury members: the sessions they sit on; the jury body's administrators: its sessions; Certif'Pro:
    all. Evaluator organisations see sessions through `open_for_submission()`, not this."""

    organisation_roles = frozenset({Role.ORG_ADMIN})

    def visible_to_others(self, membership: Membership) -> JurySessionQuerySet:
        if membership.role == Role.JURY_MEMBER:
            return self.filter(seats__member__user_id=membership.user_id).distinct()
        return self.none()

    def open_for_submission(self, region: str | None = None) -> JurySessionQuerySet:
        qs = self.filter(state__in=[SessionState.PLANNED, SessionState.CONVENED], date__gte=timezone.now())
        return qs.filter(region=region) if region else qs


class JurySession(ConcurrentTransitionMixin, TracksChanges, models.Model):
    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="jury_sessions",
        verbose_name=_("organisateur (Transitions Pro)"),
    )
    region = models.CharField(_("région"), max_length=2, choices=Region.choices)
    certification = models.CharField(
        _("certification"), max_length=20, choices=Certification.choices, default=Certification.CLEA
    )
    date = models.DateTimeField(_("date et heure"))
    place = models.CharField(_("lieu"), max_length=255, blank=True)
    is_online = models.BooleanField(_("à distance"), default=False)
    capacity = models.PositiveSmallIntegerField(
        _("nombre de dossiers maximum"), default=30, validators=[MinValueValidator(1)]
    )
    state = FSMField(_("état"), default=SessionState.PLANNED, choices=SessionState.choices, protected=True)
    closed_at = models.DateTimeField(_("close le"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True, db_index=True)

    objects = JurySessionQuerySet.as_manager()

    class Meta:
        verbose_name = _("session de jury")
        verbose_name_plural = _("sessions de jury")
        ordering = ["-date"]

    def __str__(self) -> str:
        where = _("à distance") if self.is_online else self.place
        return f"{self.get_region_display()} – {timezone.localtime(self.date):%d/%m/%Y %H:%M} ({where})"

    def record_event(self, **fields: Any) -> JurySessionEvent:
        """The session's history row for a transition (organisations.transitions writes it)."""
        return JurySessionEvent.objects.create(session=self, **fields)

    def clean(self) -> None:
        if not self.is_online and not self.place.strip():
            raise ValidationError({"place": _("Indiquez le lieu, ou cochez « à distance ».")})
        # A new session is planned ahead (the API and the service too, not only the screen's form); an existing
        # one keeps its date once held.
        if self._state.adding and self.date is not None and self.date <= timezone.now():
            raise ValidationError({"date": _("La session doit avoir lieu dans le futur.")})

    def has_passed(self) -> bool:
        """Its day is over (in Paris): too late to convene anyone."""
        return timezone.localtime(timezone.now(), SESSION_TIMEZONE).date() > self.day

    @property
    def president(self) -> SessionSeat | None:
        return next((seat for seat in self.seats.all() if seat.is_president), None)

    def managed_by(self, membership: Membership) -> bool:
        """The jury body's administrators and Certif'Pro manage a session: compose it, convene it, and open or close
        its deliberation as its president may."""
        return membership.is_certifpro or (
            membership.role == Role.ORG_ADMIN and membership.organisation_id == self.organisation_id
        )

    def presided_by(self, membership: Membership) -> bool:
        """The membership is the juror convened as the session's president."""
        if membership.role != Role.JURY_MEMBER:
            return False
        return self.seats.filter(is_president=True, member__user_id=membership.user_id).exists()

    @property
    def awaits_deliberation(self) -> bool:
        """Convened and not yet deliberating: the only state from which the deliberation opens."""
        return self.state == SessionState.CONVENED

    def room_left(self) -> int:
        return self.capacity - self.submissions.count()

    @property
    def day(self) -> datetime.date:
        """The session's date in Paris: the date its minutes and certificates carry."""
        return timezone.localtime(self.date, SESSION_TIMEZONE).date()

    def has_begun(self) -> bool:
        """Its day has come (in Paris): the deliberation may open, not before."""
        return timezone.localtime(timezone.now(), SESSION_TIMEZONE).date() >= self.day

    def composition_problems(self) -> list[str]:
        """What the convened members lack to make a paritary jury: a member of each college, a president."""
        colleges = {seat.member.college for seat in self.seats.all()}
        problems = []
        if colleges != {College.EMPLOYERS, College.EMPLOYEES}:
            problems.append(str(_("Convoquez au moins un membre de chaque collège.")))
        if self.president is None:
            problems.append(str(_("Désignez la présidence du jury.")))
        return problems

    def quorum_problems(self) -> list[str]:
        """Why the session may not deliberate (empty when it may), from the attendance recorded when it opens:
        everyone's attendance known, a member of each college present, as many of one as of the other, the
        president present. Who was convened does not count, who is there does."""
        seats = list(self.seats.all())
        unrecorded = [seat for seat in seats if not seat.attendance]
        if unrecorded:
            names = ", ".join(seat.member.user.get_full_name() for seat in unrecorded)
            return [str(_("Indiquez la présence de chaque membre (manque : %(names)s).") % {"names": names})]
        present = [seat for seat in seats if seat.present]
        employers = sum(1 for s in present if s.member.college == College.EMPLOYERS)
        employees = sum(1 for s in present if s.member.college == College.EMPLOYEES)
        problems = []
        if employers < 1:
            problems.append(str(_("Aucun membre du collège employeurs n'est présent.")))
        if employees < 1:
            problems.append(str(_("Aucun membre du collège salariés n'est présent.")))
        if employers and employees and employers != employees:
            problems.append(
                str(_("Les collèges présents doivent être en nombre égal : %(employers)s, %(employees)s."))
                % {
                    "employers": ngettext("%(n)s employeur", "%(n)s employeurs", employers) % {"n": employers},
                    "employees": ngettext("%(n)s salarié", "%(n)s salariés", employees) % {"n": employees},
                }
            )
        president = self.president
        if president is None:
            problems.append(str(_("Désignez la présidence du jury.")))
        elif not president.present:
            problems.append(str(_("La personne qui préside doit être présente.")))
        return problems

    def pending_quorum_problems(self) -> list[str]:
        """What still stops the deliberation while the composition may change (the attendance is only known on
        the day, when it opens); nothing to say once it is open."""
        return self.composition_problems() if self.state in EDITABLE_STATES else []

    def may_decide(self, seat: SessionSeat | None, submission: Submission) -> bool:
        """The president records the decisions. For a dossier the president is linked to, another present member
        without a link (the one the jury designates) records it, so that a conflict never blocks the session."""
        if seat is None or seat.session_id != self.pk or not seat.present:
            return False
        conflicted = {c.seat_id for c in submission.conflicts.all()}
        if seat.pk in conflicted:
            return False
        if seat.is_president:
            return True
        president = self.president
        return president is not None and president.pk in conflicted

    def has_quorum(self) -> bool:
        return not self.quorum_problems()

    def all_decided(self) -> bool:
        return not self.submissions.filter(decision__isnull=True).exists()

    @transition(field=state, source=SessionState.PLANNED, target=SessionState.CONVENED)
    def convene(self) -> None:
        pass

    @transition(
        field=state,
        source=SessionState.CONVENED,
        target=SessionState.DELIBERATING,
        conditions=[has_begun, has_quorum],  # type: ignore[list-item]  # django-fsm-2 types conditions on Model
    )
    def start_deliberation(self) -> None:
        pass

    @transition(
        field=state,
        source=SessionState.DELIBERATING,
        target=SessionState.CLOSED,
        conditions=[all_decided],  # type: ignore[list-item]  # django-fsm-2 types conditions on Model
    )
    def close(self) -> None:
        self.closed_at = timezone.now()


class JurySessionEventQuerySet(models.QuerySet["JurySessionEvent"]):
    def visible_to(self, membership: Membership | None) -> JurySessionEventQuerySet:
        return self.filter(session__in=JurySession.objects.visible_to(membership))


class JurySessionEvent(TransitionEvent):
    """A session's history: its creation and every transition, who, when, from, to. Append-only."""

    session = models.ForeignKey(
        JurySession, on_delete=models.CASCADE, related_name="events", verbose_name=_("session de jury")
    )
    from_state = models.CharField(_("état de départ"), max_length=20, choices=SessionState.choices, blank=True)
    to_state = models.CharField(_("état d'arrivée"), max_length=20, choices=SessionState.choices)

    objects = JurySessionEventQuerySet.as_manager()
    tenant_path = "session__organisation"

    class Meta(TransitionEvent.Meta):
        verbose_name = _("événement d'une session de jury")
        verbose_name_plural = _("historique des sessions de jury")


class Attendance(models.TextChoices):
    PRESENT = "present", _("Présence")
    ABSENT = "absent", _("Absence")
    EXCUSED = "excused", _("Absence excusée")


class SessionSeatQuerySet(models.QuerySet["SessionSeat"]):
    def president_first(self) -> SessionSeatQuerySet:
        """As a session's page lists its members: the president first, then by college and name."""
        return self.select_related("member__user").order_by(
            "-is_president", "member__college", "member__user__last_name", "member__user__first_name"
        )

    def of(self, session_id: int, membership: Membership) -> SessionSeat | None:
        """The membership's seat in the session: a juror's own, if convened; nobody else holds one (the jury
        body's administrators and Certif'Pro manage a session without sitting on it)."""
        if membership.role != Role.JURY_MEMBER:
            return None
        return self.filter(session_id=session_id, member__user_id=membership.user_id).select_related("member").first()


class SessionSeat(TracksChanges, models.Model):
    """A member convened to a session: the president's role, and the attendance recorded when the deliberation
    opens (blank until then)."""

    # The rows whose updated_at moves with this one's changes (clea_platform/changes.py).
    feed_parents = ("session",)

    session = models.ForeignKey(JurySession, on_delete=models.CASCADE, related_name="seats", verbose_name=_("session"))
    member = models.ForeignKey(JuryMember, on_delete=models.PROTECT, related_name="seats", verbose_name=_("membre"))
    attendance = models.CharField(_("présence"), max_length=10, choices=Attendance.choices, blank=True)
    is_president = models.BooleanField(_("président"), default=False)

    objects = SessionSeatQuerySet.as_manager()
    tenant_path = "session__organisation"

    class Meta:
        verbose_name = _("membre convoqué")
        verbose_name_plural = _("membres convoqués")
        constraints = [
            models.UniqueConstraint(fields=["session", "member"], name="seat_unique_member"),
            models.UniqueConstraint(
                fields=["session"], condition=models.Q(is_president=True), name="seat_one_president"
            ),
        ]

    def __str__(self) -> str:
        return str(self.member)

    @property
    def present(self) -> bool:
        return self.attendance == Attendance.PRESENT


class SubmissionQuerySet(models.QuerySet["Submission"]):
    def visible_to(self, membership: Membership | None) -> SubmissionQuerySet:
        if membership is None:
            return self.none()
        if membership.is_certifpro:
            return self.all()
        if membership.role == Role.JURY_MEMBER:
            return self.filter(session__seats__member__user_id=membership.user_id).distinct()
        if membership.role == Role.ORG_ADMIN:
            return self.filter(
                models.Q(session__organisation_id=membership.organisation_id)
                | models.Q(dossier__organisation_id=membership.organisation_id)
            )
        if membership.role in {Role.COUNSELLOR, Role.EVALUATOR}:
            return self.filter(dossier__organisation_id=membership.organisation_id)
        return self.none()

    def of_session(self, session: JurySession, membership: Membership | None) -> SubmissionQuerySet:
        """A session's submissions the membership may see. Those who manage the session (its jury body,
        Certif'Pro) see them all: filtering by session alone spares PostgreSQL the row-level OR of `visible_to`,
        which made it hash every dossier of the country (bench/README.md)."""
        if membership is not None and (
            membership.is_certifpro
            or (membership.role == Role.ORG_ADMIN and membership.organisation_id == session.organisation_id)
        ):
            return self.filter(session=session)
        return self.visible_to(membership).filter(session=session)

    def with_decision(self, key: str) -> SubmissionQuerySet:
        """The submissions of one decision bucket of a session's page (`DECISION_FILTERS`): awaiting a decision,
        decided of a kind and in force, or revoked. Any other key filters nothing."""
        if key == PENDING:
            return self.filter(decision__isnull=True)
        if key == REVOKED:
            return self.filter(decision__revoked_at__isnull=False)
        if key in DecisionKind.values:
            return self.filter(decision__kind=key, decision__revoked_at__isnull=True)
        return self

    def matching(self, text: str) -> SubmissionQuerySet:
        """The submissions whose candidate's names or dossier reference contain each word of the text (a session
        holds a few hundred dossiers at most: the session's own filter comes first, no index needed). Names are
        matched as the dossier list matches them, on the candidate's folded `identity_key` (no accents, case or
        hyphens), so that "Lea" finds "Léa" on every database without PostgreSQL's unaccent extension."""
        from candidates.models import identity_key

        found = models.Q()
        for word in text.split():  # each word, in either name or the reference: "Martin Léa", "Léa 2024-"
            in_word = models.Q(dossier__reference__icontains=word)
            folded = identity_key("", word)
            if folded:
                in_word |= models.Q(dossier__candidate__identity_key__contains=folded)
            found &= in_word
        return self.filter(found)


class Submission(TracksChanges, models.Model):
    """A dossier put before a session's jury."""

    # The rows whose updated_at moves with this one's changes (clea_platform/changes.py).
    feed_parents = ("session", "dossier")

    session = models.ForeignKey(
        JurySession, on_delete=models.PROTECT, related_name="submissions", verbose_name=_("session")
    )
    dossier = models.ForeignKey(
        "candidates.Dossier", on_delete=models.PROTECT, related_name="submissions", verbose_name=_("dossier")
    )
    submitted_by = models.ForeignKey(
        "organisations.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("soumis par")
    )
    submitted_at = models.DateTimeField(_("soumis le"), auto_now_add=True)

    objects = SubmissionQuerySet.as_manager()
    tenant_path = "dossier__organisation"

    class Meta:
        verbose_name = _("dossier soumis")
        verbose_name_plural = _("dossiers soumis")
        ordering = ["submitted_at", "id"]
        constraints = [models.UniqueConstraint(fields=["session", "dossier"], name="submission_unique_dossier")]

    def __str__(self) -> str:
        return f"{self.dossier} → {self.session}"

    @property
    def recorded_decision(self) -> Decision | None:
        """The jury's decision on the dossier, None until the president records it."""
        try:
            return self.decision
        except Decision.DoesNotExist:
            return None


class DecisionKind(models.TextChoices):
    AWARDED = "awarded", _("Certification délivrée")
    DEFERRED = "deferred", _("Ajournement")
    REFUSED = "refused", _("Refus")
    ABSENT = "absent", _("Absence de la personne candidate")
    EXCUSED = "excused", _("Absence excusée de la personne candidate")


# The decision buckets of a session's page besides the kinds: awaiting a decision, and revoked by Certif'Pro.
PENDING = "pending"
REVOKED = "revoked"


def decision_domains_problem(kind: str, missing_domains: Iterable[str]) -> str | None:
    """A decision names the domains to acquire again if and only if it defers the certification: an award leaves
    none, a deferral names at least one, and the other decisions say nothing of the domains. The message is
    for the user (the form and the API show it on the domains)."""
    named = bool(list(missing_domains))
    if kind == DecisionKind.DEFERRED:
        return None if named else str(_("Un ajournement indique au moins un domaine à acquérir."))
    if not named:
        return None
    if kind == DecisionKind.AWARDED:
        return str(_("Une certification délivrée ne laisse aucun domaine à acquérir : décochez les domaines."))
    return str(_("Seul un ajournement indique des domaines à acquérir : décochez les domaines."))


class DecisionQuerySet(models.QuerySet["Decision"]):
    def visible_to(self, membership: Membership | None) -> DecisionQuerySet:
        """The decisions on the submissions the membership sees (the API's and the webhooks' one rule)."""
        return self.filter(submission__in=Submission.objects.visible_to(membership))


class Decision(TracksChanges, models.Model):
    """The jury's decision on one submitted dossier, recorded by the president. Revocable by Certif'Pro only."""

    # The rows whose updated_at moves with this one's changes (clea_platform/changes.py).
    feed_parents = ("submission__session", "submission__dossier")

    submission = models.OneToOneField(
        Submission, on_delete=models.PROTECT, related_name="decision", verbose_name=_("dossier soumis")
    )
    kind = models.CharField(_("décision"), max_length=10, choices=DecisionKind.choices)
    reason = models.TextField(_("motivation"), blank=True)
    # Deferral: the domains (codes of the dossier's référentiel) the jury wants trained and evaluated again.
    missing_domains = models.JSONField(_("domaines à acquérir"), default=list, blank=True)
    decided_by = models.ForeignKey(
        "organisations.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("décision enregistrée par")
    )
    decided_at = models.DateTimeField(_("décidé le"), default=timezone.now)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True, db_index=True)
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        "organisations.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("révoqué par"),
    )
    revocation_reason = models.TextField(_("motif de la révocation"), blank=True)

    objects = DecisionQuerySet.as_manager()
    tenant_path = "submission__dossier__organisation"

    class Meta:
        verbose_name = _("décision du jury")
        verbose_name_plural = _("décisions du jury")

    def __str__(self) -> str:
        return self.get_kind_display()

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def produced_certificate(self) -> Certificate | None:
        """The certificate of an award, once its PDF is produced (by a worker, after the session closes)."""
        try:
            certificate = self.certificate
        except Certificate.DoesNotExist:
            return None
        return certificate if certificate.is_produced else None


class ConflictDeclaration(TracksChanges, models.Model):
    """A member's declared or detected link with a dossier's evaluator or trainer: excluded from its decision."""

    # The rows whose updated_at moves with this one's changes (clea_platform/changes.py).
    feed_parents = ("submission__session",)

    seat = models.ForeignKey(SessionSeat, on_delete=models.CASCADE, related_name="conflicts", verbose_name=_("membre"))
    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, related_name="conflicts", verbose_name=_("dossier")
    )
    detected = models.BooleanField(_("détecté par la plateforme"), default=False)
    statement = models.TextField(_("déclaration"), blank=True)
    declared_at = models.DateTimeField(_("déclaré le"), default=timezone.now)

    tenant_path = "seat__session__organisation"

    class Meta:
        verbose_name = _("conflit d'intérêts")
        verbose_name_plural = _("conflits d'intérêts")
        constraints = [models.UniqueConstraint(fields=["seat", "submission"], name="conflict_unique")]

    def __str__(self) -> str:
        return f"{self.seat} / {self.submission.dossier}"


class CertificateQuerySet(models.QuerySet["Certificate"]):
    def visible_to(self, membership: Membership | None) -> CertificateQuerySet:
        from candidates.models import Dossier

        if membership is not None and membership.is_certifpro:
            return self.all()
        return self.filter(dossier__in=Dossier.objects.visible_to(membership))

    def valid(self) -> CertificateQuerySet:
        return self.filter(revoked_at__isnull=True)

    def produced(self) -> CertificateQuerySet:
        """The issued ones, whose PDF exists (see Certificate.is_produced). Every read that shows, verifies, exports
        or bills a certificate starts from these."""
        return self.exclude(sha256="")

    def downloadable_by(self, membership: Membership | None) -> CertificateQuerySet:
        """Those of the dossiers the membership sees (evaluator organisation, jurors, Certif'Pro), and those of
        the sessions it organises (the jury body's administrators); only once their PDF exists."""
        by_dossier = self.model.objects.visible_to(membership).values("pk")
        sessions = JurySession.objects.visible_to(membership).values("pk")
        return self.filter(models.Q(pk__in=by_dossier) | models.Q(session__in=sessions)).produced()


class Certificate(TracksChanges, models.Model):
    """The certificate awarded by a jury: a national number, a public verification code, a signed PDF."""

    # The rows whose updated_at moves with this one's changes (clea_platform/changes.py).
    feed_parents = ("dossier", "decision")

    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="certificates",
        verbose_name=_("organisme évaluateur"),
    )
    dossier = models.OneToOneField(
        "candidates.Dossier", on_delete=models.PROTECT, related_name="certificate", verbose_name=_("dossier")
    )
    decision = models.OneToOneField(
        Decision, on_delete=models.PROTECT, related_name="certificate", verbose_name=_("décision")
    )
    session = models.ForeignKey(
        JurySession, on_delete=models.PROTECT, related_name="certificates", verbose_name=_("session de jury")
    )
    number = models.CharField(_("numéro national"), max_length=30, unique=True)
    verification_code = models.CharField(
        _("code de vérification"), max_length=8, unique=True, default=new_verification_code
    )
    holder_name = models.CharField(_("titulaire"), max_length=310)
    certification = models.CharField(_("certification"), max_length=20, choices=Certification.choices)
    awarded_on = models.DateField(_("délivré le"))
    file = models.FileField(_("fichier"), upload_to="certificats/%Y/", blank=True)
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64, blank=True)
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True, db_index=True)
    revocation_reason = models.TextField(_("motif de la révocation"), blank=True)

    objects = CertificateQuerySet.as_manager()

    class Meta:
        verbose_name = _("certificat")
        verbose_name_plural = _("certificats")
        ordering = ["-awarded_on", "-id"]

    def __str__(self) -> str:
        return self.number

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def filename(self) -> str:
        return f"certificat-{self.number}.pdf"

    @property
    def is_produced(self) -> bool:
        """Its PDF exists, hence it is issued. `certificate_generate` commits the row with its file and SHA-256 in
        one transaction; only rows left by the code before issue 13 (row first, PDF in a second transaction) may
        lack them, until `certificate_generate` completes them."""
        return bool(self.sha256)


class SessionMinutesQuerySet(models.QuerySet["SessionMinutes"]):
    def visible_to(self, membership: Membership | None) -> SessionMinutesQuerySet:
        """Whoever may see the session may see its minutes."""
        return self.filter(session__in=JurySession.objects.visible_to(membership).values("pk"))


class SessionMinutes(TracksChanges, models.Model):
    """The signed minutes (procès-verbal) of a closed session: members, colleges and decisions."""

    # The rows whose updated_at moves with this one's changes (clea_platform/changes.py).
    feed_parents = ("session",)

    session = models.OneToOneField(
        JurySession, on_delete=models.PROTECT, related_name="minutes", verbose_name=_("session")
    )
    number = models.CharField(_("numéro"), max_length=40, unique=True)
    file = models.FileField(_("fichier"), upload_to="proces-verbaux/%Y/")
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64)
    generated_at = models.DateTimeField(_("généré le"), auto_now_add=True)

    objects = SessionMinutesQuerySet.as_manager()
    tenant_path = "session__organisation"

    class Meta:
        verbose_name = _("procès-verbal")
        verbose_name_plural = _("procès-verbaux")

    def __str__(self) -> str:
        return self.number

    @property
    def filename(self) -> str:
        return f"proces-verbal-{self.number}.pdf"
