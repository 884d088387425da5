"""Dossiers in any state, reached through the services (never by assigning `state`)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

import factory
from django.utils import timezone

from candidates.models import Civility, Dossier, EducationLevel, Origin, RegistrationStatus
from candidates.services import dossier_create, dossier_open, dossier_withdraw
from clea_platform.certifications import Certification
from evaluations.models import Criterion, CriterionResultValue, Domain, Evaluation, Referentiel, SubDomain
from evaluations.services import evaluation_close, evaluation_save_results, evaluation_start
from organisations.models import Membership, Organisation, OrganisationKind, Role
from tests.factories import HabilitationFactory, MembershipFactory, OrganisationFactory
from training.models import TrainingPlan
from training.services import training_plan_complete, training_plan_create, training_session_add

# The order in which the services take a dossier; a factory stops at the state it is asked for.
PATH = [
    "information",
    "opened",
    "prior_evaluation",
    "partially_validated",
    "in_training",
    "final_evaluation",
    "ready_for_jury",
]


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
class Team:
    organisation: Organisation
    counsellor: Membership
    evaluator: Membership
    trainer: Membership
    final_evaluator: Membership


def team_for(organisation: Organisation | None = None) -> Team:
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


def _member(organisation: Organisation, role: str, second: bool = False) -> Membership:
    existing = Membership.objects.filter(organisation=organisation, role=role).order_by("pk")
    if existing.count() > int(second):
        return existing[int(second)]
    return MembershipFactory(organisation=organisation, role=role)


def evaluate(
    evaluation: Evaluation, by: Membership, acquired: set[str] | None = None, ended_on: datetime.date | None = None
):
    """Acquire the criteria whose codes are given (all by default), the others not acquired, and close."""
    lines = evaluation.results.select_related("criterion")
    results = {
        line.criterion_id: (
            CriterionResultValue.ACQUIRED
            if acquired is None or line.criterion.code in acquired
            else CriterionResultValue.NOT_ACQUIRED,
            "",
        )
        for line in lines
    }
    evaluation_save_results(evaluation=evaluation, by=by, results=results)
    return evaluation_close(
        evaluation=evaluation, by=by, ended_on=ended_on or evaluation.started_on, duration_hours=Decimal("3.5")
    )


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
                "email": "candidate@exemple.fr",
            },
        )
        target = state
        steps = PATH if target != "withdrawn" else PATH[:2]
        today = evaluated_on or timezone.localdate()
        for step in steps[1:]:
            if dossier.state == target:
                break
            if step == "opened":
                dossier = dossier_open(dossier=dossier, by=team.counsellor, consent_text="J'accepte.")
            elif step == "prior_evaluation":
                evaluation = evaluation_start(dossier=dossier, by=team.evaluator, started_on=today)
                dossier.refresh_from_db()
            elif step == "partially_validated":
                direct = target == "ready_for_jury" and not via_training
                evaluate(evaluation, team.evaluator, acquired=None if direct else prior_acquired, ended_on=today)
                dossier.refresh_from_db()
                if dossier.state == "ready_for_jury":
                    break
            elif step == "in_training":
                training_plan_create(
                    dossier=dossier,
                    by=team.counsellor,
                    trainer=team.trainer,
                    planned_hours=Decimal("20"),
                    starts_on=timezone.localdate(),
                    ends_on=timezone.localdate() + datetime.timedelta(days=60),
                )
                dossier.refresh_from_db()
            elif step == "final_evaluation":
                plan = TrainingPlan.objects.get(dossier=dossier, cycle=1)
                training_session_add(
                    plan=plan,
                    by=team.trainer,
                    date=timezone.localdate(),
                    duration_hours=Decimal("3"),
                    topic="Calcul",
                    done=True,
                )
                training_plan_complete(plan=plan, by=team.trainer)
                evaluation = evaluation_start(dossier=dossier, by=team.final_evaluator, started_on=timezone.localdate())
                dossier.refresh_from_db()
            elif step == "ready_for_jury":
                evaluate(evaluation, team.final_evaluator)
                dossier.refresh_from_db()
        if target == "withdrawn":
            dossier = dossier_withdraw(dossier=dossier, by=team.counsellor, reason="Déménagement")
        dossier.refresh_from_db()
        assert dossier.state == target, f"reached {dossier.state}, wanted {target}"  # noqa: S101
        dossier.team = team
        return dossier
