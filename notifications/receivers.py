"""What the apps below announce, told to the people concerned (issue 17). Each receiver runs inside the event's
transaction (`send`, not `send_robust`): its notifications and their e-mails' side effects commit with the event
or not at all. Who hears of what is the table in kinds.py; here, each event's key and words."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from candidates.models import CorrectionRequest, Dossier
from candidates.signals import correction_answered, correction_requested, dossier_transferred, dossier_withdrawn
from evaluations.models import Evaluation, EvaluationKind, EvaluationStatus
from evaluations.signals import attestation_ready, evaluation_closed
from intake.signals import interview_request_answered, interview_request_confirmed
from juries.models import DecisionKind, SessionState
from juries.signals import certificate_created, decision_recorded, dossier_submitted, session_convened
from notifications.attachments import Attachment
from notifications.kinds import Event
from notifications.services import notify
from organisations.models import Role
from organisations.signals import habilitation_changed
from referrals.models import ReferralState
from referrals.signals import referral_answered, referral_sent
from scheduling.ics import appointment_ics, appointment_ics_filename, appointment_location
from scheduling.models import Appointment, AppointmentModality, Assignment, AssignmentPurpose
from scheduling.signals import appointment_booked, appointment_cancelled, appointment_changed, assignment_changed
from training.signals import training_plan_completed, training_plan_created
from webhooks.signals import subscription_paused


def _actor(by: Any) -> int | None:
    return by.user_id if by is not None else None


def _dossier_url(dossier: Dossier) -> str:
    return reverse("journey:dossier_detail", args=[dossier.pk])


def dossier_words(dossier: Dossier) -> str:
    return _("dossier %(ref)s (%(name)s)") % {"ref": dossier.reference, "name": dossier.candidate.full_name}


def _day(value: Any) -> str:
    return date_format(timezone.localtime(value) if hasattr(value, "tzinfo") else value, "d/m/Y")


@receiver(evaluation_closed, dispatch_uid="notifications.evaluation_closed")
def on_evaluation_closed(
    sender: Any, *, evaluation: Any, dossier: Dossier, outcome: Any, by: Any = None, **kwargs: Any
) -> None:
    validated, total = len(outcome.validated_domains), len(outcome.domains)
    if evaluation.kind == EvaluationKind.PRIOR:
        title = _("Évaluation préalable clôturée : %(who)s") % {"who": dossier_words(dossier)}
    else:
        title = _("Évaluation finale clôturée : %(who)s") % {"who": dossier_words(dossier)}
    body = ngettext("%(n)s domaine validé sur %(total)s.", "%(n)s domaines validés sur %(total)s.", validated) % {
        "n": validated,
        "total": total,
    }
    notify(
        Event(
            kind="evaluation_closed",
            key=f"evaluation_closed:{evaluation.pk}",
            organisation_id=dossier.organisation_id,
            title=title,
            body=body,
            url=_dossier_url(dossier),
            actor_id=_actor(by),
            dossier=dossier,
        )
    )


@receiver(attestation_ready, dispatch_uid="notifications.attestation_ready")
def on_attestation_ready(sender: Any, *, attestation: Any, **kwargs: Any) -> None:
    dossier = attestation.dossier
    notify(
        Event(
            kind="attestation_ready",
            key=f"attestation_ready:{attestation.pk}",
            organisation_id=dossier.organisation_id,
            title=_("Attestation %(number)s disponible : %(who)s")
            % {"number": attestation.number, "who": dossier_words(dossier)},
            body=_("L'attestation de validation partielle est prête à être remise au candidat."),
            url=_dossier_url(dossier),
            dossier=dossier,
            candidate_title=_("Votre attestation de validation partielle CléA est prête"),
            candidate_body=_(
                "Votre attestation de validation partielle (n° %(number)s) est prête. Votre conseillère ou votre "
                "conseiller vous la remet et vous propose la suite de votre parcours."
            )
            % {"number": attestation.number},
        )
    )


@receiver(training_plan_created, dispatch_uid="notifications.training_plan_created")
def on_training_plan_created(sender: Any, *, plan: Any, by: Any = None, **kwargs: Any) -> None:
    dossier = plan.dossier
    notify(
        Event(
            kind="training_plan_created",
            key=f"training_plan_created:{plan.pk}",
            organisation_id=plan.organisation_id,
            title=_("Parcours de formation %(cycle)s à assurer : %(who)s")
            % {"cycle": plan.cycle, "who": dossier_words(dossier)},
            body=_("Du %(start)s au %(end)s.") % {"start": _day(plan.starts_on), "end": _day(plan.ends_on)},
            url=reverse("training:plan_detail", args=[plan.pk]),
            actor_id=_actor(by),
            dossier=dossier,
            plan=plan,
        )
    )


@receiver(dossier_transferred, dispatch_uid="notifications.dossier_transferred")
def on_dossier_transferred(
    sender: Any, *, dossier: Dossier, transfer: Any, previous_counsellor_id: int, by: Any = None, **kwargs: Any
) -> None:
    """The organisation the dossier left is told (it cannot block the move) and keeps a read-only page; the evaluator
    whose evaluation the move abandoned reads that, with a link to their grid; the new counsellor hears of a dossier
    the candidate moved themself."""
    words = {"who": dossier_words(dossier), "org": transfer.to_organisation.name}
    # The draft the move abandons (evaluations' receiver may run before or after this one).
    abandoned = Evaluation.objects.filter(dossier=dossier, organisation_id=transfer.from_organisation_id).filter(
        Q(status=EvaluationStatus.DRAFT) | Q(abandoned_by_transfer=transfer)
    )
    personal = {
        evaluation.evaluator_id: {
            "title": _("Évaluation abandonnée, dossier parti vers %(org)s : %(who)s") % words,
            "body": _(
                "Le dossier a changé d'organisme pendant votre %(kind)s. Elle est close sans résultat : vous pouvez "
                "encore la lire, plus la modifier. Motif : %(reason)s"
            )
            % {"kind": evaluation.get_kind_display().lower(), "reason": transfer.reason},
            "url": reverse("evaluations:grid", args=[evaluation.pk]),
        }
        for evaluation in abandoned
    }
    notify(
        Event(
            kind="dossier_transferred_away",
            key=f"dossier_transferred_away:{transfer.pk}",
            organisation_id=transfer.from_organisation_id,
            title=_("Dossier parti vers %(org)s : %(who)s") % words,
            body=_("Motif : %(reason)s") % {"reason": transfer.reason},
            url=_dossier_url(dossier),
            actor_id=_actor(by),
            dossier=dossier,
            personal=personal,
            extra={"previous_counsellor_id": previous_counsellor_id, "evaluator_ids": sorted(personal)},
        )
    )
    if by is None:
        notify(
            Event(
                kind="dossier_transferred_in",
                key=f"dossier_transferred_in:{transfer.pk}",
                organisation_id=dossier.organisation_id,
                title=_("Dossier arrivé de %(org)s : %(who)s")
                % {"who": dossier_words(dossier), "org": transfer.from_organisation.name},
                body=_("Motif : %(reason)s") % {"reason": transfer.reason},
                url=_dossier_url(dossier),
                dossier=dossier,
            )
        )


@receiver(dossier_withdrawn, dispatch_uid="notifications.dossier_withdrawn")
def on_dossier_withdrawn(sender: Any, *, dossier: Dossier, by: Any = None, reason: str = "", **kwargs: Any) -> None:
    """The counsellor hears when someone else closes the dossier: the candidate withdrawing their consent from their
    own space (by None, the platform acting for them), an administrator, the retention rules."""
    notify(
        Event(
            kind="dossier_withdrawn",
            key=f"dossier_withdrawn:{dossier.pk}",
            organisation_id=dossier.organisation_id,
            title=_("Dossier clos : %(who)s") % {"who": dossier_words(dossier)},
            body=reason,
            url=_dossier_url(dossier),
            actor_id=_actor(by),
            dossier=dossier,
        )
    )


@receiver(training_plan_completed, dispatch_uid="notifications.training_plan_completed")
def on_training_plan_completed(sender: Any, *, plan: Any, by: Any = None, **kwargs: Any) -> None:
    dossier = plan.dossier
    notify(
        Event(
            kind="training_plan_completed",
            key=f"training_plan_completed:{plan.pk}",
            organisation_id=dossier.organisation_id,
            title=_("Formation terminée : %(who)s") % {"who": dossier_words(dossier)},
            body=_("L'évaluation finale peut commencer."),
            url=_dossier_url(dossier),
            actor_id=_actor(by),
            dossier=dossier,
            plan=plan,
        )
    )


@receiver(dossier_submitted, dispatch_uid="notifications.dossier_submitted")
def on_dossier_submitted(sender: Any, *, submission: Any, session: Any, by: Any = None, **kwargs: Any) -> None:
    dossier = submission.dossier
    session_url = reverse("juries:session_detail", args=[session.pk])
    when = _day(session.date)
    notify(
        Event(
            kind="dossier_submitted",
            key=f"dossier_submitted:{submission.pk}",
            organisation_id=dossier.organisation_id,
            title=_("Dossier %(ref)s soumis au jury du %(date)s") % {"ref": dossier.reference, "date": when},
            url=_dossier_url(dossier),
            url_by_organisation={session.organisation_id: session_url},
            actor_id=_actor(by),
            dossier=dossier,
            session=session,
        )
    )
    if session.state == SessionState.CONVENED:
        # The jurors were convened with the list of dossiers: they hear of the one added since.
        notify(
            Event(
                kind="session_dossier_added",
                key=f"session_dossier_added:{submission.pk}",
                organisation_id=session.organisation_id,
                title=_("Un dossier de plus à examiner au jury du %(date)s") % {"date": when},
                body=_("Dossier %(ref)s.") % {"ref": dossier.reference},
                url=session_url,
                actor_id=_actor(by),
                session=session,
            )
        )


@receiver(session_convened, dispatch_uid="notifications.session_convened")
def on_session_convened(sender: Any, *, session: Any, by: Any = None, **kwargs: Any) -> None:
    count = session.submissions.count()
    notify(
        Event(
            kind="session_convened",
            key=f"session_convened:{session.pk}",
            organisation_id=session.organisation_id,
            title=_("Convocation au jury CléA du %(date)s") % {"date": _day(session.date)},
            body=ngettext("%(n)s dossier à examiner.", "%(n)s dossiers à examiner.", count) % {"n": count},
            url=reverse("juries:session_detail", args=[session.pk]),
            actor_id=_actor(by),
            session=session,
        )
    )


@receiver(decision_recorded, dispatch_uid="notifications.decision_recorded")
def on_decision_recorded(sender: Any, *, decision: Any, dossier: Dossier, by: Any = None, **kwargs: Any) -> None:
    label = DecisionKind(decision.kind).label
    notify(
        Event(
            kind="decision_recorded",
            key=f"decision_recorded:{decision.pk}",
            organisation_id=dossier.organisation_id,
            title=_("Décision du jury : %(decision)s, %(who)s") % {"decision": label, "who": dossier_words(dossier)},
            body=decision.reason,
            url=_dossier_url(dossier),
            actor_id=_actor(by),
            dossier=dossier,
            candidate_title=_("Décision du jury CléA"),
            candidate_body=_(
                "Le jury a rendu sa décision sur votre dossier : %(decision)s. Votre conseillère ou votre conseiller "
                "vous en explique la suite."
            )
            % {"decision": label},
        )
    )


@receiver(certificate_created, dispatch_uid="notifications.certificate_ready")
def on_certificate_created(sender: Any, *, certificate: Any, **kwargs: Any) -> None:
    dossier = certificate.dossier
    notify(
        Event(
            kind="certificate_ready",
            key=f"certificate_ready:{certificate.pk}",
            organisation_id=dossier.organisation_id,
            title=_("Certificat %(number)s disponible : %(who)s")
            % {"number": certificate.number, "who": dossier_words(dossier)},
            url=_dossier_url(dossier),
            dossier=dossier,
            candidate_title=_("Votre certificat CléA est prêt"),
            candidate_body=_(
                "Félicitations : votre certificat (n° %(number)s) est prêt. Votre conseillère ou votre conseiller "
                "vous le remet."
            )
            % {"number": certificate.number},
        )
    )


@receiver(referral_sent, dispatch_uid="notifications.referral_received")
def on_referral_sent(sender: Any, *, referral: Any, by: Any = None, **kwargs: Any) -> None:
    notify(
        Event(
            kind="referral_received",
            key=f"referral_received:{referral.pk}",
            organisation_id=referral.organisation_id,
            title=_("Nouvelle orientation France Travail : %(name)s") % {"name": referral.full_name},
            body=_("Site « %(site)s ». Sans réponse, elle expire le %(date)s.")
            % {"site": referral.site.name, "date": _day(referral.expires_at)},
            url=reverse("referrals:detail", args=[referral.pk]),
            actor_id=_actor(by),
            referral=referral,
        )
    )


@receiver(interview_request_confirmed, dispatch_uid="notifications.interview_request_received")
def on_interview_request_confirmed(sender: Any, *, interview_request: Any, **kwargs: Any) -> None:
    notify(
        Event(
            kind="interview_request_received",
            key=f"interview_request_received:{interview_request.pk}",
            organisation_id=interview_request.organisation_id,
            title=_("Demande d'entretien venue de l'annuaire : %(name)s") % {"name": interview_request.full_name},
            body=_("Site « %(site)s ». Proposez un rendez-vous à la personne.") % {"site": interview_request.site.name},
            url=reverse("intake:detail", args=[interview_request.pk]),
            extra={"interview_request_organisation": interview_request.organisation_id},
        )
    )


@receiver(interview_request_answered, dispatch_uid="notifications.interview_request_answered")
def on_interview_request_answered(sender: Any, *, interview_request: Any, **kwargs: Any) -> None:
    accepted = interview_request.state == "accepted"
    if accepted:
        title = _("Rendez-vous accepté : %(name)s") % {"name": interview_request.full_name}
    else:
        title = _("Autre horaire demandé : %(name)s") % {"name": interview_request.full_name}
    notify(
        Event(
            kind="interview_request_answered",
            key=f"interview_request_answered:{interview_request.pk}:{interview_request.answered_at.isoformat()}",
            organisation_id=interview_request.organisation_id,
            title=title,
            # Not the person's message: it may say more than a notification e-mail should carry; the page shows it.
            body="",
            url=reverse("intake:detail", args=[interview_request.pk]),
            extra={
                "interview_request_organisation": interview_request.organisation_id,
                "interview_request_with": interview_request.proposed_with,
            },
        )
    )


@receiver(referral_answered, dispatch_uid="notifications.referral_answered")
def on_referral_answered(sender: Any, *, referral: Any, by: Any = None, **kwargs: Any) -> None:
    if referral.state == ReferralState.ACCEPTED:
        title = _("Orientation acceptée par %(organisation)s : %(name)s")
    else:
        title = _("Orientation déclinée par %(organisation)s : %(name)s")
    notify(
        Event(
            kind="referral_answered",
            key=f"referral_answered:{referral.pk}",
            organisation_id=referral.from_organisation_id,
            title=title % {"organisation": referral.organisation.name, "name": referral.full_name},
            body=referral.decline_reason if referral.state != ReferralState.ACCEPTED else "",
            url=reverse("referrals:detail", args=[referral.pk]),
            actor_id=_actor(by),
            referral=referral,
        )
    )


# -- Correction requests: the candidate's data ---------------------------------------------------------------------


def correction_dossier(correction: CorrectionRequest) -> Dossier | None:
    """The dossier whose counsellor hears of the request, and whose agreement to e-mails counts: the one the person
    named, else their latest."""
    if correction.dossier is not None:
        return correction.dossier
    return correction.candidate.dossiers.select_related("candidate").order_by("-updated_at", "-pk").first()


@receiver(correction_requested, dispatch_uid="notifications.correction_requested")
def on_correction_requested(sender: Any, *, correction: CorrectionRequest, **kwargs: Any) -> None:
    dossier = correction_dossier(correction)
    if dossier is None:
        return
    notify(
        Event(
            kind="correction_requested",
            key=f"correction_requested:{correction.pk}",
            organisation_id=correction.organisation_id,
            title=_("Demande de rectification de ses données : %(who)s") % {"who": dossier_words(dossier)},
            # The request itself stays on the platform: an e-mail copy would outlive its answer.
            body=_("La personne signale une erreur dans ses données : lisez sa demande et répondez-lui."),
            url=reverse("candidates:correction_request", args=[correction.pk]),
            dossier=dossier,
        )
    )


@receiver(correction_answered, dispatch_uid="notifications.correction_answered")
def on_correction_answered(sender: Any, *, correction: CorrectionRequest, by: Any = None, **kwargs: Any) -> None:
    dossier = correction_dossier(correction)
    if dossier is None:
        return
    notify(
        Event(
            kind="correction_answered",
            key=f"correction_answered:{correction.pk}",
            organisation_id=correction.organisation_id,
            title=_("Demande de rectification traitée : %(who)s") % {"who": dossier_words(dossier)},
            actor_id=_actor(by),
            dossier=dossier,
            candidate_title=_("Votre demande de correction a reçu une réponse"),
            candidate_body=_(
                "Votre conseillère ou votre conseiller a répondu à votre demande de correction de vos données. "
                "Lisez la réponse dans votre espace CléA."
            ),
        )
    )


# -- Scheduling: assignments and appointments ---------------------------------------------------------------------


def _assignment_url(assignment: Assignment) -> str:
    """A trainer does not see dossiers: they book the sessions of the one assigned to them."""
    if assignment.assignee.role == Role.TRAINER:
        return reverse("scheduling:appointment_create", args=[assignment.dossier_id])
    return _dossier_url(assignment.dossier)


def _told_by_the_plan(assignment: Assignment) -> bool:
    """A training plan's creation assigns its trainer (scheduling.services.assignment_follow): its own notification,
    training_plan_created, already tells them, with the plan's dates."""
    if assignment.purpose != AssignmentPurpose.TRAINING:
        return False
    latest = assignment.dossier.training_plans.order_by("-cycle").values_list("trainer_id", "completed_at").first()
    return latest is not None and latest == (assignment.assignee.user_id, None)


