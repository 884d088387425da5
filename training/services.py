from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from candidates.models import Dossier, DossierEvent, DossierState
from candidates.services import dossier_apply, dossier_lock
from clea_platform.errors import BusinessRefusal
from evaluations.acquisitions import dossier_outcome
from organisations.models import Membership, OrganisationKind, Role, User
from organisations.services import audit_record
from referentiels.models import Criterion
from referentiels.outcomes import Outcome
from scheduling.models import AssignmentPurpose, has_evaluated
from scheduling.services import assignment_follow, trainer_was_evaluator_message
from training.models import ProgressNote, TrainingPlan, TrainingSession, hours_label, plan_calendar_errors
from training.signals import training_plan_completed, training_plan_created


class TrainingError(BusinessRefusal):
    """A rule of the training refused the operation; the message is for the user, in French."""

    code = "training_refused"


def objectives_from_gaps(criteria: list[Criterion]) -> str:
    return "\n".join(f"{c.code} – {c.title}" for c in criteria)


def trainer_memberships() -> list[Membership]:
    """Who can be named trainer: active trainers of training or evaluator organisations."""
    return list(
        Membership.objects.active()
        .filter(
            role=Role.TRAINER,
            organisation__kind__in=[OrganisationKind.TRAINING, OrganisationKind.EVALUATOR],
        )
        .select_related("user", "organisation")
        .order_by("organisation__name", "user__last_name")
    )


def _check_trainer(dossier: Dossier, trainer: Membership) -> None:
    if trainer.role != Role.TRAINER or not trainer.is_active:
        raise TrainingError(_("La personne choisie n'est pas formatrice."))
    # CléA: the trainer and the evaluator may work in the same organisation but are never the same person (the
    # evaluations done, and the evaluator assigned now: scheduling holds the rule).
    if has_evaluated(dossier, trainer.user_id):
        raise TrainingError(trainer_was_evaluator_message())


@transaction.atomic
def training_plan_create(
    *,
    dossier: Dossier,
    by: Membership,
    trainer: Membership,
    planned_hours: Decimal,
    starts_on: datetime.date,
    ends_on: datetime.date,
    objectives: str = "",
    request: HttpRequest | None = None,
) -> TrainingPlan:
    """Define the individualised training of a partially validated dossier and move it into training.
    Objectives default to the criteria still missing."""
    # Only a counsellor of the evaluator organisation that owns the dossier defines its training.
    if by.role != Role.COUNSELLOR or by.organisation_id != dossier.organisation_id:
        raise PermissionDenied
    locked = dossier_lock(dossier)
    if locked.state != DossierState.PARTIALLY_VALIDATED:
        raise TrainingError(_("Un parcours se définit après une validation partielle."))
    _check_trainer(locked, trainer)
    if errors := plan_calendar_errors(locked, starts_on, ends_on):
        raise ValidationError(errors)
    gaps = dossier_outcome(locked).gap_criteria()
    cycle = (locked.training_plans.aggregate(m=Max("cycle"))["m"] or 0) + 1
    plan = TrainingPlan.objects.create(
        organisation_id=trainer.organisation_id,
        dossier=locked,
        cycle=cycle,
        trainer_id=trainer.user_id,
        objectives=objectives.strip() or objectives_from_gaps(gaps),
        planned_hours=planned_hours,
        starts_on=starts_on,
        ends_on=ends_on,
        created_by=by.user,
    )
    plan.target_criteria.set(gaps)
    # The plan's trainer is the dossier's assigned trainer (a plan for another trainer hands the step over).
    assignment_follow(
        dossier=locked,
        purpose=AssignmentPurpose.TRAINING,
        membership=trainer,
        by=by.user,
        end_reason=_("Parcours confié à une autre personne"),
    )
    locked.__dict__.pop("current_training_plan", None)
    dossier_apply(
        locked=locked,
        name="start_training",
        by=by,
        request=request,
        note=_("Parcours %(cycle)s confié à %(trainer)s (%(org)s)")
        % {"cycle": cycle, "trainer": trainer.user.get_full_name(), "org": trainer.organisation.name},
    )
    training_plan_created.send(sender=TrainingPlan, plan=plan, by=by)
    return plan


