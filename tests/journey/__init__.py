"""Dossiers in any state, reached through the services (never by assigning `state`)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, fields

import factory

from candidates.models import Civility, Dossier, EducationLevel, Origin, RegistrationStatus
from candidates.services import dossier_create
from clea_platform.certifications import Certification
from journey.demo import JOURNEY, JourneyTeam, walk_dossier
from journey.demo import evaluation_fill_and_close as evaluate  # noqa: F401 - the tests' name for it
from organisations.models import Membership, Organisation, OrganisationKind, Role
from referentiels.models import Criterion, Domain, Referentiel, SubDomain
from tests.factories import HabilitationFactory, MembershipFactory, OrganisationFactory

# The order in which the services take a dossier; a factory stops at the state it is asked for.
PATH = JOURNEY


def small_referentiel(certification: str = Certification.CLEA, version: str = "test") -> Referentiel:
    """Two domains: 1.1 (2 criteria, 75 % → both), 1.2 (3 criteria, 66 % → 2, 1.2.1 mandatory),
    2.1 (4 criteria, 75 % → 3)."""
    referentiel = Referentiel.objects.filter(certification=certification, is_current=True).first()
    if referentiel is not None:
        return referentiel
    referentiel = Referentiel.objects.create(
        certification=certification, version=version, is_current=True, title=f"Référentiel de test {certification}"
    )
    layout = {
        ("1", "Communication en français"): [("1.1", 75, 2, ()), ("1.2", 66, 3, ("1.2.1",))],
        ("2", "Calcul"): [("2.1", 75, 4, ())],
    }
    for (dcode, dtitle), subs in layout.items():
        domain = Domain.objects.create(referentiel=referentiel, code=dcode, title=dtitle, position=int(dcode))
        for position, (scode, threshold, count, mandatory) in enumerate(subs):
            sub = SubDomain.objects.create(
                domain=domain, code=scode, title=f"Sous-domaine {scode}", threshold_percent=threshold, position=position
            )
            for i in range(1, count + 1):
                code = f"{scode}.{i}"
                Criterion.objects.create(
                    subdomain=sub, code=code, title=f"Critère {code}", position=i, is_mandatory=code in mandatory
                )
    return referentiel


def criteria_by_code(referentiel: Referentiel) -> dict[str, Criterion]:
    return {c.code: c for c in referentiel.criteria()}


@dataclass
class Team(JourneyTeam):
    organisation: Organisation | None = None


def team_for(organisation: Organisation | None = None) -> Team:
    """The organisation's counsellor and two evaluators (existing ones first), and a trainer of another tenant."""
    organisation = organisation or OrganisationFactory()
    if not organisation.habilitations.exists():
        for certification in Certification.values:
            HabilitationFactory(organisation=organisation, certification=certification)
    training = OrganisationFactory(kind=OrganisationKind.TRAINING)
    return Team(
        organisation=organisation,
        counsellor=_member(organisation, Role.COUNSELLOR),
        evaluator=_member(organisation, Role.EVALUATOR),
        trainer=MembershipFactory(organisation=training, role=Role.TRAINER),
        final_evaluator=_member(organisation, Role.EVALUATOR, second=True),
    )


@dataclass(frozen=True)
class SharedDossier:
    """A dossier of a module's shared rows (tests/shared.py), kept by primary keys: each test reads instances of its
    own (`read()`), since a service called by one test changes the instances it holds while its rows are rolled
    back. `SharedDossier.of(DossierFactory(...))` inside the module's fixture."""

    pk: int
    organisation: int
    members: tuple[tuple[str, int], ...]

    @classmethod
    def of(cls, dossier: Dossier) -> SharedDossier:
        team = dossier.team
        members = tuple((f.name, getattr(team, f.name).pk) for f in fields(JourneyTeam))
        return cls(pk=dossier.pk, organisation=team.organisation.pk, members=members)

    def read(self) -> Dossier:
        """The dossier with its `team`, as DossierFactory returns it."""
        dossier = Dossier.objects.get(pk=self.pk)
        by_pk = Membership.objects.select_related("user", "organisation").in_bulk([pk for _name, pk in self.members])
        dossier.team = Team(
            organisation=Organisation.objects.get(pk=self.organisation),
            **{name: by_pk[pk] for name, pk in self.members},
        )
        return dossier


def _member(organisation: Organisation, role: str, second: bool = False) -> Membership:
    existing = list(Membership.objects.filter(organisation=organisation, role=role).order_by("pk")[:2])
    if len(existing) > int(second):
        return existing[int(second)]
    return MembershipFactory(organisation=organisation, role=role)


# Acquired at the prior evaluation when the dossier must show gaps: 2.1 misses two criteria (2 of 4).
PRIOR_WITH_GAPS = {"1.1.1", "1.1.2", "1.2.1", "1.2.2", "2.1.1", "2.1.2"}


class DossierFactory(factory.Factory):
    """`DossierFactory(state="in_training")`, or the traits: `opened=True`, `partially_validated=True`, ...

    Builds the organisation's team (counsellor, evaluators, an outside trainer) and walks the services.
    The team is reachable as `dossier.team`.
    """

    class Meta:
        model = Dossier

    organisation = None
    certification = Certification.CLEA
    state = "information"
    first_name = factory.Sequence(lambda n: f"Prénom{n}")
    last_name = factory.Sequence(lambda n: f"Nom{n}")
    birth_date = datetime.date(1985, 4, 12)
    # Every factory candidate shares it unless told: the candidate's space takes one address and birth date for
    # one person (tests/space give each person their own).
    email = "candidate@exemple.fr"
    # The prior evaluation's date (today by default): the 5-year window runs from it.
    evaluated_on = None
    # Criteria acquired at the prior evaluation. "ready_for_jury" goes straight there (everything acquired at
    # the prior evaluation) unless via_training=True.
    prior_acquired = PRIOR_WITH_GAPS
    via_training = False

    class Params:
        opened = factory.Trait(state="opened")
        in_prior_evaluation = factory.Trait(state="prior_evaluation")
        partially_validated = factory.Trait(state="partially_validated")
        in_training = factory.Trait(state="in_training")
        in_final_evaluation = factory.Trait(state="final_evaluation")
        ready_for_jury = factory.Trait(state="ready_for_jury")
        withdrawn = factory.Trait(state="withdrawn")

    @classmethod
    def _create(
        cls,
        model_class,
        *,
        organisation,
        certification,
        state,
        first_name,
        last_name,
        birth_date,
        email,
        evaluated_on,
        prior_acquired,
        via_training,
        **kwargs,
    ):
        small_referentiel(certification)
        team = team_for(organisation)
        dossier = dossier_create(
            membership=team.counsellor,
            certification=certification,
            candidate_data={
                "civility": Civility.MME,
                "first_name": first_name,
                "last_name": last_name,
                "birth_date": birth_date,
                "birth_place": "Lille",
                "registration_status": RegistrationStatus.JOB_SEEKER,
                "education_level": EducationLevel.LEVEL_3,
                "origin": Origin.OWN_INITIATIVE,
                "email": email,
            },
        )
        direct = state == "ready_for_jury" and not via_training
        dossier = walk_dossier(
            dossier,
            target=state,
            team=team,
            prior_acquired=None if direct else prior_acquired,
            evaluated_on=evaluated_on,
        )
        dossier.team = team
        return dossier