@receiver(assignment_changed, dispatch_uid="notifications.assignment")
def on_assignment_changed(
    sender: Any, *, assignment: Assignment, previous: Assignment | None = None, by: Any = None, **kwargs: Any
) -> None:
    dossier = assignment.dossier
    purpose = assignment.get_purpose_display()
    new = None if _told_by_the_plan(assignment) else assignment
    personal: dict[int, dict[str, str]] = {}
    if previous is not None:
        body = _("Elle est confiée désormais à %(name)s.") % {"name": assignment.assignee.user.get_full_name()}
        if previous.end_reason:
            body += " " + _("Motif : %(reason)s") % {"reason": previous.end_reason}
        personal[previous.assignee.user_id] = {
            "title": _("Étape qui ne vous est plus confiée : %(purpose)s, %(who)s")
            % {"purpose": purpose, "who": dossier_words(dossier)},
            "body": body,
            # A former trainer sees the dossier no more; a former evaluator still does (their organisation's).
            "url": "" if previous.assignee.role == Role.TRAINER else _dossier_url(dossier),
        }
    if new is None and previous is None:
        return
    notify(
        Event(
            kind="assignment",
            key=f"assignment:{assignment.pk}",
            organisation_id=dossier.organisation_id,
            title=_("Étape qui vous est confiée : %(purpose)s, %(who)s")
            % {"purpose": purpose, "who": dossier_words(dossier)},
            body=_("Confiée par %(name)s.") % {"name": by.get_full_name()} if by is not None else "",
            url=_assignment_url(assignment),
            actor_id=by.pk if by is not None else None,
            dossier=dossier,
            assignment=new,
            previous_assignment=previous,
            personal=personal,
        )
    )


