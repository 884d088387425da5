"""Assign the next step of a dossier and book its appointments.

Each service is atomic: its rows, the dossier's timeline row (DossierEvent), the audit row, and its signal
(scheduling/signals.py, sent in the transaction: notifications tells the people concerned). Where the organisation
uses the platform's agenda, a booking also refreshes its site's availability in the directory
(scheduling/availability.py).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from candidates.models import Dossier, DossierEvent
from clea_platform.changes import rows_update
from clea_platform.errors import BusinessRefusal
from clea_platform.locks import serialise_on
from organisations.models import Membership, Site, User
from organisations.services import audit_record
from organisations.transitions import transition_apply, transition_lock
from scheduling import availability
from scheduling.models import (
    APPOINTMENT_ASSIGNMENT,
    APPOINTMENT_ROLE,
    ASSIGNMENT_ROLE,
    EVALUATION_PURPOSES,
    MAX_DURATION_MINUTES,
    MIN_DURATION_MINUTES,
    SCHEDULING_ROLES,
    Appointment,
    AppointmentModality,
    AppointmentPurpose,
    AppointmentState,
    Assignment,
    AssignmentPurpose,
    eligible_memberships_filter,
    has_evaluated,
    has_trained,
    may_book,
)
from scheduling.signals import appointment_booked, appointment_cancelled, appointment_changed, assignment_changed


class SchedulingError(BusinessRefusal):
    """A rule of assignments or appointments refused the operation; the message is for the user, in French."""

    code = "scheduling_refused"


def trainer_was_evaluator_message() -> str:
    return _("Cette personne a évalué le candidat : elle ne peut pas être sa formatrice.")


def evaluator_was_trainer_message() -> str:
    return _("Cette personne a formé le candidat : elle ne peut pas conduire son évaluation.")


def _person_errors(dossier: Dossier, *, role_purpose: str, user_id: int) -> str | None:
    """CléA: the trainer is never the evaluator, in either order."""
    if role_purpose == AssignmentPurpose.TRAINING and has_evaluated(dossier, user_id):
        return trainer_was_evaluator_message()
    if role_purpose in EVALUATION_PURPOSES and has_trained(dossier, user_id):
        return evaluator_was_trainer_message()
    return None


def _check_organiser(dossier: Dossier, by: Membership) -> None:
    if by.role not in SCHEDULING_ROLES or by.organisation_id != dossier.organisation_id:
        raise PermissionDenied


def _check_open(dossier: Dossier) -> None:
    if not dossier.is_open:
        raise SchedulingError(
            _("Le dossier est « %(state)s » : plus rien n'est à planifier.") % {"state": dossier.get_state_display()}
        )


# -- Assignments -----------------------------------------------------------------------------------------------------


def assignable_memberships(dossier: Dossier, purpose: str) -> list[Membership]:
    """Who may be assigned `purpose` for the dossier (the choices of the screen and the API)."""
    return list(
        Membership.objects.active()
        .filter(eligible_memberships_filter(purpose, dossier.organisation_id))
        .select_related("user", "organisation")
        .order_by("organisation__name", "user__last_name", "user__first_name")
    )


def _assign(
    *,
    dossier: Dossier,
    purpose: str,
    assignee: Membership,
    by: User | None,
    end_reason: str,
    request: HttpRequest | None,
) -> Assignment:
    # Two counsellors assigning at once: the second waits, then ends the first one's row (the partial unique
    # constraint refuses two current rows whatever happens).
    previous = _current_locked(dossier, purpose)
    return _assign_after(
        dossier=dossier,
        purpose=purpose,
        assignee=assignee,
        previous=previous,
        by=by,
        end_reason=end_reason,
        request=request,
    )


def _current_locked(dossier: Dossier, purpose: str) -> Assignment | None:
    """The step's current assignment (with its assignee), locked: whoever assigns the step next waits for us."""
    serialise_on(f"assignment-{dossier.pk}-{purpose}")
    return (
        Assignment.objects.select_for_update(of=("self",))
        .current()
        .filter(dossier=dossier, purpose=purpose)
        .select_related("assignee")
        .first()
    )


