"""Demo data: organisations, sites, habilitations and accounts that show every role.

Idempotent: objects are looked up by their natural keys (SIRET, e-mail) and brought back to the demo state.
Later parts of the platform add their own demo objects from `seed_demo` after these.
"""

from __future__ import annotations

import base64
import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from clea_platform.certifications import Certification
from organisations.models import (
    TWO_FACTOR_ROLES,
    ApplicationKind,
    Habilitation,
    HabilitationApplication,
    HabilitationStatus,
    Membership,
    Organisation,
    OrganisationKind,
    Region,
    Role,
    Site,
    User,
)
from organisations.validators import luhn_valid

DEMO_PASSWORD = "demo-clea-2026"
# The demo accounts whose roles require a second factor share this TOTP secret (base32, as authenticator apps and
# `oathtool --totp -b` take it): people add it to an app once, scripts compute the code (`manage.py demo_totp`).
# Public like the password: demo data only.
DEMO_TOTP_SECRET = "CLEADEMOCLEADEMOCLEADEMOCLEADEMO"


def demo_totp_code(at: float | None = None) -> str:
    """The code of DEMO_TOTP_SECRET now (or at the Unix time `at`), as an authenticator app shows it."""
    totp = TOTP(base64.b32decode(DEMO_TOTP_SECRET))
    if at is not None:
        totp.time = at
    return f"{totp.token():06d}"


def siret_from(prefix: str) -> str:
    """Complete a 13-digit prefix with the digit that makes a valid (Luhn) SIRET."""
    return next(prefix + str(d) for d in range(10) if luhn_valid(prefix + str(d)))


@dataclass(frozen=True)
class DemoAccount:
    email: str
    first_name: str
    last_name: str
    org_key: str
    roles: tuple[str, ...]
    label: str

    @property
    def is_staff(self) -> bool:
        """Certif'Pro's administrator reaches the Django administration (as a superuser)."""
        return Role.CERTIFPRO_ADMIN in self.roles

    @property
    def gives_code(self) -> bool:
        """Whether the account gives a code after its password: User.two_factor_required, for these roles."""
        return self.is_staff or bool(TWO_FACTOR_ROLES & set(self.roles))


ORGANISATIONS = {
    "nord": dict(
        name="APP Lille Métropole (évaluateur Nord)",
        kind=OrganisationKind.EVALUATOR,
        siret=siret_from("4100000100001"),
        region=Region.HAUTS_DE_FRANCE,
        email="contact@evaluateur-nord.demo",
    ),
    "sud": dict(
        name="GRETA Provence (évaluateur Sud)",
        kind=OrganisationKind.EVALUATOR,
        siret=siret_from("4100000200001"),
        region=Region.PROVENCE_ALPES_COTE_D_AZUR,
        email="contact@evaluateur-sud.demo",
    ),
    "formation": dict(
        name="Formation Nord Compétences",
        kind=OrganisationKind.TRAINING,
        siret=siret_from("4100000300001"),
        region=Region.HAUTS_DE_FRANCE,
        email="contact@formation-nord.demo",
    ),
    "jury": dict(
        name="Transitions Pro Hauts-de-France",
        kind=OrganisationKind.JURY_BODY,
        siret=siret_from("4100000400001"),
        region=Region.HAUTS_DE_FRANCE,
        email="jurys@jury.demo",
    ),
    "ft": dict(
        name="France Travail – agence Lille Centre",
        kind=OrganisationKind.FRANCE_TRAVAIL,
        siret=siret_from("4100000500001"),
        region=Region.HAUTS_DE_FRANCE,
        email="agence@francetravail.demo",
    ),
    "certifpro": dict(
        name="Certif'Pro",
        kind=OrganisationKind.CERTIFPRO,
        siret=siret_from("4100000600001"),
        region=Region.ILE_DE_FRANCE,
        email="contact@certifpro.demo",
    ),
}

SITES = {
    "nord": [
        dict(
            name="Lille – Moulins",
            address="12 rue de Wazemmes",
            postcode="59000",
            city="Lille",
            insee_code="59350",
            latitude=Decimal("50.62925"),
            longitude=Decimal("3.05726"),
            wheelchair_accessible=True,
            remote_evaluation=True,
            contact_name="Accueil CléA",
            contact_email="clea@evaluateur-nord.demo",
            contact_phone="03 20 00 00 01",
        ),
        dict(
            name="Roubaix – Gare",
            address="3 place de la Gare",
            postcode="59100",
            city="Roubaix",
            insee_code="59512",
            latitude=Decimal("50.69421"),
            longitude=Decimal("3.17456"),
            wheelchair_accessible=False,
            remote_evaluation=False,
            contact_name="Accueil CléA",
            contact_email="roubaix@evaluateur-nord.demo",
            contact_phone="03 20 00 00 02",
        ),
    ],
    "sud": [
        dict(
            name="Marseille – Belsunce",
            address="8 cours Belsunce",
            postcode="13001",
            city="Marseille",
            insee_code="13201",
            latitude=Decimal("43.29834"),
            longitude=Decimal("5.37802"),
            wheelchair_accessible=True,
            remote_evaluation=False,
            contact_name="Accueil GRETA",
            contact_email="clea@evaluateur-sud.demo",
            contact_phone="04 91 00 00 01",
        )
    ],
    "formation": [
        dict(
            name="Tourcoing – Centre",
            address="5 rue de Lille",
            postcode="59200",
            city="Tourcoing",
            insee_code="59599",
            latitude=Decimal("50.72391"),
            longitude=Decimal("3.16117"),
            wheelchair_accessible=True,
            contact_email="accueil@formation-nord.demo",
        )
    ],
}