def _when(moment: Any) -> str:
    return date_format(timezone.localtime(moment), "l j F Y à H:i")


def appointment_who(appointment: Appointment) -> str:
    """The dossier, or the person who asked from the directory and has none yet."""
    if appointment.dossier is not None:
        return dossier_words(appointment.dossier)
    return _("%(name)s (demande de l'annuaire)") % {"name": appointment.who}


def _appointment_url(appointment: Appointment) -> str:
    if appointment.dossier is not None:
        return _dossier_url(appointment.dossier)
    return _agenda_url(appointment)


def _agenda_url(appointment: Appointment) -> str:
    """The person met reads the appointment in their agenda, on its day (a trainer does not see the dossier)."""
    day = timezone.localtime(appointment.starts_at).date()
    return f"{reverse('scheduling:agenda')}?view=day&date={day:%Y-%m-%d}"


def _where(appointment: Appointment) -> str:
    if appointment.modality == AppointmentModality.REMOTE and appointment.remote_details:
        return _("À distance : %(details)s") % {"details": appointment.remote_details}
    return appointment_location(appointment)


def appointment_summary(appointment: Appointment) -> str:
    """What, when, with whom, where, how long: the same lines for staff and candidate (no candidate's name)."""
    member = appointment.with_membership
    minutes = appointment.duration_minutes
    return _("%(purpose)s le %(when)s avec %(name)s (%(organisation)s). Lieu : %(where)s. %(duration)s") % {
        "purpose": appointment.get_purpose_display(),
        "when": _when(appointment.starts_at),
        "name": member.user.get_full_name(),
        "organisation": member.organisation.name,
        "where": _where(appointment),
        "duration": ngettext("Durée : %(n)s minute.", "Durée : %(n)s minutes.", minutes) % {"n": minutes},
    }