def _assign_after(
    *,
    dossier: Dossier,
    purpose: str,
    assignee: Membership,
    previous: Assignment | None,
    by: User | None,
    end_reason: str,
    request: HttpRequest | None,
) -> Assignment:
    """_assign once the current assignment is locked and read (`previous`)."""
    now = timezone.now()
    if previous is not None:
        previous.ended_at, previous.end_reason = now, end_reason[:255]
        previous.save(update_fields=["ended_at", "end_reason"])
    assignment = Assignment.objects.create(
        organisation_id=dossier.organisation_id,
        dossier=dossier,
        purpose=purpose,
        assignee=assignee,
        assigned_by=by,
        assigned_at=now,
    )
    note = _("%(purpose)s confiée à %(name)s") % {
        "purpose": assignment.get_purpose_display(),
        "name": assignee.user.get_full_name(),
    }
    DossierEvent.objects.create(dossier=dossier, at=now, actor=by, transition="assignment", note=note)
    audit_record(
        action="assignment.set",
        actor=by,
        organisation=dossier.organisation_id,
        obj=assignment,
        request=request,
        details={
            "dossier": dossier.pk,
            "purpose": purpose,
            "assignee": assignee.pk,
            "previous": previous.pk if previous else None,
        },
    )
    assignment_changed.send(sender=Assignment, assignment=assignment, previous=previous, by=by)
    return assignment


@transaction.atomic
def assignment_set(
    *,
    dossier: Dossier,
    purpose: str,
    assignee: Membership,
    by: Membership,
    reason: str = "",
    request: HttpRequest | None = None,
) -> Assignment:
    """Assign (or reassign) a step of the dossier: the evaluator of the prior or final evaluation, the trainer.
    A reassignment ends the current row (with `reason`) and adds one: the history stays. Sends
    `assignment_changed`."""
    _check_organiser(dossier, by)
    _check_open(dossier)
    if purpose not in ASSIGNMENT_ROLE:
        raise ValidationError({"purpose": _("Étape inconnue.")})
    eligible = Membership.objects.active().filter(eligible_memberships_filter(purpose, dossier.organisation_id))
    if not eligible.filter(pk=assignee.pk).exists():
        message = (
            _("Choisissez une formatrice ou un formateur actif, de votre organisme ou d'un organisme de formation.")
            if purpose == AssignmentPurpose.TRAINING
            else _("Choisissez une évaluatrice ou un évaluateur actif de votre organisme.")
        )
        raise ValidationError({"assignee": message})
    if error := _person_errors(dossier, role_purpose=purpose, user_id=assignee.user_id):
        raise ValidationError({"assignee": error})
    current = Assignment.objects.current().filter(dossier=dossier, purpose=purpose).first()
    if current is not None and current.assignee_id == assignee.pk:
        raise SchedulingError(_("Cette étape est déjà confiée à cette personne."))
    return _assign(
        dossier=dossier,
        purpose=purpose,
        assignee=assignee,
        by=by.user,
        end_reason=reason.strip() or _("Réaffectation"),
        request=request,
    )


def assignment_follow(
    *, dossier: Dossier, purpose: str, membership: Membership, by: User | None, end_reason: str
) -> Assignment:
    """A step got its person by another way (an evaluation started, a training plan created): that person is the
    step's assignee from now on, so that the queues say who acts. Records an assignment when there is none, hands it
    over (ending the current one with `end_reason`) when it names someone else, leaves it otherwise. Inside the
    caller's transaction, with the caller's own checks."""
    current = _current_locked(dossier, purpose)
    if current is not None and current.assignee.user_id == membership.user_id:
        return current
    return _assign_after(
        dossier=dossier,
        purpose=purpose,
        assignee=membership,
        previous=current,
        by=by,
        end_reason=end_reason,
        request=None,
    )


# -- Appointments ----------------------------------------------------------------------------------------------------


def default_with_membership(dossier: Dossier, purpose: str) -> Membership | None:
    """The person the candidate meets by default: the step's current assignee."""
    step = APPOINTMENT_ASSIGNMENT.get(purpose)
    if step is None:
        return None
    current = Assignment.objects.current().filter(dossier=dossier, purpose=step).select_related("assignee").first()
    return current.assignee if current else None


