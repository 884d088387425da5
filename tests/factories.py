"""factory_boy factories shared by every app's tests. States are reached through services, not by assignment."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from clea_platform.certifications import Certification
from organisations.demo import siret_from
from organisations.models import (
    Habilitation,
    HabilitationStatus,
    Membership,
    Organisation,
    OrganisationKind,
    Region,
    Role,
    Site,
    User,
)

TEST_PASSWORD = "un mot de passe de test assez long"


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("siret",)

    name = factory.Sequence(lambda n: f"Organisme évaluateur {n}")
    kind = OrganisationKind.EVALUATOR
    siret = factory.Sequence(lambda n: siret_from(f"9{n:012d}"))
    region = Region.HAUTS_DE_FRANCE

    class Params:
        training = factory.Trait(kind=OrganisationKind.TRAINING, name=factory.Sequence(lambda n: f"Formation {n}"))
        jury_body = factory.Trait(
            kind=OrganisationKind.JURY_BODY, name=factory.Sequence(lambda n: f"Transitions Pro {n}")
        )
        france_travail = factory.Trait(
            kind=OrganisationKind.FRANCE_TRAVAIL, name=factory.Sequence(lambda n: f"Agence France Travail {n}")
        )
        certifpro = factory.Trait(kind=OrganisationKind.CERTIFPRO, name="Certif'Pro")


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Site {n}")
    address = "1 rue de la République"
    postcode = "59000"
    city = "Lille"
    insee_code = "59350"
    latitude = Decimal("50.63297")
    longitude = Decimal("3.05858")


class HabilitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Habilitation

    organisation = factory.SubFactory(OrganisationFactory)
    certification = Certification.CLEA
    valid_from = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=30))
    valid_until = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=700))
    status = HabilitationStatus.ACTIVE


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"personne{n}@exemple.fr")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")

    @classmethod
    def _adjust_kwargs(cls, **kwargs: Any) -> dict[str, Any]:
        """`password` is the clear one (TEST_PASSWORD unless given), hashed before the INSERT: set after it, as
        set_password does, each user cost a second query."""
        kwargs["password"] = make_password(kwargs.get("password") or TEST_PASSWORD)
        # As User.save records it when set_password was called: the API tokens compare it with their creation.
        kwargs.setdefault("password_changed_at", timezone.now())
        return kwargs


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = Role.COUNSELLOR
