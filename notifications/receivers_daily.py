"""The events nobody triggers, found by the daily job (services.notifications_daily) and the hourly reminders
(services.appointment_reminders_send): their objects and words."""

from __future__ import annotations

import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from candidates.models import Dossier
from notifications.kinds import Event
from notifications.receivers import appointment_event, appointment_summary, appointment_who
from organisations.models import Habilitation
from referrals.models import Referral, referral_expiry_delay
from scheduling.models import Appointment


def deadline_event(dossier: Dossier, *, kind: str, key: str) -> Event:
    """`dossier` has a deadline (the daily job reads only those)."""
    if kind == "deadline_1_month":
        title = _("Échéance des 5 ans dans moins d'un mois : dossier %(ref)s (%(name)s)")
    else:
        title = _("Échéance des 5 ans dans moins de 3 mois : dossier %(ref)s (%(name)s)")
    return Event(
        kind=kind,
        key=key,
        organisation_id=dossier.organisation_id,
        title=title % {"ref": dossier.reference, "name": dossier.candidate.full_name},
        body=_(
            "Le délai se termine le %(date)s. Sans évaluation finale d'ici là, une nouvelle évaluation préalable "
            "sera nécessaire."
        )
        % {"date": date_format(dossier.deadline, "d/m/Y") if dossier.deadline else ""},
        url=reverse("journey:dossier_detail", args=[dossier.pk]),
        dossier=dossier,
    )


def referrals_expiring(*, days: int) -> list[Referral]:
    """Unanswered referrals that expire within `days` days and have not expired yet."""
    now = timezone.now()
    delay = referral_expiry_delay()
    return list(
        Referral.objects.awaiting_answer()
        .filter(sent_at__lte=now - delay + datetime.timedelta(days=days), sent_at__gt=now - delay)
        .select_related("site")
        .order_by("sent_at", "pk")
    )


def referral_expiring_event(referral: Referral, *, key: str) -> Event:
    return Event(
        kind="referral_expiring",
        key=key,
        organisation_id=referral.organisation_id,
        title=_("Orientation sans réponse : %(name)s") % {"name": referral.full_name},
        body=_("Elle expire le %(date)s. Acceptez-la ou déclinez-la avant cette date.")
        % {"date": date_format(timezone.localtime(referral.expires_at), "d/m/Y")},
        url=reverse("referrals:detail", args=[referral.pk]),
        referral=referral,
    )


def appointments_tomorrow(today: datetime.date) -> list[Appointment]:
    """The planned appointments of the day after `today`, a Europe/Paris calendar day (23 or 25 hours long on the
    days the clocks change: hence two midnights, not 24 hours)."""
    tomorrow = today + datetime.timedelta(days=1)
    start = timezone.make_aware(datetime.datetime.combine(tomorrow, datetime.time.min))
    end = timezone.make_aware(datetime.datetime.combine(tomorrow + datetime.timedelta(days=1), datetime.time.min))
    return list(
        Appointment.objects.planned()
        .filter(starts_at__gte=start, starts_at__lt=end)
        .select_related(
            "dossier__candidate",
            "dossier__organisation",
            "site",
            "with_membership__user",
            "with_membership__organisation",
        )
        .order_by("starts_at", "pk")
    )


def appointment_reminder_key(appointment: Appointment) -> str:
    """Keyed on the time too: an appointment moved to another day is reminded again, once, before its new date."""
    return f"appointment_reminder:{appointment.pk}:{appointment.starts_at.astimezone(datetime.UTC):%Y%m%dT%H%MZ}"


def appointment_reminder_event(appointment: Appointment, *, key: str) -> Event:
    time = f"{timezone.localtime(appointment.starts_at):%H:%M}"
    details = appointment_summary(appointment)
    return appointment_event(
        appointment,
        kind="appointment_reminder",
        key=key,
        title=_("Rappel : %(purpose)s demain à %(time)s, %(who)s")
        % {"purpose": appointment.get_purpose_display(), "time": time, "who": appointment_who(appointment)},
        body=details,
        candidate_title=_("Rappel : votre rendez-vous CléA demain à %(time)s") % {"time": time},
        candidate_body=details,
    )


def habilitation_expiring_event(habilitation: Habilitation, *, key: str) -> Event:
    return Event(
        kind="habilitation_expiring",
        key=key,
        organisation_id=habilitation.organisation_id,
        title=_("Votre habilitation %(certification)s prend fin le %(date)s")
        % {
            "certification": habilitation.get_certification_display(),
            "date": date_format(habilitation.valid_until, "d/m/Y"),
        },
        body=_(
            "Demandez son renouvellement dès maintenant : la nouvelle période suit la précédente, sans interruption. "
            "Sans renouvellement, votre organisme ne pourra plus ouvrir de dossier pour cette certification."
        ),
        url=reverse("organisations:habilitation_detail", args=[habilitation.pk]),
    )