def bookable_memberships(dossier: Dossier, purpose: str) -> list[Membership]:
    role = APPOINTMENT_ROLE[purpose]
    pool = AssignmentPurpose.TRAINING if role == "trainer" else AssignmentPurpose.PRIOR_EVALUATION
    if role == "counsellor":
        found = Membership.objects.active().filter(role=role, organisation_id=dossier.organisation_id)
    else:
        found = Membership.objects.active().filter(eligible_memberships_filter(pool, dossier.organisation_id))
    return list(found.select_related("user", "organisation").order_by("user__last_name", "user__first_name"))


def _local(moment: datetime.datetime) -> str:
    return date_format(timezone.localtime(moment), "l j F Y à H:i")


def _slot_errors(starts_at: datetime.datetime, duration_minutes: int, now: datetime.datetime) -> dict[str, str]:
    """What is wrong with a slot whoever books it (a dossier's appointment or an interview asked from the directory):
    a time without its zone, a time gone, a duration out of bounds; by field."""
    errors: dict[str, str] = {}
    if timezone.is_naive(starts_at):
        errors["starts_at"] = _("Indiquez la date et l'heure du rendez-vous.")
    elif starts_at <= now:
        errors["starts_at"] = _("Un rendez-vous ne se prend pas dans le passé : choisissez une date à venir.")
    if not MIN_DURATION_MINUTES <= duration_minutes <= MAX_DURATION_MINUTES:
        errors["duration_minutes"] = _("La durée doit être comprise entre %(min)s et %(max)s minutes.") % {
            "min": MIN_DURATION_MINUTES,
            "max": MAX_DURATION_MINUTES,
        }
    return errors


def _validate_slot(
    *,
    dossier: Dossier,
    purpose: str,
    with_membership: Membership,
    starts_at: datetime.datetime,
    duration_minutes: int,
    modality: str,
    site: Site | None,
    remote_details: str,
    now: datetime.datetime,
    exclude: Appointment | None = None,
) -> datetime.datetime:
    """Every rule of a slot, each on its field; then the person's agenda: no overlap (waited for under a lock, so
    that two bookings at once cannot both pass). Returns the end."""
    errors: dict[str, str] = {}
    if purpose not in APPOINTMENT_ROLE:
        raise ValidationError({"purpose": _("Objet de rendez-vous inconnu.")})
    errors.update(_slot_errors(starts_at, duration_minutes, now))
    role = APPOINTMENT_ROLE[purpose]
    if role == "counsellor":
        eligible = Membership.objects.active().filter(role=role, organisation_id=dossier.organisation_id)
    else:
        pool = AssignmentPurpose.TRAINING if role == "trainer" else AssignmentPurpose.PRIOR_EVALUATION
        eligible = Membership.objects.active().filter(eligible_memberships_filter(pool, dossier.organisation_id))
    if not eligible.filter(pk=with_membership.pk).exists():
        errors["with_membership"] = {
            "counsellor": _(
                "L'entretien d'information se tient avec une conseillère ou un conseiller de votre organisme."
            ),
            "evaluator": _("Une évaluation se tient avec une évaluatrice ou un évaluateur actif de votre organisme."),
            "trainer": _("Une séance de formation se tient avec une formatrice ou un formateur actif."),
        }[role]
    else:
        step = AssignmentPurpose.TRAINING if role == "trainer" else purpose
        if error := _person_errors(dossier, role_purpose=step, user_id=with_membership.user_id):
            errors["with_membership"] = error
    if modality == AppointmentModality.SITE:
        allowed = {dossier.organisation_id, with_membership.organisation_id}
        if site is None:
            errors["site"] = _("Choisissez le site où se tient le rendez-vous.")
        elif not site.is_active or site.organisation_id not in allowed:
            errors["site"] = _("Ce site n'est pas un site actif de l'organisme.")
    elif modality == AppointmentModality.REMOTE:
        if not remote_details.strip():
            errors["remote_details"] = _("Indiquez le lien de visioconférence ou le numéro à appeler.")
    else:
        errors["modality"] = _("Choisissez sur site ou à distance.")
    if errors:
        raise ValidationError(errors)
    ends_at = starts_at + datetime.timedelta(minutes=duration_minutes)
    _check_free(with_membership, starts_at, ends_at, exclude=exclude)
    return ends_at


