"""Habilitations instructed on the platform: an evaluator organisation's administrators apply, Certif'Pro grants
or refuses, renews, suspends, reinstates, withdraws.

Each action is atomic: it locks its row, moves its state machine through organisations.transitions (which checks
the role and writes the audit row), then sends `habilitation_changed` in the same transaction, on which funding
records the fees of a new period and notifications tell the organisation's administrators (their e-mails are
outbox rows). Its own module rather than services.py: organisations.transitions imports services.py.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from clea_platform.certifications import Certification
from clea_platform.errors import BusinessRefusal
from clea_platform.locks import serialise_on
from organisations.models import (
    ApplicationKind,
    ApplicationState,
    Habilitation,
    HabilitationApplication,
    HabilitationStatus,
    Membership,
    OrganisationKind,
    Role,
    Site,
)
from organisations.services import audit_record
from organisations.signals import habilitation_changed
from organisations.transitions import transition_apply, transition_lock

# The longest period Certif'Pro grants in one decision (a habilitation is reviewed at least this often).
MAX_PERIOD = datetime.timedelta(days=5 * 366)


class HabilitationRefusal(BusinessRefusal):
    """The habilitation or its application cannot take this step now; the message says why, in French."""

    code = "habilitation_refused"


def _changed(locked: Any) -> HabilitationRefusal:
    return HabilitationRefusal(_("Elle a été instruite entre-temps : rechargez la page."))


def _refused(obj: Any, name: str) -> HabilitationRefusal:
    if isinstance(obj, HabilitationApplication):
        return HabilitationRefusal(
            _("Cette demande est « %(state)s » : elle n'attend plus d'instruction.")
            % {"state": obj.get_state_display()}
        )
    return HabilitationRefusal(
        _("Cette habilitation est « %(state)s » : ce n'est pas possible.") % {"state": obj.get_status_display()}
    )


def _announce(
    event: str,
    *,
    organisation_id: int,
    by: Membership,
    habilitations: Iterable[Habilitation] = (),
    application: HabilitationApplication | None = None,
    reason: str = "",
) -> None:
    habilitation_changed.send(
        sender=Habilitation,
        event=event,
        organisation_id=organisation_id,
        habilitations=list(habilitations),
        application=application,
        reason=reason,
        by=by,
    )


def _check_period(valid_from: datetime.date, valid_until: datetime.date) -> None:
    if valid_until < valid_from:
        raise HabilitationRefusal(_("La fin de la période précède son début."), field="valid_until")
    if valid_until - valid_from > MAX_PERIOD:
        raise HabilitationRefusal(_("Une habilitation est accordée pour 5 ans au plus."), field="valid_until")


def _suspended_refusal() -> HabilitationRefusal:
    # A renewal granted now would start active and lift the suspension by itself on its first day.
    return HabilitationRefusal(
        _("Cette habilitation est suspendue : rétablissez-la avant de la renouveler, ou retirez-la.")
    )


def _serialise_periods(organisation_id: int, certification: str) -> None:
    """A grant and a direct renewal of the same organisation's certification at once would both read the same
    current period and both follow it."""
    serialise_on(f"habilitation-period:{organisation_id}:{certification}")


def _create_period(**fields: Any) -> Habilitation:
    try:
        with transaction.atomic():  # a savepoint: the refusal leaves the caller's transaction usable
            return Habilitation.objects.create(**fields)
    except IntegrityError as exc:  # one renewal per period: another decision got there first
        raise HabilitationRefusal(_("Cette habilitation est déjà renouvelée.")) from exc


def _current(organisation_id: int, certification: str) -> Habilitation | None:
    """The organisation's latest habilitation for the certification not yet ended nor withdrawn (active or
    suspended, current or to come), or None."""
    return (
        Habilitation.objects.filter(
            organisation_id=organisation_id,
            certification=certification,
            status__in=[HabilitationStatus.ACTIVE, HabilitationStatus.SUSPENDED],
            valid_until__gte=timezone.localdate(),
        )
        .order_by("-valid_until")
        .first()
    )


@transaction.atomic
def habilitation_apply(
    *,
    by: Membership,
    kind: str,
    certifications: list[str],
    sites: Iterable[Site],
    requested_from: datetime.date,
    requested_until: datetime.date,
    note: str = "",
    request: HttpRequest | None = None,
) -> HabilitationApplication:
    """Record an evaluator organisation's application: first habilitations for certifications it does not hold, or
    the renewal of those it holds (the new period then follows the current one). Refused when a certification is
    already awaiting instruction, already held (first) or not held (renewal), or a site is not the organisation's."""
    if by.role != Role.ORG_ADMIN or by.organisation.kind != OrganisationKind.EVALUATOR:
        raise PermissionDenied
    organisation_id = by.organisation_id
    certifications = [code for code in Certification.values if code in set(certifications)]
    if not certifications:
        raise HabilitationRefusal(_("Choisissez au moins une certification."), field="certifications")
    sites = list(sites)
    if not sites:
        raise HabilitationRefusal(_("Choisissez au moins un site."), field="sites")
    if any(site.organisation_id != organisation_id or not site.is_active for site in sites):
        raise PermissionDenied
    _check_period(requested_from, requested_until)
    # Two administrators (or two tabs) applying at once would both pass the "already awaiting" check.
    serialise_on(f"habilitation-apply:{organisation_id}")
    pending = HabilitationApplication.objects.submitted().filter(organisation_id=organisation_id)
    for code in certifications:
        label = Certification(code).label
        if any(code in application.certifications for application in pending):
            raise HabilitationRefusal(
                _("Une demande pour %(certification)s attend déjà l'instruction de Certif'Pro.")
                % {"certification": label},
                field="certifications",
            )
        current = _current(organisation_id, code)
        if kind == ApplicationKind.FIRST and current is not None:
            raise HabilitationRefusal(
                _("Votre organisme est déjà habilité pour %(certification)s : demandez son renouvellement.")
                % {"certification": label},
                field="certifications",
            )
        if kind == ApplicationKind.RENEWAL and current is None:
            raise HabilitationRefusal(
                _("Votre organisme n'a pas d'habilitation en cours pour %(certification)s à renouveler.")
                % {"certification": label},
                field="certifications",
            )
    application = HabilitationApplication.objects.create(
        organisation_id=organisation_id,
        kind=kind,
        certifications=certifications,
        requested_from=requested_from,
        requested_until=requested_until,
        note=note.strip(),
        submitted_by=by.user,
    )
    application.sites.set(sites)
    audit_record(
        action="habilitation_application.submit",
        actor=by.user,
        organisation=organisation_id,
        obj=application,
        request=request,
        details={"kind": kind, "certifications": certifications, "sites": sorted(site.pk for site in sites)},
    )
    return application


