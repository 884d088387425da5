"""Demo referrals from France Travail (called by `seed_demo`, once `seed_directory` has placed the sites).

Referrals from the demo advisor to the northern evaluator, in every state. Idempotent: referrals by (agency,
person).
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from candidates.models import EducationLevel
from clea_platform.certifications import Certification
from organisations.models import Membership, Organisation, Role, Site
from referrals.models import Referral
from referrals.services import (
    referral_accept,
    referral_consent_text,
    referral_decline,
    referral_send,
    referrals_expire,
)

REFERRALS = [
    # (first name, last name, birth date, civility, state, days ago, note / decline reason)
    ("Samir", "Haddad", datetime.date(1988, 6, 14), "m", "sent", 2, "Disponible le matin ; souhaite Lille Moulins."),
    ("Claire", "Vasseur", datetime.date(1979, 2, 3), "mme", "sent", 24, ""),
    ("Jordan", "Delattre", datetime.date(1996, 11, 20), "m", "accepted", 9, "Projet de reconversion en logistique."),
    (
        "Mélanie",
        "Caron",
        datetime.date(1984, 9, 8),
        "mme",
        "declined",
        12,
        "Pas de session avant trois mois à Roubaix : orientez plutôt vers le site de Lille.",
    ),
    ("Bruno", "Lefort", datetime.date(1970, 4, 27), "m", "expired", 45, ""),
]


@transaction.atomic
def seed_referrals(orgs: dict[str, Organisation]) -> int:
    """The demo advisor's referrals, one or more in each state. Returns how many were created (0 on a second
    run)."""
    advisor = Membership.objects.get(user__email="conseiller@francetravail.demo", role=Role.FT_ADVISOR)
    counsellor = Membership.objects.get(user__email="conseillere@evaluateur-nord.demo", role=Role.COUNSELLOR)
    sites = {s.name: s for s in Site.objects.filter(organisation=orgs["nord"])}
    created = 0
    for first, last, birth, civility, state, days_ago, text in REFERRALS:
        if Referral.objects.filter(from_organisation=orgs["ft"], first_name=first, last_name=last).exists():
            continue
        site = sites["Roubaix – Gare"] if state == "declined" else sites["Lille – Moulins"]
        referral = referral_send(
            by=advisor,
            site=site,
            certification=Certification.CLEA,
            identity={
                "civility": civility,
                "first_name": first,
                "last_name": last,
                "birth_date": birth,
                "birth_place": "Lille" if state != "sent" else "",
                "email": f"{first.lower()}.{last.lower()}@demandeur.demo",
                "phone": "06 12 34 56 78",
                "postcode": "59000",
                "city": "Lille",
                "education_level": EducationLevel.LEVEL_3,
            },
            note="" if state == "declined" else text,
            consent_text=referral_consent_text(site=site, certification=Certification.CLEA),
        )
        # Demo history: the referral was sent some days ago (an expired one, past the delay).
        Referral.objects.filter(pk=referral.pk).update(
            sent_at=timezone.now() - datetime.timedelta(days=days_ago),
            consent_at=timezone.now() - datetime.timedelta(days=days_ago),
        )
        referral.refresh_from_db()
        if state == "accepted":
            referral_accept(referral=referral, by=counsellor)
        elif state == "declined":
            referral_decline(referral=referral, by=counsellor, reason=text)
        elif state == "expired":
            referrals_expire()
        created += 1
    return created