def _check_free(
    with_membership: Membership,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    *,
    exclude: Appointment | None = None,
) -> None:
    """No overlap in the person's agenda, whatever the appointment (with a dossier or not): waited for under a lock,
    so that two bookings at once cannot both pass."""
    serialise_on(f"agenda-{with_membership.user_id}")
    clashes = Appointment.objects.planned().of_person(with_membership.user_id).between(starts_at, ends_at)
    if exclude is not None:
        clashes = clashes.exclude(pk=exclude.pk)
    clash = clashes.order_by("starts_at").first()
    if clash is not None:
        raise ValidationError(
            {
                "starts_at": _(
                    "%(name)s a déjà un rendez-vous sur ce créneau : %(what)s, le %(start)s, jusqu'à %(end)s."
                )
                % {
                    "name": with_membership.user.get_full_name(),
                    "what": clash.get_purpose_display().lower(),
                    "start": _local(clash.starts_at),
                    "end": f"{timezone.localtime(clash.ends_at):%H:%M}",
                }
            }
        )


def _check_booker(dossier: Dossier, purpose: str, by: Membership) -> None:
    if not may_book(by, purpose):
        raise PermissionDenied
    if by.role in SCHEDULING_ROLES:
        if by.organisation_id != dossier.organisation_id:
            raise PermissionDenied
    # A trainer books the sessions of the dossiers they train only.
    elif not has_trained(dossier, by.user_id):
        raise PermissionDenied


def _timeline(appointment: Appointment, note: str, by: User | None, transition: str) -> None:
    if appointment.dossier_id is None:
        return
    DossierEvent.objects.create(dossier_id=appointment.dossier_id, actor=by, transition=transition, note=note)


@transaction.atomic
def appointment_book(
    *,
    dossier: Dossier,
    purpose: str,
    with_membership: Membership,
    starts_at: datetime.datetime,
    duration_minutes: int,
    modality: str,
    by: Membership,
    site: Site | None = None,
    remote_details: str = "",
    rebooked_from: Appointment | None = None,
    request: HttpRequest | None = None,
    now: datetime.datetime | None = None,
) -> Appointment:
    """Book an appointment of the candidate with `with_membership`. Refuses a past date, a duration outside 15–480
    minutes, someone without the purpose's role, a trainer who evaluated (or an evaluator who trained) the
    candidate, and an overlap in that person's agenda (the message names the clash). Sends `appointment_booked`."""
    _check_booker(dossier, purpose, by)
    _check_open(dossier)
    now = now or timezone.now()
    if modality != AppointmentModality.SITE:
        site = None
    else:
        remote_details = ""
    ends_at = _validate_slot(
        dossier=dossier,
        purpose=purpose,
        with_membership=with_membership,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        modality=modality,
        site=site,
        remote_details=remote_details,
        now=now,
    )
    appointment = Appointment.objects.create(
        organisation_id=dossier.organisation_id,
        dossier=dossier,
        purpose=purpose,
        with_membership=with_membership,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        ends_at=ends_at,
        modality=modality,
        site=site,
        remote_details=remote_details.strip(),
        rebooked_from=rebooked_from,
        booked_by=by.user,
        booked_at=now,
    )
    note = _("Rendez-vous pris : %(what)s avec %(name)s") % {
        "what": str(appointment),
        "name": with_membership.user.get_full_name(),
    }
    _timeline(appointment, note, by.user, "appointment_book")
    audit_record(
        action="appointment.book",
        actor=by.user,
        organisation=dossier.organisation_id,
        obj=appointment,
        request=request,
        details={
            "dossier": dossier.pk,
            "purpose": purpose,
            "with": with_membership.pk,
            "rebooked_from": rebooked_from.pk if rebooked_from else None,
        },
    )
    availability.refresh_after(appointment)
    appointment_booked.send(sender=Appointment, appointment=appointment, by=by.user)
    return appointment


