"""Demo data for the evaluator directory (called by `seed_demo`, before referrals/demo.py).

Evaluator organisations with habilitations and sites across the regions (overseas and Corsica included),
one whose habilitation is suspended (so absent from the directory), and the agency's own site in Lille.
Idempotent: organisations by SIRET, sites by (organisation, name).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from clea_platform.certifications import Certification
from organisations.demo import siret_from
from organisations.models import (
    Habilitation,
    HabilitationStatus,
    Organisation,
    OrganisationKind,
    Region,
    Site,
)

# (INSEE code, commune, postcode, latitude, longitude): points from directory/data/communes.csv.gz.
PLACES = {
    "paris": ("75056", "Paris", "75011", "48.85341", "2.34880"),
    "saint-denis-93": ("93066", "Saint-Denis", "93200", "48.93564", "2.35387"),
    "evry": ("91228", "Évry-Courcouronnes", "91000", "48.63280", "2.44049"),
    "lyon": ("69123", "Lyon", "69003", "45.74906", "4.84789"),
    "saint-etienne": ("42218", "Saint-Étienne", "42000", "45.43389", "4.39000"),
    "grenoble": ("38185", "Grenoble", "38000", "45.17869", "5.71479"),
    "clermont": ("63113", "Clermont-Ferrand", "63000", "45.77969", "3.08682"),
    "toulouse": ("31555", "Toulouse", "31000", "43.60426", "1.44367"),
    "montpellier": ("34172", "Montpellier", "34000", "43.61093", "3.87635"),
    "nimes": ("30189", "Nîmes", "30000", "43.83665", "4.35788"),
    "bordeaux": ("33063", "Bordeaux", "33000", "44.84124", "-0.58046"),
    "limoges": ("87085", "Limoges", "87000", "45.83362", "1.24759"),
    "rennes": ("35238", "Rennes", "35000", "48.11109", "-1.67431"),
    "brest": ("29019", "Brest", "29200", "48.39029", "-4.48628"),
    "nantes": ("44109", "Nantes", "44000", "47.21725", "-1.55336"),
    "angers": ("49007", "Angers", "49000", "47.47156", "-0.55202"),
    "le-mans": ("72181", "Le Mans", "72000", "48.00210", "0.20251"),
    "strasbourg": ("67482", "Strasbourg", "67000", "48.58392", "7.74553"),
    "metz": ("57463", "Metz", "57000", "49.11911", "6.17269"),
    "nancy": ("54395", "Nancy", "54000", "48.68439", "6.18496"),
    "reims": ("51454", "Reims", "51100", "49.26526", "4.02853"),
    "rouen": ("76540", "Rouen", "76000", "49.44313", "1.09932"),
    "caen": ("14118", "Caen", "14000", "49.18585", "-0.35912"),
    "le-havre": ("76351", "Le Havre", "76600", "49.49346", "0.10785"),
    "dijon": ("21231", "Dijon", "21000", "47.31344", "5.01391"),
    "besancon": ("25056", "Besançon", "25000", "47.24878", "6.01815"),
    "tours": ("37261", "Tours", "37000", "47.39484", "0.70398"),
    "orleans": ("45234", "Orléans", "45000", "47.90248", "1.90407"),
    "nice": ("06088", "Nice", "06000", "43.70313", "7.26608"),
    "toulon": ("83137", "Toulon", "83000", "43.12442", "5.92836"),
    "ajaccio": ("2A004", "Ajaccio", "20000", "41.91886", "8.73812"),
    "bastia": ("2B033", "Bastia", "20200", "42.70219", "9.45123"),
    "saint-denis-974": ("97411", "Saint-Denis", "97400", "-20.88231", "55.45040"),
    "saint-pierre-974": ("97416", "Saint-Pierre", "97410", "-21.33930", "55.47811"),
    "fort-de-france": ("97209", "Fort-de-France", "97200", "14.60365", "-61.07418"),
    "lille": ("59350", "Lille", "59000", "50.62925", "3.05726"),
    "arras": ("62041", "Arras", "62000", "50.29301", "2.78186"),
    "lens": ("62498", "Lens", "62300", "50.43302", "2.82791"),
    "valenciennes": ("59606", "Valenciennes", "59300", "50.35909", "3.52506"),
    "dunkerque": ("59183", "Dunkerque", "59140", "51.03440", "2.37681"),
}

# key: (name, region, SIRET prefix, certifications, e-mail domain, sites as (place, site name, PMR, remote))
EVALUATORS = {
    "idf": (
        "GRETA Paris Compétences",
        Region.ILE_DE_FRANCE,
        "4100001100001",
        [Certification.CLEA, Certification.CLEA_NUMERIQUE],
        "greta-paris.demo",
        [
            ("paris", "Paris 11e – Voltaire", True, True),
            ("paris", "Paris 11e – Oberkampf", False, False),
            ("saint-denis-93", "Saint-Denis – Porte de Paris", True, False),
            ("evry", "Évry – Agora", True, True),
        ],
    ),
    "ara": (
        "APP Auvergne-Rhône-Alpes",
        Region.AUVERGNE_RHONE_ALPES,
        "4100001200001",
        [Certification.CLEA],
        "app-ara.demo",
        [
            ("lyon", "Lyon – Part-Dieu", True, True),
            ("saint-etienne", "Saint-Étienne – Châteaucreux", True, False),
            ("grenoble", "Grenoble – Europole", False, True),
            ("clermont", "Clermont-Ferrand – Jaude", True, False),
        ],
    ),
    "occ": (
        "CFA du bâtiment Occitanie",
        Region.OCCITANIE,
        "4100001300001",
        [Certification.CLEA, Certification.CLEA_MANAGEMENT],
        "cfa-btp-occitanie.demo",
        [
            ("toulouse", "Toulouse – Montaudran", True, False),
            ("montpellier", "Montpellier – Port Marianne", True, True),
            ("nimes", "Nîmes – Costières", False, False),
        ],
    ),
    "naq": (
        "UROF Nouvelle-Aquitaine",
        Region.NOUVELLE_AQUITAINE,
        "4100001400001",
        [Certification.CLEA, Certification.CLEA_NUMERIQUE],
        "urof-na.demo",
        [("bordeaux", "Bordeaux – Bastide", True, True), ("limoges", "Limoges – Bénédictins", True, False)],
    ),
    "bre": (
        "GRETA Bretagne",
        Region.BRETAGNE,
        "4100001500001",
        [Certification.CLEA],
        "greta-bretagne.demo",
        [("rennes", "Rennes – Colombier", True, False), ("brest", "Brest – Recouvrance", False, True)],
    ),
    "pdl": (
        "APP Pays de la Loire",
        Region.PAYS_DE_LA_LOIRE,
        "4100001600001",
        [Certification.CLEA, Certification.CLEA_NUMERIQUE],
        "app-pdl.demo",
        [
            ("nantes", "Nantes – Île de Nantes", True, True),
            ("angers", "Angers – Saint-Serge", True, False),
            ("le-mans", "Le Mans – Novaxis", False, False),
        ],
    ),
    "ges": (
        "Grand Est Compétences",
        Region.GRAND_EST,
        "4100001700001",
        [Certification.CLEA],
        "grandest-competences.demo",
        [
            ("strasbourg", "Strasbourg – Neudorf", True, False),
            ("metz", "Metz – Amphithéâtre", True, True),
            ("nancy", "Nancy – Rives de Meurthe", False, False),
            ("reims", "Reims – Clairmarais", True, False),
        ],
    ),
    "nor": (
        "GRETA Normandie",
        Region.NORMANDIE,
        "4100001800001",
        [Certification.CLEA, Certification.CLEA_MANAGEMENT],
        "greta-normandie.demo",
        [
            ("rouen", "Rouen – Saint-Sever", True, False),
            ("caen", "Caen – Presqu'île", True, True),
            ("le-havre", "Le Havre – Docks", False, False),
        ],
    ),
    "bfc": (
        "Bourgogne-Franche-Comté Évaluation",
        Region.BOURGOGNE_FRANCHE_COMTE,
        "4100001900001",
        [Certification.CLEA],
        "bfc-evaluation.demo",
        [("dijon", "Dijon – Toison d'Or", True, False), ("besancon", "Besançon – Viotte", False, True)],
    ),
    "cvl": (
        "APP Centre-Val de Loire",
        Region.CENTRE_VAL_DE_LOIRE,
        "4100002000001",
        [Certification.CLEA],
        "app-cvl.demo",
        [("tours", "Tours – Deux-Lions", True, False), ("orleans", "Orléans – Carmes", True, True)],
    ),
    "paca": (
        "APP Côte d'Azur",
        Region.PROVENCE_ALPES_COTE_D_AZUR,
        "4100002100001",
        [Certification.CLEA],
        "app-azur.demo",
        [("nice", "Nice – Arenas", True, False), ("toulon", "Toulon – Mayol", False, False)],
    ),
    "corse": (
        "Corse Formation Évaluation",
        Region.CORSE,
        "4100002200001",
        [Certification.CLEA],
        "corse-evaluation.demo",
        [("ajaccio", "Ajaccio – Loretto", True, False), ("bastia", "Bastia – Lupino", False, True)],
    ),
    "reunion": (
        "GRETA La Réunion",
        Region.LA_REUNION,
        "4100002300001",
        [Certification.CLEA, Certification.CLEA_NUMERIQUE],
        "greta-reunion.demo",
        [
            ("saint-denis-974", "Saint-Denis – Le Chaudron", True, False),
            ("saint-pierre-974", "Saint-Pierre – Ravine Blanche", True, True),
        ],
    ),
    "martinique": (
        "APP Martinique",
        Region.MARTINIQUE,
        "4100002400001",
        [Certification.CLEA],
        "app-martinique.demo",
        [("fort-de-france", "Fort-de-France – Pointe Simon", True, False)],
    ),
    # A second evaluator in the north: one of its sites shares the northern evaluator's address in Lille,
    # so the two are at the same distance from anywhere and the directory alternates them day by day.
    "hdf": (
        "Compétences Artois-Flandre",
        Region.HAUTS_DE_FRANCE,
        "4100002500001",
        [Certification.CLEA, Certification.CLEA_NUMERIQUE],
        "artois-flandre.demo",
        [
            ("lille", "Lille – Moulins (locaux partagés)", True, False),
            ("arras", "Arras – Citadelle", True, True),
            ("lens", "Lens – Bollaert", False, False),
            ("valenciennes", "Valenciennes – Rives de l'Escaut", True, False),
            ("dunkerque", "Dunkerque – Grand Large", True, True),
        ],
    ),
    # Suspended by Certif'Pro: its site must not appear in the directory.
    "suspended": (
        "Évaluation Express (habilitation suspendue)",
        Region.HAUTS_DE_FRANCE,
        "4100002600001",
        [Certification.CLEA],
        "evaluation-express.demo",
        [("lille", "Lille – Centre", True, True)],
    ),
}


def _site_values(place: str, *, pmr: bool, remote: bool, domain: str, index: int) -> dict[str, object]:
    insee, city, postcode, latitude, longitude = PLACES[place]
    today = timezone.localdate()
    values: dict[str, object] = dict(
        address=f"{10 + index * 7} rue de la Formation",
        postcode=postcode,
        city=city,
        insee_code=insee,
        latitude=Decimal(latitude),
        longitude=Decimal(longitude),
        wheelchair_accessible=pmr,
        remote_evaluation=remote,
        contact_name="Accueil CléA",
        contact_email=f"clea@{domain}",
        contact_phone=f"0{1 + index % 5} 00 00 {index:02d} {index * 3 % 100:02d}",
        availability_updated_at=timezone.now() - datetime.timedelta(days=index % 4 * 25),
    )
    # Some declare a next date, others a usual delay, a few nothing at all.
    if index % 3 == 0:
        values.update(next_slot_on=today + datetime.timedelta(days=3 + index % 10), typical_wait_days=None)
    elif index % 3 == 1:
        values.update(next_slot_on=None, typical_wait_days=7 + index % 4 * 7)
    else:
        values.update(next_slot_on=None, typical_wait_days=None, availability_updated_at=None)
    return values


@transaction.atomic
def seed_directory(orgs: dict[str, Organisation]) -> int:
    """Evaluators and sites across the regions, and the agency's site.
    Returns how many sites were created (0 on a second run)."""
    today = timezone.localdate()
    created = 0
    index = 0
    for key, (name, region, siret_prefix, certifications, domain, sites) in EVALUATORS.items():
        organisation, _ = Organisation.objects.update_or_create(
            siret=siret_from(siret_prefix),
            defaults=dict(name=name, kind=OrganisationKind.EVALUATOR, region=region, email=f"contact@{domain}"),
        )
        for certification in certifications:
            suspended = key == "suspended"
            Habilitation.objects.update_or_create(
                organisation=organisation,
                certification=certification,
                defaults=dict(
                    valid_from=today - datetime.timedelta(days=400),
                    valid_until=today + datetime.timedelta(days=2 * 365),
                    status=HabilitationStatus.SUSPENDED if suspended else HabilitationStatus.ACTIVE,
                    status_reason="Audit Certif'Pro en cours." if suspended else "",
                ),
            )
        for place, site_name, pmr, remote in sites:
            index += 1
            values = _site_values(place, pmr=pmr, remote=remote, domain=domain, index=index)
            _, was_created = Site.objects.get_or_create(organisation=organisation, name=site_name, defaults=values)
            created += int(was_created)
    # The agency's own address: where its advisors' searches and "radius" sheets start from.
    _, was_created = Site.objects.get_or_create(
        organisation=orgs["ft"],
        name="Agence Lille Centre",
        defaults=dict(
            address="40 rue Nationale",
            postcode="59000",
            city="Lille",
            insee_code="59350",
            latitude=Decimal("50.63691"),
            longitude=Decimal("3.06124"),
            wheelchair_accessible=True,
            contact_email="agence@francetravail.demo",
        ),
    )
    created += int(was_created)
    # The northern evaluator's demo sites declare their availability too.
    for site in Site.objects.filter(organisation=orgs["nord"], availability_updated_at__isnull=True):
        site.next_slot_on = today + datetime.timedelta(days=6 if site.remote_evaluation else 15)
        site.availability_updated_at = timezone.now()
        site.save(update_fields=["next_slot_on", "availability_updated_at"])
    return created
