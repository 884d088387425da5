from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

import pgtrigger
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connections, models, router, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from clea_platform.certifications import Certification
from clea_platform.locks import serialise_on
from organisations import audit_chain
from organisations.validators import validate_insee_code, validate_postcode, validate_siret

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.db.models import QuerySet


class Region(models.TextChoices):
    """The 18 regions, by INSEE code: juries and statistics are regional."""

    AUVERGNE_RHONE_ALPES = "84", "Auvergne-Rhône-Alpes"
    BOURGOGNE_FRANCHE_COMTE = "27", "Bourgogne-Franche-Comté"
    BRETAGNE = "53", "Bretagne"
    CENTRE_VAL_DE_LOIRE = "24", "Centre-Val de Loire"
    CORSE = "94", "Corse"
    GRAND_EST = "44", "Grand Est"
    HAUTS_DE_FRANCE = "32", "Hauts-de-France"
    ILE_DE_FRANCE = "11", "Île-de-France"
    NORMANDIE = "28", "Normandie"
    NOUVELLE_AQUITAINE = "75", "Nouvelle-Aquitaine"
    OCCITANIE = "76", "Occitanie"
    PAYS_DE_LA_LOIRE = "52", "Pays de la Loire"
    PROVENCE_ALPES_COTE_D_AZUR = "93", "Provence-Alpes-Côte d'Azur"
    GUADELOUPE = "01", "Guadeloupe"
    MARTINIQUE = "02", "Martinique"
    GUYANE = "03", "Guyane"
    LA_REUNION = "04", "La Réunion"
    MAYOTTE = "06", "Mayotte"


class OrganisationKind(models.TextChoices):
    EVALUATOR = "evaluator", _("Organisme évaluateur habilité")
    TRAINING = "training", _("Organisme de formation")
    PRESCRIBER = "prescriber", _("Prescripteur")
    FUNDER = "funder", _("Financeur")
    JURY_BODY = "jury_body", _("Organisateur de jurys (Transitions Pro)")
    FRANCE_TRAVAIL = "france_travail", _("Agence France Travail")
    CERTIFPRO = "certifpro", _("Certif'Pro")