HABILITATIONS = {
    "nord": [Certification.CLEA, Certification.CLEA_NUMERIQUE],
    "sud": [Certification.CLEA, Certification.CLEA_MANAGEMENT],
}
# Certif'Pro's « À faire » and the Nord administrator's: one habilitation comes up for renewal within the 3 months
# (the others run 3 years).
ENDING_SOON = ("nord", Certification.CLEA_NUMERIQUE)

ACCOUNTS = [
    DemoAccount(
        "conseillere@evaluateur-nord.demo",
        "Camille",
        "Martin",
        "nord",
        (Role.COUNSELLOR, Role.ORG_ADMIN),
        "conseillère (et administratrice) de l'évaluateur Nord",
    ),
    DemoAccount(
        "evaluateur@evaluateur-nord.demo",
        "Yanis",
        "Lefebvre",
        "nord",
        (Role.EVALUATOR,),
        "évaluateur de l'évaluateur Nord",
    ),
    DemoAccount(
        "conseiller@evaluateur-sud.demo",
        "Louis",
        "Garcia",
        "sud",
        (Role.COUNSELLOR,),
        "conseiller de l'évaluateur Sud (l'autre organisation)",
    ),
    DemoAccount(
        "formatrice@formation-nord.demo",
        "Inès",
        "Dubois",
        "formation",
        (Role.TRAINER,),
        "formatrice de l'organisme de formation",
    ),
    DemoAccount("jure.employeur@jury.demo", "Bernard", "Roux", "jury", (Role.JURY_MEMBER,), "juré, collège employeurs"),
    DemoAccount("jure.salarie@jury.demo", "Sofia", "Moreau", "jury", (Role.JURY_MEMBER,), "jurée, collège salariés"),
    DemoAccount(
        "conseiller@francetravail.demo", "Thomas", "Petit", "ft", (Role.FT_ADVISOR,), "conseiller France Travail"
    ),
    DemoAccount(
        "admin@certifpro.demo",
        "Hélène",
        "Laurent",
        "certifpro",
        (Role.CERTIFPRO_ADMIN,),
        "administratrice Certif'Pro (accès à l'administration)",
    ),
]


@transaction.atomic
def seed_foundation() -> dict[str, Organisation]:
    today = timezone.localdate()
    orgs: dict[str, Organisation] = {}
    for key, data in ORGANISATIONS.items():
        values = {k: v for k, v in data.items() if k != "siret"}
        orgs[key], _ = Organisation.objects.update_or_create(siret=data["siret"], defaults=values)
    for key, sites in SITES.items():
        for data in sites:
            Site.objects.update_or_create(organisation=orgs[key], name=data["name"], defaults=data)
    for key, certifications in HABILITATIONS.items():
        for certification in certifications:
            # The first period (a renewal granted while trying the demo is a second row, left as it is).
            Habilitation.objects.update_or_create(
                organisation=orgs[key],
                certification=certification,
                previous=None,
                defaults=dict(
                    valid_from=today - datetime.timedelta(days=365),
                    valid_until=today + datetime.timedelta(days=60 if (key, certification) == ENDING_SOON else 3 * 365),
                    status=HabilitationStatus.ACTIVE,
                    status_reason="",
                ),
            )
    for account in ACCOUNTS:
        user, _ = User.objects.update_or_create(
            email=account.email,
            defaults=dict(
                first_name=account.first_name,
                last_name=account.last_name,
                is_active=True,
                is_staff=account.is_staff,
                is_superuser=account.is_staff,
            ),
        )
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        for role in account.roles:
            Membership.objects.update_or_create(
                user=user, organisation=orgs[account.org_key], role=role, defaults={"is_active": True}
            )
        if account.gives_code:
            # The shared secret, its counters back to zero: whoever runs the demo can log in again at once.
            TOTPDevice.objects.filter(user=user).exclude(name="démo").delete()
            TOTPDevice.objects.update_or_create(
                user=user,
                name="démo",
                defaults=dict(
                    key=base64.b32decode(DEMO_TOTP_SECRET).hex(),
                    confirmed=True,
                    last_t=-1,
                    drift=0,
                    throttling_failure_count=0,
                    throttling_failure_timestamp=None,
                ),
            )
    seed_habilitation_application(orgs["nord"])
    return orgs


def seed_habilitation_application(organisation: Organisation) -> HabilitationApplication:
    """Certif'Pro's queue has an application to instruct: the Nord evaluator asks for CléA management at its Lille
    site (kept pending: seeding again leaves it, or makes it again once Certif'Pro has decided it)."""
    today = timezone.localdate()
    pending = HabilitationApplication.objects.submitted().filter(organisation=organisation).first()
    if pending is not None:
        return pending
    application = HabilitationApplication.objects.create(
        organisation=organisation,
        kind=ApplicationKind.FIRST,
        certifications=[Certification.CLEA_MANAGEMENT],
        requested_from=today + datetime.timedelta(days=30),
        requested_until=today + datetime.timedelta(days=30 + 3 * 365),
        note="Deux évaluatrices formées au référentiel CléA management depuis septembre.",
        submitted_by=User.objects.filter(email="conseillere@evaluateur-nord.demo").first(),
    )
    application.sites.set(organisation.sites.filter(is_active=True)[:1])
    return application


def demo_accounts_with_two_factor() -> list[DemoAccount]:
    """The demo accounts that give a code after their password."""
    return [account for account in ACCOUNTS if account.gives_code]
