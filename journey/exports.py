"""Certif'Pro's national export of certified candidates: what it reads across the journey (organisation, candidate,
prior evaluation, funders, certificate), as CSV and XLSX through the platform's spreadsheet writer."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clea_platform import spreadsheets
from evaluations.models import Evaluation, EvaluationKind, EvaluationStatus
from funding.models import FundingLine, LineState
from juries.models import Certificate

# The columns Certif'Pro expects (see the domain brief: the Pix export for CléA numérique).
EXPORT_COLUMNS = [
    ("certificate_number", gettext_lazy("Numéro de certificat")),
    ("verification_code", gettext_lazy("Code de vérification")),
    ("certification", gettext_lazy("Certification")),
    ("awarded_on", gettext_lazy("Date de délivrance")),
    ("status", gettext_lazy("Statut")),
    ("siren", gettext_lazy("SIREN de l'organisme")),
    ("siret", gettext_lazy("SIRET de l'organisme")),
    ("organisation", gettext_lazy("Organisme évaluateur")),
    ("region", gettext_lazy("Zone géographique")),
    ("civility", gettext_lazy("Civilité")),
    ("last_name", gettext_lazy("Nom d'usage")),
    ("birth_name", gettext_lazy("Nom de naissance")),
    ("first_name", gettext_lazy("Prénom")),
    ("email", gettext_lazy("Adresse e-mail")),
    ("phone", gettext_lazy("Téléphone")),
    ("address", gettext_lazy("Adresse")),
    ("postcode", gettext_lazy("Code postal")),
    ("city", gettext_lazy("Commune")),
    ("birth_date", gettext_lazy("Date de naissance")),
    ("birth_place", gettext_lazy("Lieu de naissance")),
    ("born_abroad", gettext_lazy("Naissance à l'étranger")),
    ("registration_status", gettext_lazy("Statut à l'inscription")),
    ("education_level", gettext_lazy("Niveau de formation")),
    ("origin", gettext_lazy("Origine de la démarche")),
    ("funders", gettext_lazy("Financeurs")),
    ("prior_evaluation_date", gettext_lazy("Date de l'évaluation préalable")),
    ("result", gettext_lazy("Résultat")),
    ("first_evaluation", gettext_lazy("Obtenu dès l'évaluation préalable")),
]


def certified_candidates(*, start: datetime.date, end: datetime.date) -> QuerySet[Certificate]:
    """Certificates issued (their PDF stored) and awarded in [start, end], with everything the export needs in a
    constant number of queries."""
    prior = Evaluation.objects.filter(kind=EvaluationKind.PRIOR, status=EvaluationStatus.CLOSED)
    finals = Evaluation.objects.filter(dossier=OuterRef("dossier"), kind=EvaluationKind.FINAL)
    funding = (
        FundingLine.objects.exclude(state__in=[LineState.CANCELLED, LineState.DRAFT, LineState.REFUSED])
        .select_related("funder")
        .order_by("funder__name")
    )
    return (
        Certificate.objects.produced()
        .filter(awarded_on__gte=start, awarded_on__lte=end)
        .select_related("dossier__candidate", "organisation")
        .prefetch_related(
            Prefetch("dossier__evaluations", queryset=prior, to_attr="prior_evaluations"),
            Prefetch("dossier__funding_lines", queryset=funding, to_attr="live_funding_lines"),
        )
        .annotate(had_final=Exists(finals))
        .order_by("awarded_on", "number")
    )


def export_rows(certificates: QuerySet[Certificate]) -> Iterator[dict[str, Any]]:
    for cert in certificates:
        dossier, candidate, org = cert.dossier, cert.dossier.candidate, cert.organisation
        # prior_evaluations and live_funding_lines come from Prefetch(to_attr=...), had_final from annotate().
        prior = dossier.prior_evaluations[0] if dossier.prior_evaluations else None  # type: ignore[attr-defined]
        funders = {line.funder.name for line in dossier.live_funding_lines}  # type: ignore[attr-defined]
        first_evaluation = _("Non") if cert.had_final else _("Oui")  # type: ignore[attr-defined]
        yield {
            "certificate_number": cert.number,
            "verification_code": cert.verification_code,
            "certification": cert.get_certification_display(),
            "awarded_on": cert.awarded_on,
            "status": _("Révoqué") if cert.is_revoked else _("Valide"),
            "siren": org.siren,
            "siret": org.siret,
            "organisation": org.name,
            "region": org.get_region_display(),
            "civility": candidate.get_civility_display(),
            "last_name": candidate.last_name,
            "birth_name": candidate.birth_name,
            "first_name": candidate.first_name,
            "email": candidate.email,
            "phone": candidate.phone,
            "address": candidate.address,
            "postcode": candidate.postcode,
            "city": candidate.city,
            "birth_date": candidate.birth_date,
            "birth_place": candidate.birth_place,
            "born_abroad": _("Oui") if candidate.born_abroad else _("Non"),
            "registration_status": candidate.registration_status_label,
            "education_level": candidate.get_education_level_display(),
            "origin": candidate.get_origin_display(),
            "funders": ", ".join(sorted(funders)),
            "prior_evaluation_date": prior.ended_on or prior.started_on if prior else None,
            "result": _("Certifié"),
            "first_evaluation": first_evaluation,
        }


def _table(rows: Iterable[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    headers = [str(label) for _key, label in EXPORT_COLUMNS]
    return headers, [[row[key] for key, _label in EXPORT_COLUMNS] for row in rows]


def to_csv(rows: Iterable[dict[str, Any]]) -> bytes:
    return spreadsheets.to_csv(*_table(rows))


def to_xlsx(rows: Iterable[dict[str, Any]]) -> bytes:
    return spreadsheets.to_xlsx(*_table(rows), title=_("Certifiés"))
