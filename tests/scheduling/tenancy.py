"""The scheduling URLs: each answers 404 for another organisation's dossier or appointment, and works for the
dossier's organisation (its counsellor books, assigns, cancels; the agenda lists the person's own)."""

from __future__ import annotations

import datetime

from django.utils import timezone

from organisations.models import Organisation, Role
from scheduling.models import Appointment
from scheduling.services import appointment_cancel
from tests.journey import DossierFactory
from tests.scheduling import book, next_weekday_at
from tests.tenancy_registry import Row, Target, TenantList, TenantURL, marker

SLOT = {
    "day": (timezone.localdate() + datetime.timedelta(days=3)).isoformat(),
    "time": "14:00",
    "duration_minutes": "60",
    "modality": "remote",
    "remote_details": "https://visio.exemple.fr/salle",
}


def _planned(org: Organisation) -> Appointment:
    return book(DossierFactory(organisation=org, state="opened"), remote=True)


def _started(org: Organisation) -> dict:
    appointment = _planned(org)
    past = timezone.now() - datetime.timedelta(hours=1)
    Appointment.objects.filter(pk=appointment.pk).update(starts_at=past, ends_at=past + datetime.timedelta(hours=2))
    return {"pk": appointment.pk}


def _assign(org: Organisation) -> Target:
    dossier = DossierFactory(organisation=org, state="opened")
    return Target(
        {"dossier_pk": dossier.pk}, data={"purpose": "prior_evaluation", "assignee": dossier.team.evaluator.pk}
    )


def _book(org: Organisation) -> Target:
    dossier = DossierFactory(organisation=org, state="opened")
    return Target(
        {"dossier_pk": dossier.pk},
        data={**SLOT, "purpose": "prior_evaluation", "with_membership": dossier.team.evaluator.pk},
    )


def _cancelled(org: Organisation) -> Target:
    appointment = _planned(org)
    appointment_cancel(appointment=appointment, by=appointment.dossier.team.counsellor, reason="Empêchement")
    return Target({"pk": appointment.pk}, data={**SLOT, "with_membership": appointment.with_membership_id})


def _agenda_row(org: Organisation) -> Row:
    dossier = DossierFactory(organisation=org, state="opened", first_name=marker(org, "agenda"))
    book(dossier, remote=True, starts_at=next_weekday_at(9))
    return Row(marker=marker(org, "agenda"), actor=dossier.team.evaluator)


TENANT_URLS = [
    TenantURL("scheduling:assignment_create", Role.COUNSELLOR, _assign, method="post"),
    TenantURL("scheduling:appointment_create", Role.COUNSELLOR, _book, method="post"),
    TenantURL("scheduling:appointment_ics", Role.COUNSELLOR, lambda org: {"pk": _planned(org).pk}),
    TenantURL(
        "scheduling:appointment_cancel",
        Role.COUNSELLOR,
        lambda org: {"pk": _planned(org).pk},
        method="post",
        data={"reason": "Empêchement"},
    ),
    TenantURL("scheduling:appointment_done", Role.COUNSELLOR, _started, method="post"),
    TenantURL("scheduling:appointment_missed", Role.COUNSELLOR, _started, method="post"),
    TenantURL("scheduling:appointment_rebook", Role.COUNSELLOR, _cancelled, method="post"),
    TenantURL(
        "scheduling:appointment_reschedule",
        Role.COUNSELLOR,
        lambda org: {"pk": _planned(org).pk},
        method="post",
        data=SLOT,
    ),
]

# Tomorrow's page: the appointment booked by _agenda_row is on it whatever the hour of the run.
TENANT_LISTS = [
    TenantList(
        "scheduling:agenda",
        Role.EVALUATOR,
        _agenda_row,
        query={"view": "day", "date": (timezone.localdate() + datetime.timedelta(days=1)).isoformat()},
    )
]
