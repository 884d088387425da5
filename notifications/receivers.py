"""What the apps below announce, told to the people concerned (issue 17). Each receiver runs inside the event's
transaction (`send`, not `send_robust`): its notifications and their e-mails' side effects commit with the event
or not at all. Who hears of what is the table in kinds.py; here, each event's key and words."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from candidates.models import Dossier
from evaluations.models import EvaluationKind
from evaluations.signals import attestation_ready, evaluation_closed
from juries.models import DecisionKind, SessionState
from juries.signals import certificate_created, decision_recorded, dossier_submitted, session_convened
from notifications.kinds import Event
from notifications.services import notify
from referrals.models import ReferralState
from referrals.signals import referral_answered, referral_sent
from training.signals import training_plan_completed, training_plan_created


def _actor(by: Any) -> int | None:
    return by.user_id if by is not None else None


def _dossier_url(dossier: Dossier) -> str:
    return reverse("journey:dossier_detail", args=[dossier.pk])


def _who(dossier: Dossier) -> str:
    return _("dossier %(ref)s (%(name)s)") % {"ref": dossier.reference, "name": dossier.candidate.full_name}


def _day(value: Any) -> str:
    return date_format(timezone.localtime(value) if hasattr(value, "tzinfo") else value, "d/m/Y")


@receiver(evaluation_closed, dispatch_uid="notifications.evaluation_closed")
def on_evaluation_closed(
    sender: Any, *, evaluation: Any, dossier: Dossier, outcome: Any, by: Any = None, **kwargs: Any
) -> None:
    validated, total = len(outcome.validated_domains), len(outcome.domains)
    if evaluation.kind == EvaluationKind.PRIOR:
        title = _("Évaluation préalable clôturée : %(who)s") % {"who": _who(dossier)}
    else:
        title = _("Évaluation finale clôturée : %(who)s") % {"who": _who(dossier)}
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
            % {"number": attestation.number, "who": _who(dossier)},
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
            % {"cycle": plan.cycle, "who": _who(dossier)},
            body=_("Du %(start)s au %(end)s.") % {"start": _day(plan.starts_on), "end": _day(plan.ends_on)},
            url=reverse("training:plan_detail", args=[plan.pk]),
            actor_id=_actor(by),
            dossier=dossier,
            plan=plan,
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
            title=_("Formation terminée : %(who)s") % {"who": _who(dossier)},
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
            title=_("Décision du jury : %(decision)s, %(who)s") % {"decision": label, "who": _who(dossier)},
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
            % {"number": certificate.number, "who": _who(dossier)},
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
