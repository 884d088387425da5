"""The operations on interview requests: each atomic, writing the request, its history row, its audit row (for the
organisation's actions) and its e-mails as outbox rows in the same transaction."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from candidates.models import Dossier
from directory.selectors import sites_nearby
from intake.models import (
    UNANSWERED,
    InterviewRequest,
    InterviewRequestEvent,
    InterviewRequestState,
    new_token,
)
from intake.signals import interview_request_answered, interview_request_confirmed
from organisations.models import Membership, Role, Site, User
from organisations.services import audit_record
from outbox.services import email_add
from scheduling.models import Appointment, AppointmentState
from scheduling.services import (
    information_appointment_attach,
    information_appointment_book,
    information_appointment_cancel,
)

HANDLING_ROLES = (Role.COUNSELLOR, Role.ORG_ADMIN)
# Sites offered to a person whose request expired.
NEARBY_SITES_IN_EXPIRY = 5


def _url(name: str, *args: Any) -> str:
    return settings.SITE_URL.rstrip("/") + reverse(name, args=args)


def _when(moment: datetime.datetime) -> str:
    return date_format(timezone.localtime(moment), "l j F Y à H:i")


def _event(interview_request: InterviewRequest, action: str, *, note: str = "", actor: User | None = None) -> None:
    InterviewRequestEvent.objects.create(
        request=interview_request, action=action, note=note, actor=actor, at=timezone.now()
    )


def _mail(interview_request: InterviewRequest, subject: str, template: str, **context: Any) -> None:
    body = render_to_string(template, {"interview_request": interview_request, **context})
    email_add(subject=subject, body=body, to=[interview_request.email], organisation=interview_request.organisation_id)


def _lock(interview_request: InterviewRequest) -> InterviewRequest:
    return InterviewRequest.objects.select_for_update(of=("self",)).get(pk=interview_request.pk)


def working_days_before(moment: datetime.datetime, days: int) -> datetime.datetime:
    """`days` working days (Monday to Friday; public holidays are not counted out) before `moment`."""
    while days > 0:
        moment -= datetime.timedelta(days=1)
        if timezone.localtime(moment).weekday() < 5:
            days -= 1
    return moment


# -- The person -----------------------------------------------------------------------------------------------------


@transaction.atomic
def interview_request_submit(
    *,
    site: Site,
    certification: str,
    first_name: str,
    last_name: str,
    email: str,
    phone: str = "",
    preferred_times: str = "",
    now: datetime.datetime | None = None,
) -> InterviewRequest:
    """A request from the directory: stored unconfirmed, the organisation sees nothing of it until the person opens
    the link e-mailed here (settings.INTAKE_CONFIRM_LINK_HOURS). Unconfirmed requests are deleted by the retention
    job (settings.DATA_RETENTION["unconfirmed_interview_requests"])."""
    now = now or timezone.now()
    token, digest = new_token()
    interview_request = InterviewRequest.objects.create(
        organisation_id=site.organisation_id,
        site=site,
        certification=certification,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        email=email.strip(),
        phone=phone.strip(),
        preferred_times=preferred_times.strip(),
        consent_at=now,
        created_at=now,
        token_sha256=digest,
        token_expires_at=now + datetime.timedelta(hours=settings.INTAKE_CONFIRM_LINK_HOURS),
    )
    _event(interview_request, "submit")
    _mail(
        interview_request,
        _("CléA : confirmez votre demande d'entretien"),
        "intake/email/confirm.txt",
        url=_url("intake:confirm", token),
        hours=settings.INTAKE_CONFIRM_LINK_HOURS,
    )
    return interview_request


@transaction.atomic
def interview_request_confirm(*, token: str, now: datetime.datetime | None = None) -> InterviewRequest | None:
    """The person opened the e-mailed link and pressed the button: the request reaches the organisation's queue.
    None when the link is unknown, used or expired (the page says the same in every case)."""
    now = now or timezone.now()
    interview_request = (
        InterviewRequest.objects.by_token(token, InterviewRequestState.UNCONFIRMED, now)
        .select_for_update(of=("self",))
        .first()
    )
    if interview_request is None:
        return None
    interview_request.state = InterviewRequestState.WAITING
    interview_request.confirmed_at = now
    interview_request.waiting_since = now
    interview_request.token_sha256 = None
    interview_request.token_expires_at = None
    interview_request.save(update_fields=["state", "confirmed_at", "waiting_since", "token_sha256", "token_expires_at"])
    _event(interview_request, "confirm")
    interview_request_confirmed.send(sender=InterviewRequest, interview_request=interview_request)
    return interview_request


@transaction.atomic
def interview_request_answer(
    *, token: str, accept: bool, message: str = "", now: datetime.datetime | None = None
) -> InterviewRequest | None:
    """The person accepts the proposed meeting, or asks for another time (with a short message): the organisation
    sees it in its queue. None when the link is unknown, used or expired."""
    now = now or timezone.now()
    interview_request = (
        InterviewRequest.objects.by_token(token, InterviewRequestState.PROPOSED, now)
        .select_for_update(of=("self",))
        .first()
    )
    if interview_request is None:
        return None
    interview_request.state = InterviewRequestState.ACCEPTED if accept else InterviewRequestState.OTHER_TIME
    interview_request.answer_message = message.strip()
    interview_request.answered_at = now
    interview_request.token_sha256 = None
    interview_request.token_expires_at = None
    fields = ["state", "answer_message", "answered_at", "token_sha256", "token_expires_at"]
    if not accept:
        # The organisation has to answer again: its reminder and the expiry count afresh; the slot leaves the
        # counsellor's agenda.
        interview_request.waiting_since = now
        interview_request.reminded_at = None
        fields += ["waiting_since", "reminded_at"]
        if interview_request.appointment is not None:
            information_appointment_cancel(
                appointment=interview_request.appointment,
                reason=_("La personne demande un autre horaire"),
                by=None,
            )
    interview_request.save(update_fields=fields)
    _event(interview_request, "accept" if accept else "other_time", note=interview_request.answer_message)
    interview_request_answered.send(sender=InterviewRequest, interview_request=interview_request)
    return interview_request


# -- The organisation -----------------------------------------------------------------------------------------------


def _check_handler(interview_request: InterviewRequest, by: Membership) -> None:
    if by.role not in HANDLING_ROLES or by.organisation_id != interview_request.organisation_id:
        raise PermissionDenied


def proposable_memberships(organisation_id: int) -> list[Membership]:
    """Who holds the information interview: the organisation's active counsellors."""
    return list(
        Membership.objects.active()
        .filter(organisation_id=organisation_id, role=Role.COUNSELLOR)
        .select_related("user")
        .order_by("user__last_name", "user__first_name")
    )