def training_plan_next_cycle(*, dossier: Dossier, outcome: Outcome) -> TrainingPlan:
    """After a final evaluation with gaps left: a new cycle with the same trainer, on what is still missing.
    The counsellor adjusts hours and calendar; the window still ends at the same deadline."""
    previous = dossier.training_plans.order_by("-cycle").first()
    if previous is None:
        raise TrainingError("a final evaluation always follows a training plan")
    today = timezone.localdate()
    span = previous.ends_on - previous.starts_on
    ends_on = min(today + span, dossier.deadline) if dossier.deadline else today + span
    gaps = outcome.gap_criteria()
    plan = TrainingPlan.objects.create(
        organisation_id=previous.organisation_id,
        dossier=dossier,
        cycle=previous.cycle + 1,
        trainer_id=previous.trainer_id,
        objectives=objectives_from_gaps(gaps),
        planned_hours=previous.planned_hours,
        starts_on=today,
        ends_on=max(ends_on, today),
        created_by=previous.created_by,
    )
    plan.target_criteria.set(gaps)
    DossierEvent.objects.create(
        dossier=dossier, note=_("Nouveau parcours de formation (cycle %(cycle)s)") % {"cycle": plan.cycle}
    )
    training_plan_created.send(sender=TrainingPlan, plan=plan, by=None)
    return plan


def _ensure_trainer(plan: TrainingPlan, by: Membership) -> None:
    if by.role != Role.TRAINER or by.user_id != plan.trainer_id or by.organisation_id != plan.organisation_id:
        raise PermissionDenied
    if plan.is_completed:
        raise TrainingError(_("Ce parcours est terminé."))


def _session_details(session: TrainingSession) -> dict[str, Any]:
    return {
        "session": session.pk,
        "date": session.date.isoformat(),
        "duration_hours": str(session.duration_hours),
        "done": session.done,
    }


@transaction.atomic
def training_session_add(
    *,
    plan: TrainingPlan,
    by: Membership,
    date: datetime.date,
    duration_hours: Decimal,
    topic: str,
    done: bool = False,
    request: HttpRequest | None = None,
) -> TrainingSession:
    """Add a session to the plan's calendar, with an audit row (a session done counts towards the training's
    hours). Raises ValidationError (on `date` or `done`) for a session outside the plan's period, or done before
    its day."""
    _ensure_trainer(plan, by)
    session = TrainingSession(plan=plan, date=date, duration_hours=duration_hours, topic=topic, done=done)
    session.full_clean()
    session.save()
    audit_record(
        action="training_session.add",
        actor=by.user,
        organisation=plan.organisation_id,
        obj=plan,
        request=request,
        details=_session_details(session),
    )
    return session


@transaction.atomic
def training_session_mark_done(
    *, session: TrainingSession, by: Membership, request: HttpRequest | None = None
) -> TrainingSession:
    """Mark the session done, with an audit row (marking it again changes and records nothing). Raises
    ValidationError (on `done`) before the session's day."""
    _ensure_trainer(session.plan, by)
    if not session.done:
        session.done = True
        try:
            session.full_clean()
        except ValidationError:
            session.done = False
            raise
        session.save(update_fields=["done"])
        audit_record(
            action="training_session.done",
            actor=by.user,
            organisation=session.plan.organisation_id,
            obj=session.plan,
            request=request,
            details=_session_details(session),
        )
    return session


@transaction.atomic
def training_session_remove(*, session: TrainingSession, by: Membership, request: HttpRequest | None = None) -> None:
    """Take a session that did not take place off the calendar (a session done is part of the training's record
    and stays): the way to finish a training earlier than its calendar planned. Writes an event on the dossier's
    timeline and an audit row, which keep the session's date and hours once its row is gone."""
    # The plan's lock orders the removal after a completion in flight (which reads the calendar under it).
    plan = TrainingPlan.objects.select_for_update(of=("self",)).get(pk=session.plan_id)
    _ensure_trainer(plan, by)
    session = plan.sessions.get(pk=session.pk)  # as it stands now: it may have been marked done meanwhile
    if session.done:
        raise TrainingError(_("Une séance réalisée reste au calendrier : elle ne peut pas être retirée."))
    DossierEvent.objects.create(
        dossier_id=plan.dossier_id,
        actor=by.user,
        note=_("Séance du %(date)s (%(hours)s h) retirée du calendrier de formation (parcours %(cycle)s)")
        % {"date": f"{session.date:%d/%m/%Y}", "hours": hours_label(session.duration_hours), "cycle": plan.cycle},
    )
    audit_record(
        action="training_session.remove",
        actor=by.user,
        organisation=plan.organisation_id,
        obj=plan,
        request=request,
        details={"date": session.date.isoformat(), "duration_hours": str(session.duration_hours)},
    )
    session.delete()


