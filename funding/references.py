"""National reference data of the funding app: the funders' list and Certif'Pro's tariffs (from July 2019).

Loaded by `manage.py load_tariffs` (idempotent: existing rows are left as Certif'Pro edited them).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction

from clea_platform.certifications import Certification
from funding.models import FeeKind, Funder, FunderKind, Tariff

FUNDERS = [
    # (code, kind, name, what the funder calls its reference)
    ("cpf", FunderKind.CPF, "Mon Compte Formation (CPF)", "N° de dossier CPF"),
    ("france-travail", FunderKind.FRANCE_TRAVAIL, "France Travail", "N° de convention France Travail"),
    ("opco", FunderKind.OPCO, "OPCO – plan de développement des compétences", "N° d'accord de prise en charge OPCO"),
    ("region", FunderKind.REGION, "Région", "N° de convention régionale"),
    ("pro-a", FunderKind.PRO_A, "Pro-A (reconversion ou promotion par alternance)", "N° de dossier Pro-A"),
    ("transitions-pro", FunderKind.TRANSITIONS_PRO, "Transitions Pro", "N° de dossier Transitions Pro"),
    ("employeur", FunderKind.EMPLOYER, "Employeur (en direct)", "N° de bon de commande"),
    ("candidat", FunderKind.CANDIDATE, "Autofinancement", "N° de facture"),
]

TARIFFS_FROM = datetime.date(2019, 7, 1)
TARIFFS = [
    # (certification, kind, euros excluding VAT)
    (Certification.CLEA, FeeKind.PRIOR_EVALUATION, Decimal("20")),
    (Certification.CLEA, FeeKind.CERTIFICATE, Decimal("5")),
    (Certification.CLEA_NUMERIQUE, FeeKind.CERTIFICATE, Decimal("10")),
    (Certification.CLEA_NUMERIQUE, FeeKind.APPLICATION, Decimal("300")),
    (Certification.CLEA_NUMERIQUE, FeeKind.ESTABLISHMENT, Decimal("150")),
]


@transaction.atomic
def funding_references_load() -> tuple[int, int]:
    """Create the missing funders and tariffs; returns how many of each were created."""
    funders = 0
    for position, (code, kind, name, reference_label) in enumerate(FUNDERS):
        _funder, created = Funder.objects.get_or_create(
            code=code, defaults={"kind": kind, "name": name, "reference_label": reference_label, "position": position}
        )
        funders += created
    tariffs = 0
    for certification, fee_kind, euros in TARIFFS:
        if Tariff.objects.filter(certification=certification, kind=fee_kind).exists():
            continue
        Tariff.objects.create(
            certification=certification, kind=fee_kind, amount_cents=int(euros * 100), valid_from=TARIFFS_FROM
        )
        tariffs += 1
    return funders, tariffs
