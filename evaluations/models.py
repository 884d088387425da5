from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from clea_platform.certifications import Certification
from clea_platform.changes import TracksChanges
from clea_platform.verification import ATTESTATION_CODE_LENGTH, verification_code_new
from organisations.models import Role, TenantQuerySet
from referentiels.models import Domain

if TYPE_CHECKING:
    from candidates.models import DossierTransfer
    from organisations.models import Membership


class EvaluationKind(models.TextChoices):
    PRIOR = "prior", _("Évaluation préalable")
    FINAL = "final", _("Évaluation finale")


class Modality(models.TextChoices):
    ON_SITE = "on_site", _("En présentiel")
    REMOTE = "remote", _("À distance")


class EvaluationStatus(models.TextChoices):
    DRAFT = "draft", _("En cours de saisie")
    CLOSED = "closed", _("Clôturée")
    # Closed without a result: the dossier moved to another organisation during the evaluation (issue 19). Its lines
    # are never acquired (acquisitions read closed evaluations only) and no fee follows (evaluation_closed is not sent).
    ABANDONED = "abandoned", _("Abandonnée")


class EvaluationQuerySet(TenantQuerySet):
    """The evaluator organisation's members and Certif'Pro; jurors, the grids of their sessions' dossiers.
    Trainers and others see no evaluation content."""

    def visible_to(self, membership: Membership | None) -> EvaluationQuerySet:
        """Also, for the organisation a dossier moved to (issue 19), the evaluations made before by the previous
        one: what was acquired follows the person. The previous organisation keeps its own (by `organisation`)."""
        if membership is not None and not membership.is_certifpro and membership.role in self.organisation_roles:
            org = membership.organisation_id
            # Not a grid the previous organisation abandoned when the dossier moved: nothing of it was acquired, and
            # its lines are that organisation's work in progress. The timeline says it was abandoned.
            followed = models.Q(dossier__organisation_id=org) & ~models.Q(status=EvaluationStatus.ABANDONED)
            return self.filter(models.Q(organisation_id=org) | followed)
        return super().visible_to(membership)

    def visible_to_others(self, membership: Membership) -> EvaluationQuerySet:
        from candidates.models import Dossier

        if membership.role == Role.JURY_MEMBER:
            return self.filter(dossier__in=Dossier.objects.visible_to(membership))
        return self.none()

    def closed(self) -> EvaluationQuerySet:
        return self.filter(status=EvaluationStatus.CLOSED)

    def drafts(self) -> EvaluationQuerySet:
        return self.filter(status=EvaluationStatus.DRAFT)

    def abandoned(self) -> EvaluationQuerySet:
        return self.filter(status=EvaluationStatus.ABANDONED)


# Who may read evaluations. The scoped queryset then decides which: their organisation's for its members, the
# dossiers of their sessions for jurors, all for Certif'Pro.
EVALUATION_READERS = (Role.EVALUATOR, Role.COUNSELLOR, Role.ORG_ADMIN, Role.JURY_MEMBER, Role.CERTIFPRO_ADMIN)