@transaction.atomic
def appointment_rebook(
    *,
    appointment: Appointment,
    by: Membership,
    starts_at: datetime.datetime,
    duration_minutes: int | None = None,
    modality: str | None = None,
    site: Site | None = None,
    remote_details: str | None = None,
    with_membership: Membership | None = None,
    request: HttpRequest | None = None,
    now: datetime.datetime | None = None,
) -> Appointment:
    """A new planned appointment replacing a missed or cancelled one (linked to it by `rebooked_from`); what is not
    given is taken from the old one."""
    old = Appointment.objects.select_for_update(of=("self",)).select_related("dossier").get(pk=appointment.pk)
    if old.dossier is None:
        raise SchedulingError(
            _("Cet entretien n'a pas encore de dossier : proposez un autre horaire depuis la demande.")
        )
    _check_booker(old.dossier, old.purpose, by)
    if not old.can_be_rebooked:
        raise SchedulingError(_("Seul un rendez-vous manqué ou annulé, pas encore remplacé, peut être reprogrammé."))
    return appointment_book(
        dossier=old.dossier,
        purpose=old.purpose,
        with_membership=with_membership or old.with_membership,
        starts_at=starts_at,
        duration_minutes=duration_minutes or old.duration_minutes,
        modality=modality or old.modality,
        site=site if site is not None else old.site,
        remote_details=remote_details if remote_details is not None else old.remote_details,
        by=by,
        rebooked_from=old,
        request=request,
        now=now,
    )


@transaction.atomic
def appointment_reschedule(
    *,
    appointment: Appointment,
    by: Membership,
    starts_at: datetime.datetime,
    duration_minutes: int,
    modality: str,
    site: Site | None = None,
    remote_details: str = "",
    request: HttpRequest | None = None,
    now: datetime.datetime | None = None,
) -> Appointment:
    """Move a planned appointment (date, duration, place), with the booking's rules; its calendar entry keeps its
    UID and takes the next SEQUENCE. Sends `appointment_changed` (change="rescheduled")."""
    locked = Appointment.objects.select_for_update(of=("self",)).select_related("dossier").get(pk=appointment.pk)
    if locked.dossier is None:
        raise SchedulingError(
            _("Cet entretien n'a pas encore de dossier : proposez un autre horaire depuis la demande.")
        )
    _check_booker(locked.dossier, locked.purpose, by)
    if locked.state != AppointmentState.PLANNED:
        raise SchedulingError(_("Seul un rendez-vous prévu peut être déplacé."))
    now = now or timezone.now()
    if modality != AppointmentModality.SITE:
        site = None
    else:
        remote_details = ""
    ends_at = _validate_slot(
        dossier=locked.dossier,
        purpose=locked.purpose,
        with_membership=locked.with_membership,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        modality=modality,
        site=site,
        remote_details=remote_details,
        now=now,
        exclude=locked,
    )
    previous: dict[str, Any] = {
        "starts_at": locked.starts_at,
        "duration_minutes": locked.duration_minutes,
        "modality": locked.modality,
        "site_id": locked.site_id,
        "remote_details": locked.remote_details,
    }
    locked.starts_at, locked.duration_minutes, locked.ends_at = starts_at, duration_minutes, ends_at
    locked.modality, locked.site, locked.remote_details = modality, site, remote_details.strip()
    locked.sequence += 1
    locked.save(
        update_fields=["starts_at", "duration_minutes", "ends_at", "modality", "site", "remote_details", "sequence"]
    )
    note = _("Rendez-vous déplacé : %(what)s (au lieu du %(before)s)") % {
        "what": str(locked),
        "before": _local(previous["starts_at"]),
    }
    _timeline(locked, note, by.user, "appointment_reschedule")
    audit_record(
        action="appointment.reschedule",
        actor=by.user,
        organisation=locked.organisation_id,
        obj=locked,
        request=request,
        details={"fields": sorted(k for k, v in previous.items() if getattr(locked, k) != v)},
    )
    availability.refresh_after(locked)
    appointment_changed.send(
        sender=Appointment, appointment=locked, change="rescheduled", previous=previous, by=by.user
    )
    return locked


