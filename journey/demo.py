"""Demo dossiers walked through the journey: every step of every app, and two jury sessions (one closed with its
certificates, one planned). Idempotent. The tests walk their dossiers with the same `walk_dossier`."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from candidates.models import Candidate, Civility, CorrectionRequest, EducationLevel, Origin, RegistrationStatus
from candidates.services import (
    correction_request_create,
    dossier_create,
    dossier_open,
    dossier_transition,
    dossier_withdraw,
)
from clea_platform.certifications import Certification
from evaluations.models import CriterionResultValue
from evaluations.services import evaluation_close, evaluation_save_results, evaluation_start
from juries.models import Attendance, College, DecisionKind, JuryMember, JurySession
from juries.services import (
    decision_record,
    dossier_submit_to_jury,
    jury_session_close,
    jury_session_convene,
    jury_session_create,
    jury_session_set_seats,
    jury_session_start_deliberation,
)
from organisations.models import Membership, Organisation, Role, User
from referentiels.models import Referentiel
from training.models import TrainingPlan
from training.services import training_plan_complete, training_plan_create, training_session_add

# -- The candidate's journey ------------------------------------------------------------------------------------

# The order in which the services take a dossier through steps 1 to 3.
JOURNEY = [
    "information",
    "opened",
    "prior_evaluation",
    "partially_validated",
    "in_training",
    "final_evaluation",
    "ready_for_jury",
]


@dataclass
class JourneyTeam:
    counsellor: Membership
    evaluator: Membership
    trainer: Membership
    final_evaluator: Membership


def evaluation_fill_and_close(
    evaluation: Any, by: Membership, acquired: set[str] | None = None, ended_on: datetime.date | None = None
) -> Any:
    """Mark the given criterion codes acquired (all when None), the others not acquired, and close."""

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


def walk_dossier(
    dossier: Any,
    *,
    target: str,
    team: JourneyTeam,
    prior_acquired: set[str] | None,
    final_acquired: set[str] | None = None,
    evaluated_on: datetime.date | None = None,
    notify_by_email: bool = False,
) -> Any:
    """Take a dossier from "information" to `target` (a JOURNEY state or "withdrawn") through the services.
    `notify_by_email`: the candidate agrees at opening to hear of their documents and decision by e-mail.

    `prior_acquired`: criterion codes acquired at the prior evaluation (None: all of them, so the dossier goes
    straight to the jury). `final_acquired`: at the final evaluation (None: all the remaining ones).
    """

    today = timezone.localdate()
    evaluated_on = evaluated_on or today
    steps = JOURNEY if target != "withdrawn" else JOURNEY[:2]
    evaluation = None
    for step in steps[1:]:
        if dossier.state == target:
            break
        if step == "opened":
            dossier = dossier_open(
                dossier=dossier,
                by=team.counsellor,
                consent_text="Le candidat accepte l'ouverture de son dossier CléA.",
                notify_by_email=notify_by_email,
            )
        elif step == "prior_evaluation":
            evaluation = evaluation_start(dossier=dossier, by=team.evaluator, started_on=evaluated_on)
        elif step == "partially_validated":
            evaluation_fill_and_close(evaluation, team.evaluator, prior_acquired, evaluated_on)
        elif step == "in_training":
            training_plan_create(
                dossier=dossier,
                by=team.counsellor,
                trainer=team.trainer,
                planned_hours=Decimal("35"),
                starts_on=today,
                ends_on=min(today + datetime.timedelta(days=90), dossier.deadline or today),
            )
        elif step == "final_evaluation":
            plan = TrainingPlan.objects.filter(dossier=dossier).order_by("-cycle").first()
            training_session_add(
                plan=plan,
                by=team.trainer,
                date=today,
                duration_hours=Decimal("3"),
                topic="Remise à niveau sur les critères à acquérir",
                done=True,
            )
            training_plan_complete(
                plan=plan,
                by=team.trainer,
                shortfall_reason="Objectifs atteints avant la fin des heures prévues.",
            )
            evaluation = evaluation_start(dossier=dossier, by=team.final_evaluator, started_on=today)
        elif step == "ready_for_jury":
            evaluation_fill_and_close(evaluation, team.final_evaluator, final_acquired, today)
        dossier.refresh_from_db()
    if target == "withdrawn":
        dossier = dossier_withdraw(
            dossier=dossier,
            by=team.counsellor,
            reason="Le candidat a retrouvé un emploi et ne souhaite pas poursuivre.",
        )
        dossier.refresh_from_db()
    if dossier.state != target:
        raise RuntimeError(f"dossier reached {dossier.state}, not {target}")
    return dossier


# Acquired at the demo prior evaluations with gaps: everything but domain 2 (calculation) and 3.3 (the web).
def _demo_gaps_acquired(referentiel: Any) -> set[str]:
    return {c.code for c in referentiel.criteria() if not c.code.startswith(("2.", "3.3."))}


DEMO_CANDIDATES = [
    # (first name, last name, birth date, target state, via training)
    ("Nadia", "Benali", datetime.date(1979, 3, 14), "information", False),
    ("Kevin", "Lambert", datetime.date(1990, 7, 2), "opened", False),
    ("Sandrine", "Morel", datetime.date(1972, 11, 23), "prior_evaluation", False),
    ("Mohamed", "Diallo", datetime.date(1986, 1, 8), "partially_validated", False),
    ("Julie", "Fontaine", datetime.date(1995, 5, 30), "in_training", False),
    ("Patrick", "Girard", datetime.date(1968, 9, 17), "final_evaluation", False),
    ("Aïcha", "Traoré", datetime.date(1983, 12, 5), "ready_for_jury", False),
    ("Éric", "Lemaire", datetime.date(1975, 6, 21), "ready_for_jury", True),
    ("Laura", "Chevalier", datetime.date(1998, 2, 11), "withdrawn", False),
    ("Gérard", "Masson", datetime.date(1964, 4, 3), "expired", False),
]


@transaction.atomic
def seed_journey(orgs: dict[str, Organisation]) -> int:
    """Dossiers of the northern evaluator in every state of steps 1 to 3. Skips candidates already there."""

    nord = orgs["nord"]

    def membership(email: str, role: str) -> Membership:
        return Membership.objects.get(user__email=email, role=role)

    team = JourneyTeam(
        counsellor=membership("conseillere@evaluateur-nord.demo", Role.COUNSELLOR),
        evaluator=membership("evaluateur@evaluateur-nord.demo", Role.EVALUATOR),
        trainer=membership("formatrice@formation-nord.demo", Role.TRAINER),
        final_evaluator=membership("evaluateur@evaluateur-nord.demo", Role.EVALUATOR),
    )
    acquired = _demo_gaps_acquired(Referentiel.objects.current_for(Certification.CLEA))
    created = 0
    for first, last, birth, target, via_training in DEMO_CANDIDATES:
        if Candidate.objects.filter(organisation=nord, first_name=first, last_name=last, birth_date=birth).exists():
            continue
        dossier = dossier_create(
            membership=team.counsellor,
            certification=Certification.CLEA,
            candidate_data={
                "civility": Civility.MME if first in {"Nadia", "Sandrine", "Julie", "Aïcha", "Laura"} else Civility.M,
                "first_name": first,
                "last_name": last,
                "birth_date": birth,
                "birth_place": "Lille",
                "registration_status": RegistrationStatus.JOB_SEEKER,
                "education_level": EducationLevel.LEVEL_3,
                "origin": Origin.FRANCE_TRAVAIL,
                "email": f"{first.lower()}.{last.lower()}@candidat.demo",
                "postcode": "59000",
                "city": "Lille",
            },
        )
        if target == "expired":
            # Prior evaluation 5 years and a week ago: past the window, then the daily job's transition.
            long_ago = timezone.localdate() - datetime.timedelta(days=5 * 365 + 8)
            dossier = walk_dossier(
                dossier, target="partially_validated", team=team, prior_acquired=acquired, evaluated_on=long_ago
            )
            dossier_transition(dossier=dossier, name="expire", by=None, note="Délai de 5 ans écoulé")
        else:
            direct = target == "ready_for_jury" and not via_training
            # The demo's candidates agreed to e-mails: their documents and decisions reach them (notifications).
            walk_dossier(
                dossier, target=target, team=team, prior_acquired=None if direct else acquired, notify_by_email=True
            )
        created += 1
    _seed_correction_request(nord)
    return created + _seed_southern_dossier(orgs["sud"])


def _seed_correction_request(nord: Organisation) -> None:
    """A request to correct her data from the candidate in training, waiting in the counsellor's « À faire »."""
    candidate = Candidate.objects.filter(organisation=nord, first_name="Julie", last_name="Fontaine").first()
    if candidate is None or CorrectionRequest.objects.filter(candidate=candidate).exists():
        return
    correction_request_create(
        candidate=candidate,
        dossier=candidate.dossiers.order_by("pk").first(),
        message="J'ai déménagé : j'habite maintenant 8 rue Nationale, 59800 Lille.",
    )