def _ics(appointment: Appointment) -> list[dict[str, Any]]:
    return [{"provider": "appointment_ics", "arguments": {"appointment_id": appointment.pk}}]


def appointment_event(appointment: Appointment, *, kind: str, key: str, title: str, body: str, **fields: Any) -> Event:
    """An appointment's event for the kinds that tell its people: the dossier's page for the counsellor, the agenda
    of the day for the person met, and its .ics joined to every e-mail (built when sent: what is true then)."""
    return Event(
        kind=kind,
        key=key,
        organisation_id=appointment.organisation_id,
        title=title,
        body=body,
        url=_appointment_url(appointment),
        personal={appointment.with_membership.user_id: {"url": _agenda_url(appointment)}},
        dossier=appointment.dossier,
        appointment=appointment,
        attachments=_ics(appointment),
        **fields,
    )


def _what(appointment: Appointment) -> dict[str, str]:
    return {
        "purpose": appointment.get_purpose_display(),
        "when": _when(appointment.starts_at),
        "who": appointment_who(appointment),
    }


@receiver(appointment_booked, dispatch_uid="notifications.appointment_booked")
def on_appointment_booked(sender: Any, *, appointment: Appointment, by: Any = None, **kwargs: Any) -> None:
    details = appointment_summary(appointment)
    if appointment.rebooked_from_id is not None:
        title = _("Rendez-vous reprogrammé : %(purpose)s le %(when)s, %(who)s")
    else:
        title = _("Rendez-vous pris : %(purpose)s le %(when)s, %(who)s")
    notify(
        appointment_event(
            appointment,
            kind="appointment_booked",
            key=f"appointment_booked:{appointment.pk}",
            title=title % _what(appointment),
            body=details,
            actor_id=_actor_user(by),
            candidate_title=_("Votre rendez-vous CléA du %(when)s") % {"when": _when(appointment.starts_at)},
            candidate_body=details + " " + _("Le fichier joint l'ajoute à votre agenda."),
        )
    )


