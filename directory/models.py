"""The directory's own data: the national commune table, and the printable sheets agencies ask for.

The sites listed, and the availability they declare, stay on organisations.Site (a site belongs to its
organisation); the directory reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from clea_platform.certifications import Certification
from directory.places import COMMUNE_CODE_RE, COMMUNE_WITH_DEPARTEMENT_RE, fold_name
from directory.spelling import commune_name_index
from organisations.models import Membership, Organisation


class CommuneQuerySet(models.QuerySet["Commune"]):
    def search(self, query: str, limit: int = 10) -> list[Commune]:
        """Communes for what someone typed: an INSEE code or a postcode (whole or its beginning), a name
        (accents, case, hyphens and "St" ignored; the beginning of the name or of one of its words), or
        "Name (département)" as the completion offers it. Exact names first, then by population."""
        text = " ".join(query.split())[:100]
        if not text:
            return []
        code = text.upper().replace(" ", "")
        if COMMUNE_CODE_RE.match(code):
            by_code: list[Commune] = list(self.filter(insee_code=code))
            by_postcode = self.filter(postcode_rows__postcode=code).exclude(insee_code=code)
            return (by_code + list(by_postcode.order_by("-population", "name")[:limit]))[:limit]
        if code.isdigit() and 2 <= len(code) < 5:
            return list(
                self.filter(postcode_rows__postcode__startswith=code).distinct().order_by("-population", "name")[:limit]
            )
        with_departement = COMMUNE_WITH_DEPARTEMENT_RE.match(text)
        if with_departement:
            name, departement = fold_name(with_departement["name"]), with_departement["departement"].upper()
            found = list(
                self.filter(departement=departement, name_folded__startswith=name).order_by("-population")[:limit]
            )
            return sorted(found, key=lambda c: c.name_folded != name)
        folded = fold_name(text)
        if not folded:
            return []
        found = list(self.filter(name_folded__startswith=folded).order_by("-population", "name")[:limit])
        if len(found) < limit:
            # Then a word inside the name ("courcouronnes" finds Évry-Courcouronnes).
            inside = self.filter(name_folded__contains=f" {folded}").exclude(pk__in=[c.pk for c in found])
            found += list(inside.order_by("-population", "name")[: limit - len(found)])
        return sorted(found, key=lambda c: c.name_folded != folded)

    def resolve(self, query: str) -> CommuneLookup:
        """The commune meant by `query` when it is clear, with the other candidates to offer.

        A code or "Name (département)" is clear when it designates one commune; a name when exactly one
        commune bears it (the others that start with it are offered as alternatives: "Évry" is in the
        Yonne, and "Évry-Courcouronnes" in the Essonne)."""
        candidates = self.search(query, limit=20)
        if len(candidates) == 1:
            return CommuneLookup(candidates[0], [])
        folded = fold_name(query)
        with_departement = COMMUNE_WITH_DEPARTEMENT_RE.match(" ".join(query.split()))
        if with_departement:
            folded = fold_name(with_departement["name"])
        exact = [c for c in candidates if c.name_folded == folded]
        if len(exact) == 1 and not COMMUNE_CODE_RE.match(query.strip().upper()):
            return CommuneLookup(exact[0], [c for c in candidates if c is not exact[0]][:10])
        if not candidates:
            return CommuneLookup(None, [], suggestions=self.suggest(query))
        return CommuneLookup(None, candidates)

    def suggest(self, query: str, limit: int = 5) -> list[Commune]:
        """The communes whose names are nearest a misspelt `query` ("Lile": Lille, Lisle…), nearest then most
        populated first (directory.spelling); none for a code or "Name (département)"."""
        text = " ".join(query.split())[:100]
        if COMMUNE_CODE_RE.match(text.upper().replace(" ", "")) or text.replace(" ", "").isdigit():
            return []
        with_departement = COMMUNE_WITH_DEPARTEMENT_RE.match(text)
        ids = commune_name_index().nearest(with_departement["name"] if with_departement else text, limit)
        found = self.in_bulk(ids)
        return [found[pk] for pk in ids if pk in found]


@dataclass(frozen=True)
class CommuneLookup:
    commune: Commune | None
    candidates: list[Commune]
    # When nothing matches: the nearest names, for "Vouliez-vous dire : Lille (59) ?".
    suggestions: list[Commune] = field(default_factory=list)


class Commune(models.Model):
    """A current French commune (INSEE's Code officiel géographique), with its postcodes and a point.

    National reference data, loaded from directory/data/communes.csv.gz by `manage.py load_communes`.
    `is_approximate`: GeoNames had no point for it, so it stands at the centre of its neighbours."""

    insee_code = models.CharField(_("code INSEE"), max_length=5, unique=True)
    name = models.CharField(_("nom"), max_length=100)
    # Lower case, no accents or punctuation: what searches compare (indexed for prefix look-ups).
    name_folded = models.CharField(max_length=100, db_index=True, editable=False)
    departement = models.CharField(_("département"), max_length=3, db_index=True)
    departement_name = models.CharField(_("nom du département"), max_length=80)
    region = models.CharField(_("région"), max_length=3)
    region_name = models.CharField(_("nom de la région"), max_length=80)
    postcodes = models.CharField(_("codes postaux"), max_length=200, blank=True)
    population = models.PositiveIntegerField(_("population"), default=0)
    latitude = models.FloatField(_("latitude"))
    longitude = models.FloatField(_("longitude"))
    is_approximate = models.BooleanField(_("position approchée"), default=False)

    objects = CommuneQuerySet.as_manager()

    class Meta:
        verbose_name = _("commune")
        verbose_name_plural = _("communes")
        ordering = ["name", "insee_code"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """What the completion shows and what `search` reads back: "Saint-Denis (974)"."""
        return f"{self.name} ({self.departement})"

    @property
    def postcode_list(self) -> list[str]:
        return self.postcodes.split()


class CommunePostcode(models.Model):
    """One postcode of a commune (a commune may have several, a postcode may serve several communes)."""

    commune = models.ForeignKey(Commune, on_delete=models.CASCADE, related_name="postcode_rows")
    postcode = models.CharField(_("code postal"), max_length=5, db_index=True)

    class Meta:
        verbose_name = _("code postal")
        verbose_name_plural = _("codes postaux")
        constraints = [models.UniqueConstraint(fields=["commune", "postcode"], name="commune_postcode_unique")]

    def __str__(self) -> str:
        return f"{self.postcode} {self.commune.name}"


class SheetScope(models.TextChoices):
    DEPARTEMENT = "departement", _("Un département")
    RADIUS = "radius", _("Autour d'une commune")


class SheetStatus(models.TextChoices):
    PENDING = "pending", _("En préparation")
    READY = "ready", _("Prête")
    FAILED = "failed", _("Échec")


class DirectorySheetQuerySet(models.QuerySet["DirectorySheet"]):
    def visible_to(self, membership: Membership | None) -> DirectorySheetQuerySet:
        """An agency's sheets are its own (its advisors asked for them); Certif'Pro sees all."""
        if membership is None:
            return self.none()
        if membership.is_certifpro:
            return self.all()
        return self.filter(organisation_id=membership.organisation_id)


class DirectorySheet(models.Model):
    """A printable list of the evaluators of a territory, rendered to PDF by a worker.

    One per organisation, day and set of parameters: asking again the same day returns the same sheet."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="directory_sheets", verbose_name=_("organisation")
    )
    requested_by = models.ForeignKey(
        "organisations.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("demandée par")
    )
    requested_on = models.DateField(_("date"))
    scope = models.CharField(_("territoire"), max_length=12, choices=SheetScope.choices)
    departement = models.CharField(_("département"), max_length=3, blank=True)
    commune_insee = models.CharField(_("code INSEE de la commune"), max_length=5, blank=True)
    radius_km = models.PositiveSmallIntegerField(_("rayon (km)"), null=True, blank=True)
    place_label = models.CharField(_("territoire"), max_length=150)
    certification = models.CharField(_("certification"), max_length=20, choices=Certification.choices, blank=True)
    wheelchair_accessible = models.BooleanField(_("accessible en fauteuil roulant"), default=False)
    remote_evaluation = models.BooleanField(_("évaluation à distance possible"), default=False)
    params_key = models.CharField(max_length=120, editable=False)
    status = models.CharField(_("état"), max_length=10, choices=SheetStatus.choices, default=SheetStatus.PENDING)
    file = models.FileField(_("fichier"), upload_to="directory_sheets/%Y/", blank=True)
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64, blank=True)
    site_count = models.PositiveIntegerField(_("nombre de sites"), default=0)
    generated_at = models.DateTimeField(_("générée le"), null=True, blank=True)
    created_at = models.DateTimeField(_("demandée le"), auto_now_add=True)

    objects = DirectorySheetQuerySet.as_manager()

    class Meta:
        verbose_name = _("fiche de l'annuaire")
        verbose_name_plural = _("fiches de l'annuaire")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "requested_on", "params_key"], name="directory_sheet_unique_per_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.place_label} ({self.requested_on:%d/%m/%Y})"

    @property
    def filename(self) -> str:
        return f"evaluateurs-{slugify(self.place_label)}-{self.requested_on:%Y%m%d}.pdf"
