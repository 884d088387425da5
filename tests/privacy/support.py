"""Dossiers with something in every corner (attestation, comments, training notes, a withdrawal's reason), and the
clock moved forward: the retention runs from dates the services set today, and the job is asked about a later day
(its `now`), never by editing dates."""

from __future__ import annotations

import datetime

from django.utils import timezone

from candidates.models import Dossier, add_years
from candidates.services import dossier_withdraw
from evaluations.models import CriterionResult, Evaluation
from evaluations.services import attestation_generate
from organisations.models import Membership, Role, User
from referrals.models import Referral
from referrals.services import referral_decline
from tests.factories import MembershipFactory
from tests.journey import DossierFactory
from training.services import training_note_add

WITHDRAWAL_REASON = "Déménagement chez sa sœur à Lyon"
COMMENT = "Lit lentement : dyslexie signalée par la personne"
CONTEXT = "Magasinier chez Transports Lefort"
NOTE = "Progresse bien malgré ses soucis de santé"


def later(*, years: int = 0, days: int = 0) -> datetime.datetime:
    """Now, `years` years and `days` days ahead."""
    return add_years(timezone.now(), years) + datetime.timedelta(days=days)


def staff_still_logging_in(at: datetime.datetime) -> None:
    """Every account logged in at `at`: a run of the retention then leaves the accounts alone (their own rule,
    "inactive_accounts", is tested on its own)."""
    User.objects.update(last_login=at)


def counsellor_of(dossier: Dossier) -> Membership:
    return Membership.objects.filter(organisation=dossier.organisation_id, role=Role.COUNSELLOR).order_by("pk")[0]


def dossier_in_training(**fields) -> Dossier:
    """A dossier in training: a closed prior evaluation with gaps, its attestation produced, a comment on a
    criterion, the work context, a training plan with a progress note."""
    dossier = DossierFactory(state="in_training", **fields)
    evaluation = dossier.evaluations.get()
    attestation_generate(evaluation_id=evaluation.pk)
    CriterionResult.objects.filter(evaluation=evaluation).update(comment=COMMENT)
    Evaluation.objects.filter(pk=evaluation.pk).update(context=CONTEXT)
    training_note_add(plan=dossier.training_plans.get(), by=dossier.team.trainer, text=NOTE)
    return dossier


def decline(referral: Referral) -> Referral:
    counsellor = MembershipFactory(organisation=referral.organisation, role=Role.COUNSELLOR)
    return referral_decline(referral=referral, by=counsellor, reason="Pas de place avant l'automne pour Mme Benali")


def withdrawn_dossier(**fields) -> Dossier:
    dossier = dossier_in_training(**fields)
    team = dossier.team
    dossier = dossier_withdraw(dossier=dossier, by=team.counsellor, reason=WITHDRAWAL_REASON)
    dossier.team = team
    return dossier