@transaction.atomic
def habilitation_application_grant(
    *,
    application: HabilitationApplication,
    by: Membership,
    valid_from: datetime.date,
    valid_until: datetime.date,
    request: HttpRequest | None = None,
) -> list[Habilitation]:
    """Grant the application: one habilitation per certification, over the period Certif'Pro sets. A renewal's
    period starts the day after the current one ends, whatever `valid_from` says (no gap, no overlap); when that
    period has ended meanwhile, it starts at `valid_from`, as a first one. Announces
    `granted`: funding records the period's fees, the organisation's administrators are told."""
    if not by.is_certifpro:
        raise PermissionDenied
    locked = transition_lock(application, changed=_changed)
    if locked.state != ApplicationState.SUBMITTED:
        raise _refused(locked, "grant")
    habilitations = []
    for code in locked.certifications:
        _serialise_periods(locked.organisation_id, code)
        current = _current(locked.organisation_id, code)
        previous = None
        start = valid_from
        # A renewal instructed after the period it renews ended (or was withdrawn) starts a period of its own, from
        # `valid_from`, as a first habilitation would: the organisation applied in time, it is not sent back.
        if locked.kind == ApplicationKind.RENEWAL and current is not None:
            if current.status == HabilitationStatus.SUSPENDED:
                raise _suspended_refusal()
            previous, start = current, current.valid_until + datetime.timedelta(days=1)
        elif current is not None:
            raise HabilitationRefusal(
                _("L'organisme est déjà habilité pour %(certification)s.")
                % {"certification": Certification(code).label}
            )
        _check_period(start, valid_until)
        habilitations.append(
            _create_period(
                organisation_id=locked.organisation_id,
                certification=code,
                valid_from=start,
                valid_until=valid_until,
                application=locked,
                previous=previous,
            )
        )
    transition_apply(
        locked,
        "grant",
        by=by,
        refused=_refused,
        action="habilitation_application",
        request=request,
        details={"habilitations": [h.pk for h in habilitations], "until": valid_until.isoformat()},
        decided_by=by.user,
        at=timezone.now(),
    )
    _announce(
        "renewed" if locked.kind == ApplicationKind.RENEWAL else "granted",
        organisation_id=locked.organisation_id,
        by=by,
        habilitations=habilitations,
        application=locked,
    )
    return habilitations


def _reason(reason: str, message: str) -> str:
    reason = reason.strip()
    if not reason:
        raise HabilitationRefusal(message, field="reason")
    return reason


@transaction.atomic
def habilitation_application_refuse(
    *, application: HabilitationApplication, by: Membership, reason: str, request: HttpRequest | None = None
) -> HabilitationApplication:
    """Refuse the application with a reason, which the organisation's administrators read (announced)."""
    if not by.is_certifpro:
        raise PermissionDenied
    reason = _reason(reason, _("Indiquez le motif du refus."))
    locked = transition_lock(application, changed=_changed)
    transition_apply(
        locked,
        "refuse",
        by=by,
        refused=_refused,
        action="habilitation_application",
        request=request,
        note=reason,
        decided_by=by.user,
        at=timezone.now(),
        reason=reason,
    )
    _announce("refused", organisation_id=locked.organisation_id, by=by, application=locked, reason=reason)
    return locked