@receiver(appointment_changed, dispatch_uid="notifications.appointment_changed")
def on_appointment_changed(
    sender: Any, *, appointment: Appointment, change: str, previous: dict[str, Any], by: Any = None, **kwargs: Any
) -> None:
    if change == "missed":
        _appointment_missed(appointment, by=by)
        return
    if change != "rescheduled":
        return  # done: nobody waits on it (the dossier's next step tells its own people)
    before = _("Il était prévu le %(when)s.") % {"when": _when(previous["starts_at"])}
    notify(
        appointment_event(
            appointment,
            kind="appointment_changed",
            # The sequence grows with each change: each reschedule is its own event, told once.
            key=f"appointment_changed:{appointment.pk}:{appointment.sequence}",
            title=_("Rendez-vous déplacé : %(purpose)s le %(when)s, %(who)s") % _what(appointment),
            body=f"{appointment_summary(appointment)} {before}",
            actor_id=_actor_user(by),
            candidate_title=_("Votre rendez-vous CléA est déplacé au %(when)s")
            % {"when": _when(appointment.starts_at)},
            candidate_body=f"{appointment_summary(appointment)} {before} "
            + _("Le fichier joint met à jour votre agenda."),
        )
    )


def _appointment_missed(appointment: Appointment, *, by: Any) -> None:
    notify(
        Event(
            kind="appointment_missed",
            key=f"appointment_missed:{appointment.pk}",
            organisation_id=appointment.organisation_id,
            title=_("Rendez-vous manqué : %(purpose)s du %(when)s, %(who)s") % _what(appointment),
            body=_("Le candidat n'est pas venu : reprogrammez le rendez-vous depuis la page du dossier."),
            url=_appointment_url(appointment),
            actor_id=_actor_user(by),
            dossier=appointment.dossier,
            appointment=appointment,
        )
    )