class Organisation(models.Model):
    """A tenant. Every row that belongs to an organisation points at it."""

    name = models.CharField(_("raison sociale"), max_length=200)
    kind = models.CharField(_("type"), max_length=20, choices=OrganisationKind.choices)
    siret = models.CharField(
        _("SIRET"), max_length=14, unique=True, validators=[validate_siret], help_text=_("14 chiffres, sans espaces.")
    )
    region = models.CharField(_("région"), max_length=2, choices=Region.choices)
    email = models.EmailField(_("adresse e-mail de contact"), blank=True)
    phone = models.CharField(_("téléphone"), max_length=20, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # Its sites' availability in the directory is then computed from its bookings (scheduling/availability.py)
    # instead of declared by hand.
    uses_platform_agenda = models.BooleanField(
        _("utilise l'agenda de la plateforme"),
        default=False,
        help_text=_(
            "Les disponibilités de ses sites dans l'annuaire (prochaine date, délai habituel) sont alors calculées "
            "à partir des rendez-vous pris sur la plateforme."
        ),
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def siren(self) -> str:
        return self.siret[:9]

    def clean(self) -> None:
        self.siret = (self.siret or "").replace(" ", "")


class Role(models.TextChoices):
    COUNSELLOR = "counsellor", _("Accompagnement")
    EVALUATOR = "evaluator", _("Évaluation")
    TRAINER = "trainer", _("Formation")
    ORG_ADMIN = "org_admin", _("Administration de l'organisation")
    JURY_MEMBER = "jury_member", _("Membre de jury")
    FT_ADVISOR = "ft_advisor", _("Conseil France Travail")
    CERTIFPRO_ADMIN = "certifpro_admin", _("Administration Certif'Pro")


# The roles whose holders must confirm their login with a second factor (README, "Sécurité"): they decide on
# certifications, reach every organisation's data, or manage an organisation's members and sites.
TWO_FACTOR_ROLES = frozenset({Role.CERTIFPRO_ADMIN, Role.JURY_MEMBER, Role.ORG_ADMIN})


class TenantQuerySet(models.QuerySet):
    """Who may see which rows, in one place: nobody without a membership; Certif'Pro every row; the members
    holding one of `organisation_roles` their own organisation's rows; other roles what `visible_to_others`
    allows (nothing by default). Another organisation's row is then a 404 like a missing one."""

    organisation_roles: frozenset[str] = frozenset({Role.COUNSELLOR, Role.EVALUATOR, Role.ORG_ADMIN})

    def visible_to(self, membership: Membership | None) -> Any:
        if membership is None:
            return self.none()
        if membership.is_certifpro:
            return self.all()
        if membership.role in self.organisation_roles:
            return self.filter(organisation_id=membership.organisation_id)
        return self.visible_to_others(membership)

    def visible_to_others(self, membership: Membership) -> Any:
        return self.none()


class SiteQuerySet(TenantQuerySet):
    # Every member of the organisation.
    organisation_roles = frozenset(Role.values)

    def active(self) -> SiteQuerySet:
        return self.filter(is_active=True, organisation__is_active=True)


class Site(models.Model):
    """A place where an organisation receives candidates (evaluator sites are listed in the directory)."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="sites", verbose_name=_("organisation")
    )
    name = models.CharField(_("nom du site"), max_length=200)
    address = models.CharField(_("adresse"), max_length=255)
    postcode = models.CharField(_("code postal"), max_length=5, validators=[validate_postcode])
    city = models.CharField(_("commune"), max_length=120)
    insee_code = models.CharField(_("code INSEE de la commune"), max_length=5, validators=[validate_insee_code])
    latitude = models.DecimalField(
        _("latitude"), max_digits=8, decimal_places=5, validators=[MinValueValidator(-90), MaxValueValidator(90)]
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=8, decimal_places=5, validators=[MinValueValidator(-180), MaxValueValidator(180)]
    )
    wheelchair_accessible = models.BooleanField(_("accessible en fauteuil roulant"), default=False)
    accessibility_notes = models.TextField(_("informations d'accessibilité"), blank=True)
    remote_evaluation = models.BooleanField(_("évaluation à distance possible"), default=False)
    contact_name = models.CharField(_("contact"), max_length=120, blank=True)
    contact_email = models.EmailField(_("adresse e-mail du contact"), blank=True)
    contact_phone = models.CharField(_("téléphone du contact"), max_length=20, blank=True)
    is_active = models.BooleanField(_("actif"), default=True)
    # What the organisation declares, shown in the directory: kept up to date by its administrators.
    next_slot_on = models.DateField(
        _("prochaine date d'évaluation préalable possible"),
        null=True,
        blank=True,
        help_text=_("Laissez vide si vous préférez indiquer un délai habituel."),
    )
    typical_wait_days = models.PositiveSmallIntegerField(
        _("délai habituel avant l'évaluation préalable (jours)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(365)],
    )
    availability_updated_at = models.DateTimeField(
        _("disponibilités mises à jour le"), null=True, blank=True, editable=False
    )

    objects = SiteQuerySet.as_manager()

    # The fields whose change dates the declared availability (see `availability_updated_at`).
    AVAILABILITY_FIELDS = ("next_slot_on", "typical_wait_days")

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        ordering = ["organisation__name", "name"]
        indexes = [models.Index(fields=["latitude", "longitude"], name="site_lat_lng_idx")]

    def __str__(self) -> str:
        return f"{self.organisation} – {self.name}"

    @property
    def departement(self) -> str:
        """The département code, read from the commune's INSEE code (2A/2B in Corsica, 3 digits overseas)."""
        return self.insee_code[:3] if self.insee_code.startswith("97") else self.insee_code[:2]


class HabilitationStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspendue")
    WITHDRAWN = "withdrawn", _("Retirée")


# A habilitation ending within this delay is warned in the queues (Certif'Pro's and the organisation's) and once by
# a notification: time enough to apply for its renewal and be granted one without a gap.
HABILITATION_RENEWAL_NOTICE = datetime.timedelta(days=91)


def _certifpro(instance: models.Model, membership: Any) -> bool:
    """Transition permission: Certif'Pro instructs habilitations (django-fsm-2 passes our Membership, or None)."""
    return membership is not None and membership.role == Role.CERTIFPRO_ADMIN


class HabilitationQuerySet(models.QuerySet["Habilitation"]):
    def visible_to(self, membership: Membership | None) -> HabilitationQuerySet:
        """Certif'Pro: all; an organisation's administrators: their own organisation's."""
        if membership is None:
            return self.none()
        if membership.is_certifpro:
            return self.all()
        if membership.role == Role.ORG_ADMIN:
            return self.filter(organisation_id=membership.organisation_id)
        return self.none()

    def in_force(self, on: datetime.date | None = None) -> HabilitationQuerySet:
        """Active within its period: what a new dossier, a transfer, a referral and the directory need."""
        on = on or timezone.localdate()
        return self.filter(status=HabilitationStatus.ACTIVE, valid_from__lte=on, valid_until__gte=on)

    def covering(self, on: datetime.date | None = None) -> HabilitationQuerySet:
        """Active or suspended within its period: a suspension stops new dossiers, the current ones go on."""
        on = on or timezone.localdate()
        return self.filter(
            status__in=[HabilitationStatus.ACTIVE, HabilitationStatus.SUSPENDED],
            valid_from__lte=on,
            valid_until__gte=on,
        )

    def renewing(self, previous: Any) -> HabilitationQuerySet:
        """The period renewing `previous` (a Habilitation, a pk or an OuterRef), a withdrawn one not counted."""
        return self.filter(previous=previous).exclude(status=HabilitationStatus.WITHDRAWN)

    def expiring(self, on: datetime.date | None = None) -> HabilitationQuerySet:
        """In force, ending within HABILITATION_RENEWAL_NOTICE, and not renewed yet (no period follows it but a
        withdrawn one)."""
        on = on or timezone.localdate()
        return (
            self.in_force(on)
            .filter(valid_until__lte=on + HABILITATION_RENEWAL_NOTICE)
            .exclude(models.Exists(Habilitation.objects.renewing(models.OuterRef("pk"))))
        )


class Habilitation(models.Model):
    """Certif'Pro's authorisation for an evaluator organisation to assess one certification over a period.

    Granted from an application (HabilitationApplication), one row per certification; a renewal is a new row whose
    period starts the day after the previous one ends (`previous`). Its status moves by the transitions below,
    through organisations.services (Certif'Pro only), never by hand."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="habilitations",
        verbose_name=_("organisation"),
        limit_choices_to={"kind": OrganisationKind.EVALUATOR},
    )
    certification = models.CharField(_("certification"), max_length=20, choices=Certification.choices)
    valid_from = models.DateField(_("valable du"))
    valid_until = models.DateField(_("valable jusqu'au"))
    # Not protected: the rows entered in the administration before the platform instructed them, and the fixtures
    # of other apps' tests, set it directly; the services move it by its transitions.
    status = FSMField(_("statut"), max_length=10, choices=HabilitationStatus.choices, default=HabilitationStatus.ACTIVE)
    status_reason = models.TextField(
        _("motif du statut"), blank=True, help_text=_("Obligatoire pour une suspension ou un retrait.")
    )
    application = models.ForeignKey(
        "organisations.HabilitationApplication",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="habilitations",
        verbose_name=_("demande"),
    )
    # One renewal per period, not counting a withdrawn one: after its renewal is withdrawn, a period can be renewed
    # again (the constraint below).
    previous = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="renewals",
        verbose_name=_("renouvelle"),
    )

    objects = HabilitationQuerySet.as_manager()
    # organisations.transitions reads the state machine from this field.
    state_field_name = "status"

    class Meta:
        verbose_name = _("habilitation")
        verbose_name_plural = _("habilitations")
        ordering = ["organisation__name", "certification", "-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__gte=models.F("valid_from")), name="habilitation_period_ordered"
            ),
            models.UniqueConstraint(
                fields=["previous"],
                condition=~models.Q(status="withdrawn"),
                name="habilitation_one_renewal_not_withdrawn",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} – {self.get_certification_display()}"

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.organisation_id and self.organisation.kind != OrganisationKind.EVALUATOR:
            errors["organisation"] = _("Seul un organisme évaluateur peut être habilité.")
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            errors["valid_until"] = _("La fin de validité précède son début.")
        if self.status != HabilitationStatus.ACTIVE and not self.status_reason.strip():
            errors["status_reason"] = _("Indiquez le motif de la suspension ou du retrait.")
        if errors:
            raise ValidationError(errors)

    @property
    def state(self) -> str:
        return str(self.status)

    def record_event(self, **fields: Any) -> None:
        """Its history is the audit log (organisations.transitions writes the row); no event table of its own."""
        return None

    def is_expiring(self, on: datetime.date | None = None) -> bool:
        on = on or timezone.localdate()
        return self.status == HabilitationStatus.ACTIVE and on <= self.valid_until <= on + HABILITATION_RENEWAL_NOTICE

    # -- Transitions: each changes this instance only; organisations/services.py persists and records them ------

    @transition(
        field=status,
        source=HabilitationStatus.ACTIVE,
        target=HabilitationStatus.SUSPENDED,
        permission=_certifpro,
        custom={"label": _("Suspendre")},
    )
    def suspend(self, *, reason: str) -> None:
        self.status_reason = reason

    @transition(
        field=status,
        source=HabilitationStatus.SUSPENDED,
        target=HabilitationStatus.ACTIVE,
        permission=_certifpro,
        custom={"label": _("Rétablir")},
    )
    def reinstate(self, *, reason: str = "") -> None:
        self.status_reason = reason

    @transition(
        field=status,
        source=[HabilitationStatus.ACTIVE, HabilitationStatus.SUSPENDED],
        target=HabilitationStatus.WITHDRAWN,
        permission=_certifpro,
        custom={"label": _("Retirer")},
    )
    def withdraw(self, *, reason: str) -> None:
        self.status_reason = reason


class ApplicationState(models.TextChoices):
    SUBMITTED = "submitted", _("En attente d'instruction")
    GRANTED = "granted", _("Accordée")
    REFUSED = "refused", _("Refusée")


class ApplicationKind(models.TextChoices):
    FIRST = "first", _("Première habilitation")
    RENEWAL = "renewal", _("Renouvellement")


class HabilitationApplicationQuerySet(TenantQuerySet):
    # The organisation's administrators apply; Certif'Pro instructs (TenantQuerySet: all).
    organisation_roles = frozenset({Role.ORG_ADMIN})

    def submitted(self) -> HabilitationApplicationQuerySet:
        return self.filter(state=ApplicationState.SUBMITTED)


class HabilitationApplication(models.Model):
    """An evaluator organisation's application for a habilitation: the certifications, the sites where it will
    evaluate, the period asked for. Certif'Pro grants it (one Habilitation per certification, over the period it
    sets) or refuses it with a reason. A renewal names no period start: the new period follows the current one."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="habilitation_applications",
        verbose_name=_("organisme évaluateur"),
        limit_choices_to={"kind": OrganisationKind.EVALUATOR},
    )
    kind = models.CharField(_("type de demande"), max_length=10, choices=ApplicationKind.choices)
    # The codes of clea_platform.certifications.Certification.
    certifications = models.JSONField(_("certifications"), default=list)
    sites = models.ManyToManyField(Site, related_name="habilitation_applications", verbose_name=_("sites"))
    requested_from = models.DateField(_("début souhaité"))
    requested_until = models.DateField(_("fin souhaitée"))
    note = models.TextField(_("précisions"), blank=True)
    state = FSMField(
        _("état"), max_length=10, default=ApplicationState.SUBMITTED, choices=ApplicationState.choices, protected=True
    )
    submitted_at = models.DateTimeField(_("déposée le"), default=timezone.now, db_index=True)
    submitted_by = models.ForeignKey(
        "organisations.User",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("déposée par"),
        null=True,
        blank=True,
    )
    decided_at = models.DateTimeField(_("instruite le"), null=True, blank=True)
    decided_by = models.ForeignKey(
        "organisations.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("instruite par"),
    )
    decision_reason = models.TextField(_("motif de la décision"), blank=True)

    objects = HabilitationApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = _("demande d'habilitation")
        verbose_name_plural = _("demandes d'habilitation")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(requested_until__gte=models.F("requested_from")),
                name="habilitation_application_period_ordered",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="refused") | ~models.Q(decision_reason=""),
                name="habilitation_application_refusal_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return gettext("Demande d'habilitation n° %(id)s") % {"id": self.pk}

    @property
    def certification_labels(self) -> list[str]:
        return [str(Certification(code).label) for code in self.certifications if code in Certification.values]

    def record_event(self, **fields: Any) -> None:
        """Its history is the audit log (organisations.transitions writes the row)."""
        return None

    @transition(field=state, source=ApplicationState.SUBMITTED, target=ApplicationState.GRANTED, permission=_certifpro)
    def grant(self, *, decided_by: User, at: datetime.datetime) -> None:
        self.decided_by, self.decided_at = decided_by, at

    @transition(field=state, source=ApplicationState.SUBMITTED, target=ApplicationState.REFUSED, permission=_certifpro)
    def refuse(self, *, decided_by: User, at: datetime.datetime, reason: str) -> None:
        self.decided_by, self.decided_at, self.decision_reason = decided_by, at, reason


