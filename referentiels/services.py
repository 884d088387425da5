"""Certif'Pro's writes to the référentiels: loading the shipped CSV files, copying a version into a new one,
making a version the one in force."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from organisations.models import User
from organisations.services import audit_record
from referentiels.models import DEFAULT_THRESHOLD_PERCENT, Criterion, Domain, Referentiel, SubDomain


@dataclass
class LoadReport:
    referentiel: Referentiel
    created: bool
    criteria: int
    skipped_locked: bool = False


@transaction.atomic
def referentiel_load_csv(
    *,
    path: Path,
    certification: str,
    version: str,
    title: str,
    is_provisional: bool = False,
    thresholds: Mapping[str, int] | None = None,
    make_current: bool = True,
) -> LoadReport:
    """Create or update one référentiel version from a CSV (columns of `referentiels/data/referentiel_clea.csv`).

    Idempotent. A version already used by dossiers is left untouched: its results must keep their meaning.
    """
    thresholds = thresholds or {}
    referentiel, created = Referentiel.objects.get_or_create(
        certification=certification, version=version, defaults={"title": title, "is_provisional": is_provisional}
    )
    if not created and referentiel.is_locked:
        return LoadReport(referentiel, created=False, criteria=referentiel.criteria().count(), skipped_locked=True)
    referentiel.title, referentiel.is_provisional = title, is_provisional
    referentiel.save(update_fields=["title", "is_provisional"])
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["certification"] == certification]
    if not rows:
        raise ValidationError(_("Aucun critère pour %(cert)s dans %(path)s") % {"cert": certification, "path": path})
    criteria = 0
    for position, row in enumerate(rows):
        domain, _created = Domain.objects.update_or_create(
            referentiel=referentiel,
            code=row["domain"],
            defaults={
                "title": row["domain_title"],
                "position": int(row["domain"]),
                "is_transversal": "transversal" in row["domain_title"].lower(),
            },
        )
        subdomain, _created = SubDomain.objects.update_or_create(
            domain=domain,
            code=row["subdomain"],
            defaults={
                "title": row["subdomain_title"],
                "position": position,
                "threshold_percent": thresholds.get(row["subdomain"], DEFAULT_THRESHOLD_PERCENT),
            },
        )
        Criterion.objects.update_or_create(
            subdomain=subdomain, code=row["criterion"], defaults={"title": row["criterion_title"], "position": position}
        )
        criteria += 1
    if make_current:
        referentiel_make_current(referentiel=referentiel)
    return LoadReport(referentiel, created=created, criteria=criteria)


@transaction.atomic
def referentiel_make_current(*, referentiel: Referentiel, by: User | None = None) -> Referentiel:
    """Make this version the one new dossiers are opened on; the certification's previous current version stops
    being current. Dossiers already opened keep the version they were opened on. Writes an audit row when a
    person does it."""
    if not referentiel.criteria().exists():
        raise ValidationError(_("Le référentiel « %(r)s » ne contient aucun critère.") % {"r": referentiel})
    # Lock the certification's versions: two administrators must not leave two current ones (or none).
    list(Referentiel.objects.select_for_update().filter(certification=referentiel.certification))
    Referentiel.objects.filter(certification=referentiel.certification, is_current=True).exclude(
        pk=referentiel.pk
    ).update(is_current=False)
    Referentiel.objects.filter(pk=referentiel.pk).update(is_current=True)
    referentiel.is_current = True
    if by is not None:
        audit_record(action="referentiel.make_current", actor=by, obj=referentiel)
    return referentiel


def read_thresholds(path: Path) -> dict[str, int]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["subdomain"]: int(row["threshold_percent"]) for row in csv.DictReader(handle)}


@transaction.atomic
def referentiel_new_version(*, source: Referentiel, version: str, title: str | None = None) -> Referentiel:
    """Copy a version (domains, sub-domains with thresholds, criteria with their mandatory flag) into a new,
    not yet current one, which Certif'Pro then edits and makes current."""
    if Referentiel.objects.filter(certification=source.certification, version=version).exists():
        raise ValidationError(_("La version « %(v)s » existe déjà.") % {"v": version})
    copy = Referentiel.objects.create(
        certification=source.certification,
        version=version,
        title=title or source.title,
        is_provisional=source.is_provisional,
    )
    for domain in source.domains_tree():
        new_domain = Domain.objects.create(
            referentiel=copy,
            code=domain.code,
            title=domain.title,
            is_transversal=domain.is_transversal,
            position=domain.position,
        )
        for sub in domain.subdomains.all():
            new_sub = SubDomain.objects.create(
                domain=new_domain,
                code=sub.code,
                title=sub.title,
                threshold_percent=sub.threshold_percent,
                position=sub.position,
            )
            Criterion.objects.bulk_create(
                Criterion(
                    subdomain=new_sub, code=c.code, title=c.title, is_mandatory=c.is_mandatory, position=c.position
                )
                for c in sub.criteria.all()
            )
    return copy