@receiver(appointment_cancelled, dispatch_uid="notifications.appointment_cancelled")
def on_appointment_cancelled(
    sender: Any, *, appointment: Appointment, reason: str, by: Any = None, **kwargs: Any
) -> None:
    when = _when(appointment.starts_at)
    notify(
        appointment_event(
            appointment,
            kind="appointment_cancelled",
            key=f"appointment_cancelled:{appointment.pk}",
            title=_("Rendez-vous annulé : %(purpose)s du %(when)s, %(who)s") % _what(appointment),
            # The reason is for the staff only: it may speak of the candidate, or of a colleague.
            body=_("Motif : %(reason)s") % {"reason": reason},
            actor_id=_actor_user(by),
            candidate_title=_("Votre rendez-vous CléA du %(when)s est annulé") % {"when": when},
            candidate_body=_(
                "Votre rendez-vous (%(purpose)s) du %(when)s est annulé. Votre conseillère ou votre conseiller vous "
                "propose une autre date. Le fichier joint le retire de votre agenda."
            )
            % {"purpose": appointment.get_purpose_display().lower(), "when": when},
        )
    )


def _actor_user(by: Any) -> int | None:
    """Scheduling's signals carry the User who acted (the other apps' carry a Membership)."""
    return by.pk if by is not None else None