class Evaluation(TracksChanges, models.Model):
    """A prior or final evaluation of one dossier, recorded criterion by criterion."""

    # The rows whose updated_at moves with this one's changes (clea_platform/changes.py).
    feed_parents = ("dossier",)

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
        "organisations.User",
        on_delete=models.PROTECT,
        related_name="evaluations",
        verbose_name=_("évaluation menée par"),
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
    # An abandoned evaluation: when, and the move that abandoned it (its reason, blanked with the dossier's personal
    # data by privacy, is read from there rather than copied here).
    abandoned_at = models.DateTimeField(_("abandonnée le"), null=True, blank=True)
    abandoned_by_transfer = models.ForeignKey(
        "candidates.DossierTransfer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="abandoned_evaluations",
        verbose_name=_("abandonnée au changement d'organisme"),
    )
    # The line of a Pix results file this evaluation was recorded from (issue 21), its file being the import's.
    pix_row = models.OneToOneField(
        "evaluations.PixImportRow",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="evaluation",
        verbose_name=_("résultat Pix importé"),
    )
    # The sub-domain and domain outcomes computed at closing, kept as they were for the record.
    outcome = models.JSONField(_("résultat"), default=dict, blank=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True, db_index=True)

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
                condition=models.Q(status="abandoned", abandoned_at__isnull=False)
                | (~models.Q(status="abandoned") & models.Q(abandoned_at__isnull=True)),
                name="evaluation_abandoned_dated",
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

    @property
    def is_draft(self) -> bool:
        """Being entered: the only status in which its grid changes."""
        return self.status == EvaluationStatus.DRAFT

    @property
    def is_abandoned(self) -> bool:
        return self.status == EvaluationStatus.ABANDONED

    def abandon(self, *, transfer: DossierTransfer) -> None:
        """Closed without a result because the dossier moved (the service saves it and writes its history)."""
        self.status = EvaluationStatus.ABANDONED
        self.abandoned_at = transfer.at
        self.abandoned_by_transfer = transfer

    @staticmethod
    def start_errors(started_on: datetime.date) -> list[str]:
        """An evaluation starts on a day that has come (the platform's day, Europe/Paris)."""
        if started_on > timezone.localdate():
            return [gettext("La date de début ne peut pas être dans le futur.")]
        return []

    def end_errors(self, ended_on: datetime.date) -> list[str]:
        """It ends on or after its start, and not after today."""
        if ended_on < self.started_on:
            return [
                gettext("La date de fin précède la date de début de l'évaluation (%(date)s).")
                % {"date": f"{self.started_on:%d/%m/%Y}"}
            ]
        if ended_on > timezone.localdate():
            return [gettext("La date de fin ne peut pas être dans le futur.")]
        return []

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if self.started_on and self._state.adding and (start := self.start_errors(self.started_on)):
            errors["started_on"] = start
        if self.started_on and self.ended_on and (end := self.end_errors(self.ended_on)):
            errors["ended_on"] = end
        if errors:
            raise ValidationError(errors)

    def validate_dates_and_duration(self) -> None:
        """The dates' rules and the duration's bounds, on their fields (the rest is the service's to check)."""
        others = [f.name for f in self._meta.fields if f.name not in {"started_on", "ended_on", "duration_hours"}]
        errors: dict[str, list[ValidationError]] = {}
        for check in (lambda: self.clean_fields(exclude=others), self.clean):
            try:
                check()
            except ValidationError as exc:
                errors = exc.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def is_filled_by(self, membership: Membership) -> bool:
        """Only an evaluator of the evaluation's organisation fills its grid (the service enforces it too)."""
        return membership.role == Role.EVALUATOR and membership.organisation_id == self.organisation_id


class CriterionResultValue(models.TextChoices):
    ACQUIRED = "acquired", _("Acquis")
    NOT_ACQUIRED = "not_acquired", _("Non acquis")
    NOT_ASSESSED = "not_assessed", _("Non évalué")


class CriterionResult(TracksChanges, models.Model):
    # The rows whose updated_at moves with this one's changes (clea_platform/changes.py).
    feed_parents = ("evaluation", "evaluation__dossier")
    evaluation = models.ForeignKey(
        Evaluation, on_delete=models.CASCADE, related_name="results", verbose_name=_("évaluation")
    )
    criterion = models.ForeignKey(
        "referentiels.Criterion", on_delete=models.PROTECT, related_name="+", verbose_name=_("critère")
    )
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


def new_attestation_code() -> str:
    return verification_code_new(ATTESTATION_CODE_LENGTH)


class AttestationQuerySet(models.QuerySet["Attestation"]):
    def visible_to(self, membership: Membership | None) -> AttestationQuerySet:
        """Whoever may see the dossier may download its attestations; an organisation the dossier left (issue 19),
        the attestations it issued itself."""
        from candidates.models import of_visible_dossier

        if membership is not None and membership.is_certifpro:
            return self.all()
        visible = self.filter(of_visible_dossier(membership))
        if membership is None or membership.is_certifpro or membership.role not in TenantQuerySet.organisation_roles:
            return visible
        return visible | self.filter(organisation_id=membership.organisation_id)