# The address an anonymised account takes: unique (its id), and a reserved domain no message is ever delivered to.
ANONYMISED_EMAIL = "compte-{pk}@anonyme.invalid"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. What they may do comes from their memberships, not from the account itself."""

    email = models.EmailField(_("adresse e-mail"), unique=True)
    first_name = models.CharField(_("prénom"), max_length=150)
    last_name = models.CharField(_("nom"), max_length=150)
    is_staff = models.BooleanField(_("accès à l'administration"), default=False)
    is_active = models.BooleanField(_("actif"), default=True)
    date_joined = models.DateTimeField(_("inscrit le"), default=timezone.now)
    # When the password last changed (not a hasher's rehash): API tokens issued before it stop working.
    password_changed_at = models.DateTimeField(_("mot de passe changé le"), null=True, blank=True, editable=False)
    # An account unused past its retention (settings.DATA_RETENTION["inactive_accounts"]): deactivated, its name and
    # address replaced; the row stays, for the audit log and the histories that point at it.
    anonymised_at = models.DateTimeField(_("anonymisé le"), null=True, blank=True, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["first_name", "last_name"]

    class Meta:
        verbose_name = _("utilisateur")
        verbose_name_plural = _("utilisateurs")
        ordering = ["last_name", "first_name"]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Django sets `_password` when the password is set, and clears it before saving a rehash of the same one.
        if self._password is not None:  # type: ignore[attr-defined]
            self.password_changed_at = timezone.now()
            update_fields = kwargs.get("update_fields")
            if update_fields is not None and "password" in update_fields:
                kwargs["update_fields"] = {*update_fields, "password_changed_at"}
        super().save(*args, **kwargs)

    def two_factor_required(self, memberships: Iterable[Membership]) -> bool:
        """Whether this person must use a second factor, given their active memberships: Certif'Pro, jury
        members, organisation administrators, and whoever reaches the Django administration."""
        return self.is_staff or any(m.role in TWO_FACTOR_ROLES for m in memberships)

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name

    def active_memberships(self) -> QuerySet[Membership]:
        return Membership.objects.active().filter(user=self).select_related("organisation")

    def request_memberships(self) -> list[Membership]:
        """The active memberships for this request: those organisations.identity loaded with the user (no query),
        else read now."""
        loaded: list[Membership] | None = getattr(self, "loaded_active_memberships", None)
        return loaded if loaded is not None else list(self.active_memberships())


# Which roles an organisation of each kind can grant. A trainer may work inside an evaluator organisation
# (CléA allows it, as long as the trainer never evaluates the same dossier).
ROLES_BY_KIND: dict[str, set[str]] = {
    OrganisationKind.EVALUATOR: {Role.COUNSELLOR, Role.EVALUATOR, Role.TRAINER, Role.ORG_ADMIN},
    OrganisationKind.TRAINING: {Role.TRAINER, Role.ORG_ADMIN},
    OrganisationKind.PRESCRIBER: {Role.ORG_ADMIN},
    OrganisationKind.FUNDER: {Role.ORG_ADMIN},
    OrganisationKind.JURY_BODY: {Role.JURY_MEMBER, Role.ORG_ADMIN},
    OrganisationKind.FRANCE_TRAVAIL: {Role.FT_ADVISOR, Role.ORG_ADMIN},
    OrganisationKind.CERTIFPRO: {Role.CERTIFPRO_ADMIN},
}


class MembershipQuerySet(TenantQuerySet):
    def active(self) -> MembershipQuerySet:
        return self.filter(is_active=True, organisation__is_active=True, user__is_active=True)

    def update(self, **kwargs: Any) -> int:
        # No post_save for a bulk update: the members' cached identity (organisations.identity) is replaced here.
        from organisations import identity

        if not identity.enabled():
            return super().update(**kwargs)
        users = set(self.values_list("user_id", flat=True))
        updated = super().update(**kwargs)
        identity.identity_changed(*users)
        return updated

    # Every member of the organisation.
    organisation_roles = frozenset(Role.values)


class Membership(models.Model):
    """A user's role within one organisation. A user may hold several and works under one at a time."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("utilisateur"))
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("organisation")
    )
    role = models.CharField(_("rôle"), max_length=20, choices=Role.choices)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("rattachement")
        verbose_name_plural = _("rattachements")
        ordering = ["organisation__name", "role"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation", "role"], name="membership_unique_role"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} – {self.get_role_display()}"

    def clean(self) -> None:
        if self.organisation_id and self.role and self.role not in ROLES_BY_KIND[self.organisation.kind]:
            raise ValidationError(
                {
                    "role": _("Ce rôle n'existe pas dans une organisation de type « %(kind)s ».")
                    % {"kind": self.organisation.get_kind_display()}
                }
            )

    @property
    def is_certifpro(self) -> bool:
        return self.role == Role.CERTIFPRO_ADMIN

    def has_role(self, *roles: str) -> bool:
        return self.role in roles


class TransitionEvent(models.Model):
    """What every state machine's history row holds (organisations.transitions writes them): when, who, which
    transition, from which state to which, why. Each subclass adds the foreign key to its object and declares
    `from_state` and `to_state` with its states' choices. Append-only."""

    at = models.DateTimeField(_("date"), default=timezone.now)
    actor = models.ForeignKey(
        "organisations.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("par")
    )
    transition = models.CharField(_("transition"), max_length=30, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        abstract = True
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d} {getattr(self, 'from_state', '')} → {getattr(self, 'to_state', '')}"


# The advisory lock every audit row is chained under (clea_platform.locks.serialise_on).
AUDIT_CHAIN_LOCK = "audit-chain"
# The PostgreSQL trigger refusing UPDATE and DELETE on the audit log (pgtrigger's name for it).
AUDIT_APPEND_ONLY_TRIGGER = "auditlog_append_only"


class AuditLogQuerySet(TenantQuerySet):
    # Every member of the organisation.
    organisation_roles = frozenset(Role.values)

    def update(self, **kwargs: Any) -> int:
        raise PermissionError("The audit log is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("The audit log is append-only.")

    def bulk_create(self, *args: Any, **kwargs: Any) -> list[AuditLog]:  # type: ignore[override]  # refuses all
        # Each row is chained to the one before it, one at a time (AuditLog.save).
        raise PermissionError("Audit rows are written one at a time, by audit_record().")

    def chain(self) -> AuditLogQuerySet:
        """Every row in the chain's order, with only what the hash covers."""
        return self.order_by("id").only(
            "id",
            "created_at",
            "actor_id",
            "organisation_id",
            "action",
            "object_type_id",
            "object_id",
            "object_repr",
            "ip_address",
            "details",
            "previous_hash",
            "hash",
        )


class AuditLog(models.Model):
    """Append-only record of who did what, for whom, from where. Written by services, never edited.

    Each row chains the SHA-256 of the previous one (organisations/audit_chain.py), and on PostgreSQL a trigger
    refuses every UPDATE and DELETE of the table, whoever asks: `manage.py audit_verify` proves the chain."""

    created_at = models.DateTimeField(_("date"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("auteur")
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("organisation")
    )
    action = models.CharField(_("action"), max_length=80, db_index=True)
    object_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("type d'objet")
    )
    object_id = models.CharField(_("identifiant de l'objet"), max_length=64, blank=True)
    object_repr = models.CharField(_("objet"), max_length=255, blank=True)
    ip_address = models.GenericIPAddressField(_("adresse IP"), null=True, blank=True)
    details = models.JSONField(_("détails"), default=dict, blank=True)
    previous_hash = models.CharField(_("empreinte de l'entrée précédente"), max_length=64, blank=True, editable=False)
    hash = models.CharField(_("empreinte SHA-256"), max_length=64, blank=True, editable=False)

    objects = AuditLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("entrée du journal d'audit")
        verbose_name_plural = _("journal d'audit")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="auditlog_object_idx"),
            models.Index(fields=["organisation", "-created_at"], name="auditlog_org_recent_idx"),
        ]
        # In the database itself, for every client: the application's role, a psql session, a script. Only a
        # retention purge gets past it, through audit_purge (organisations/services.py), which chains its own row.
        triggers = [
            pgtrigger.Protect(name=AUDIT_APPEND_ONLY_TRIGGER, operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert the row chained to the last one. The lock, held until the caller's transaction ends, makes the
        next writer wait for this row to be committed (or rolled back) before reading the chain's end: two
        concurrent transactions cannot both chain to the same row."""
        if self.pk is not None:
            raise PermissionError("The audit log is append-only.")
        audit_chain.check_details(self.details)
        # No savepoint of its own inside the caller's transaction (two statements fewer per row): a failure here
        # fails that transaction, as PostgreSQL would after any failed statement anyway.
        with transaction.atomic(using=kwargs.get("using"), savepoint=False):
            serialise_on(AUDIT_CHAIN_LOCK)
            last = _chain_end()
            # An empty log: the chain starts from GENESIS, or from where a purge that removed every row left it.
            self.previous_hash = last if last is not None else (self.previous_hash or audit_chain.GENESIS)
            self.hash = audit_chain.row_hash(self)
            super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("The audit log is append-only.")


def _chain_end() -> str | None:
    """The last audit row's hash, None for an empty log: AuditLog.objects.order_by("-id").values_list("hash",
    flat=True).first(), written out because it runs before every audit row and the ORM spent more time building
    it than the database running it."""
    connection = connections[router.db_for_read(AuditLog)]
    table = connection.ops.quote_name(AuditLog._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT hash FROM {table} ORDER BY id DESC LIMIT 1")  # noqa: S608 - the model's own table
        row = cursor.fetchone()
    return row[0] if row else None


# -- Personal API tokens ------------------------------------------------------------------------------------

API_TOKEN_MAX_LIFETIME = datetime.timedelta(days=365)


class ApiTokenScope(models.TextChoices):
    READ_WRITE = "read_write", _("Lecture et écriture")
    READ_ONLY = "read_only", _("Lecture seule")


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def usable(self, now: datetime.datetime | None = None) -> ApiTokenQuerySet:
        """Neither revoked nor expired; its user, membership and organisation all active; issued since the user's
        password last changed."""
        return self.filter(
            models.Q(membership__user__password_changed_at__isnull=True)
            | models.Q(membership__user__password_changed_at__lte=models.F("created_at")),
            revoked_at__isnull=True,
            expires_at__gt=now or timezone.now(),
            membership__is_active=True,
            membership__user__is_active=True,
            membership__organisation__is_active=True,
        )


class ApiToken(models.Model):
    """A personal token for the REST API, acting under one membership (chosen at creation).

    Only the SHA-256 of the secret is stored: the full key is shown once, when the token is created. The prefix
    (public, indexed) finds the row; the hash proves the secret."""

    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("rattachement")
    )
    name = models.CharField(_("nom"), max_length=100)
    scope = models.CharField(
        _("droits"), max_length=10, choices=ApiTokenScope.choices, default=ApiTokenScope.READ_WRITE
    )
    prefix = models.CharField(_("préfixe"), max_length=8, unique=True)
    key_hash = models.CharField(_("empreinte de la clé"), max_length=64)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expire le"))
    last_used_at = models.DateTimeField(_("dernière utilisation"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()
    tenant_path = "membership__organisation"

    class Meta:
        verbose_name = _("jeton d'API")
        verbose_name_plural = _("jetons d'API")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def read_only(self) -> bool:
        return self.scope == ApiTokenScope.READ_ONLY

    def status(self, now: datetime.datetime) -> str:
        """Why the token works or not, for its owner's list (with `membership__user` and `__organisation` loaded)."""
        membership = self.membership
        changed = membership.user.password_changed_at
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        if changed is not None and changed > self.created_at:
            return "password_changed"
        if not (membership.is_active and membership.organisation.is_active and membership.user.is_active):
            return "inactive"
        return "active"


class IdempotencyKey(models.Model):
    """An `Idempotency-Key` sent with a POST of the API (organisations.api_idempotency), and the answer given to it:
    sent again with the same body by the same token (or the same membership's session), the stored answer is
    replayed instead of running the operation twice. `status_code` is null while the first request runs.

    The body may name a person (a dossier's answer): the row follows the retention table (IDEMPOTENCY_KEY_HOURS,
    then the daily job deletes it)."""

    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="idempotency_keys", verbose_name=_("rattachement")
    )
    # Null for a browser session's request.
    token = models.ForeignKey(
        ApiToken, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("jeton")
    )
    # Whose key it is: "token-<id>" or "membership-<id>" (keys are unique per client, not platform-wide).
    owner = models.CharField(_("client"), max_length=40)
    key = models.CharField(_("clé"), max_length=255)
    # SHA-256 of the method, the path and the body: the same key with another request is refused.
    fingerprint = models.CharField(_("empreinte de la requête"), max_length=64)
    created_at = models.DateTimeField(_("reçue le"), default=timezone.now, db_index=True)
    status_code = models.PositiveSmallIntegerField(_("statut de la réponse"), null=True, blank=True)
    headers = models.JSONField(_("en-têtes de la réponse"), default=dict, blank=True)
    body = models.BinaryField(_("corps de la réponse"), default=b"", blank=True)

    tenant_path = "membership__organisation"

    class Meta:
        verbose_name = _("clé d'idempotence")
        verbose_name_plural = _("clés d'idempotence")
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="idempotency_key_unique_per_owner")]

    def __str__(self) -> str:
        return f"{self.owner}: {self.key}"

    def expired(self, now: datetime.datetime) -> bool:
        """Older than settings.IDEMPOTENCY_KEY_HOURS: no longer replayed (the retention job deletes it daily)."""
        return self.created_at <= now - datetime.timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)