def appointment_ics_file(appointment_id: int) -> Attachment | None:
    """The attachment provider "appointment_ics" (registered in apps.py): the appointment as it is when the e-mail
    leaves (moved, cancelled), or nothing once it is gone."""
    appointment = (
        Appointment.objects.select_related(
            "dossier__organisation", "site", "with_membership__user", "with_membership__organisation"
        )
        .filter(pk=appointment_id)
        .first()
    )
    if appointment is None:
        return None
    return Attachment(appointment_ics_filename(appointment), appointment_ics(appointment), "text/calendar")


@receiver(subscription_paused, dispatch_uid="notifications.webhook_paused")
def on_webhook_paused(sender: Any, *, subscription: Any, **kwargs: Any) -> None:
    owner_id = subscription.membership.user_id if subscription.membership.is_active else None
    notify(
        Event(
            kind="webhook_paused",
            key=f"webhook_paused:{subscription.pk}:{subscription.paused_at.isoformat()}",
            organisation_id=subscription.organisation_id,
            title=_("Webhook « %(name)s » mis en pause") % {"name": subscription.name},
            body=_(
                "Ses envois ont échoué %(n)s fois de suite : plus aucun événement ne lui est envoyé. Vérifiez "
                "l'adresse, testez-la puis reprenez l'abonnement."
            )
            % {"n": subscription.consecutive_failures},
            url=reverse("webhooks:detail", args=[subscription.pk]),
            extra={"owner_id": owner_id},
        )
    )