class Attestation(TracksChanges, models.Model):
    """The attestation of partial validation of one closed evaluation: one document per evaluation, ever."""

    # The rows whose updated_at moves with this one's changes (clea_platform/changes.py).
    feed_parents = ("dossier",)

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
    # Printed on the attestation and checked on the public /verifier/ page, like a certificate's (10 characters:
    # never one of theirs).
    verification_code = models.CharField(
        _("code de vérification"), max_length=10, unique=True, default=new_attestation_code
    )
    version = models.PositiveSmallIntegerField(_("version"))
    file = models.FileField(_("fichier"), upload_to="attestations/%Y/")
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64)
    generated_at = models.DateTimeField(_("générée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True, db_index=True)

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


# -- Pix results for CléA numérique (issue 21) ---------------------------------------------------------------------

# The 16 competences of the Pix framework (DigComp), in the order of the columns of Pix's results file.
PIX_COMPETENCES: dict[str, str] = {
    "1.1": "Mener une recherche et une veille d'information",
    "1.2": "Gérer des données",
    "1.3": "Traiter des données",
    "2.1": "Interagir",
    "2.2": "Partager et publier",
    "2.3": "Collaborer",
    "2.4": "S'insérer dans le monde numérique",
    "3.1": "Développer des documents textuels",
    "3.2": "Développer des documents multimédia",
    "3.3": "Adapter les documents à leur finalité",
    "3.4": "Programmer",
    "4.1": "Sécuriser l'environnement numérique",
    "4.2": "Protéger les données personnelles et la vie privée",
    "4.3": "Protéger la santé, le bien-être et l'environnement",
    "5.1": "Résoudre des problèmes techniques",
    "5.2": "Construire un environnement numérique",
}
PIX_MAX_LEVEL = 8


class PixMappingVersion(models.Model):
    """One version of the table that turns Pix competence levels into CléA numérique domains, owned by
    Certif'Pro. An import records the version it used; a version whose results were applied is frozen (its rules
    explain recorded evaluations): changes go into a new version (admin action)."""

    label = models.CharField(_("version"), max_length=40, unique=True)
    is_current = models.BooleanField(
        _("version en vigueur"), default=False, help_text=_("Les nouveaux imports utilisent la version en vigueur.")
    )
    is_provisional = models.BooleanField(
        _("provisoire"),
        default=False,
        help_text=_("Table de démonstration, à remplacer par la correspondance officielle de Certif'Pro."),
    )
    note = models.TextField(_("source et remarques"), blank=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("correspondance Pix – CléA numérique")
        verbose_name_plural = _("correspondances Pix – CléA numérique")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"], condition=models.Q(is_current=True), name="pix_mapping_one_current"
            )
        ]

    def __str__(self) -> str:
        return f"{self.label} ({gettext('provisoire')})" if self.is_provisional else self.label

    @property
    def is_locked(self) -> bool:
        """Frozen once a result read through it was recorded as an evaluation."""
        return (
            self.pk is not None
            and PixImportRow.objects.filter(pix_import__mapping_version=self, status=PixRowStatus.APPLIED).exists()
        )

    def domain_results(self, levels: dict[str, int | None]) -> dict[str, bool]:
        """{domain code: validated} for each CléA numérique domain the table covers: validated when every
        competence it names reaches its minimum level. A competence not tested ("-") is not reached."""
        reached: dict[str, bool] = {}
        for rule in self.rules.all():
            level = levels.get(rule.competence)
            met = level is not None and level >= rule.minimum_level
            reached[rule.domain_code] = reached.get(rule.domain_code, True) and met
        return reached


class PixMappingRule(models.Model):
    version = models.ForeignKey(
        PixMappingVersion, on_delete=models.CASCADE, related_name="rules", verbose_name=_("version")
    )
    competence = models.CharField(
        _("compétence Pix"),
        max_length=5,
        choices=[(code, f"{code} {title}") for code, title in PIX_COMPETENCES.items()],
    )
    minimum_level = models.PositiveSmallIntegerField(
        _("niveau minimal"), validators=[MinValueValidator(1), MaxValueValidator(PIX_MAX_LEVEL)]
    )
    domain_code = models.CharField(
        _("domaine CléA numérique"), max_length=10, help_text=_("Code du domaine dans le référentiel (1 à 4).")
    )

    class Meta:
        verbose_name = _("règle de correspondance")
        verbose_name_plural = _("règles de correspondance")
        ordering = ["domain_code", "competence"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "competence", "domain_code"], name="pix_rule_unique_competence_domain"
            ),
            models.CheckConstraint(
                condition=models.Q(minimum_level__gte=1, minimum_level__lte=PIX_MAX_LEVEL), name="pix_rule_level"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.competence} ≥ {self.minimum_level} → {self.domain_code}"

    def clean(self) -> None:
        super().clean()
        version = getattr(self, "version", None)
        if version is not None and version.is_locked:
            raise ValidationError(
                _(
                    "Des résultats ont déjà été enregistrés avec cette version : créez une nouvelle version plutôt "
                    "que de la modifier."
                )
            )
        # A code the référentiel does not have would silently validate nothing.
        codes = sorted(
            Domain.objects.filter(
                referentiel__certification=Certification.CLEA_NUMERIQUE, referentiel__is_current=True
            ).values_list("code", flat=True)
        )
        if codes and self.domain_code.strip() not in codes:
            raise ValidationError(
                {
                    "domain_code": _(
                        "« %(code)s » n'est pas un domaine du référentiel CléA numérique en vigueur (%(codes)s)."
                    )
                    % {"code": self.domain_code, "codes": ", ".join(codes)}
                }
            )


