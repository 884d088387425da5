from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from clea_platform.certifications import Certification
from organisations.models import Role, TenantQuerySet

if TYPE_CHECKING:
    from organisations.models import Membership

DEFAULT_THRESHOLD_PERCENT = 75


class ReferentielQuerySet(models.QuerySet["Referentiel"]):
    def current(self) -> ReferentielQuerySet:
        return self.filter(is_current=True)

    def current_for(self, certification: str) -> Referentiel:
        return self.current().get(certification=certification)


class Referentiel(models.Model):
    """One version of a certification's référentiel. Results point at its criteria, so a version against which
    anything was recorded is frozen: changes go into a new version (`referentiel_new_version`)."""

    certification = models.CharField(_("certification"), max_length=20, choices=Certification.choices)
    version = models.CharField(_("version"), max_length=40)
    title = models.CharField(_("intitulé"), max_length=200)
    is_current = models.BooleanField(
        _("version en vigueur"),
        default=False,
        help_text=_("Les nouveaux dossiers sont ouverts sur la version en vigueur."),
    )
    is_provisional = models.BooleanField(
        _("provisoire"), default=False, help_text=_("Jeu de démonstration, à remplacer par le référentiel officiel.")
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)

    objects = ReferentielQuerySet.as_manager()

    class Meta:
        verbose_name = _("référentiel")
        verbose_name_plural = _("référentiels")
        ordering = ["certification", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["certification", "version"], name="referentiel_unique_version"),
            models.UniqueConstraint(
                fields=["certification"],
                condition=models.Q(is_current=True),
                name="referentiel_one_current_per_certification",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_certification_display()} – {self.version}"

    @property
    def is_locked(self) -> bool:
        """Frozen once a dossier was opened on it: its results must keep meaning what they meant."""
        return self.pk is not None and self.dossiers.exists()

    def domains_tree(self) -> list[Domain]:
        """Domains with their sub-domains and criteria, in order, in three queries."""
        return list(
            self.domains.prefetch_related(
                models.Prefetch("subdomains", queryset=SubDomain.objects.prefetch_related("criteria"))
            )
        )

    def criteria(self) -> models.QuerySet[Criterion]:
        return Criterion.objects.filter(subdomain__domain__referentiel=self)


class LockedReferentielMixin(models.Model):
    """Refuses edits to the parts of a frozen référentiel."""

    class Meta:
        abstract = True

    def _referentiel(self) -> Referentiel:
        raise NotImplementedError

    def clean(self) -> None:
        super().clean()
        try:
            referentiel = self._referentiel()
        except ObjectDoesNotExist:  # not attached yet: the form reports the missing parent
            return
        # Adding a part changes the meaning of the thresholds as much as editing one.
        if referentiel.is_locked:
            raise ValidationError(
                _(
                    "Ce référentiel est déjà utilisé par des dossiers : créez une nouvelle "
                    "version plutôt que de le modifier."
                )
            )


class Domain(LockedReferentielMixin):
    referentiel = models.ForeignKey(
        Referentiel, on_delete=models.CASCADE, related_name="domains", verbose_name=_("référentiel")
    )
    code = models.CharField(_("code"), max_length=10)
    title = models.CharField(_("intitulé"), max_length=255)
    is_transversal = models.BooleanField(_("domaine transversal"), default=False)
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)

    class Meta:
        verbose_name = _("domaine")
        verbose_name_plural = _("domaines")
        ordering = ["position", "code"]
        constraints = [models.UniqueConstraint(fields=["referentiel", "code"], name="domain_unique_code")]

    def __str__(self) -> str:
        return f"{self.code}. {self.title}"

    def _referentiel(self) -> Referentiel:
        return self.referentiel


