"""Every change to a dossier goes through here: one transaction, the row locked, the transition applied,
a timeline event and an audit entry written, side effects queued on commit."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext

from candidates.exports import dossier_export_headers, dossier_export_rows
from candidates.models import (
    CANDIDATE_IDENTITY_FIELDS,
    CORRECTION_MESSAGE_MAX_LENGTH,
    NOTE_MAX_LENGTH,
    TRANSFERABLE_STATES,
    Candidate,
    CorrectionRequest,
    CorrectionState,
    Dossier,
    DossierEvent,
    DossierNote,
    DossierQuerySet,
    DossierState,
    DossierTransfer,
    identity_key,
)
from candidates.signals import (
    correction_answered,
    correction_requested,
    dossier_transfer_started,
    dossier_transferred,
    dossier_withdrawal_started,
    dossier_withdrawn,
)
from clea_platform import spreadsheets
from clea_platform.errors import BusinessRefusal
from clea_platform.locks import serialise_on
from clea_platform.ratelimit import over_limit
from organisations.models import Habilitation, Membership, Organisation, Role
from organisations.services import audit_record
from organisations.transitions import transition_apply, transition_lock
from outbox.services import email_add
from referentiels.models import Referentiel

REFERENCE_PREFIX = {"clea": "CLEA", "clea_numerique": "CLEANUM", "clea_management": "CLEAMGT"}


class DossierConflict(BusinessRefusal):
    """The dossier changed since the user loaded it (another tab, a colleague): refuse rather than lose."""

    code = "conflict"


class TransitionRefused(BusinessRefusal):
    """The state machine does not allow this step now; the message says why, in French."""

    code = "transition_refused"


class NewDossierRefusal(BusinessRefusal):
    """A new dossier for this person and certification is refused; `dossier` is the existing one when it
    belongs to the asking organisation (screens link to it), None otherwise: nothing of another organisation."""

    def __init__(self, message: str, *, dossier: Dossier | None = None) -> None:
        super().__init__(message)
        self.dossier = dossier


class DossierAlreadyOpen(NewDossierRefusal):
    """The person already has a dossier in progress for this certification: one at a time, platform-wide."""

    code = "dossier_already_open"


class AlreadyCertified(NewDossierRefusal):
    """The person already holds this certification, through the asking organisation (another certification
    remains possible)."""

    code = "already_certified"


class DossierElsewhere(NewDossierRefusal):
    """The person has a dossier in progress, or the certification, through another organisation: one answer for
    both, so that the asking organisation learns neither which organisation nor where the other journey stands."""

    code = "dossier_elsewhere"


def dossier_new_refusal(
    *,
    organisation_id: int,
    first_name: str,
    last_name: str,
    birth_date: datetime.date,
    certification: str,
    other_than_candidate: int | None = None,
) -> NewDossierRefusal | None:
    """Why the person (folded names and birth date) may not have a new dossier for this certification: a
    dossier in progress anywhere, or the certification already obtained. None when a new dossier is allowed;
    after a refusal by the jury, an abandon or the 5-year deadline, a new attempt starts a new dossier.

    The asking organisation's own dossier is named and linked (`dossier`). Another organisation's is not
    described at all: the same DossierElsewhere, word for word, whether it is in progress or certified, with no
    organisation, reference, counsellor, date or step; the one-dossier rule holds nationally all the same, and
    Certif'Pro, who sees every dossier, sorts out a change of organisation or two people with one identity.
    `other_than_candidate` leaves out that candidate's own dossiers (correcting a person's identity checks it
    against everyone else)."""
    same_person = Dossier.objects.filter(
        candidate__identity_key=identity_key(first_name, last_name),
        candidate__birth_date=birth_date,
        certification=certification,
    )
    if other_than_candidate is not None:
        same_person = same_person.exclude(candidate_id=other_than_candidate)
    # A revoked award moves the dossier back before the jury (decision_revoke): "certified" means held.
    here = same_person.filter(organisation_id=organisation_id)
    held = here.filter(state=DossierState.CERTIFIED).only("id", "reference").first()
    if held is not None:
        return AlreadyCertified(
            _(
                "Cette personne est déjà titulaire de cette certification (dossier %(ref)s) : un nouveau dossier "
                "n'est pas possible. Elle peut en ouvrir un pour une autre certification."
            )
            % {"ref": held.reference},
            dossier=held,
        )
    own = here.open().only("id", "reference").first()
    if own is not None:
        return DossierAlreadyOpen(
            _("Cette personne a déjà un dossier en cours dans votre organisme pour cette certification : %(ref)s.")
            % {"ref": own.reference},
            dossier=own,
        )
    if same_person.open_or_certified().exists():
        return DossierElsewhere(
            _(
                "Cette personne a déjà un parcours pour cette certification dans un autre organisme : un nouveau "
                "dossier n'est pas possible ici. Si elle souhaite changer d'organisme, ou si vous pensez qu'il "
                "s'agit d'une autre personne (même nom, même date de naissance), contactez Certif'Pro."
            )
        )
    return None


def _serialise_person(identity: dict[str, Any], certification: str) -> None:
    serialise_on(
        f"dossier-new:{identity_key(identity['first_name'], identity['last_name'])}:"
        f"{identity['birth_date']:%Y-%m-%d}:{certification}"
    )


# Opening (Dossier.open) needs a habilitation in force: a suspended one takes no new dossier, the current ones go on
# (Habilitation.covering). The information interview itself commits to nothing; the screens and the API that record
# it offer only the certifications in force.
NO_NEW_DOSSIER = _lazy(
    "Votre organisme n'a pas d'habilitation en cours pour cette certification (aucune, suspendue ou terminée) : "
    "il ne peut pas ouvrir de nouveau dossier. Les dossiers déjà ouverts se poursuivent."
)


@transaction.atomic
def dossier_create(
    *, membership: Membership, candidate_data: dict[str, Any], certification: str, request: HttpRequest | None = None
) -> Dossier:
    """Record the information interview: the candidate and a dossier in the "information" step.

    Refused (dossier_new_refusal) when the person has a dossier in progress for the certification, here or
    elsewhere, or already holds it."""
    if membership.role != Role.COUNSELLOR:
        raise PermissionDenied
    # Two counsellors (or two tabs) opening a dossier for the same person at once would both pass the check.
    _serialise_person(candidate_data, certification)
    refusal = dossier_new_refusal(
        organisation_id=membership.organisation_id,
        first_name=candidate_data["first_name"],
        last_name=candidate_data["last_name"],
        birth_date=candidate_data["birth_date"],
        certification=certification,
    )
    if refusal is not None:
        raise refusal
    referentiel = Referentiel.objects.current_for(certification)
    candidate = Candidate.objects.create(organisation=membership.organisation, **candidate_data)
    dossier = Dossier.objects.create(
        organisation=membership.organisation,
        candidate=candidate,
        certification=certification,
        referentiel=referentiel,
        counsellor=membership.user,
    )
    dossier.reference = f"{REFERENCE_PREFIX[certification]}-{timezone.localdate():%Y}-{dossier.pk:06d}"
    dossier.save(update_fields=["reference"])
    dossier.record_event(actor=membership.user, to_state=dossier.state, note=_("Entretien d'information et de conseil"))
    audit_record(
        action="dossier.create",
        actor=membership.user,
        organisation=membership.organisation,
        obj=dossier,
        request=request,
    )
    return dossier


@transaction.atomic
def dossiers_export(
    *,
    by: Membership,
    dossiers: DossierQuerySet,
    fmt: str,
    filters: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> bytes:
    """The dossiers as a CSV or XLSX file (`dossiers` is the list's queryset: scoped, filtered and sorted by
    the caller). Personal data leaves the platform: the audit log keeps who, how many and which `filters`."""
    with_organisation = by.is_certifpro
    headers = dossier_export_headers(with_organisation=with_organisation)
    rows = list(dossier_export_rows(dossiers, with_organisation=with_organisation))
    if fmt == "xlsx":
        content = spreadsheets.to_xlsx(headers, rows, title=_("Dossiers"))
    else:
        content = spreadsheets.to_csv(headers, rows)
    audit_record(
        action="dossier.export",
        actor=by.user,
        organisation=by.organisation_id,
        request=request,
        details={"format": fmt, "rows": len(rows), "filters": filters or {}},
    )
    return content


# Who may correct a candidate's identity and contact details: the organisation's counsellors and administrators.
CANDIDATE_CORRECTION_ROLES = (Role.COUNSELLOR, Role.ORG_ADMIN)


@transaction.atomic
def candidate_correct(
    *, candidate: Candidate, by: Membership, data: dict[str, Any], request: HttpRequest | None = None
) -> list[str]:
    """Correct the candidate's identity and contact details (the keys of CANDIDATE_IDENTITY_FIELDS in `data`),
    and return the names of the fields that changed. Writes the candidate, one timeline event on each of their
    dossiers and an audit row; nothing when nothing changed.

    The event and the audit row name the fields, never their old or new values: the timeline is read by
    everyone who follows the dossier (evaluators, trainers' organisations, jury members, Certif'Pro) and kept
    as long as the dossier, so a former name or address copied there would outlive the correction it was
    meant to replace (GDPR: minimisation, and rectification that leaves no stale copy)."""
    if by.role not in CANDIDATE_CORRECTION_ROLES or candidate.organisation_id != by.organisation_id:
        raise PermissionDenied
    return _identity_write(
        candidate=candidate,
        by=by,
        data=data,
        fields=CANDIDATE_IDENTITY_FIELDS,
        transition="candidate_correct",
        note=lambda count, labels: (
            ngettext(
                "Identité et coordonnées du candidat corrigées (%(count)s champ) : %(fields)s.",
                "Identité et coordonnées du candidat corrigées (%(count)s champs) : %(fields)s.",
                count,
            )
            % {"count": count, "fields": labels}
        ),
        action="candidate.correct",
        organisation=by.organisation_id,
        request=request,
    )


def _identity_write(
    *,
    candidate: Candidate,
    by: Membership,
    data: dict[str, Any],
    fields: Iterable[str],
    transition: str,
    note: Callable[[int, str], str],
    action: str,
    organisation: int | None,
    request: HttpRequest | None,
) -> list[str]:
    """What a correction of the identity writes, whoever makes it: the fields that changed under the candidate's row
    lock (none once erased for good), the one-holder rule when the person's keys move, one timeline event on each of
    their dossiers and an audit row naming the fields, never their values."""
    candidate = Candidate.objects.select_for_update().get(pk=candidate.pk)
    if not candidate.can_be_corrected:  # erased for good (privacy.services): no identity comes back
        raise PermissionDenied
    changed = [name for name in fields if name in data and getattr(candidate, name) != data[name]]
    if not changed:
        return []
    for name in changed:
        setattr(candidate, name, data[name])
    if {"first_name", "last_name", "birth_date"} & set(changed):
        refuse_a_second_holder(candidate)
    candidate.save(update_fields=changed)
    labels = ", ".join(str(CANDIDATE_IDENTITY_FIELDS[name]) for name in changed)
    DossierEvent.objects.bulk_create(
        DossierEvent(dossier=dossier, actor=by.user, transition=transition, note=note(len(changed), labels))
        for dossier in candidate.dossiers.all()
    )
    audit_record(
        action=action,
        actor=by.user,
        organisation=organisation,
        obj=candidate,
        request=request,
        details={"fields": changed},
    )
    return changed


def _completed_for_cdc_note(count: int, labels: str) -> str:
    return ngettext(
        "État civil du titulaire complété par Certif'Pro pour la Caisse des Dépôts (%(count)s champ) : %(fields)s.",
        "État civil du titulaire complété par Certif'Pro pour la Caisse des Dépôts (%(count)s champs) : %(fields)s.",
        count,
    ) % {"count": count, "fields": labels}


# What Certif'Pro may complete on a certificate's holder for the Caisse des Dépôts (funding/cdc.py): the civil
# status the Caisse matches the person on, never the contact details, which stay the organisation's.
CDC_IDENTITY_FIELDS = (
    "first_name",
    "birth_name",
    "birth_date",
    "sex",
    "birth_place",
    "born_abroad",
    "birth_insee_code",
)


@transaction.atomic
def candidate_complete_for_cdc(
    *, candidate: Candidate, by: Membership, data: dict[str, Any], request: HttpRequest | None = None
) -> list[str]:
    """Certif'Pro, the certifier, completes or corrects the holder's civil status that the declaration to the Caisse
    des Dépôts needs (the keys of CDC_IDENTITY_FIELDS in `data`), after a rejection by the Caisse or before the
    first declaration. Returns the names of the fields that changed. NewDossierRefusal when the corrected first name
    or birth date make the holder someone with a dossier or the certification already (refuse_a_second_holder).
    Writes the candidate, one timeline event on each of their dossiers and an audit row naming the fields, never
    their values (see candidate_correct)."""
    if not by.is_certifpro:
        raise PermissionDenied
    return _identity_write(
        candidate=candidate,
        by=by,
        data=data,
        fields=CDC_IDENTITY_FIELDS,
        transition="candidate_complete_for_cdc",
        note=_completed_for_cdc_note,
        action="candidate.complete_for_cdc",
        organisation=candidate.organisation_id,
        request=request,
    )


class CorrectionAlreadyAnswered(BusinessRefusal):
    """The request was answered already (by a colleague, in another tab): one answer per request."""

    code = "correction_already_answered"


def _required_text(value: str, *, field: str, missing: str, limit: int = CORRECTION_MESSAGE_MAX_LENGTH) -> str:
    """`value` stripped, or a ValidationError on `field`: empty (`missing`), or longer than `limit`."""
    text = value.strip()
    if not text:
        raise ValidationError({field: ValidationError(missing, code="required")})
    if len(text) > limit:
        raise ValidationError(
            {
                field: ValidationError(
                    ngettext(
                        "Le texte ne doit pas dépasser %(n)s caractère (il en compte %(length)s).",
                        "Le texte ne doit pas dépasser %(n)s caractères (il en compte %(length)s).",
                        limit,
                    )
                    % {"n": limit, "length": len(text)},
                    code="max_length",
                )
            }
        )
    return text


@transaction.atomic
def correction_request_create(
    *, candidate: Candidate, dossier: Dossier | None = None, message: str, request: HttpRequest | None = None
) -> CorrectionRequest:
    """The candidate asks for some of their data to be corrected (GDPR art. 16), from their own space: no
    membership acts, the caller has identified the person. Writes the request, an event on the dossier named (its
    timeline says a request came, not what it says), an audit row saying the candidate asked, and sends
    `correction_requested` (notifications tells the dossier's counsellor), all in this transaction.

    `message` is required, at most CORRECTION_MESSAGE_MAX_LENGTH characters (ValidationError on "message", in
    French); `dossier` must be the candidate's own. An anonymised person is no one any more: nothing to correct."""
    if not candidate.can_be_corrected:
        raise PermissionDenied
    if dossier is not None and dossier.candidate_id != candidate.pk:
        raise PermissionDenied
    text = _required_text(message, field="message", missing=_("Indiquez ce qui est à corriger dans vos données."))
    correction = CorrectionRequest.objects.create(
        organisation_id=candidate.organisation_id, candidate=candidate, dossier=dossier, message=text
    )
    if dossier is not None:
        DossierEvent.objects.create(
            dossier=dossier,
            transition="correction_request",
            note=_("Demande de rectification de ses données envoyée par la personne candidate."),
        )
    audit_record(
        action="candidate.correction_request",
        actor=None,
        organisation=candidate.organisation_id,
        obj=correction,
        request=request,
        # Who asked, since no user did; never the message, which speaks of the person.
        details={"by": "candidate", "candidate": candidate.pk, "dossier": dossier.pk if dossier else None},
    )
    correction_requested.send(sender=CorrectionRequest, correction=correction)
    return correction


@transaction.atomic
def correction_request_answer(
    *, correction: CorrectionRequest, by: Membership, answer: str, request: HttpRequest | None = None
) -> CorrectionRequest:
    """Answer a correction request and mark it handled: the organisation's counsellors and administrators
    (CANDIDATE_CORRECTION_ROLES); another organisation's request is refused like a missing one. The data itself is
    corrected through `candidate_correct`, with its own traces. Locks the request, refuses a second answer
    (CorrectionAlreadyAnswered), writes the dossier's event and an audit row (without the answer's text), and sends
    `correction_answered` (notifications e-mails the candidate, if they agreed, to read it in their space)."""
    if by.role not in CANDIDATE_CORRECTION_ROLES:
        raise PermissionDenied
    locked = (
        CorrectionRequest.objects.visible_to(by)
        .select_for_update(of=("self",))
        .filter(pk=correction.pk, organisation_id=by.organisation_id)
        .first()
    )
    if locked is None:
        raise PermissionDenied
    if not locked.is_open:
        raise CorrectionAlreadyAnswered(_("Cette demande de rectification est déjà traitée."))
    locked.answer = _required_text(answer, field="answer", missing=_("Indiquez votre réponse à la personne."))
    locked.state, locked.answered_at, locked.answered_by = CorrectionState.ANSWERED, timezone.now(), by.user
    locked.save(update_fields=["answer", "state", "answered_at", "answered_by"])
    if locked.dossier_id is not None:
        DossierEvent.objects.create(
            dossier_id=locked.dossier_id,
            actor=by.user,
            transition="correction_answer",
            note=_("Demande de rectification traitée."),
        )
    audit_record(
        action="candidate.correction_answer",
        actor=by.user,
        organisation=by.organisation_id,
        obj=locked,
        request=request,
        details={"candidate": locked.candidate_id},
    )
    correction_answered.send(sender=CorrectionRequest, correction=locked, by=by)
    return locked


def refuse_a_second_holder(candidate: Candidate) -> None:
    """A corrected name or birth date must not turn the candidate into someone who already has a dossier in
    progress, or the certification, under the new identity: the one-dossier rule holds for corrections too,
    whether made by the organisation (`candidate_correct`) or by Certif'Pro in the Django admin."""
    identity = {name: getattr(candidate, name) for name in ("first_name", "last_name", "birth_date")}
    for dossier in candidate.dossiers.open_or_certified().order_by("pk"):
        _serialise_person(identity, dossier.certification)
        refusal = dossier_new_refusal(
            organisation_id=candidate.organisation_id,
            certification=dossier.certification,
            other_than_candidate=candidate.pk,
            **identity,
        )
        if refusal is not None:
            raise refusal


def _refusal_message(dossier: Dossier, name: str) -> str:
    if name == "open" and dossier.has_consent() and not dossier.candidate_complete():
        return _("Complétez le lieu de naissance et le niveau de formation du candidat pour ouvrir le dossier.")
    if name == "open" and dossier.has_consent() and not dossier.habilitation_in_force():
        return str(NO_NEW_DOSSIER)
    reasons = {
        "open": _("Le consentement du candidat doit être recueilli pour ouvrir le dossier."),
        "start_prior_evaluation": _("L'organisme n'a pas d'habilitation en cours pour cette certification."),
        "start_training": _("Un parcours de formation doit être défini, dans le délai de 5 ans."),
        "start_final_evaluation": _(
            "La formation doit être déclarée terminée par le formateur, dans le délai "
            "de 5 ans après l'évaluation préalable."
        ),
        "expire": _("Le délai de 5 ans n'est pas écoulé."),
    }
    return reasons.get(
        name,
        _("Cette étape n'est pas possible pour un dossier « %(state)s ».") % {"state": dossier.get_state_display()},
    )


def dossier_lock(dossier: Dossier) -> Dossier:
    """Lock the dossier's row for this transaction, refusing if it moved since `dossier` was loaded. Its candidate
    and référentiel come in the same query: the step's event words name the candidate, its outcome reads the
    référentiel."""
    return transition_lock(
        dossier,
        related=("candidate", "referentiel"),
        changed=lambda locked: DossierConflict(
            _("Le dossier a changé entre-temps (il est maintenant « %(state)s ») : rechargez la page.")
            % {"state": locked.get_state_display()}
        ),
    )


def dossier_apply(
    *,
    locked: Dossier,
    name: str,
    by: Membership | None,
    note: str = "",
    request: HttpRequest | None = None,
    **kwargs: Any,
) -> Dossier:
    """Apply one transition to a dossier locked by `dossier_lock`, and record it (timeline and audit).

    `by` is the acting membership, whose role the transition must allow; None for the platform's own
    scheduled jobs. Raises TransitionRefused when the state machine refuses the step now, PermissionDenied
    when the role may not take it.
    """
    return transition_apply(
        locked,
        name,
        by=by,
        note=note,
        request=request,
        action="dossier",
        refused=lambda dossier, name: TransitionRefused(_refusal_message(dossier, name)),
        **kwargs,
    )


def dossier_transition(
    *,
    dossier: Dossier,
    name: str,
    by: Membership | None,
    note: str = "",
    request: HttpRequest | None = None,
    **kwargs: Any,
) -> Dossier:
    """Lock, apply one transition, record it; inside the caller's transaction. Returns the updated dossier."""
    return dossier_apply(locked=dossier_lock(dossier), name=name, by=by, note=note, request=request, **kwargs)


@transaction.atomic
def dossier_open(
    *,
    dossier: Dossier,
    by: Membership,
    consent_text: str,
    candidate_data: dict[str, str] | None = None,
    notify_by_email: bool = False,
    request: HttpRequest | None = None,
) -> Dossier:
    """Record the candidate's consent (with the exact text shown) and open the dossier. `notify_by_email`: the
    candidate also agreed to hear by e-mail of their appointments, documents and decision (dated).

    `candidate_data` fills in what the information interview learnt and a referral left blank (birth place,
    education level: Candidate.FIELDS_FOR_OPENING); refused while one is still missing."""
    if not consent_text.strip():
        raise TransitionRefused(_("Le texte du consentement présenté au candidat est obligatoire."))
    locked = dossier_lock(dossier)
    candidate = locked.candidate
    completed = {
        name: value
        for name, value in (candidate_data or {}).items()
        if name in Candidate.FIELDS_FOR_OPENING and value and not getattr(candidate, name)
    }
    if completed:
        for name, value in completed.items():
            setattr(candidate, name, value)
        candidate.save(update_fields=list(completed))
    locked.consent_at, locked.consent_text = timezone.now(), consent_text.strip()
    if notify_by_email:
        locked.notify_by_email, locked.notify_by_email_at = True, locked.consent_at
    return dossier_apply(
        locked=locked,
        name="open",
        by=by,
        note=_("Consentement recueilli"),
        request=request,
        details={"completed": sorted(completed)} if completed else None,
    )


@transaction.atomic
def dossier_withdraw(
    *,
    dossier: Dossier,
    by: Membership | None,
    reason: str,
    request: HttpRequest | None = None,
    by_candidate: bool = False,
) -> Dossier:
    """Close the dossier for good with the candidate's reason (timeline event and audit row); `by` None: the platform
    closes it (privacy's retention, for a dossier stalled before the prior evaluation), or the candidate does when
    `by_candidate` (withdrawing their consent from their own space: the timeline and the audit row say so). Sends
    `dossier_withdrawn`, on which funding cancels the lines not yet invoiced, in this transaction."""
    if not reason.strip():
        raise TransitionRefused(_("Indiquez le motif de l'abandon."), field="reason")
    if by_candidate and by is not None:
        raise ValueError("A candidate acts alone: by_candidate goes with by=None.")
    note = reason.strip()
    if by_candidate:
        note = _("Par la personne candidate, depuis son espace : %(reason)s") % {"reason": note}
    locked = dossier_lock(dossier)
    # The rows the withdrawal changes are locked before its first audit row (candidates/signals.py: lock order).
    dossier_withdrawal_started.send(sender=Dossier, dossier=locked)
    dossier = dossier_apply(
        locked=locked,
        name="withdraw",
        by=by,
        note=note,
        reason=reason.strip(),
        request=request,
        details={"by_candidate": True} if by_candidate else None,
    )
    # Funding cancels the lines not yet invoiced, in this transaction.
    dossier_withdrawn.send(sender=Dossier, dossier=dossier, by=by, reason=reason.strip())
    return dossier


class TransferRefused(BusinessRefusal):
    """The dossier may not move to that organisation now; the message says why, in French."""


class TransferLookupsExceeded(TransferRefused):
    """A member looked for more dossiers to take in than settings.TRANSFER_LOOKUPS_PER_HOUR allows."""

    code = "transfer_refused"


# The roles of the new organisation who may take a dossier in (and become its counsellor).
TRANSFER_ROLES = (Role.COUNSELLOR, Role.ORG_ADMIN)


def transfer_find(*, membership: Membership, reference: str, birth_date: datetime.date) -> Dossier | None:
    """The dossier another organisation holds that the new one asks to take in: found by its reference and the
    candidate's birth date together (the two things the person can give), never listed. None when either does not
    match, or the dossier is already this organisation's: the same answer, so nothing is learnt by guessing."""
    if membership.role not in TRANSFER_ROLES:
        return None
    # References are numbered and birth dates few: without a bound, a member could take in dossiers by guessing.
    if over_limit(
        scope="transfer-find", ident=str(membership.pk), limit=settings.TRANSFER_LOOKUPS_PER_HOUR, period=60 * 60
    ):
        raise TransferLookupsExceeded(
            _("Trop de recherches de dossier en une heure. Réessayez plus tard, ou contactez Certif'Pro.")
        )
    return (
        Dossier.objects.filter(reference__iexact=reference.strip(), candidate__birth_date=birth_date)
        .exclude(organisation_id=membership.organisation_id)
        .filter(candidate__anonymised_at__isnull=True)
        .select_related("candidate", "organisation")
        .first()
    )


def transfer_counsellor(organisation: Organisation) -> Membership | None:
    """Who takes in a dossier the candidate moved themself: the new organisation's first counsellor (oldest
    membership), else its first administrator."""
    members = Membership.objects.active().filter(organisation=organisation).select_related("user")
    for role in TRANSFER_ROLES:
        first = members.filter(role=role).order_by("pk").first()
        if first is not None:
            return first
    return None


def transfer_destinations(dossier: Dossier) -> models.QuerySet[Organisation]:
    """The organisations a dossier may move to: habilitated for its certification today, active, not its own."""
    habilitated = Habilitation.objects.in_force().filter(certification=dossier.certification)
    return Organisation.objects.filter(is_active=True, pk__in=habilitated.values("organisation_id")).exclude(
        pk=dossier.organisation_id
    )


@transaction.atomic
def dossier_transfer(
    *,
    dossier: Dossier,
    to_organisation: Organisation,
    consent_text: str,
    reason: str,
    by: Membership | None,
    consent_given: bool = False,
    request: HttpRequest | None = None,
) -> DossierTransfer:
    """Move the dossier to `to_organisation` (issue 19). `by`: the new organisation's counsellor or administrator,
    who records the candidate's consent (`consent_given`, with the exact `consent_text` read to them) and becomes
    the dossier's counsellor; None when the candidate moves it from their own space (the text is then the one they
    confirmed on screen), and the new organisation's first counsellor takes it.

    The previous organisation is told and cannot block it. What was acquired (evaluations, attestations, training
    history) follows the dossier; funding lines, fees, appointments and assignments keep their organisation. The
    5-year window is unchanged. Writes the DossierTransfer, the timeline event (seen by both organisations: it is
    dated before the move's record) and an audit row for each organisation; sends `dossier_transfer_started` (the
    rows the move changes are locked before the first audit row) then `dossier_transferred`, on which scheduling
    cancels the appointments in progress and ends the open assignments, training closes a plan in progress,
    evaluations abandons an evaluation in progress (the dossier is back to the step before it, `Dossier.transfer`),
    and notifications tells the previous organisation and the evaluator of that evaluation, each with the reason."""
    reason, consent_text = reason.strip(), consent_text.strip()
    if by is not None and (by.role not in TRANSFER_ROLES or by.organisation_id != to_organisation.pk):
        raise PermissionDenied
    if not consent_given or not consent_text:
        raise ValidationError({"consent": _("L'accord de la personne candidate est obligatoire.")})
    if not reason:
        raise ValidationError({"reason": _("Indiquez le motif du changement d'organisme.")})
    locked = dossier_lock(dossier)
    if locked.organisation_id == to_organisation.pk:
        raise TransferRefused(_("Le dossier est déjà suivi par cet organisme."))
    if locked.state not in TRANSFERABLE_STATES:
        raise TransferRefused(_transfer_refusal(locked))
    habilitated = Habilitation.objects.in_force().filter(
        organisation_id=to_organisation.pk, certification=locked.certification
    )
    if not to_organisation.is_active or not habilitated.exists():
        raise TransferRefused(_("Cet organisme n'est pas habilité pour cette certification."))
    counsellor = by if by is not None else transfer_counsellor(to_organisation)
    if counsellor is None:
        raise TransferRefused(_("Cet organisme n'a pas encore de conseiller pour accueillir le dossier."))
    previous_organisation, previous_counsellor_id = locked.organisation, locked.counsellor_id
    from_state = locked.state
    dossier_transfer_started.send(sender=Dossier, dossier=locked)
    # A rectification request still open is the new organisation's to answer: it now holds the dossier.
    CorrectionRequest.objects.open().filter(dossier=locked).update(organisation=to_organisation)
    note = _("Parti de %(from)s vers %(to)s. Motif : %(reason)s") % {
        "from": previous_organisation.name,
        "to": to_organisation.name,
        "reason": reason,
    }
    if by is None:
        note = _("Par la personne candidate, depuis son espace : %(note)s") % {"note": note}
    transition_apply(
        locked,
        "transfer",
        by=by,
        actor=by.user if by is not None else None,
        note=note,
        request=request,
        action="dossier",
        refused=lambda dossier, name: TransferRefused(_transfer_refusal(dossier)),
        details={"from_organisation": previous_organisation.pk, "by_candidate": by is None},
        organisation_id=to_organisation.pk,
        counsellor_id=counsellor.user_id,
    )
    locked.organisation = to_organisation
    # After the timeline event: the previous organisation reads the timeline up to this instant, the move included.
    transfer = DossierTransfer.objects.create(
        dossier=locked,
        from_organisation=previous_organisation,
        to_organisation=to_organisation,
        requested_by=by,
        by_candidate=by is None,
        consent_text=consent_text,
        reason=reason,
        from_state=from_state,
    )
    # The previous organisation's own trail says the dossier left it.
    audit_record(
        action="dossier.transferred_away",
        actor=by.user if by is not None else None,
        organisation=previous_organisation.pk,
        obj=locked,
        request=request,
        details={"to_organisation": to_organisation.pk, "transfer": transfer.pk},
    )
    dossier_transferred.send(
        sender=Dossier, dossier=locked, transfer=transfer, previous_counsellor_id=previous_counsellor_id, by=by
    )
    return transfer


def _transfer_refusal(dossier: Dossier) -> str:
    if dossier.state == DossierState.INFORMATION:
        return _("Le dossier n'est pas encore ouvert : la personne peut simplement s'adresser au nouvel organisme.")
    return _("Un dossier « %(state)s » ne peut plus changer d'organisme.") % {"state": dossier.get_state_display()}


@dataclass
class DeadlineRun:
    warned: int = 0
    expired: int = 0


def dossiers_process_deadlines(*, today: datetime.date | None = None) -> DeadlineRun:
    """Warn counsellors three months before the 5-year deadline, and expire dossiers past it.

    Idempotent: a warning is sent once (recorded on the dossier), an expired dossier leaves the window states.
    """
    today = today or timezone.localdate()
    run = DeadlineRun()
    for dossier in Dossier.objects.past_deadline(today).only("id", "state", "deadline"):
        with transaction.atomic():
            try:
                dossier_transition(
                    dossier=dossier,
                    name="expire",
                    by=None,
                    note=_("Délai de 5 ans écoulé sans évaluation finale"),
                    today=today,
                )
            except (DossierConflict, TransitionRefused):
                continue
            run.expired += 1
    for dossier in Dossier.objects.to_warn(today).select_related("counsellor", "candidate"):
        with transaction.atomic():
            claimed = Dossier.objects.filter(pk=dossier.pk, deadline_warning_sent_at__isnull=True).update(
                deadline_warning_sent_at=timezone.now()
            )
            if not claimed:
                continue
            DossierEvent.objects.create(
                dossier=dossier,
                note=_("Alerte : échéance des 5 ans le %(date)s") % {"date": f"{dossier.deadline:%d/%m/%Y}"},
            )
            subject = _("CléA : le dossier %(ref)s arrive à échéance") % {"ref": dossier.reference}
            body = _(
                "Le délai de 5 ans du dossier %(ref)s (%(name)s) se termine le %(date)s. Sans évaluation "
                "finale d'ici là, une nouvelle évaluation préalable sera nécessaire."
            ) % {"ref": dossier.reference, "name": dossier.candidate.full_name, "date": f"{dossier.deadline:%d/%m/%Y}"}
            to = [dossier.counsellor.email]
            email_add(subject=subject, body=body, to=to, organisation=dossier.organisation_id)
            run.warned += 1
    return run


# -- Taking time: the information interview's notes, « prend le temps de réfléchir », the idle information closed ---


class NotInInformation(BusinessRefusal):
    """The dossier left the information step (opened, closed) since the page was loaded."""

    code = "not_in_information"


def _information_locked(dossier: Dossier, by: Membership) -> Dossier:
    """The dossier locked for this transaction, if `by` may write about its information interview: a counsellor or
    administrator of its organisation (CANDIDATE_CORRECTION_ROLES), the dossier not anonymised, still in the
    information step (NotInInformation otherwise)."""
    if by.role not in CANDIDATE_CORRECTION_ROLES:
        raise PermissionDenied
    locked = (
        Dossier.objects.visible_to(by)
        .select_for_update(of=("self",))
        .filter(pk=dossier.pk, organisation_id=by.organisation_id, anonymised_at__isnull=True)
        .first()
    )
    if locked is None:
        raise PermissionDenied
    if locked.state != DossierState.INFORMATION:
        raise NotInInformation(
            _("Ce dossier n'est plus à l'étape « Information » (il est maintenant « %(state)s ») : rechargez la page.")
            % {"state": locked.get_state_display()}
        )
    return locked


@transaction.atomic
def dossier_note_add(*, dossier: Dossier, by: Membership, text: str, request: HttpRequest | None = None) -> DossierNote:
    """Write down what was said at the information interview or a later contact, as a dated note of its own (the
    earlier ones stay). Writes the note, a timeline event that says a note was written (not what it says: the
    timeline is read by everyone who follows the dossier, the notes by the organisation only) and an audit row
    without the text. A reminder already due is done: the person was reached, it leaves the « À faire »."""
    locked = _information_locked(dossier, by)
    text = _required_text(
        text, field="text", missing=_("Écrivez la note avant de l'enregistrer."), limit=NOTE_MAX_LENGTH
    )
    note = DossierNote.objects.create(organisation_id=locked.organisation_id, dossier=locked, author=by.user, text=text)
    if locked.reflection_reminder_on is not None and locked.reflection_reminder_on <= timezone.localdate():
        locked.reflection_reminder_on = None
        locked.save(update_fields=["reflection_reminder_on", "updated_at"])
    DossierEvent.objects.create(
        dossier=locked, actor=by.user, transition="note", note=_("Note d'entretien ajoutée."), at=note.at
    )
    audit_record(
        action="dossier.note",
        actor=by.user,
        organisation=by.organisation_id,
        obj=note,
        request=request,
        details={"dossier": locked.pk},
    )
    return note


@transaction.atomic
def dossier_take_time(
    *,
    dossier: Dossier,
    by: Membership,
    reminder_on: datetime.date | None = None,
    request: HttpRequest | None = None,
) -> Dossier:
    """The person leaves the information interview without opening their dossier: they take time to think (CléA).
    Records since when and, if given, the day to call them back (in the counsellor's « À faire » from that day; a
    later call replaces it, none clears it). Writes the dossier, a timeline event and an audit row. The consent is
    still asked only when the dossier opens; untouched for INFORMATION_IDLE_DAYS, it closes by itself
    (`dossiers_close_idle_information`)."""
    today = timezone.localdate()
    if reminder_on is not None and reminder_on <= today:
        raise ValidationError(
            {"reminder_on": ValidationError(_("Choisissez une date de rappel après aujourd'hui."), code="past")}
        )
    locked = _information_locked(dossier, by)
    locked.reflection_since, locked.reflection_reminder_on = timezone.now(), reminder_on
    locked.save(update_fields=["reflection_since", "reflection_reminder_on", "updated_at"])
    note = _("La personne prend le temps de réfléchir.")
    if reminder_on is not None:
        note = _("La personne prend le temps de réfléchir. Rappel prévu le %(date)s.") % {
            "date": f"{reminder_on:%d/%m/%Y}"
        }
    DossierEvent.objects.create(dossier=locked, actor=by.user, transition="take_time", note=note)
    audit_record(
        action="dossier.take_time",
        actor=by.user,
        organisation=by.organisation_id,
        obj=locked,
        request=request,
        details={"reminder_on": reminder_on.isoformat() if reminder_on else None},
    )
    return locked


def information_idle_cutoff(now: datetime.datetime | None = None) -> datetime.datetime:
    """An information dossier whose last activity is older than this instant is closed by the daily job."""
    return (now or timezone.now()) - datetime.timedelta(days=settings.INFORMATION_IDLE_DAYS)


def dossiers_close_idle_information(*, now: datetime.datetime | None = None) -> int:
    """Close, as withdrawn by the platform with the reason « Sans suite après l'information », each information
    dossier untouched for INFORMATION_IDLE_DAYS (`DossierQuerySet.idle_information`: no event, note or change, no
    appointment planned since), and return how many. Each in its own transaction, checked again under its lock:
    `dossier_withdraw` writes the timeline event and the audit row with no actor, and sends `dossier_withdrawn`
    (notifications tells the counsellor). Idempotent: a closed dossier is no longer in information."""
    now = now or timezone.now()
    before = information_idle_cutoff(now)
    days = settings.INFORMATION_IDLE_DAYS
    reason = ngettext(
        "Sans suite après l'information : aucune activité depuis %(days)s jour. Si la personne revient, un nouveau "
        "dossier pourra être créé.",
        "Sans suite après l'information : aucune activité depuis %(days)s jours. Si la personne revient, un nouveau "
        "dossier pourra être créé.",
        days,
    ) % {"days": days}
    closed = 0
    for pk in list(Dossier.objects.idle_information(before=before).order_by("pk").values_list("pk", flat=True)):
        with transaction.atomic():
            dossier = (
                Dossier.objects.idle_information(before=before).select_for_update(of=("self",)).filter(pk=pk).first()
            )
            if dossier is None:  # a note or a step since the list was read
                continue
            try:
                dossier_withdraw(dossier=dossier, by=None, reason=reason)
            except (DossierConflict, TransitionRefused):
                continue
            closed += 1
    return closed