# -- Sessions ---------------------------------------------------------------------------------------------------


def session_limits() -> tuple[datetime.timedelta, datetime.timedelta]:
    """How long a session lasts after its last recorded activity, and at most after its login (settings.SESSION_*).
    Activity is recorded at most once per SESSION_ACTIVITY_GRANULARITY_SECONDS, so it may lag the last request by
    that much: the idle limit adds it, and a session never ends before its timeout."""
    idle = datetime.timedelta(
        minutes=settings.SESSION_IDLE_TIMEOUT_MINUTES, seconds=settings.SESSION_ACTIVITY_GRANULARITY_SECONDS
    )
    return idle, datetime.timedelta(hours=settings.SESSION_ABSOLUTE_LIFETIME_HOURS)


class UserSessionQuerySet(models.QuerySet["UserSession"]):
    def alive(self, now: datetime.datetime) -> UserSessionQuerySet:
        """The sessions that the idle and absolute limits have not ended yet (rows of ended ones wait for the purge)."""
        idle, lifetime = session_limits()
        return self.filter(last_seen_at__gt=now - idle, created_at__gt=now - lifetime)


class UserSession(models.Model):
    """One login of a person (a browser session), so that they can see their sessions and end them, one or all.
    The session store keeps the session itself; this row finds it by its key."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sessions", verbose_name=_("utilisateur"))
    session_key = models.CharField(_("clé de session"), max_length=40, unique=True)
    created_at = models.DateTimeField(_("ouverte le"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("dernière activité"), default=timezone.now)
    user_agent = models.CharField(_("navigateur"), max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(_("adresse IP"), null=True, blank=True)

    objects = UserSessionQuerySet.as_manager()

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ["-last_seen_at", "-id"]
        indexes = [models.Index(fields=["user", "-last_seen_at"], name="usersession_user_recent_idx")]

    def __str__(self) -> str:
        return f"{self.user} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def browser_label(self) -> str:
        """A short name for the browser and system, read from the user agent (enough to recognise one's own PC)."""
        agent = self.user_agent
        browser = next(
            (name for token, name in _BROWSERS if token in agent), agent[:40] or str(_("Navigateur inconnu"))
        )
        system = next((name for token, name in _SYSTEMS if token in agent), "")
        return f"{browser} ({system})" if system else browser


# Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".
_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
_SYSTEMS = (
    ("Windows", "Windows"),
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def owning_organisation_id(obj: models.Model) -> int | None:
    """The organisation a row belongs to: itself, its `organisation`, or the one its `tenant_path` leads to (a
    session's minutes belong to the jury body that holds the session). Read from the instance, so that it still
    answers for a row just deleted (the admin's audit)."""
    if isinstance(obj, Organisation):
        return obj.pk
    path = getattr(type(obj), "tenant_path", "organisation")
    target: Any = obj
    for name in path.split("__"):
        target = getattr(target, name, None)
        if target is None:
            return None
    return int(target.pk)
