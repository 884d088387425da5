"""The summary tables the statistics read: one fact row per opened dossier and the sub-domains it lacked at its
prior evaluation. Derived data only: every row can be rebuilt from the journey's own tables
(`indicators.facts.facts_rebuild`), so none of them is a source of truth, and none is personal data beyond an
age band.

The fact keeps the dossier's id without a foreign key: the facts are rebuilt, never joined back to the dossier
(the dashboard never reads a dossier row), and the bench fills them alone at national scale."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from clea_platform.certifications import Certification
from organisations.models import Region


class AgeBand(models.TextChoices):
    """At the opening of the dossier: the bands the employment statistics use."""

    UNDER_26 = "u26", _("Moins de 26 ans")
    FROM_26_TO_44 = "26_44", _("26 à 44 ans")
    FROM_45_TO_54 = "45_54", _("45 à 54 ans")
    FROM_55 = "55", _("55 ans et plus")


class PriorOutcome(models.TextChoices):
    FULL = "full", _("Validée d'emblée")
    PARTIAL = "partial", _("Validée en partie")


# What the dashboard reads of a fact besides its scope and month (indicators.selectors: funnel, delays, months).
READ_COLUMNS = [
    "dossier_id",
    "certification",
    "prior_closed_on",
    "prior_outcome",
    "training_started_on",
    "final_evaluation_on",
    "jury_on",
    "certified_on",
    "withdrawn_on",
    "expired_on",
    "days_to_prior",
    "days_to_training",
    "days_to_final",
    "days_to_jury",
    "days_jury_to_certificate",
    "days_to_certificate",
]


class DossierFact(models.Model):
    """One opened dossier: who (bands, not identities), where, which certification, and the day it reached each
    step; durations in days between steps, precomputed so that percentiles sort plain integers."""

    dossier_id = models.BigIntegerField(_("dossier"), primary_key=True)
    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("organisme évaluateur"),
    )
    region = models.CharField(_("région"), max_length=2, choices=Region.choices)
    departement = models.CharField(_("département"), max_length=3, blank=True)
    certification = models.CharField(_("certification"), max_length=20, choices=Certification.choices)
    funder_kind = models.CharField(_("financeur"), max_length=20, blank=True)
    registration_status = models.CharField(_("statut"), max_length=20, blank=True)
    education_level = models.CharField(_("niveau de formation"), max_length=10, blank=True)
    age_band = models.CharField(_("âge"), max_length=5, choices=AgeBand.choices, blank=True)
    opened_month = models.DateField(_("mois d'ouverture"))
    opened_on = models.DateField(_("ouvert le"))
    prior_closed_on = models.DateField(_("évaluation préalable le"), null=True)
    prior_outcome = models.CharField(_("résultat"), max_length=10, choices=PriorOutcome.choices, blank=True)
    training_started_on = models.DateField(_("formation commencée le"), null=True)
    final_evaluation_on = models.DateField(_("évaluation finale commencée le"), null=True)
    jury_on = models.DateField(_("soumis au jury le"), null=True)
    certified_on = models.DateField(_("certifié le"), null=True)
    withdrawn_on = models.DateField(_("abandonné le"), null=True)
    expired_on = models.DateField(_("expiré le"), null=True)
    deferred = models.BooleanField(_("ajourné par un jury"), default=False)
    # Days between steps (None until both are reached).
    days_to_prior = models.IntegerField(null=True)
    days_to_training = models.IntegerField(null=True)
    days_to_final = models.IntegerField(null=True)
    days_to_jury = models.IntegerField(null=True)
    days_jury_to_certificate = models.IntegerField(null=True)
    days_to_certificate = models.IntegerField(null=True)
    refreshed_at = models.DateTimeField(_("mis à jour le"), auto_now=True)

    class Meta:
        verbose_name = _("fait statistique d'un dossier")
        verbose_name_plural = _("faits statistiques des dossiers")
        indexes = [
            # The scopes: a region's and an organisation's rows, by month, covering what the dashboard reads (the
            # steps and the delays): an index-only scan, instead of one heap page per fact (the busiest organisation's
            # 33,000 facts lay on 15,800 pages of the 1,000,000).
            models.Index(fields=["region", "opened_month"], name="fact_region_month_cover", include=READ_COLUMNS),
            models.Index(fields=["organisation", "opened_month"], name="fact_org_month_cover", include=READ_COLUMNS),
            models.Index(fields=["opened_month"], name="fact_month"),
        ]

    def __str__(self) -> str:
        return f"{self.dossier_id}"


GAP_COLUMNS = ["certification", "fact_id", "domain_code", "domain_title", "subdomain_code", "subdomain_title"]


class DossierFactGap(models.Model):
    """A sub-domain not validated at the dossier's (first closed) prior evaluation. The fact's scope and common
    filters are copied here: an organisation's gaps are then one index range, not 33,000 look-ups of its facts
    (620 ms at the busiest organisation of 1,000,000 facts)."""

    fact = models.ForeignKey(DossierFact, on_delete=models.CASCADE, related_name="gaps")
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    region = models.CharField(max_length=2)
    certification = models.CharField(max_length=20)
    opened_month = models.DateField()
    # The fact's other filters, copied too: a filtered national view then reads its gaps without joining the
    # 1,500,000 gap rows to the facts it keeps (about 1 s per query at 1,000,000 facts).
    departement = models.CharField(max_length=3, blank=True, default="")
    funder_kind = models.CharField(max_length=20, blank=True, default="")
    registration_status = models.CharField(max_length=20, blank=True, default="")
    education_level = models.CharField(max_length=10, blank=True, default="")
    age_band = models.CharField(max_length=5, blank=True, default="")
    domain_code = models.CharField(_("domaine"), max_length=10)
    domain_title = models.CharField(_("intitulé du domaine"), max_length=255)
    subdomain_code = models.CharField(_("sous-domaine"), max_length=10)
    subdomain_title = models.CharField(_("intitulé du sous-domaine"), max_length=255)

    class Meta:
        verbose_name = _("sous-domaine manquant")
        verbose_name_plural = _("sous-domaines manquants")
        constraints = [models.UniqueConstraint(fields=["fact", "subdomain_code"], name="factgap_unique")]
        indexes = [
            # Covering what `missing` groups and counts: index-only scans (as the facts' indexes).
            models.Index(fields=["organisation", "opened_month"], name="factgap_org_month_cover", include=GAP_COLUMNS),
            models.Index(fields=["region", "opened_month"], name="factgap_region_month_cover", include=GAP_COLUMNS),
        ]

    def __str__(self) -> str:
        return self.subdomain_code


# A cube row's value for "every status / level / band": the row sums the others (a roll-up, written by the rebuild).
CUBE_ALL = "*"


class CubeRow(models.Model):
    """The facts counted per month of opening, region, certification and the person's status, education level and
    age band: what the national and regional views read unless filtered by organisation, département or funder.
    Each of the three person dimensions also has its roll-up value CUBE_ALL, so that any combination of filters is
    one slice of rows (an unfiltered view reads its few thousand "*, *, *" rows, never the 80,000 detailed ones).
    Rebuilt from the facts by `indicators.cube.cube_rebuild` (beat, every CUBE_REFRESH_SECONDS, and after each
    rebuild of the facts)."""

    month = models.DateField(_("mois d'ouverture"))
    region = models.CharField(_("région"), max_length=2, choices=Region.choices)
    certification = models.CharField(_("certification"), max_length=20, choices=Certification.choices)
    registration_status = models.CharField(_("statut"), max_length=20, default=CUBE_ALL)
    education_level = models.CharField(_("niveau de formation"), max_length=10, default=CUBE_ALL)
    age_band = models.CharField(_("âge"), max_length=5, default=CUBE_ALL)
    opened = models.IntegerField(default=0)
    prior = models.IntegerField(default=0)
    full = models.IntegerField(default=0)
    partial = models.IntegerField(default=0)
    trained = models.IntegerField(default=0)
    final = models.IntegerField(default=0)
    jury = models.IntegerField(default=0)
    certified = models.IntegerField(default=0)
    withdrawn = models.IntegerField(default=0)
    expired = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("ligne du cube mensuel")
        verbose_name_plural = _("cube mensuel")
        constraints = [
            models.UniqueConstraint(
                fields=["registration_status", "education_level", "age_band", "month", "region", "certification"],
                name="cuberow_person_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.region} {self.certification}"


class CubeDelay(models.Model):
    """How many dossiers took about `days` days for one delay, per month and certification (not per region: a
    region's delays are read from its facts). Exact to the day up to 60 days, then counted by week up to a year and
    by 30 days beyond (`days` is then the middle of the span): at 1,000,000 facts, a histogram by day, month,
    region and certification held 950,000 rows, nearly as many as the facts it summed."""

    month = models.DateField()
    certification = models.CharField(max_length=20)
    delay = models.CharField(max_length=30)
    days = models.IntegerField()
    dossiers = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["month", "certification"], name="cubedelay_key")]

    def __str__(self) -> str:
        return f"{self.delay} {self.days}"


class CubeGap(models.Model):
    """Dossiers missing a domain (subdomain_code empty) or a sub-domain, per month, region and certification; and
    for the nation (region CUBE_ALL), per status, education level and age band too, rolled up as CubeRow's (per
    region as well, they would be 1,000,000 rows at 1,000,000 facts: a region's view filtered by the person reads
    its gap rows)."""

    month = models.DateField()
    region = models.CharField(max_length=2)
    certification = models.CharField(max_length=20)
    registration_status = models.CharField(max_length=20, default=CUBE_ALL)
    education_level = models.CharField(max_length=10, default=CUBE_ALL)
    age_band = models.CharField(max_length=5, default=CUBE_ALL)
    domain_code = models.CharField(max_length=10)
    subdomain_code = models.CharField(max_length=10, blank=True)
    title = models.CharField(max_length=255)
    dossiers = models.IntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["month", "region", "certification"], name="cubegap_key"),
            models.Index(
                fields=["registration_status", "education_level", "age_band", "region", "month"],
                name="cubegap_person_key",
            ),
        ]

    def __str__(self) -> str:
        return self.subdomain_code or self.domain_code


class CubeRefresh(models.Model):
    """When the cube was last rebuilt (one row): the national and regional views say so."""

    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.at}"


class RegionalFunder(models.Model):
    """A funder organisation that is a Région (the regional council's funding department): its administrators see
    their region's statistics, as a Transitions Pro's do. Other funders (OPCO, France Travail, Pro-A...) fund
    dossiers of every region and see none: the platform's organisations do not say which funder they are
    (funding.Funder is a national list of schemes, with no organisation), so Certif'Pro marks them here."""

    organisation = models.OneToOneField(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="regional_funder",
        limit_choices_to={"kind": "funder"},
        verbose_name=_("financeur"),
    )

    class Meta:
        verbose_name = _("Région financeur")
        verbose_name_plural = _("Régions financeurs")

    def __str__(self) -> str:
        return str(self.organisation)
