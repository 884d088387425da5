"""The dossier list as a spreadsheet: the rows the list's filters keep, every page, with the list's columns.

Only what the screen shows (no contact details, no birth date): a list exported to follow the dossiers needs no
more, and less personal data leaves the platform (GDPR minimisation)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext as _

from candidates.models import Dossier, DossierQuerySet


def dossier_export_headers(*, with_organisation: bool) -> list[str]:
    headers = [
        _("Référence"),
        _("Nom d'usage"),
        _("Prénom"),
        _("Certification"),
        _("Étape"),
        _("Ouvert le"),
        _("Dernière modification"),
        _("Échéance des 5 ans"),
    ]
    return [*headers, _("Organisme évaluateur")] if with_organisation else headers


def dossier_export_rows(dossiers: DossierQuerySet, *, with_organisation: bool) -> Iterator[list[Any]]:
    dossier: Dossier
    for dossier in dossiers.select_related("candidate", "organisation").iterator(chunk_size=2000):
        candidate = dossier.candidate
        row = [
            dossier.reference,
            candidate.last_name,
            candidate.first_name,
            dossier.get_certification_display(),
            dossier.get_state_display(),
            dossier.consent_at.date() if dossier.consent_at else None,
            dossier.updated_at,
            dossier.deadline,
        ]
        yield [*row, dossier.organisation.name] if with_organisation else row