class PixImportScope(models.TextChoices):
    ORGANISATION = "organisation", _("Organisme évaluateur")
    CERTIFPRO = "certifpro", _("Certif'Pro")


class PixImportStatus(models.TextChoices):
    READ = "read", _("Lu et rapproché")
    REFUSED = "refused", _("Fichier refusé")
    APPLYING = "applying", _("Enregistrement en cours")
    DONE = "done", _("Résultats enregistrés")


class PixImportQuerySet(TenantQuerySet):
    """Evaluators: their organisation's imports; Certif'Pro: all. Nobody else."""

    organisation_roles = frozenset({Role.EVALUATOR})


# Who imports Pix results (and resolves and applies them).
PIX_IMPORTERS = (Role.EVALUATOR, Role.CERTIFPRO_ADMIN)


class PixImport(models.Model):
    """A results file of Pix certifications uploaded by an evaluator or Certif'Pro. The file is kept as received;
    each of its lines is a PixImportRow."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="pix_imports", verbose_name=_("organisme")
    )
    scope = models.CharField(_("périmètre"), max_length=15, choices=PixImportScope.choices)
    file = models.FileField(_("fichier"), upload_to="pix/%Y/")
    filename = models.CharField(_("nom du fichier"), max_length=255)
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        "organisations.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("importé par")
    )
    uploaded_at = models.DateTimeField(_("importé le"), auto_now_add=True)
    mapping_version = models.ForeignKey(
        PixMappingVersion, on_delete=models.PROTECT, related_name="imports", verbose_name=_("correspondance utilisée")
    )
    status = models.CharField(_("statut"), max_length=10, choices=PixImportStatus.choices)
    # Why the whole file was refused (columns missing, not a CSV), in French; empty otherwise.
    error = models.TextField(_("erreur"), blank=True)
    rows_total = models.PositiveIntegerField(_("lignes"), default=0)
    rows_invalid = models.PositiveIntegerField(_("lignes en erreur"), default=0)
    rows_matched = models.PositiveIntegerField(_("lignes rapprochées"), default=0)
    rows_unmatched = models.PositiveIntegerField(_("lignes à rapprocher"), default=0)
    rows_ignored = models.PositiveIntegerField(_("lignes ignorées"), default=0)
    rows_applied = models.PositiveIntegerField(_("lignes enregistrées"), default=0)

    objects = PixImportQuerySet.as_manager()

    class Meta:
        verbose_name = _("import de résultats Pix")
        verbose_name_plural = _("imports de résultats Pix")
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.uploaded_at:%d/%m/%Y})"


class PixRowStatus(models.TextChoices):
    INVALID = "invalid", _("En erreur")
    MATCHED = "matched", _("Rapprochée")
    UNMATCHED = "unmatched", _("À rapprocher")
    RESOLVED = "resolved", _("Rapprochée à la main")
    IGNORED = "ignored", _("Ignorée")
    APPLIED = "applied", _("Enregistrée")


# The rows whose dossier is known and whose result can be recorded.
PIX_APPLICABLE = (PixRowStatus.MATCHED, PixRowStatus.RESOLVED)


class PixImportRowQuerySet(models.QuerySet["PixImportRow"]):
    def handed_over_to(self, membership: Membership | None) -> PixImportRowQuerySet:
        """The lines Certif'Pro matched to the dossiers an evaluator may see, waiting to be recorded: recording a
        prior evaluation is an evaluator's act (the grid's rule), so Certif'Pro's national import hands them over.
        Nothing else of Certif'Pro's import is shown to them."""
        if membership is None or membership.role != Role.EVALUATOR:
            return self.none()
        from candidates.models import Dossier

        return self.filter(
            pix_import__scope=PixImportScope.CERTIFPRO,
            status__in=PIX_APPLICABLE,
            dossier__in=Dossier.objects.visible_to(membership),
        )


class PixImportRow(models.Model):
    """One line of a Pix results file: what it said (raw cells kept), what was read from it, the dossier it was
    matched to (by identity and birth date, or chosen by a person), and the evaluation it recorded."""

    pix_import = models.ForeignKey(PixImport, on_delete=models.CASCADE, related_name="rows", verbose_name=_("import"))
    line_number = models.PositiveIntegerField(_("ligne du fichier"))
    raw = models.JSONField(_("cellules lues"), default=dict)
    certification_number = models.CharField(_("numéro de certification"), max_length=40, blank=True)
    first_name = models.CharField(_("prénom"), max_length=150, blank=True)
    last_name = models.CharField(_("nom"), max_length=150, blank=True)
    birth_date = models.DateField(_("date de naissance"), null=True, blank=True)
    birth_place = models.CharField(_("lieu de naissance"), max_length=150, blank=True)
    external_id = models.CharField(_("identifiant externe"), max_length=150, blank=True)
    pix_status = models.CharField(_("statut Pix"), max_length=40, blank=True)
    pix_score = models.PositiveIntegerField(_("nombre de Pix"), null=True, blank=True)
    taken_on = models.DateField(_("date de passage"), null=True, blank=True)
    # {"1.1": 3, "1.2": None, ...}: None where Pix wrote "-" (not tested).
    levels = models.JSONField(_("niveaux par compétence"), default=dict)
    status = models.CharField(_("statut"), max_length=10, choices=PixRowStatus.choices, db_index=True)
    error = models.TextField(_("erreur"), blank=True)
    # How many visible dossiers the identity matched when read (0 or several: unmatched).
    candidates_found = models.PositiveSmallIntegerField(_("dossiers trouvés"), default=0)
    dossier = models.ForeignKey(
        "candidates.Dossier",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="pix_rows",
        verbose_name=_("dossier"),
    )
    resolved_by = models.ForeignKey(
        "organisations.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(_("rapprochée le"), null=True, blank=True)
    # {domain code: validated} read through the import's mapping version when applied.
    domain_results = models.JSONField(_("domaines selon la correspondance"), default=dict, blank=True)
    applied_at = models.DateTimeField(_("enregistrée le"), null=True, blank=True)

    tenant_path = "pix_import__organisation"

    objects = PixImportRowQuerySet.as_manager()

    class Meta:
        verbose_name = _("ligne d'import Pix")
        verbose_name_plural = _("lignes d'import Pix")
        ordering = ["line_number"]
        constraints = [
            models.UniqueConstraint(fields=["pix_import", "line_number"], name="pix_row_unique_line"),
            models.CheckConstraint(
                condition=~models.Q(status__in=["matched", "resolved", "applied"]) | models.Q(dossier__isnull=False),
                name="pix_row_dossier_when_matched",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pix_import_id}:{self.line_number}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name.upper()}".strip()

    @property
    def is_applicable(self) -> bool:
        return self.status in PIX_APPLICABLE

    @property
    def is_pending(self) -> bool:
        """Waiting for a person: to be matched by hand, or ignored."""
        return self.status == PixRowStatus.UNMATCHED
