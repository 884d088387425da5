"""The training URLs that take an id. Plan pages are declared for the dossier's counsellor: the harness's owner is
a fresh member of `org`, and a trainer sees only the plans they deliver themselves, so a fresh trainer would get
404 as rightly as an outsider. A counsellor of the evaluator organisation sees its dossiers' plans; the POST
actions then answer 403 (not the plan's trainer), never 404."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from organisations.models import Organisation, Role
from tests.journey import DossierFactory
from tests.tenancy_registry import TenantURL
from training.models import TrainingPlan
from training.services import training_session_add


def _plan(org: Organisation) -> TrainingPlan:
    return TrainingPlan.objects.get(dossier=DossierFactory(organisation=org, state="in_training"), cycle=1)


def _session(org: Organisation) -> dict[str, int]:
    dossier = DossierFactory(organisation=org, state="in_training")
    plan = TrainingPlan.objects.get(dossier=dossier, cycle=1)
    session = training_session_add(
        plan=plan,
        by=dossier.team.trainer,
        date=timezone.localdate() + datetime.timedelta(days=7),
        duration_hours=Decimal("2"),
        topic="Proportionnalité",
    )
    return {"pk": session.pk}


TENANT_URLS = [
    TenantURL(
        "training:plan_create",
        Role.COUNSELLOR,
        lambda org: {"dossier_pk": DossierFactory(organisation=org, state="partially_validated").pk},
    ),
    TenantURL("training:plan_detail", Role.COUNSELLOR, lambda org: {"pk": _plan(org).pk}),
    TenantURL("training:session_add", Role.COUNSELLOR, lambda org: {"pk": _plan(org).pk}, method="post"),
    TenantURL("training:session_done", Role.COUNSELLOR, _session, method="post"),
    TenantURL("training:note_add", Role.COUNSELLOR, lambda org: {"pk": _plan(org).pk}, method="post"),
    TenantURL("training:plan_complete", Role.COUNSELLOR, lambda org: {"pk": _plan(org).pk}, method="post"),
]
