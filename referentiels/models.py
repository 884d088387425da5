"""The national référentiels of the CléA certifications, owned by Certif'Pro: versions, domains, sub-domains
with their thresholds, and criteria (some mandatory). Dossiers are opened on a version and results point at its
criteria, so the journey apps sit above this one and read it; it imports none of them."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from clea_platform.certifications import Certification

DEFAULT_THRESHOLD_PERCENT = 75


class ReferentielQuerySet(models.QuerySet["Referentiel"]):
    def current(self) -> ReferentielQuerySet:
        return self.filter(is_current=True)

    def current_for(self, certification: str) -> Referentiel:
        return self.current().get(certification=certification)

    def with_in_use(self) -> ReferentielQuerySet:
        """Annotates `in_use`: whether a dossier was opened on the version (which freezes it). Read through the
        reverse relation: the dossiers' app sits above this one."""
        return self.annotate(
            in_use=models.Exists(Referentiel.objects.filter(pk=models.OuterRef("pk"), dossiers__isnull=False))
        )


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