@transaction.atomic
def interview_request_propose(
    *,
    interview_request: InterviewRequest,
    by: Membership,
    starts_at: datetime.datetime,
    duration_minutes: int,
    with_membership: Membership,
    place: str,
    request: HttpRequest | None = None,
    now: datetime.datetime | None = None,
) -> tuple[InterviewRequest, str]:
    """Propose a meeting (or another one): checked like an appointment (a date to come, 15 to 480 minutes, a
    counsellor of the organisation free then in the platform's agenda). E-mails the person the date, the place,
    and a link to accept or ask for another time; returns the request and that link's token."""
    _check_handler(interview_request, by)
    now = now or timezone.now()
    interview_request = _lock(interview_request)
    if not interview_request.may_propose:
        raise ValidationError(_("Cette demande est close : il n'y a plus de rendez-vous à proposer."))
    errors: dict[str, str] = {}
    if not place.strip():
        errors["place"] = _("Indiquez le lieu, ou le lien de visioconférence, du rendez-vous.")
    previous = interview_request.appointment
    if previous is not None and previous.state == AppointmentState.PLANNED:
        # Another time proposed while the last one stands: it leaves the counsellor's agenda first (so that the new
        # one may take its slot). Rolled back with everything else when the new one is refused.
        previous = information_appointment_cancel(
            appointment=previous, reason=_("L'organisme propose un autre horaire"), by=by
        )
    try:
        appointment = information_appointment_book(
            organisation_id=interview_request.organisation_id,
            site=interview_request.site,
            with_membership=with_membership,
            starts_at=starts_at,
            duration_minutes=duration_minutes,
            person_name=interview_request.full_name,
            person_email=interview_request.email,
            by=by,
            replaces=previous if previous is not None and previous.can_be_rebooked else None,
            request=request,
            now=now,
        )
    except ValidationError as exc:
        if errors:
            raise ValidationError({**errors, **exc.message_dict}) from exc
        raise
    if errors:
        raise ValidationError(errors)
    token, digest = new_token()
    interview_request.state = InterviewRequestState.PROPOSED
    interview_request.appointment = appointment
    interview_request.proposed_place = place.strip()
    interview_request.answer_message = ""
    interview_request.answered_at = None
    interview_request.token_sha256 = digest
    # The link answers until the meeting itself.
    interview_request.token_expires_at = starts_at
    interview_request.save(
        update_fields=[
            "state",
            "appointment",
            "proposed_place",
            "answer_message",
            "answered_at",
            "token_sha256",
            "token_expires_at",
        ]
    )
    note = _("Rendez-vous proposé le %(when)s avec %(name)s, %(place)s") % {
        "when": _when(starts_at),
        "name": with_membership.user.get_full_name(),
        "place": interview_request.proposed_place,
    }
    _event(interview_request, "propose", note=note, actor=by.user)
    audit_record(
        action="intake.propose",
        actor=by.user,
        organisation=interview_request.organisation_id,
        obj=interview_request,
        request=request,
        details={"starts_at": starts_at.isoformat(), "with": with_membership.pk},
    )
    _mail(
        interview_request,
        _("CléA : un rendez-vous vous est proposé"),
        "intake/email/proposal.txt",
        when=_when(starts_at),
        minutes=duration_minutes,
        with_name=with_membership.user.get_full_name(),
        url=_url("intake:answer", token),
        ics_url=_url("intake:answer_ics", token),
    )
    return interview_request, token