@transaction.atomic
def training_note_add(
    *, plan: TrainingPlan, by: Membership, text: str, request: HttpRequest | None = None
) -> ProgressNote:
    """Write a progress note, with an audit row naming the note (never its text: what the trainer writes about a
    person stays in the note, which the anonymisation can reach)."""
    _ensure_trainer(plan, by)
    if not text.strip():
        raise TrainingError(_("La note est vide."), field="text")
    note = ProgressNote.objects.create(plan=plan, author=by.user, text=text.strip())
    audit_record(
        action="progress_note.add",
        actor=by.user,
        organisation=plan.organisation_id,
        obj=plan,
        request=request,
        details={"note": note.pk},
    )
    return note


@transaction.atomic
def training_plan_complete(
    *, plan: TrainingPlan, by: Membership, shortfall_reason: str = "", request: HttpRequest | None = None
) -> TrainingPlan:
    """The trainer declares the training done today: the evaluator organisation may start the final evaluation.
    Raises ValidationError when the calendar says otherwise (a session done after today, sessions still planned)
    or, with fewer hours done than planned, without `shortfall_reason`; the reason goes on the dossier's
    timeline."""
    plan = TrainingPlan.objects.select_for_update().select_related("dossier").get(pk=plan.pk)
    _ensure_trainer(plan, by)
    if plan.dossier.state != DossierState.IN_TRAINING:
        raise TrainingError(_("Le dossier n'est plus en formation : le parcours ne peut plus être terminé."))
    if not plan.sessions.filter(done=True).exists():
        raise TrainingError(_("Enregistrez au moins une séance réalisée avant de terminer le parcours."))
    plan.check_completion(shortfall_reason=shortfall_reason)
    hours_done = plan.sessions_done_hours()  # the sessions check_completion has just read
    shortfall = plan.has_shortfall(hours_done)
    plan.completed_at = timezone.now()
    plan.shortfall_reason = shortfall_reason.strip() if shortfall else ""
    plan.save(update_fields=["completed_at", "shortfall_reason"])
    note = _("Formation terminée (parcours %(cycle)s)") % {"cycle": plan.cycle}
    if shortfall:
        note += "\n" + _("%(done)s h réalisées sur %(planned)s h prévues. Motif : %(reason)s") % {
            "done": hours_label(hours_done),
            "planned": hours_label(plan.planned_hours),
            "reason": plan.shortfall_reason,
        }
    DossierEvent.objects.create(dossier_id=plan.dossier_id, actor=by.user, note=note)
    audit_record(
        action="training_plan.complete",
        actor=by.user,
        organisation=plan.organisation_id,
        obj=plan,
        request=request,
        # The reason, written about the person, stays on the plan and the timeline, out of the unalterable log.
        details={"hours_done": str(hours_done), "shortfall": True} if shortfall else None,
    )
    training_plan_completed.send(sender=TrainingPlan, plan=plan, by=by)
    return plan


# -- A dossier moving to another organisation (issue 19) --------------------------------------------------------------


def training_plans_lock_for_transfer(*, dossier: Dossier) -> None:
    """Lock the plan a move will close (on `dossier_transfer_started`), before the move's first audit row."""
    list(TrainingPlan.objects.select_for_update().filter(dossier=dossier, completed_at__isnull=True).values("pk"))


def training_plans_close_for_transfer(*, dossier: Dossier, reason: str, by: User | None) -> list[TrainingPlan]:
    """The dossier left its organisation during a training (`dossier_transferred`): the plan in progress ends today
    with the hours done, the move's reason as why the rest was not done, and a line on the timeline. The new
    organisation defines its own plan from what remains (the dossier is back to partially validated)."""
    closed = []
    for plan in TrainingPlan.objects.filter(dossier=dossier, completed_at__isnull=True).order_by("cycle"):
        plan.completed_at = timezone.now()
        plan.shortfall_reason = _("Parcours arrêté, changement d'organisme : %(reason)s") % {"reason": reason}
        plan.save(update_fields=["completed_at", "shortfall_reason"])
        DossierEvent.objects.create(
            dossier_id=dossier.pk,
            actor=by,
            note=_("Parcours %(cycle)s arrêté (%(done)s h réalisées) : changement d'organisme")
            % {"cycle": plan.cycle, "done": hours_label(plan.sessions_done_hours())},
        )
        audit_record(
            action="training_plan.close_for_transfer",
            actor=by,
            organisation=plan.organisation_id,
            obj=plan,
            details={"dossier": dossier.pk},
        )
        closed.append(plan)
    return closed