@transaction.atomic
def habilitation_renew(
    *, habilitation: Habilitation, by: Membership, valid_until: datetime.date, request: HttpRequest | None = None
) -> Habilitation:
    """Certif'Pro renews a habilitation without an application: a new period from the day after the current one
    ends until `valid_until`. Refused for a habilitation suspended, withdrawn, ended, or already renewed. Announces
    `renewed` (its establishment fee, the organisation's administrators)."""
    if not by.is_certifpro:
        raise PermissionDenied
    # The period's lock before the row's, as a grant takes it: the grant's new row checks its `previous` key at
    # commit (a deferred foreign key), which would wait on this row's lock while we wait on the grant's.
    _serialise_periods(habilitation.organisation_id, habilitation.certification)
    locked = Habilitation.objects.select_for_update(of=("self",)).get(pk=habilitation.pk)
    if locked.status == HabilitationStatus.WITHDRAWN or locked.valid_until < timezone.localdate():
        raise HabilitationRefusal(
            _("Une habilitation retirée ou terminée ne se renouvelle pas : accordez-en une nouvelle.")
        )
    if locked.status == HabilitationStatus.SUSPENDED:
        raise _suspended_refusal()
    if Habilitation.objects.renewing(locked).exists():
        raise HabilitationRefusal(_("Cette habilitation est déjà renouvelée."))
    start = locked.valid_until + datetime.timedelta(days=1)
    _check_period(start, valid_until)
    renewal = _create_period(
        organisation_id=locked.organisation_id,
        certification=locked.certification,
        valid_from=start,
        valid_until=valid_until,
        previous=locked,  # no application: none was made (and no application fee is owed)
    )
    audit_record(
        action="habilitation.renew",
        actor=by.user,
        organisation=locked.organisation_id,
        obj=renewal,
        request=request,
        details={"previous": locked.pk, "from": start.isoformat(), "until": valid_until.isoformat()},
    )
    _announce("renewed", organisation_id=locked.organisation_id, by=by, habilitations=[renewal])
    return renewal


def _habilitation_transition(
    *, habilitation: Habilitation, name: str, event: str, by: Membership, reason: str, request: HttpRequest | None
) -> Habilitation:
    if not by.is_certifpro:
        raise PermissionDenied
    locked = transition_lock(habilitation, changed=_changed)
    transition_apply(
        locked, name, by=by, refused=_refused, action="habilitation", request=request, note=reason, reason=reason
    )
    # The periods already granted after this one follow it: a withdrawal or a suspension that the next period
    # would lift by itself on its first day is none. A later period already in the target state stays as it is.
    moved = [locked]
    row: Habilitation | None = locked
    while (row := Habilitation.objects.select_for_update(of=("self",)).renewing(row).first()) is not None:
        if can_proceed(getattr(row, name)):
            transition_apply(
                row,
                name,
                by=by,
                refused=_refused,
                action="habilitation",
                request=request,
                note=reason,
                details={"following": locked.pk},
                reason=reason,
            )
            moved.append(row)
    _announce(event, organisation_id=locked.organisation_id, by=by, habilitations=moved, reason=reason)
    return locked


@transaction.atomic
def habilitation_suspend(
    *, habilitation: Habilitation, by: Membership, reason: str, request: HttpRequest | None = None
) -> Habilitation:
    """Suspend with a reason, with any period already granted after it: no new dossier while suspended (create,
    open, transfer in, directory, referrals all read `in_force`); the dossiers already opened go on, their prior
    evaluation included (`covering`)."""
    reason = _reason(reason, _("Indiquez le motif de la suspension."))
    return _habilitation_transition(
        habilitation=habilitation, name="suspend", event="suspended", by=by, reason=reason, request=request
    )


@transaction.atomic
def habilitation_reinstate(
    *, habilitation: Habilitation, by: Membership, reason: str = "", request: HttpRequest | None = None
) -> Habilitation:
    """End a suspension, of the periods already granted after it too: new dossiers are possible again, within
    the period."""
    return _habilitation_transition(
        habilitation=habilitation, name="reinstate", event="reinstated", by=by, reason=reason.strip(), request=request
    )


@transaction.atomic
def habilitation_withdraw(
    *, habilitation: Habilitation, by: Membership, reason: str, request: HttpRequest | None = None
) -> Habilitation:
    """Withdraw for good, with a reason, with any period already granted after it: no new dossier, and an opened
    dossier cannot start its prior evaluation (`covering`; a counsellor may move it to another organisation); the
    dossiers further on go on, as after a suspension (the issue: current dossiers go on)."""
    reason = _reason(reason, _("Indiquez le motif du retrait."))
    return _habilitation_transition(
        habilitation=habilitation, name="withdraw", event="withdrawn", by=by, reason=reason, request=request
    )