def _seed_southern_dossier(sud: Organisation) -> int:
    """One opened dossier for the other organisation, so that its counsellor's « À faire » has an item too."""
    counsellor = Membership.objects.get(user__email="conseiller@evaluateur-sud.demo", role=Role.COUNSELLOR)
    if Candidate.objects.filter(organisation=sud, first_name="Lucas", last_name="Ferrand").exists():
        return 0
    dossier = dossier_create(
        membership=counsellor,
        certification=Certification.CLEA,
        candidate_data={
            "civility": Civility.M,
            "first_name": "Lucas",
            "last_name": "Ferrand",
            "birth_date": datetime.date(1991, 9, 2),
            "birth_place": "Marseille",
            "registration_status": RegistrationStatus.JOB_SEEKER,
            "education_level": EducationLevel.NONE,
            "origin": Origin.MISSION_LOCALE,
            "postcode": "13001",
            "city": "Marseille",
        },
    )
    dossier_open(dossier=dossier, by=counsellor, consent_text="Le candidat accepte l'ouverture de son dossier CléA.")
    return 1


# -- Juries ---------------------------------------------------------------------------------------------------

JURY_CANDIDATES = [
    # Certified by the demo's closed session, and submitted to its planned one.
    ("Paul", "Roussel", datetime.date(1981, 8, 19), "closed"),
    ("Fatou", "Sow", datetime.date(1992, 10, 27), "closed"),
    ("Hugo", "Bernard", datetime.date(1988, 3, 9), "planned"),
    ("Inès", "Carpentier", datetime.date(1977, 1, 15), "planned"),
]
DEMO_PLACE = "Transitions Pro Hauts-de-France, 10 rue de Tournai, Lille"


