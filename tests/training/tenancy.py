"""The training URLs that take an id.

Reading a plan is the evaluator organisation's business as much as the trainer's: the plan page is declared for
the dossier's counsellor. Acting on a plan (sessions, notes, completion) is its own trainer's alone: for those
URLs `org` is the training organisation, the plan is delivered by one of its trainers, and that trainer is the
owner (a fresh trainer of the same organisation sees only the plans they deliver, so gets 404 like an outsider).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from organisations.models import Membership, Organisation, OrganisationKind, Role
from tests.factories import MembershipFactory
from tests.journey import DossierFactory
from tests.tenancy_registry import Row, Target, TenantList, TenantURL
from training.models import TrainingPlan, TrainingSession
from training.services import training_plan_create, training_session_add


def _plan(org: Organisation) -> TrainingPlan:
    return TrainingPlan.objects.get(dossier=DossierFactory(organisation=org, state="in_training"), cycle=1)


def delivered_by(org: Organisation) -> tuple[TrainingPlan, Membership]:
    """A plan of another tenant's dossier, delivered by a trainer of `org`, which becomes a training organisation."""
    org.kind = OrganisationKind.TRAINING
    org.save(update_fields=["kind"])
    trainer = MembershipFactory(organisation=org, role=Role.TRAINER)
    dossier = DossierFactory(state="partially_validated")
    today = timezone.localdate()
    plan = training_plan_create(
        dossier=dossier,
        by=dossier.team.counsellor,
        trainer=trainer,
        planned_hours=Decimal("35"),
        starts_on=today,
        ends_on=min(today + datetime.timedelta(days=90), dossier.deadline or today),
    )
    return plan, trainer


def planned_session(plan: TrainingPlan, trainer: Membership, *, done: bool = False) -> TrainingSession:
    return training_session_add(
        plan=plan, by=trainer, date=plan.starts_on, duration_hours=Decimal("2"), topic="Proportionnalité", done=done
    )


def _plan_of_trainer(org: Organisation) -> Target:
    plan, trainer = delivered_by(org)
    return Target({"pk": plan.pk}, actor=trainer)


def _session_form(org: Organisation) -> Target:
    plan, trainer = delivered_by(org)
    data = {"session-date": plan.starts_on.isoformat(), "session-duration_hours": "2", "session-topic": "Calcul"}
    return Target({"pk": plan.pk}, actor=trainer, data=data)


def _session_of_trainer(org: Organisation) -> Target:
    plan, trainer = delivered_by(org)
    return Target({"pk": planned_session(plan, trainer).pk}, actor=trainer)


def _plan_ready_to_complete(org: Organisation) -> Target:
    # The trainer declares the training done once a session at least is done.
    plan, trainer = delivered_by(org)
    planned_session(plan, trainer, done=True)
    # 2 h done of 35: the reason is asked for.
    return Target({"pk": plan.pk}, actor=trainer, data={"shortfall_reason": "Objectifs atteints."})


TENANT_URLS = [
    TenantURL(
        "training:plan_create",
        Role.COUNSELLOR,
        lambda org: {"dossier_pk": DossierFactory(organisation=org, state="partially_validated").pk},
    ),
    TenantURL("training:plan_detail", Role.COUNSELLOR, lambda org: {"pk": _plan(org).pk}),
    TenantURL("training:plan_detail", Role.TRAINER, _plan_of_trainer),
    TenantURL("training:session_add", Role.TRAINER, _session_form, method="post"),
    TenantURL("training:session_done", Role.TRAINER, _session_of_trainer, method="post"),
    TenantURL("training:session_remove", Role.TRAINER, _session_of_trainer, method="post"),
    TenantURL("training:note_add", Role.TRAINER, _plan_of_trainer, method="post", data={"note-text": "Progrès nets."}),
    TenantURL("training:plan_complete", Role.TRAINER, _plan_of_trainer),
    TenantURL("training:plan_complete", Role.TRAINER, _plan_ready_to_complete, method="post"),
]


def _plan_of_trainer_row(org: Organisation) -> Row:
    plan, trainer = delivered_by(org)
    return Row(plan.dossier.reference, actor=trainer)


# The evaluator organisation's administrator lists its dossiers' plans; a trainer, the plans they deliver.
TENANT_LISTS = [
    TenantList("training:plan_list", Role.TRAINER, _plan_of_trainer_row),
    TenantList("training:plan_list", Role.ORG_ADMIN, lambda org: _plan(org).dossier.reference),
]