def _refused(appointment: Appointment, name: str) -> SchedulingError:
    if appointment.state == AppointmentState.PLANNED and name in ("mark_done", "mark_missed"):
        return SchedulingError(
            _("Le rendez-vous commence le %(start)s : il ne peut pas encore être déclaré réalisé ou manqué.")
            % {"start": _local(appointment.starts_at)}
        )
    return SchedulingError(
        _("Ce rendez-vous est « %(state)s » : cette action n'est plus possible.")
        % {"state": appointment.get_state_display().lower()}
    )


def _lock(appointment: Appointment) -> Appointment:
    return transition_lock(
        appointment,
        changed=lambda locked: SchedulingError(
            _("Le rendez-vous a changé entre-temps (il est maintenant « %(state)s ») : rechargez la page.")
            % {"state": locked.get_state_display().lower()}
        ),
    )


@transaction.atomic
def appointment_mark(
    *,
    appointment: Appointment,
    by: Membership,
    done: bool,
    request: HttpRequest | None = None,
    now: datetime.datetime | None = None,
) -> Appointment:
    """The appointment took place (`done`) or the candidate did not come: once it has started, by the person met,
    the counsellor or the administrator. Sends `appointment_changed` (change="done" or "missed")."""
    name = "mark_done" if done else "mark_missed"
    locked = transition_apply(
        _lock(appointment),
        name,
        by=by,
        refused=_refused,
        action="appointment",
        request=request,
        now=now or timezone.now(),
    )
    appointment_changed.send(
        sender=Appointment, appointment=locked, change="done" if done else "missed", previous={}, by=by.user
    )
    return locked


@transaction.atomic
def appointment_cancel(
    *, appointment: Appointment, by: Membership, reason: str, request: HttpRequest | None = None
) -> Appointment:
    """Cancel a planned appointment with a reason (kept on the appointment and in the dossier's timeline). Sends
    `appointment_cancelled`."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Indiquez le motif de l'annulation.")})
    locked = transition_apply(
        _lock(appointment),
        "cancel",
        by=by,
        refused=_refused,
        action="appointment",
        note=reason,
        request=request,
        reason=reason,
    )
    availability.refresh_after(locked)
    appointment_cancelled.send(sender=Appointment, appointment=locked, reason=reason, by=by.user)
    return locked


# -- The information interview a person asked from the directory, before any dossier (issue 19) ---------------------
# App intake (above) calls these and keeps the link to the appointment; scheduling knows only the person's name and
# address, for its agenda, its .ics and the reminder. No signal on booking nor on the person's own cancellation:
# intake writes its own e-mails to the person (with the link to answer) and tells the counsellor.


@transaction.atomic
def information_appointment_book(
    *,
    organisation_id: int,
    site: Site,
    with_membership: Membership,
    starts_at: datetime.datetime,
    duration_minutes: int,
    person_name: str,
    person_email: str,
    by: Membership,
    replaces: Appointment | None = None,
    request: HttpRequest | None = None,
    now: datetime.datetime | None = None,
) -> Appointment:
    """An information interview with a person who has no dossier yet, at the site they asked: a date to come, 15 to
    480 minutes, an active counsellor of the organisation free then. `replaces`: the cancelled proposal it follows
    (linked by `rebooked_from`, so that the person's data can be found on all of them)."""
    if by.role not in SCHEDULING_ROLES or by.organisation_id != organisation_id:
        raise PermissionDenied
    now = now or timezone.now()
    errors = _slot_errors(starts_at, duration_minutes, now)
    counsellors = Membership.objects.active().filter(
        role=APPOINTMENT_ROLE[AppointmentPurpose.INFORMATION], organisation_id=organisation_id
    )
    if not counsellors.filter(pk=with_membership.pk).exists():
        errors["with_membership"] = _(
            "L'entretien d'information se tient avec une conseillère ou un conseiller de votre organisme."
        )
    if errors:
        raise ValidationError(errors)
    ends_at = starts_at + datetime.timedelta(minutes=duration_minutes)
    _check_free(with_membership, starts_at, ends_at)
    appointment = Appointment.objects.create(
        organisation_id=organisation_id,
        dossier=None,
        person_name=person_name.strip()[:300],
        person_email=person_email.strip(),
        purpose=AppointmentPurpose.INFORMATION,
        with_membership=with_membership,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        ends_at=ends_at,
        modality=AppointmentModality.SITE,
        site=site,
        rebooked_from=replaces,
        booked_by=by.user,
        booked_at=now,
    )
    audit_record(
        action="appointment.book",
        actor=by.user,
        organisation=organisation_id,
        obj=appointment,
        request=request,
        details={"dossier": None, "purpose": appointment.purpose, "with": with_membership.pk},
    )
    availability.refresh_after(appointment)
    return appointment


@transaction.atomic
def information_appointment_cancel(*, appointment: Appointment, reason: str, by: Membership | None) -> Appointment:
    """Cancel a planned information interview without a dossier: the person asked for another time (`by` None),
    or the organisation proposes another one. Nothing to cancel once it is no longer planned."""
    locked = Appointment.objects.select_for_update(of=("self",)).get(pk=appointment.pk)
    if locked.state != AppointmentState.PLANNED:
        return locked
    # The organisation's own step is authorised by intake's service (the proposal), hence the platform acting.
    locked = transition_apply(
        locked,
        "cancel",
        by=None,
        actor=by.user if by is not None else None,
        refused=_refused,
        action="appointment",
        note=reason,
        reason=reason,
    )
    availability.refresh_after(locked)
    return locked


@transaction.atomic
def information_appointment_attach(
    *, appointment: Appointment, dossier: Dossier, by: Membership, now: datetime.datetime | None = None
) -> Appointment:
    """The person's dossier is opened (intake's conversion): the interview joins it (its timeline, its schedule),
    the person's name and address leave the appointment (the dossier holds them now), and an interview that has
    started is recorded as done: it is the one that led to the dossier."""
    _check_organiser(dossier, by)
    now = now or timezone.now()
    locked = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("with_membership__user")
        .get(pk=appointment.pk)
    )
    if locked.dossier_id is not None or locked.organisation_id != dossier.organisation_id:
        raise SchedulingError(_("Ce rendez-vous appartient déjà à un dossier."))
    locked.dossier = dossier
    locked.person_name, locked.person_email = "", ""
    locked.save(update_fields=["dossier", "person_name", "person_email"])
    _timeline(
        locked,
        _("Entretien d'information demandé depuis l'annuaire : %(what)s avec %(name)s")
        % {"what": str(locked), "name": locked.with_membership.user.get_full_name()},
        by.user,
        "appointment_book",
    )
    if locked.state == AppointmentState.PLANNED and locked.has_started(now):
        locked = transition_apply(locked, "mark_done", by=by, refused=_refused, action="appointment", now=now)
    return locked