@transaction.atomic
def seed_juries(orgs: dict[str, Organisation]) -> int:
    """A closed session with certificates and a planned one with submitted dossiers. Skipped when present."""

    body, nord = orgs["jury"], orgs["nord"]
    if JurySession.objects.filter(organisation=body, place=DEMO_PLACE).exists():
        return 0
    employer, _ = JuryMember.objects.get_or_create(
        organisation=body,
        user=User.objects.get(email="jure.employeur@jury.demo"),
        defaults={"college": College.EMPLOYERS, "represents": "MEDEF Hauts-de-France"},
    )
    employee, _ = JuryMember.objects.get_or_create(
        organisation=body,
        user=User.objects.get(email="jure.salarie@jury.demo"),
        defaults={"college": College.EMPLOYEES, "represents": "CFDT Hauts-de-France"},
    )
    admin = Membership.objects.get(user__email="admin@certifpro.demo", role=Role.CERTIFPRO_ADMIN)
    president = Membership.objects.get(user=employer.user, role=Role.JURY_MEMBER)
    counsellor = Membership.objects.get(user__email="conseillere@evaluateur-nord.demo", role=Role.COUNSELLOR)
    team = JourneyTeam(
        counsellor=counsellor,
        evaluator=Membership.objects.get(user__email="evaluateur@evaluateur-nord.demo"),
        trainer=Membership.objects.get(user__email="formatrice@formation-nord.demo"),
        final_evaluator=Membership.objects.get(user__email="evaluateur@evaluateur-nord.demo"),
    )
    now = timezone.now()
    sessions = {}
    for key, when in (("closed", now + datetime.timedelta(minutes=5)), ("planned", now + datetime.timedelta(days=21))):
        session = jury_session_create(
            by=admin, organisation_id=body.pk, region=nord.region, date=when, place=DEMO_PLACE, capacity=20
        )
        jury_session_set_seats(
            session=session, by=admin, member_ids=[employer.pk, employee.pk], president_id=employer.pk
        )
        sessions[key] = session
    submissions = {"closed": [], "planned": []}
    for first, last, birth, key in JURY_CANDIDATES:
        dossier = dossier_create(
            membership=counsellor,
            certification=Certification.CLEA,
            candidate_data={
                "civility": Civility.M if first in {"Paul", "Hugo"} else Civility.MME,
                "first_name": first,
                "last_name": last,
                "birth_date": birth,
                "birth_place": "Roubaix",
                "email": f"{last.lower()}@candidat.demo",
                "registration_status": RegistrationStatus.EMPLOYEE,
                "education_level": EducationLevel.NONE,
                "origin": Origin.EMPLOYER,
                "postcode": "59100",
                "city": "Roubaix",
            },
        )
        dossier = walk_dossier(dossier, target="ready_for_jury", team=team, prior_acquired=None, notify_by_email=True)
        submissions[key].append(dossier_submit_to_jury(dossier=dossier, session=sessions[key], by=counsellor))
    closed = jury_session_convene(session=sessions["closed"], by=admin)
    # The session's day comes (it was ahead while the dossiers were submitted): everyone is there.
    JurySession.objects.filter(pk=closed.pk).update(date=timezone.now())
    closed = JurySession.objects.get(pk=closed.pk)
    closed = jury_session_start_deliberation(
        session=closed,
        by=president,
        attendance={employer.pk: Attendance.PRESENT, employee.pk: Attendance.PRESENT},
    )
    for submission in submissions["closed"]:
        decision_record(submission=submission, by=president, kind=DecisionKind.AWARDED)
    jury_session_close(session=closed, by=president)
    jury_session_convene(session=sessions["planned"], by=admin)
    return len(JURY_CANDIDATES)
