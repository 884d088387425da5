"""Jury sessions: composition, submissions, conflicts of interest, decisions, closing and the documents."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from candidates.models import Candidate, Dossier, DossierEvent, DossierState
from candidates.services import dossier_apply, dossier_lock
from clea_platform.changes import rows_changed, rows_update
from clea_platform.errors import BusinessRefusal
from clea_platform.pdf import render_pdf, sha256_hex
from clea_platform.verification import verification_code_normalise, verification_qr_svg
from clea_platform.verification import verification_url as code_verification_url
from evaluations.acquisitions import dossier_outcome
from juries.models import (
    Attendance,
    Certificate,
    College,
    ConflictDeclaration,
    Decision,
    DecisionKind,
    JuryMember,
    JurySession,
    SessionMinutes,
    SessionSeat,
    SessionState,
    Submission,
    decision_domains_problem,
)
from juries.signals import certificate_created, decision_recorded, dossier_submitted, session_convened
from organisations.models import Membership, OrganisationKind, Role
from organisations.services import audit_record
from organisations.transitions import transition_apply, transition_lock
from outbox.models import SideEffect
from outbox.services import DocumentNotProduced, document_replace, email_add, side_effect_add

CERTIFICATE_PREFIX = {"clea": "CLEA", "clea_numerique": "CLEANUM", "clea_management": "CLEAMGT"}


class JuryError(BusinessRefusal):
    """A jury rule refused the operation; the message is for the user, in French."""

    code = "jury_refused"


def _ensure_session_admin(session: JurySession, by: Membership) -> None:
    if not session.managed_by(by):
        raise PermissionDenied


def _lock_session(session: JurySession) -> JurySession:
    return transition_lock(
        session, changed=lambda locked: JuryError(_("La session a changé entre-temps : rechargez la page."))
    )


def _session_refused(session: JurySession, name: str) -> JuryError:
    return JuryError(
        _("Cette étape n'est pas possible pour une session « %(state)s ».") % {"state": session.get_state_display()}
    )


def _session_transition(
    session: JurySession, name: str, by: Membership | None, request: HttpRequest | None, note: str = ""
) -> None:
    """The rules of who may (the body's administrators, the president) are checked by the caller."""
    transition_apply(session, name, by=by, refused=_session_refused, action="jury_session", request=request, note=note)


# -- Sessions and composition ------------------------------------------------------------------------------------


@transaction.atomic
def jury_session_create(
    *,
    by: Membership,
    organisation_id: int,
    region: str,
    date: datetime.datetime,
    place: str = "",
    is_online: bool = False,
    capacity: int = 30,
    certification: str = "clea",
    request: HttpRequest | None = None,
) -> JurySession:
    """Plan a session of the jury body (its administrators or Certif'Pro): the session, its first history row
    and an audit row."""
    session = JurySession(
        organisation_id=organisation_id,
        region=region,
        date=date,
        place=place,
        is_online=is_online,
        capacity=capacity,
        certification=certification,
    )
    _ensure_session_admin(session, by)
    if session.organisation.kind != OrganisationKind.JURY_BODY:
        raise JuryError(_("Seul un organisateur de jurys (Transitions Pro) organise des sessions."))
    session.full_clean(exclude=["state"])
    session.save()
    session.record_event(transition="", from_state="", to_state=session.state, actor=by.user, note="")
    audit_record(
        action="jury_session.create", actor=by.user, organisation=organisation_id, obj=session, request=request
    )
    return session


@transaction.atomic
def jury_session_set_seats(
    *,
    session: JurySession,
    by: Membership,
    member_ids: Iterable[int],
    president_id: int | None,
    request: HttpRequest | None = None,
) -> list[SessionSeat]:
    """Set who is convened and who presides; conflicts are detected again. Who attends is recorded on the day,
    when the deliberation opens (jury_session_start_deliberation)."""
    _ensure_session_admin(session, by)
    session = _lock_session(session)
    if session.state in {SessionState.DELIBERATING, SessionState.CLOSED}:
        raise JuryError(_("La composition ne change plus une fois la délibération ouverte."))
    members = {
        m.pk: m
        for m in JuryMember.objects.filter(
            organisation_id=session.organisation_id, is_active=True, pk__in=list(member_ids)
        )
    }
    if president_id is not None and president_id not in members:
        raise JuryError(_("La présidence revient à l'un des membres convoqués."))
    session.seats.exclude(member_id__in=members).delete()
    seats = []
    for member_id in members:
        seat, _created = SessionSeat.objects.update_or_create(
            session=session, member_id=member_id, defaults={"is_president": False}
        )
        seats.append(seat)
    if president_id is not None:
        SessionSeat.objects.filter(session=session, member_id=president_id).update(is_president=True)
    rows_changed(session)  # seats removed, a president named: written without save()
    conflicts_detect(session=session)
    audit_record(
        action="jury_session.seats",
        actor=by.user,
        organisation=session.organisation_id,
        obj=session,
        request=request,
        details={"members": sorted(members), "president": president_id},
    )
    return seats


def conflicts_detect(*, session: JurySession) -> int:
    """Record a conflict for every member linked to an organisation that evaluated or trained a dossier of the
    session (by membership or representation). Idempotent; returns how many were found."""
    seats = list(session.seats.select_related("member__user"))
    found = 0
    for submission in session.submissions.select_related("dossier"):
        involved = {
            submission.dossier.organisation_id,
            *submission.dossier.training_plans.values_list("organisation_id", flat=True),
        }
        for seat in seats:
            if seat.member.linked_organisation_ids() & involved:
                ConflictDeclaration.objects.get_or_create(
                    seat=seat,
                    submission=submission,
                    defaults={
                        "detected": True,
                        "statement": _("Lien avec l'organisme évaluateur ou formateur détecté par la plateforme."),
                    },
                )
                found += 1
    return found


@transaction.atomic
def conflict_declare(
    *, submission: Submission, by: Membership, statement: str, request: HttpRequest | None = None
) -> ConflictDeclaration:
    """A member declares a link with a dossier: they are excluded from its decision."""
    seat = SessionSeat.objects.filter(session_id=submission.session_id, member__user_id=by.user_id).first()
    if seat is None or by.role != Role.JURY_MEMBER:
        raise PermissionDenied
    if not statement.strip():
        raise JuryError(_("Décrivez le lien qui vous lie à ce dossier."))
    declaration, created = ConflictDeclaration.objects.get_or_create(
        seat=seat, submission=submission, defaults={"statement": statement.strip()}
    )
    if not created and not declaration.statement.strip():
        declaration.statement = statement.strip()
        declaration.save(update_fields=["statement"])
    audit_record(
        action="jury.conflict_declare",
        actor=by.user,
        organisation=submission.session.organisation_id,
        obj=declaration,
        request=request,
    )
    return declaration


@transaction.atomic
def jury_session_convene(*, session: JurySession, by: Membership, request: HttpRequest | None = None) -> JurySession:
    """Convene the members by e-mail with the list of dossiers (sent once committed)."""
    _ensure_session_admin(session, by)
    session = _lock_session(session)
    if session.has_passed():
        raise JuryError(_("La date de cette session est passée : les convocations ne peuvent plus être envoyées."))
    colleges = set(session.seats.values_list("member__college", flat=True))
    if colleges != {College.EMPLOYERS, College.EMPLOYEES}:
        raise JuryError(_("Convoquez au moins un membre de chaque collège avant d'envoyer les convocations."))
    _session_transition(session, "convene", by, request)
    dossiers = "\n".join(
        f"- {s.dossier.reference} : {s.dossier.candidate.full_name}"
        for s in session.submissions.select_related("dossier__candidate")
    ) or _("(aucun pour l'instant)")
    subject = _("Convocation au jury CléA du %(date)s") % {"date": f"{timezone.localtime(session.date):%d/%m/%Y}"}
    for seat in session.seats.select_related("member__user"):
        body = _(
            "Bonjour %(name)s,\n\nNous vous convoquons au jury paritaire CléA du %(date)s (%(where)s).\n"
            "Dossiers à examiner :\n%(dossiers)s\n\nLes dossiers sont consultables sur la plateforme."
        ) % {
            "name": seat.member.user.get_full_name(),
            "date": f"{timezone.localtime(session.date):%d/%m/%Y à %H:%M}",
            "where": _("à distance") if session.is_online else session.place,
            "dossiers": dossiers,
        }
        email = seat.member.user.email
        email_add(subject=subject, body=body, to=[email], organisation=session.organisation_id)
    session_convened.send(sender=JurySession, session=session, by=by)
    return session


@transaction.atomic
def dossier_submit_to_jury(
    *, dossier: Dossier, session: JurySession, by: Membership, request: HttpRequest | None = None
) -> Submission:
    """Put a dossier that is ready for the jury before a session of its region with room left."""
    # Only a counsellor of the evaluator organisation that owns the dossier submits it.
    if by.role != Role.COUNSELLOR or by.organisation_id != dossier.organisation_id:
        raise PermissionDenied
    session = JurySession.objects.select_for_update(of=("self",)).get(pk=session.pk)
    if not JurySession.objects.open_for_submission().filter(pk=session.pk).exists():
        raise JuryError(_("Cette session n'accepte plus de dossiers."))
    if session.room_left() <= 0:
        raise JuryError(_("Cette session est complète : choisissez-en une autre."))
    locked = dossier_lock(dossier)
    if locked.certification != session.certification:
        raise JuryError(_("Cette session ne porte pas sur la certification du dossier."))
    if locked.organisation.region != session.region:
        raise JuryError(_("Cette session est organisée pour une autre région."))
    dossier_apply(
        locked=locked,
        name="submit_to_jury",
        by=by,
        request=request,
        note=_("Soumis au jury du %(date)s") % {"date": f"{timezone.localtime(session.date):%d/%m/%Y}"},
    )
    submission = Submission.objects.create(session=session, dossier=locked, submitted_by=by.user)
    conflicts_detect(session=session)
    dossier_submitted.send(sender=Submission, submission=submission, session=session, by=by)
    return submission


@transaction.atomic
def jury_session_start_deliberation(
    *,
    session: JurySession,
    by: Membership,
    attendance: Mapping[int, str],
    request: HttpRequest | None = None,
) -> JurySession:
    """Open the deliberation on the session's day (in Paris) or later, with the attendance of every member
    convened (`attendance`: member id to present, absent or excused), stored on the seats. Parity and quorum
    are counted on who is present. Writes the attendance's audit row, then the transition's event and audit rows;
    refused as a whole (nothing stored) when a rule is not met."""
    _ensure_president_or_admin(session, by)
    session = _lock_session(session)
    if not session.awaits_deliberation:
        raise _session_refused(session, "start_deliberation")
    if not session.has_begun():
        raise JuryError(
            _("La délibération ne peut pas s'ouvrir avant le jour de la session, le %(date)s.")
            % {"date": f"{session.day:%d/%m/%Y}"}
        )
    seats = list(session.seats.select_related("member__user"))
    convened = {seat.member_id for seat in seats}
    if set(attendance) - convened:
        raise JuryError(_("La présence ne se relève que pour les membres convoqués à la session."))
    if any(status not in Attendance.values for status in attendance.values()):
        raise JuryError(_("Présence inconnue : indiquez une présence, une absence ou une absence excusée."))
    for seat in seats:
        seat.attendance = attendance.get(seat.member_id, "")
    SessionSeat.objects.bulk_update(seats, ["attendance"])
    rows_changed(session)
    # The quorum reads the seats afresh (the president among them), with the attendance just stored.
    problems = session.quorum_problems()
    if problems:
        raise JuryError(" ".join(problems))
    audit_record(
        action="jury_session.attendance",
        actor=by.user,
        organisation=session.organisation_id,
        obj=session,
        request=request,
        details={status: sorted(m for m, s in attendance.items() if s == status) for status in Attendance.values},
    )
    present = sum(1 for seat in seats if seat.present)
    note = ngettext("%(present)s membre présent sur %(n)s", "%(present)s membres présents sur %(n)s", present) % {
        "present": present,
        "n": len(seats),
    }
    _session_transition(session, "start_deliberation", by, request, note=note)
    return session


def _ensure_president_or_admin(session: JurySession, by: Membership) -> None:
    if not (session.managed_by(by) or session.presided_by(by)):
        raise PermissionDenied


# -- Decisions -------------------------------------------------------------------------------------------------

# Keyed by the decision's stored value (a plain str once read back from the database).
TRANSITION_FOR: dict[str, str] = {
    DecisionKind.AWARDED: "award",
    DecisionKind.DEFERRED: "defer",
    DecisionKind.REFUSED: "refuse",
    DecisionKind.ABSENT: "mark_absent",
    DecisionKind.EXCUSED: "mark_absent",
}


@transaction.atomic
def decision_record(
    *,
    submission: Submission,
    by: Membership,
    kind: str,
    reason: str = "",
    missing_domains: list[str] | None = None,
    request: HttpRequest | None = None,
) -> Decision:
    """The president records the jury's decision on one dossier and the dossier moves on accordingly.

    Awarded: certified (the certificate is produced when the session closes). Deferred: back to training on the
    domains the jury names. Refused: closed. Absent or excused: ready for another session.
    """
    session = JurySession.objects.select_for_update(of=("self",)).get(pk=submission.session_id)
    seat = session.seats.filter(member__user_id=by.user_id).first() if by.role == Role.JURY_MEMBER else None
    if seat is None:
        raise PermissionDenied
    if session.state != SessionState.DELIBERATING:
        raise JuryError(_("Les décisions se prennent pendant la délibération."))
    if not session.may_decide(seat, submission):
        if ConflictDeclaration.objects.filter(seat=seat, submission=submission).exists():
            raise JuryError(
                _(
                    "Vous avez un lien avec ce dossier : vous ne pouvez pas en décider. Un autre membre "
                    "présent, sans lien avec le dossier, enregistre la décision."
                )
            )
        raise PermissionDenied
    if Decision.objects.filter(submission=submission).exists():
        raise JuryError(_("Une décision est déjà enregistrée pour ce dossier."))
    missing = sorted(set(missing_domains or []))
    if kind not in DecisionKind.values:
        raise JuryError(_("Décision inconnue."))
    if kind in {DecisionKind.REFUSED, DecisionKind.DEFERRED} and not reason.strip():
        raise JuryError(_("Motivez la décision."), field="reason")
    problem = decision_domains_problem(kind, missing)
    if problem:
        raise JuryError(problem)
    locked = dossier_lock(submission.dossier)
    if kind == DecisionKind.DEFERRED:
        known = set(locked.referentiel.domains.values_list("code", flat=True))
        if not set(missing) <= known:
            raise JuryError(_("Indiquez les domaines qui restent à acquérir."), field="missing_domains")
    if kind == DecisionKind.AWARDED and not dossier_outcome(locked).all_validated:
        raise JuryError(_("Tous les domaines doivent être maîtrisés pour délivrer la certification."))
    decision = Decision.objects.create(
        submission=submission,
        kind=kind,
        reason=reason.strip(),
        missing_domains=missing,
        decided_by=by.user,
    )
    note = str(DecisionKind(kind).label)
    if reason.strip():
        note = f"{note} : {reason.strip()}"
    dossier_apply(locked=locked, name=TRANSITION_FOR[kind], by=by, note=note, request=request)
    decision_recorded.send(sender=Decision, decision=decision, dossier=locked, by=by)
    return decision


@transaction.atomic
def jury_session_close(*, session: JurySession, by: Membership, request: HttpRequest | None = None) -> JurySession:
    """Close the session once every dossier has its decision; the minutes and the certificates are produced by
    workers once committed."""
    _ensure_president_or_admin(session, by)
    session = _lock_session(session)
    if not session.all_decided():
        raise JuryError(_("Chaque dossier doit avoir sa décision avant la clôture."))
    _session_transition(session, "close", by, request)
    minutes_promise(session)
    for decision in Decision.objects.filter(
        submission__session=session, kind=DecisionKind.AWARDED, revoked_at__isnull=True
    ).select_related("submission__dossier"):
        certificate_promise(decision)
    return session


@transaction.atomic
def decision_revoke(*, decision: Decision, by: Membership, reason: str, request: HttpRequest | None = None) -> Decision:
    """Certif'Pro only: void a decision (and its certificate); the dossier returns before the jury."""
    if not by.is_certifpro:
        raise PermissionDenied
    if not reason.strip():
        raise JuryError(_("Indiquez le motif de la révocation."), field="reason")
    decision = Decision.objects.select_for_update().select_related("submission__dossier").get(pk=decision.pk)
    if decision.is_revoked:
        raise JuryError(_("Cette décision est déjà révoquée."))
    now = timezone.now()
    decision.revoked_at, decision.revoked_by, decision.revocation_reason = now, by.user, reason.strip()
    decision.save(update_fields=["revoked_at", "revoked_by", "revocation_reason"])
    certificates = Certificate.objects.filter(decision=decision)
    rows_update(certificates, at=now, revoked_at=now, revocation_reason=reason.strip())
    dossier = decision.submission.dossier
    note = _("Décision « %(kind)s » révoquée par Certif'Pro : %(reason)s") % {
        "kind": decision.get_kind_display(),
        "reason": reason.strip(),
    }
    if dossier.state in {
        DossierState.CERTIFIED,
        DossierState.REFUSED,
        DossierState.PARTIALLY_VALIDATED,
    } and decision.kind in {DecisionKind.AWARDED, DecisionKind.REFUSED, DecisionKind.DEFERRED}:
        dossier_apply(locked=dossier_lock(dossier), name="revoke_decision", by=by, note=note, request=request)
    else:
        DossierEvent.objects.create(dossier=dossier, actor=by.user, note=note)
    audit_record(
        action="jury.decision_revoke",
        actor=by.user,
        organisation=dossier.organisation_id,
        obj=decision,
        request=request,
        details={"reason": reason.strip()},
    )
    return decision


# -- Documents -------------------------------------------------------------------------------------------------


def minutes_promise(session: JurySession) -> SideEffect:
    """The minutes of a closed session, promised in the caller's transaction (the outbox)."""
    return side_effect_add(
        kind="minutes",
        key=f"minutes:{session.pk}",
        label=_("Procès-verbal du jury du %(date)s") % {"date": f"{timezone.localtime(session.date):%d/%m/%Y}"},
        organisation=session.organisation_id,
        arguments={"session_id": session.pk},
    )


def certificate_promise(decision: Decision) -> SideEffect:
    """The certificate of an awarded decision, promised in the caller's transaction (the outbox)."""
    dossier = decision.submission.dossier
    return side_effect_add(
        kind="certificate",
        key=f"certificate:{decision.pk}",
        label=_("Certificat du dossier %(ref)s") % {"ref": dossier.reference},
        organisation=dossier.organisation_id,
        arguments={"decision_id": decision.pk},
    )


def certificate_generate(*, decision_id: int) -> Certificate:
    """Issue the certificate of an awarded decision: render its PDF, then in one transaction create the row with
    its file and SHA-256, send `certificate_created` (Certif'Pro's fee per certificate) and write the dossier's
    event. Idempotent: a second call, or a concurrent one that loses the race, returns the certificate stored.

    Nothing is committed before the PDF exists (issue 13): a worker killed at any instant leaves either no
    certificate at all, to be issued by the next run, or at worst a PDF that no row references, which
    `documents_collect_orphans` removes. A certificate row is never visible, verifiable or billed without its PDF.
    """
    existing = Certificate.objects.filter(decision_id=decision_id).first()
    if existing is not None and existing.is_produced:
        return existing
    # A decision revoked before its certificate was produced gets none (the lookup fails like a non-award).
    decision = Decision.objects.select_related("submission__dossier__candidate", "submission__session").get(
        pk=decision_id, kind=DecisionKind.AWARDED, revoked_at__isnull=True
    )
    dossier, session = decision.submission.dossier, decision.submission.session
    if existing is not None:
        return _certificate_complete(existing, dossier=dossier, session=session)
    # The CléA rules date the decision on the session that took it, not on the day its president typed it in.
    awarded_on = session.day
    # Unsaved: its verification code (a field default) is drawn now, so that the PDF's QR code carries it.
    certificate = Certificate(
        organisation_id=dossier.organisation_id,
        dossier=dossier,
        decision=decision,
        session=session,
        number=f"{CERTIFICATE_PREFIX[dossier.certification]}-{awarded_on:%Y}-{decision.pk:07d}",
        holder_name=dossier.candidate.holder_name,
        certification=dossier.certification,
        awarded_on=awarded_on,
    )
    pdf = _certificate_pdf(certificate, dossier=dossier, session=session)
    certificate.sha256 = sha256_hex(pdf)
    # Stored before the transaction: the storage never overwrites (a concurrent worker's file gets another name).
    certificate.file.save(f"{certificate.number}.pdf", ContentFile(pdf), save=False)
    try:
        with transaction.atomic():
            certificate.save(force_insert=True)
            _certificate_issued(certificate)
    except IntegrityError:
        # Another worker issued it first (unique decision and number): keep theirs, remove our own file only.
        certificate.file.delete(save=False)
        winner = Certificate.objects.filter(decision_id=decision_id).first()
        if winner is None:  # not a duplicate (a verification code drawn twice): the next run draws another
            raise
        return winner
    return certificate


def _certificate_complete(certificate: Certificate, *, dossier: Dossier, session: JurySession) -> Certificate:
    """A row left without its PDF by the code before issue 13 (row first, PDF in a second transaction): render
    and store its PDF now. Until then every read leaves the row out (`produced()`); it is issued here, with its
    event and its announcement (the fee receiver records one fee per certificate, so a fee the old code billed
    at the row's creation is not billed again)."""
    pdf = _certificate_pdf(certificate, dossier=dossier, session=session)
    with transaction.atomic():
        locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if locked.is_produced:  # another worker completed it while we rendered
            return locked
        locked.file.save(f"{locked.number}.pdf", ContentFile(pdf), save=False)
        locked.sha256 = sha256_hex(pdf)
        locked.save(update_fields=["file", "sha256"])
        _certificate_issued(locked)
    return locked


def certificate_produce(*, decision_id: int) -> Certificate | None:
    """The outbox's "certificate" side effect: the certificate, or None when the decision was revoked before a
    worker got to it (there is nothing left to produce)."""
    try:
        return certificate_generate(decision_id=decision_id)
    except Decision.DoesNotExist:
        return None


def certificate_mastery(candidate: Candidate) -> str:
    """The line under the holder's name, agreed with the civility ("née le" for Madame, "né le" for Monsieur); an
    unknown civility gets a wording without gender marks."""
    values = {"birth": f"{candidate.birth_date:%d/%m/%Y}"}
    if not candidate.civility:
        return _("ayant maîtrisé l'ensemble des domaines du référentiel (date de naissance : %(birth)s).") % values
    return (
        candidate.civility_agree(
            _("né le %(birth)s, ayant maîtrisé l'ensemble des domaines du référentiel."),
            _("née le %(birth)s, ayant maîtrisé l'ensemble des domaines du référentiel."),
        )
        % values
    )


def _certificate_pdf(certificate: Certificate, *, dossier: Dossier, session: JurySession) -> bytes:
    return render_pdf(
        "documents/certificate.html",
        {
            "certificate": certificate,
            "dossier": dossier,
            "session": session,
            "mastery": certificate_mastery(dossier.candidate),
            "qr_svg": _qr_svg(certificate),
        },
    )


def _certificate_issued(certificate: Certificate) -> None:
    """In the transaction that stores the certificate with its PDF: the announcement and the dossier's event."""
    certificate_created.send(sender=Certificate, certificate=certificate)
    DossierEvent.objects.create(
        dossier_id=certificate.dossier_id, note=_("Certificat %(n)s délivré") % {"n": certificate.number}
    )


def verification_url(certificate: Certificate) -> str:
    return code_verification_url(certificate.verification_code)


def _qr_svg(certificate: Certificate) -> str:
    return verification_qr_svg(certificate.verification_code)


def certificate_regenerate(*, document_id: int, regeneration: str, by_id: int | None, reason: str) -> Certificate:
    """The outbox's "certificate_regenerate" side effect (asked for by `outbox.services.document_regenerate`): the
    issued certificate's PDF rendered again, with its number, verification code and dates, the earlier PDF kept as
    a DocumentVersion, and the dossier's event. Not an issue: `certificate_created` is not sent again (no second
    fee). Idempotent on `regeneration`."""
    certificate = Certificate.objects.select_related("dossier__candidate", "dossier__organisation", "session").get(
        pk=document_id
    )
    if not certificate.is_produced:
        raise DocumentNotProduced
    pdf = _certificate_pdf(certificate, dossier=certificate.dossier, session=certificate.session)
    with transaction.atomic():
        certificate, replaced = document_replace(
            document=certificate,
            files={"file": (f"{certificate.number}.pdf", pdf)},
            regeneration=regeneration,
            by_id=by_id,
            reason=reason,
        )
        if replaced:
            DossierEvent.objects.create(
                dossier_id=certificate.dossier_id,
                actor_id=by_id,
                note=_("Nouvelle version du certificat %(n)s (l'ancienne est conservée) : %(reason)s")
                % {"n": certificate.number, "reason": reason},
            )
    return certificate


def minutes_generate(*, session_id: int) -> SessionMinutes:
    """The procès-verbal of a closed session. Idempotent."""
    existing = SessionMinutes.objects.filter(session_id=session_id).first()
    if existing is not None:
        return existing
    session = JurySession.objects.select_related("organisation").get(pk=session_id, state=SessionState.CLOSED)
    number = f"PV-{session.organisation_id}-{session.day:%Y%m%d}-{session.pk}"
    pdf = _minutes_pdf(session, number=number)
    minutes = SessionMinutes(session=session, number=number, sha256=sha256_hex(pdf))
    minutes.file.save(f"{number}.pdf", ContentFile(pdf), save=False)
    try:
        with transaction.atomic():
            minutes.save()
    except IntegrityError:
        minutes.file.delete(save=False)
        return SessionMinutes.objects.get(session_id=session_id)
    return minutes


def minutes_regenerate(*, document_id: int, regeneration: str, by_id: int | None, reason: str) -> SessionMinutes:
    """The outbox's "minutes_regenerate" side effect: the minutes rendered again under their number, from the
    closed session's members, decisions and conflicts, the earlier PDF kept as a DocumentVersion. Idempotent on
    `regeneration`."""
    minutes = SessionMinutes.objects.select_related("session__organisation").get(pk=document_id)
    pdf = _minutes_pdf(minutes.session, number=minutes.number)
    with transaction.atomic():
        minutes, _replaced = document_replace(
            document=minutes,
            files={"file": (f"{minutes.number}.pdf", pdf)},
            regeneration=regeneration,
            by_id=by_id,
            reason=reason,
        )
    return minutes


def _minutes_pdf(session: JurySession, *, number: str) -> bytes:
    seats = list(session.seats.select_related("member__user").order_by("member__college", "member__user__last_name"))
    submissions = list(
        session.submissions.select_related(
            "dossier__candidate", "dossier__organisation", "decision", "decision__decided_by"
        )
    )
    conflicts = list(
        ConflictDeclaration.objects.filter(submission__session=session).select_related(
            "seat__member__user", "submission__dossier"
        )
    )
    return render_pdf(
        "documents/minutes.html",
        {
            "session": session,
            "number": number,
            "seats": seats,
            "submissions": submissions,
            "conflicts": conflicts,
            "employers": [s for s in seats if s.member.college == College.EMPLOYERS],
            "employees": [s for s in seats if s.member.college == College.EMPLOYEES],
            "employers_present": [s for s in seats if s.member.college == College.EMPLOYERS and s.present],
            "employees_present": [s for s in seats if s.member.college == College.EMPLOYEES and s.present],
            "president": next((s for s in seats if s.is_president), None),
        },
    )


def certificate_lookup(code: str) -> Certificate | None:
    """The public verification: by code only, ignoring case, spaces and dashes, nothing else; only a certificate
    whose PDF exists (a row left without it by the code before issue 13 is not issued)."""
    normalised = verification_code_normalise(code)
    if normalised is None:
        return None
    return Certificate.objects.produced().filter(verification_code=normalised).first()