@transaction.atomic
def interview_request_convert(
    *, interview_request: InterviewRequest, dossier: Dossier, by: Membership, request: HttpRequest | None = None
) -> InterviewRequest:
    """The interview took place and the counsellor opened the information dossier: the request is closed, linked
    to it. Called in the transaction that creates the dossier."""
    _check_handler(interview_request, by)
    interview_request = _lock(interview_request)
    if not interview_request.may_convert or dossier.organisation_id != interview_request.organisation_id:
        raise ValidationError(_("Cette demande est close : un dossier ne peut plus en être ouvert."))
    interview_request.state = InterviewRequestState.CONVERTED
    interview_request.dossier = dossier
    interview_request.closed_at = timezone.now()
    interview_request.token_sha256 = None
    interview_request.token_expires_at = None
    interview_request.save(update_fields=["state", "dossier", "closed_at", "token_sha256", "token_expires_at"])
    appointment = interview_request.appointment
    if appointment is not None and appointment.state != AppointmentState.CANCELLED and appointment.dossier_id is None:
        # The interview that led to the dossier: it joins it (done if it has taken place).
        information_appointment_attach(appointment=appointment, dossier=dossier, by=by)
    _event(interview_request, "convert", note=_("Dossier %(ref)s ouvert") % {"ref": dossier.reference}, actor=by.user)
    audit_record(
        action="intake.convert",
        actor=by.user,
        organisation=interview_request.organisation_id,
        obj=interview_request,
        request=request,
        details={"dossier": dossier.pk},
    )
    return interview_request