def _habilitation_title(event: str, n: int) -> str:
    """`n` habilitations (periods) concerned; an application refused is one."""
    if event == "granted":
        return ngettext("Habilitation accordée : %(what)s", "Habilitations accordées : %(what)s", n)
    if event == "renewed":
        return ngettext("Habilitation renouvelée : %(what)s", "Habilitations renouvelées : %(what)s", n)
    if event == "suspended":
        return ngettext("Habilitation suspendue : %(what)s", "Habilitations suspendues : %(what)s", n)
    if event == "reinstated":
        return ngettext("Habilitation rétablie : %(what)s", "Habilitations rétablies : %(what)s", n)
    if event == "withdrawn":
        return ngettext("Habilitation retirée : %(what)s", "Habilitations retirées : %(what)s", n)
    return _("Demande d'habilitation refusée : %(what)s")


@receiver(habilitation_changed, dispatch_uid="notifications.habilitation_decision")
def on_habilitation_changed(
    sender: Any,
    *,
    event: str,
    organisation_id: int,
    habilitations: list[Any],
    application: Any,
    reason: str,
    by: Any,
    **kwargs: Any,
) -> None:
    if habilitations:
        # A period and the renewal that followed it share their certification: named once.
        what = ", ".join(dict.fromkeys(str(h.get_certification_display()) for h in habilitations))
        periods = "; ".join(
            _("%(certification)s du %(start)s au %(end)s")
            % {
                "certification": h.get_certification_display(),
                "start": date_format(h.valid_from, "d/m/Y"),
                "end": date_format(h.valid_until, "d/m/Y"),
            }
            for h in habilitations
        )
        url = reverse("organisations:habilitation_detail", args=[habilitations[0].pk])
        key_subject = "-".join(str(h.pk) for h in habilitations)
    else:
        what, periods = ", ".join(application.certification_labels), ""
        url = reverse("organisations:application_detail", args=[application.pk])
        key_subject = f"application-{application.pk}"
    parts = [periods]
    if event == "suspended":
        parts.append(_("Aucun nouveau dossier tant qu'elle est suspendue ; les dossiers en cours se poursuivent."))
    if reason:
        parts.append(_("Motif : %(reason)s") % {"reason": reason})
    body = " ".join(part for part in parts if part)
    notify(
        Event(
            kind="habilitation_decision",
            # Suspended then reinstated, then suspended again: each is its own event (the audit row's time).
            key=f"habilitation_{event}:{key_subject}:{timezone.now().isoformat()}",
            organisation_id=organisation_id,
            title=_habilitation_title(event, max(len(habilitations), 1)) % {"what": what},
            body=body.strip(),
            url=url,
            actor_id=by.user_id if by is not None else None,
        )
    )