class SubDomain(LockedReferentielMixin):
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="subdomains", verbose_name=_("domaine"))
    code = models.CharField(_("code"), max_length=10)
    title = models.CharField(_("intitulé"), max_length=255)
    threshold_percent = models.PositiveSmallIntegerField(
        _("seuil de validation (%)"),
        default=DEFAULT_THRESHOLD_PERCENT,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("Part des critères du sous-domaine à acquérir pour le valider."),
    )
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)

    class Meta:
        verbose_name = _("sous-domaine")
        verbose_name_plural = _("sous-domaines")
        ordering = ["position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["domain", "code"], name="subdomain_unique_code"),
            models.CheckConstraint(
                condition=models.Q(threshold_percent__gte=1, threshold_percent__lte=100),
                name="subdomain_threshold_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    def _referentiel(self) -> Referentiel:
        return self.domain.referentiel

    def required_count(self, total: int) -> int:
        """Criteria to acquire: the threshold's share of the criteria, rounded up (75 % of 2 is 2)."""
        return -(-total * self.threshold_percent // 100)


class CriterionQuerySet(models.QuerySet["Criterion"]):
    def in_referentiel_order(self) -> CriterionQuerySet:
        """Domain by domain, sub-domain by sub-domain, as the référentiel lists them."""
        return self.order_by("subdomain__domain__position", "subdomain__position", "position")


class Criterion(LockedReferentielMixin):
    subdomain = models.ForeignKey(
        SubDomain, on_delete=models.CASCADE, related_name="criteria", verbose_name=_("sous-domaine")
    )
    code = models.CharField(_("code"), max_length=12)
    title = models.TextField(_("intitulé"))
    is_mandatory = models.BooleanField(
        _("critère obligatoire"),
        default=False,
        help_text=_("Sans lui, le sous-domaine n'est pas validé, quel que soit le seuil."),
    )
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)

    objects = CriterionQuerySet.as_manager()

    class Meta:
        verbose_name = _("critère")
        verbose_name_plural = _("critères")
        ordering = ["position", "code"]
        constraints = [models.UniqueConstraint(fields=["subdomain", "code"], name="criterion_unique_code")]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    def _referentiel(self) -> Referentiel:
        return self.subdomain.domain.referentiel


class EvaluationKind(models.TextChoices):
    PRIOR = "prior", _("Évaluation préalable")
    FINAL = "final", _("Évaluation finale")


class Modality(models.TextChoices):
    ON_SITE = "on_site", _("En présentiel")
    REMOTE = "remote", _("À distance")


class EvaluationStatus(models.TextChoices):
    DRAFT = "draft", _("En cours de saisie")
    CLOSED = "closed", _("Clôturée")


class EvaluationQuerySet(TenantQuerySet):
    """The evaluator organisation's members and Certif'Pro; jurors, the grids of their sessions' dossiers.
    Trainers and others see no evaluation content."""

    def visible_to_others(self, membership: Membership) -> EvaluationQuerySet:
        from candidates.models import Dossier

        if membership.role == Role.JURY_MEMBER:
            return self.filter(dossier__in=Dossier.objects.visible_to(membership))
        return self.none()

    def closed(self) -> EvaluationQuerySet:
        return self.filter(status=EvaluationStatus.CLOSED)

    def drafts(self) -> EvaluationQuerySet:
        return self.filter(status=EvaluationStatus.DRAFT)


# Who may read evaluations. The scoped queryset then decides which: their organisation's for its members, the
# dossiers of their sessions for jurors, all for Certif'Pro.
EVALUATION_READERS = (Role.EVALUATOR, Role.COUNSELLOR, Role.ORG_ADMIN, Role.JURY_MEMBER, Role.CERTIFPRO_ADMIN)


class Evaluation(models.Model):
    """A prior or final evaluation of one dossier, recorded criterion by criterion."""

    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="evaluations",
        verbose_name=_("organisme évaluateur"),
    )
    dossier = models.ForeignKey(
        "candidates.Dossier", on_delete=models.PROTECT, related_name="evaluations", verbose_name=_("dossier")
    )
    kind = models.CharField(_("type"), max_length=10, choices=EvaluationKind.choices)
    evaluator = models.ForeignKey(
        "organisations.User", on_delete=models.PROTECT, related_name="evaluations", verbose_name=_("évaluateur·rice")
    )
    started_on = models.DateField(_("date de début"))
    ended_on = models.DateField(_("date de fin"), null=True, blank=True)
    duration_hours = models.DecimalField(
        _("durée (heures)"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(40)],
        help_text=_("De 2 à 8 heures en général, sur une ou plusieurs journées."),
    )
    modality = models.CharField(_("modalité"), max_length=10, choices=Modality.choices, default=Modality.ON_SITE)
    context = models.CharField(_("contexte professionnel ou secteur"), max_length=255, blank=True)
    status = models.CharField(
        _("statut"), max_length=10, choices=EvaluationStatus.choices, default=EvaluationStatus.DRAFT
    )
    closed_at = models.DateTimeField(_("clôturée le"), null=True, blank=True)
    # The sub-domain and domain outcomes computed at closing, kept as they were for the record.
    outcome = models.JSONField(_("résultat"), default=dict, blank=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    objects = EvaluationQuerySet.as_manager()

    class Meta:
        verbose_name = _("évaluation")
        verbose_name_plural = _("évaluations")
        ordering = ["-started_on", "-id"]
        constraints = [
            # One evaluation in progress per dossier at a time.
            models.UniqueConstraint(
                fields=["dossier"], condition=models.Q(status="draft"), name="evaluation_one_draft_per_dossier"
            ),
            models.CheckConstraint(
                condition=models.Q(ended_on__isnull=True) | models.Q(ended_on__gte=models.F("started_on")),
                name="evaluation_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} du {self.started_on:%d/%m/%Y}"

    @property
    def is_closed(self) -> bool:
        return self.status == EvaluationStatus.CLOSED

    def is_filled_by(self, membership: Membership) -> bool:
        """Only an evaluator of the evaluation's organisation fills its grid (the service enforces it too)."""
        return membership.role == Role.EVALUATOR and membership.organisation_id == self.organisation_id


class CriterionResultValue(models.TextChoices):
    ACQUIRED = "acquired", _("Acquis")
    NOT_ACQUIRED = "not_acquired", _("Non acquis")
    NOT_ASSESSED = "not_assessed", _("Non évalué")


class CriterionResult(models.Model):
    evaluation = models.ForeignKey(
        Evaluation, on_delete=models.CASCADE, related_name="results", verbose_name=_("évaluation")
    )
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="+", verbose_name=_("critère"))
    result = models.CharField(
        _("résultat"), max_length=15, choices=CriterionResultValue.choices, default=CriterionResultValue.NOT_ASSESSED
    )
    comment = models.CharField(_("commentaire"), max_length=500, blank=True)

    tenant_path = "evaluation__organisation"

    class Meta:
        verbose_name = _("résultat par critère")
        verbose_name_plural = _("résultats par critère")
        constraints = [models.UniqueConstraint(fields=["evaluation", "criterion"], name="result_unique_criterion")]

    def __str__(self) -> str:
        return f"{self.criterion_id}: {self.result}"


class AttestationQuerySet(models.QuerySet["Attestation"]):
    def visible_to(self, membership: Membership | None) -> AttestationQuerySet:
        """Whoever may see the dossier may download its attestations."""
        from candidates.models import Dossier

        return self.filter(dossier__in=Dossier.objects.visible_to(membership))


class Attestation(models.Model):
    """The attestation of partial validation of one closed evaluation: one document per evaluation, ever."""

    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="attestations",
        verbose_name=_("organisme évaluateur"),
    )
    dossier = models.ForeignKey(
        "candidates.Dossier", on_delete=models.PROTECT, related_name="attestations", verbose_name=_("dossier")
    )
    evaluation = models.OneToOneField(
        Evaluation, on_delete=models.PROTECT, related_name="attestation", verbose_name=_("évaluation")
    )
    number = models.CharField(_("numéro"), max_length=30, unique=True)
    version = models.PositiveSmallIntegerField(_("version"))
    file = models.FileField(_("fichier"), upload_to="attestations/%Y/")
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64)
    generated_at = models.DateTimeField(_("générée le"), auto_now_add=True)

    objects = AttestationQuerySet.as_manager()

    class Meta:
        verbose_name = _("attestation de validation partielle")
        verbose_name_plural = _("attestations de validation partielle")
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["dossier", "version"], name="attestation_unique_version")]

    def __str__(self) -> str:
        return self.number

    @property
    def filename(self) -> str:
        return f"attestation-{self.number}.pdf"