def interview_request_appointment_cancelled(*, appointment: Appointment, reason: str, by: User | None) -> None:
    """The proposed appointment was cancelled from the agenda (scheduling told the person): the request waits for a
    new proposal again, its answer link no longer works. Inside the cancellation's transaction."""
    interview_request = (
        InterviewRequest.objects.select_for_update(of=("self",))
        .filter(appointment=appointment, state__in=(InterviewRequestState.PROPOSED, InterviewRequestState.ACCEPTED))
        .first()
    )
    if interview_request is None:
        return
    now = timezone.now()
    interview_request.state = InterviewRequestState.WAITING
    interview_request.waiting_since = now
    interview_request.reminded_at = None
    interview_request.token_sha256 = None
    interview_request.token_expires_at = None
    interview_request.save(update_fields=["state", "waiting_since", "reminded_at", "token_sha256", "token_expires_at"])
    _event(interview_request, "cancelled", note=reason, actor=by)


# -- Time -----------------------------------------------------------------------------------------------------------


def _nearby_sites(interview_request: InterviewRequest) -> list[Site]:
    """Other organisations' sites near the one asked, for the same certification (the directory's own order)."""
    site = interview_request.site
    found = sites_nearby(
        latitude=float(site.latitude), longitude=float(site.longitude), certification=interview_request.certification
    )
    return [entry.site for entry in found.results if entry.site.organisation_id != interview_request.organisation_id][
        :NEARBY_SITES_IN_EXPIRY
    ]


def _organisation_addresses(interview_request: InterviewRequest) -> list[str]:
    return [interview_request.site.contact_email or interview_request.site.organisation.email]


@transaction.atomic
def interview_request_remind(*, interview_request: InterviewRequest, now: datetime.datetime) -> bool:
    """Tell the organisation that a request waits for its answer; once per wait."""
    interview_request = _lock(interview_request)
    if interview_request.state not in UNANSWERED or interview_request.reminded_at is not None:
        return False
    interview_request.reminded_at = now
    interview_request.save(update_fields=["reminded_at"])
    _event(interview_request, "remind")
    email_add(
        subject=_("CléA : une demande d'entretien attend votre réponse"),
        body=render_to_string(
            "intake/email/reminder.txt",
            {"interview_request": interview_request, "url": _url("intake:detail", interview_request.pk)},
        ),
        to=_organisation_addresses(interview_request),
        organisation=interview_request.organisation_id,
    )
    return True


@transaction.atomic
def interview_request_expire(*, interview_request: InterviewRequest, now: datetime.datetime) -> bool:
    """Close a request the organisation left unanswered, and point the person to the other sites nearby."""
    interview_request = _lock(interview_request)
    if interview_request.state not in UNANSWERED:
        return False
    interview_request.state = InterviewRequestState.EXPIRED
    interview_request.closed_at = now
    interview_request.save(update_fields=["state", "closed_at"])
    _event(interview_request, "expire")
    audit_record(
        action="intake.expire", actor=None, organisation=interview_request.organisation_id, obj=interview_request
    )
    _mail(
        interview_request,
        _("CléA : votre demande d'entretien est restée sans réponse"),
        "intake/email/expired.txt",
        sites=_nearby_sites(interview_request),
        directory_url=_url("directory:search"),
    )
    return True


def interview_requests_follow_up(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Daily: remind the organisations of the requests unanswered for INTAKE_REMIND_AFTER_WORKING_DAYS, expire those
    still unanswered INTAKE_EXPIRE_AFTER_WORKING_DAYS after the reminder. Each request in its own transaction,
    checked again under its lock: running twice does nothing more."""
    now = now or timezone.now()
    remind_before = working_days_before(now, settings.INTAKE_REMIND_AFTER_WORKING_DAYS)
    expire_before = working_days_before(now, settings.INTAKE_EXPIRE_AFTER_WORKING_DAYS)
    unanswered = InterviewRequest.objects.filter(state__in=UNANSWERED)
    reminded = sum(
        interview_request_remind(interview_request=row, now=now)
        for row in unanswered.filter(reminded_at__isnull=True, waiting_since__lte=remind_before)
    )
    expired = sum(
        interview_request_expire(interview_request=row, now=now)
        for row in unanswered.filter(reminded_at__lte=expire_before)
    )
    return {"reminded": reminded, "expired": expired}
