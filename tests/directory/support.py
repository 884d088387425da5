"""Communes and directory sites for the tests: a few dozen real communes from the committed table (mainland,
Corsica, overseas), and evaluator sites placed on them."""

from __future__ import annotations

import datetime
import functools
from decimal import Decimal

from django.utils import timezone

from clea_platform.certifications import Certification
from directory.models import Commune, DirectorySheet, SheetScope
from directory.places import communes_load, read_communes
from organisations.models import HabilitationStatus, Organisation, OrganisationKind, Site
from tests.factories import HabilitationFactory, OrganisationFactory, SiteFactory, UserFactory

SAMPLE_CODES = [
    # Lille and its neighbours, and further in the Hauts-de-France.
    "59350",  # Lille
    "59512",  # Roubaix
    "59599",  # Tourcoing
    "59009",  # Villeneuve-d'Ascq
    "59378",  # Marcq-en-Barœul
    "59646",  # Wasquehal
    "59178",  # Douai
    "62041",  # Arras
    "62193",  # Calais
    "80021",  # Amiens
    # Paris, Lyon, Marseille and Aix (whose INSEE code 13001 is also a Marseille postcode).
    "75056",
    "69123",
    "13055",
    "13001",
    # Names to look up with accents and homonyms.
    "42218",  # Saint-Étienne
    "76575",  # Saint-Étienne-du-Rouvray
    "06120",  # Saint-Étienne-de-Tinée
    "91228",  # Évry-Courcouronnes (a position approached from a former commune)
    "89162",  # Évry (Yonne)
    "77175",  # Évry-Grégy-sur-Yerre
    "93066",  # Saint-Denis (Seine-Saint-Denis)
    "11339",  # Saint-Denis (Aude)
    "30247",  # Saint-Denis (Gard)
    # Corsica.
    "2A004",  # Ajaccio
    "2A247",  # Porto-Vecchio
    "2B033",  # Bastia
    "2B096",  # Corte
    # Overseas.
    "97411",  # Saint-Denis (La Réunion)
    "97415",  # Saint-Paul (La Réunion), one of whose postcodes is 97411
    "97209",  # Fort-de-France
    "97302",  # Cayenne
    "97611",  # Mamoudzou
]


@functools.cache
def _sample_rows() -> tuple[dict[str, str], ...]:
    return tuple(read_communes(codes=SAMPLE_CODES))


def load_sample_communes() -> dict[str, Commune]:
    """The sample communes in the database, by INSEE code."""
    communes_load([dict(row) for row in _sample_rows()])
    return {c.insee_code: c for c in Commune.objects.all()}


def evaluator_site(
    commune: Commune | None = None,
    *,
    organisation: Organisation | None = None,
    certifications: tuple[str, ...] = (Certification.CLEA,),
    habilitation_status: str = HabilitationStatus.ACTIVE,
    valid_from: datetime.date | None = None,
    valid_until: datetime.date | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    **site_fields: object,
) -> Site:
    """A site of an evaluator organisation (a new one unless given) holding the given habilitations, placed
    on the commune's point (or the given coordinates)."""
    today = timezone.localdate()
    if organisation is None:
        organisation = OrganisationFactory(kind=OrganisationKind.EVALUATOR)
        for certification in certifications:
            HabilitationFactory(
                organisation=organisation,
                certification=certification,
                status=habilitation_status,
                status_reason="" if habilitation_status == HabilitationStatus.ACTIVE else "Audit",
                valid_from=valid_from or today - datetime.timedelta(days=30),
                valid_until=valid_until or today + datetime.timedelta(days=300),
            )
    if commune is not None:
        site_fields.setdefault("city", commune.name)
        site_fields.setdefault("insee_code", commune.insee_code)
        site_fields.setdefault("postcode", commune.postcode_list[0] if commune.postcode_list else "00000")
    lat = latitude if latitude is not None else commune.latitude
    lon = longitude if longitude is not None else commune.longitude
    return SiteFactory(
        organisation=organisation,
        latitude=Decimal(str(round(lat, 5))),
        longitude=Decimal(str(round(lon, 5))),
        **site_fields,
    )


def make_sheet(organisation: Organisation, **fields: object) -> DirectorySheet:
    """A pending sheet of the organisation (as the service records it, before the worker renders it)."""
    values = dict(
        requested_by=UserFactory(),
        requested_on=timezone.localdate(),
        scope=SheetScope.DEPARTEMENT,
        departement="59",
        place_label="Nord (59)",
        params_key=f"dep:59|cert:all|pmr:0|remote:0|{organisation.pk}",
    )
    values.update(fields)
    return DirectorySheet.objects.create(organisation=organisation, **values)