def information_appointments_forget(appointment_ids: list[int]) -> int:
    """Blank the person's name and address on these appointments without a dossier (their request is deleted)."""
    return rows_update(
        Appointment.objects.filter(pk__in=appointment_ids, dossier__isnull=True), person_name="", person_email=""
    )


# -- A dossier moving to another organisation (issue 19) --------------------------------------------------------------


def dossier_transfer_lock(*, dossier: Dossier) -> None:
    """Lock what a move will close (on `dossier_transfer_started`), before the move's first audit row."""
    list(Appointment.objects.select_for_update().planned().filter(dossier=dossier).values_list("pk", flat=True))
    list(Assignment.objects.select_for_update().current().filter(dossier=dossier).values_list("pk", flat=True))


def dossier_transfer_close(*, dossier: Dossier, reason: str, by: User | None) -> None:
    """The dossier left its organisation (`dossier_transferred`): its planned appointments are cancelled and its
    open assignments end, each with the move's reason. The platform acts (the move was authorised by its service):
    the new organisation books and assigns again. Sends `appointment_cancelled` for each appointment."""
    words = _("Changement d'organisme : %(reason)s") % {"reason": reason}
    for appointment in Appointment.objects.planned().filter(dossier=dossier).order_by("starts_at", "pk"):
        locked = transition_apply(
            appointment,
            "cancel",
            by=None,
            actor=by,
            refused=_refused,
            action="appointment",
            note=words,
            reason=words,
        )
        availability.refresh_after(locked)
        appointment_cancelled.send(sender=Appointment, appointment=locked, reason=words, by=by)
    Assignment.objects.current().filter(dossier=dossier).update(ended_at=timezone.now(), end_reason=words[:255])
