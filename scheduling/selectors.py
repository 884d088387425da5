"""Reads for the screens: a dossier's assignments and appointments, a person's agenda."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from candidates.models import Dossier
from organisations.models import Membership, Role
from scheduling.models import (
    SCHEDULING_ROLES,
    Appointment,
    AppointmentState,
    Assignment,
    AssignmentPurpose,
    may_book,
)

# Who books appointments: counsellors and administrators for their organisation's dossiers, trainers for theirs.
BOOKERS = (Role.COUNSELLOR, Role.ORG_ADMIN, Role.TRAINER)


def bookable_dossiers(membership: Membership | None) -> QuerySet[Dossier]:
    """The dossiers the membership books for (screens and API alike): its organisation's; a trainer's (who does not
    see dossiers), those assigned to them for training now."""
    if membership is not None and membership.role == Role.TRAINER:
        return Dossier.objects.filter(
            assignments__assignee=membership,
            assignments__purpose=AssignmentPurpose.TRAINING,
            assignments__ended_at__isnull=True,
        )
    return Dossier.objects.visible_to(membership)


@dataclass
class DossierSchedule:
    current: list[Assignment]
    history: list[Assignment]
    appointments: list[Appointment]
    can_assign: bool
    can_book: bool
    # Per appointment id, what the reader may do with it.
    actions: dict[int, set[str]] = field(default_factory=dict)


def appointment_actions(
    appointment: Appointment, membership: Membership, now: datetime.datetime, *, rebooked: bool | None = None
) -> set[str]:
    """What the reader may do with the appointment (`rebooked`: whether it was rebooked, when the caller knows)."""
    organiser = membership.role in SCHEDULING_ROLES and membership.organisation_id == appointment.organisation_id
    own = membership.pk == appointment.with_membership_id
    actions: set[str] = set()
    if appointment.state == AppointmentState.PLANNED:
        if (organiser or own) and appointment.has_started(now):
            actions |= {"done", "missed"}
        if organiser or (own and may_book(membership, appointment.purpose)):
            actions |= {"cancel", "reschedule"}
    elif (
        appointment.state in (AppointmentState.MISSED, AppointmentState.CANCELLED)
        and not (appointment.was_rebooked() if rebooked is None else rebooked)
    ) and (organiser or (own and may_book(membership, appointment.purpose))):
        actions.add("rebook")
    if appointment.dossier_id is None:
        # An interview asked from the directory: another time is proposed from its request (app intake).
        actions -= {"reschedule", "rebook"}
    return actions


def dossier_schedule(membership: Membership, dossier: Dossier) -> DossierSchedule:
    """What the dossier page shows of assignments and appointments to this reader (their visible rows only)."""
    assignments = list(
        Assignment.objects.visible_to(membership)
        .filter(dossier_id=dossier.pk)
        .select_related("assignee__user", "assignee__organisation", "assigned_by")
        .order_by("purpose", "-assigned_at", "-id")
    )
    appointments = list(
        Appointment.objects.visible_to(membership)
        .filter(dossier_id=dossier.pk)
        .select_related("with_membership__user", "site", "rebooked_from")
        # Whether each was rebooked, in the same query.
        .annotate(rebooked=Exists(Appointment.objects.filter(rebooked_from=OuterRef("pk"))))
        .order_by("-starts_at", "-id")
    )
    now = timezone.now()
    organiser = membership.role in SCHEDULING_ROLES and membership.organisation_id == dossier.organisation_id
    return DossierSchedule(
        current=[a for a in assignments if a.is_current],
        history=[a for a in assignments if not a.is_current],
        appointments=appointments,
        can_assign=organiser and dossier.is_open,
        can_book=dossier.is_open and (organiser or membership.role == Role.TRAINER),
        actions={
            a.pk: appointment_actions(a, membership, now, rebooked=getattr(a, "rebooked", None)) for a in appointments
        },
    )


@dataclass
class AgendaDay:
    day: datetime.date
    appointments: list[Appointment]


def agenda_days(membership: Membership, person: Membership, start: datetime.date, days: int) -> list[AgendaDay]:
    """The person's appointments (under all their memberships the reader may see), day by day, Europe/Paris."""
    tz = timezone.get_current_timezone()
    begin = datetime.datetime.combine(start, datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(start + datetime.timedelta(days=days), datetime.time.min, tzinfo=tz)
    found = list(
        Appointment.objects.visible_to(membership)
        .of_person(person.user_id)
        .between(begin, end)
        # interview_request: the reverse of intake's link, read by name (the agenda links to the request).
        .select_related("dossier__candidate", "site", "with_membership__user", "interview_request")
        .order_by("starts_at", "id")
    )
    by_day: dict[datetime.date, list[Appointment]] = {}
    for appointment in found:
        by_day.setdefault(timezone.localtime(appointment.starts_at, tz).date(), []).append(appointment)
    return [
        AgendaDay(day=day, appointments=by_day.get(day, []))
        for day in (start + datetime.timedelta(days=i) for i in range(days))
    ]
