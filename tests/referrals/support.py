"""Referrals for the tests, sent through the service by a France Travail advisor to an evaluator's site."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from candidates.models import Civility, EducationLevel
from clea_platform.certifications import Certification
from organisations.models import Membership, Organisation, OrganisationKind, Role, Site
from referrals.models import Referral
from referrals.services import referral_consent_text, referral_send
from tests.factories import HabilitationFactory, MembershipFactory, OrganisationFactory, SiteFactory
from tests.journey import small_referentiel


def advisor_of(agency: Organisation | None = None) -> Membership:
    agency = agency or OrganisationFactory(kind=OrganisationKind.FRANCE_TRAVAIL)
    return MembershipFactory(organisation=agency, role=Role.FT_ADVISOR)


def directory_site_of(organisation: Organisation | None = None, **fields: Any) -> Site:
    """A site of the organisation, which holds a CléA habilitation in force (so it is in the directory)."""
    organisation = organisation or OrganisationFactory()
    if not organisation.habilitations.filter(certification=Certification.CLEA).exists():
        HabilitationFactory(organisation=organisation, certification=Certification.CLEA)
    fields.setdefault("latitude", Decimal("50.63391"))
    fields.setdefault("longitude", Decimal("3.05512"))
    return SiteFactory(organisation=organisation, **fields)


IDENTITY = {
    "civility": Civility.MME,
    "first_name": "Nadia",
    "last_name": "Benali",
    "birth_date": datetime.date(1985, 4, 12),
    "birth_place": "Roubaix",
    "email": "nadia.benali@exemple.fr",
    "phone": "06 12 34 56 78",
    "postcode": "59100",
    "city": "Roubaix",
    "education_level": EducationLevel.LEVEL_3,
}


def make_referral(
    *,
    to: Organisation | None = None,
    by: Membership | None = None,
    site: Site | None = None,
    from_agency: Organisation | None = None,
    **identity: Any,
) -> Referral:
    """A referral waiting for an answer, sent to `to` (a new evaluator unless given) by `by` (an advisor of
    `from_agency`, or of a new agency)."""
    small_referentiel(Certification.CLEA)
    site = site or directory_site_of(to)
    by = by or advisor_of(from_agency)
    return referral_send(
        by=by,
        site=site,
        certification=Certification.CLEA,
        identity={**IDENTITY, **identity},
        note="Disponible le matin.",
        consent_text=referral_consent_text(site=site, certification=Certification.CLEA),
    )
