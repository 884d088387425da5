"""Personal data past its retention, and a person's requests: anonymisation (`retention_apply`, daily from beat
and `manage.py anonymise`), the subject-access export (`person_export`) and erasure on request (`person_erase`).

Anonymising a person replaces their direct identifiers and keeps what the statistics count: the dossiers, their
states and the dates of their steps, results, organisation, region, certification, civility, status, education
level, origin, birth year. A certificate's holder is never anonymised: the certificate keeps its own holder name,
number and dates, and its public verification page shows what it always did. The audit log is never touched: its
rows are append-only (organisations.models.AuditLog, and a trigger in PostgreSQL)."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.files.storage import Storage
from django.db import models, transaction
from django.db.models.functions import TruncYear
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from candidates.models import (
    ANONYMISED_FIRST_NAME,
    ANONYMISED_LAST_NAME,
    CONTACT_FIELDS,
    Candidate,
    CorrectionRequest,
    Dossier,
    DossierEvent,
    DossierNote,
    DossierTransfer,
    anonymised_birth_date,
    identity_key,
)
from candidates.services import dossier_withdraw
from clea_platform.changes import rows_changed, rows_update
from clea_platform.errors import BusinessRefusal
from evaluations.models import Attestation, CriterionResult, Evaluation
from evaluations.services import pix_import_expire, pix_rows_forget
from funding.models import FundingLine, FundingLineEvent, FundingProof
from intake.models import requests_appointment_ids
from juries.models import Decision, Submission
from organisations.models import Membership, Role
from organisations.services import audit_record, user_anonymise
from outbox.models import DocumentVersion
from privacy.exports import person_archive
from privacy.selectors import (
    PersonRecords,
    accounts_to_anonymise,
    api_tokens_to_delete,
    candidates_to_anonymise,
    candidates_to_erase_contacts,
    candidates_with_closed_information,
    candidates_with_stalled_dossiers,
    closed_interview_requests_to_delete,
    emails_to_delete,
    erasure_assessment,
    idempotency_keys_to_delete,
    person_records_locked,
    pix_imports_to_expire,
    record_token,
    referrals_to_anonymise,
    sessions_to_delete,
    sign_in_links_to_delete,
    stalled_dossiers_of,
    unconfirmed_interview_requests_to_delete,
    webhook_deliveries_to_delete,
)
from referrals.models import Referral, ReferralEvent
from scheduling.models import Appointment, Assignment
from scheduling.services import information_appointments_forget
from training.models import ProgressNote, TrainingPlan

logger = logging.getLogger(__name__)

# The fields of a referral's copy of the person's identity that its anonymisation blanks (the names and birth date
# are replaced as a candidate's are).
REFERRAL_CONTACT_FIELDS = ("email", "phone", "postcode", "city", "note")


class PrivacyRefusal(BusinessRefusal):
    code = "privacy_refused"


def _delete_files_on_commit(files: list[tuple[Storage, str]]) -> None:
    """Delete stored files once the rows that no longer name them are committed. A deletion lost (a dead
    process) leaves orphans, which clea_platform.documents collects: no row names them any more."""

    def delete() -> None:
        for storage, name in files:
            try:
                storage.delete(name)
            except OSError:
                logger.exception("Could not delete %s; the orphan collector will", name)

    if files:
        transaction.on_commit(delete)


def _files(model: type[models.Model], rows: models.QuerySet, field_name: str = "file") -> list[tuple[Storage, str]]:
    storage = model._meta.get_field(field_name).storage  # type: ignore[union-attr]
    return [(storage, name) for name in rows.exclude(**{field_name: ""}).values_list(field_name, flat=True)]


def _admin_history_unname(row: Candidate | Referral) -> None:
    """Django's admin history names each row it saved by str(), the person's name (an identity corrected there,
    even a save without a change): it takes the row's audit label, as the audit log does."""
    LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(row), object_id=str(row.pk)).update(
        object_repr=row.audit_label()
    )


def _referrals_anonymise(referrals: models.QuerySet[Referral], now: datetime.datetime) -> int:
    """Replace the identity each referral copied (names, birth date → its year, birth place, contact details, the
    advisor's note, the reason of a refusal) and its history's notes. The state, dates, organisations, site and
    certification stay. Only those not anonymised yet."""
    pending = referrals.filter(anonymised_at__isnull=True)
    ids = list(pending.values_list("pk", flat=True))
    if not ids:
        return 0
    rows_update(
        Referral.objects.filter(pk__in=ids),
        at=now,
        first_name=ANONYMISED_FIRST_NAME,
        last_name=ANONYMISED_LAST_NAME,
        birth_date=TruncYear("birth_date"),  # anonymised_birth_date, in SQL (several rows at once)
        birth_place="",
        decline_reason="",
        anonymised_at=now,
        **dict.fromkeys(REFERRAL_CONTACT_FIELDS, ""),
    )
    ReferralEvent.objects.filter(referral_id__in=ids).exclude(note="").update(note="")
    for referral in Referral.objects.filter(pk__in=ids):
        _admin_history_unname(referral)
    return len(ids)


def _dossiers_scrub(dossiers: models.QuerySet[Dossier], now: datetime.datetime) -> list[tuple[Storage, str]]:
    """Blank the free texts the dossiers' steps hold about the person (the withdrawal's reason, the information
    interview's notes, the timeline's,
    evaluations', training's, jury's, funding's and appointments' notes and comments, the funder's file reference),
    and take the files of their attestations, earlier versions and funding proofs out of the rows. Returns those
    files, for deletion once committed. What the statistics count stays."""
    dossier_ids = list(dossiers.values_list("pk", flat=True))
    # Every row rewritten here moves its updated_at (rows_update): the API's feed tells integrators what to erase too.
    rows_update(Dossier.objects.filter(pk__in=dossier_ids), at=now, withdrawal_reason="", anonymised_at=now)
    DossierEvent.objects.filter(dossier_id__in=dossier_ids).exclude(note="").update(note="")
    # What the person said at the information interview.
    DossierNote.objects.filter(dossier_id__in=dossier_ids).exclude(text="").update(text="")
    # Why the person changed organisation (issue 19) may speak of them; who moved it where and when stays.
    DossierTransfer.objects.filter(dossier_id__in=dossier_ids).exclude(reason="").update(reason="")
    # Ids first, then each table by its own indexed foreign key: an UPDATE through a join made PostgreSQL scan the
    # whole criterion results table, 0.3 s a person on 50,000 dossiers (README, "Données personnelles").
    evaluation_ids = list(Evaluation.objects.filter(dossier_id__in=dossier_ids).values_list("pk", flat=True))
    rows_update(Evaluation.objects.filter(pk__in=evaluation_ids), at=now, context="")
    CriterionResult.objects.filter(evaluation_id__in=evaluation_ids).exclude(comment="").update(comment="")
    plan_ids = list(TrainingPlan.objects.filter(dossier_id__in=dossier_ids).values_list("pk", flat=True))
    rows_update(TrainingPlan.objects.filter(pk__in=plan_ids), at=now, objectives="", shortfall_reason="")
    ProgressNote.objects.filter(plan_id__in=plan_ids).exclude(text="").update(text="")
    submission_ids = list(Submission.objects.filter(dossier_id__in=dossier_ids).values_list("pk", flat=True))
    decisions = Decision.objects.filter(submission_id__in=submission_ids)
    rows_update(decisions, at=now, reason="", revocation_reason="")
    line_ids = list(FundingLine.objects.filter(dossier_id__in=dossier_ids).values_list("pk", flat=True))
    rows_update(FundingLine.objects.filter(pk__in=line_ids), at=now, note="", funder_reference="")
    FundingLineEvent.objects.filter(line_id__in=line_ids).exclude(note="").update(note="")
    # An appointment's cancellation reason and remote details, an assignment's end reason: may speak of the person.
    appointments = Appointment.objects.filter(dossier_id__in=dossier_ids)
    rows_update(appointments, at=now, cancel_reason="", remote_details="")
    Assignment.objects.filter(dossier_id__in=dossier_ids).exclude(end_reason="").update(end_reason="")

    files: list[tuple[Storage, str]] = []
    proofs = FundingProof.objects.filter(line_id__in=line_ids)
    files += _files(FundingProof, proofs)
    proofs.update(file="", original_name="")
    attestations = Attestation.objects.filter(dossier_id__in=dossier_ids)
    files += _files(Attestation, attestations)
    attestation_ids = list(attestations.values_list("pk", flat=True))
    rows_update(attestations, at=now, file="")
    versions = DocumentVersion.objects.filter(
        content_type=ContentType.objects.get_for_model(Attestation), object_id__in=attestation_ids
    )
    storage = DocumentVersion._meta.get_field("file").storage
    files += [(storage, name) for name in versions.files_erase(now=now)]
    return files


def candidate_anonymise(*, candidate: Candidate, now: datetime.datetime) -> bool:
    """Anonymise the person a candidate row records, inside the caller's transaction: names replaced, birth date
    reduced to its year, birth name and place and contact details erased, the admin's history of the row naming
    them no more; their dossiers scrubbed (`_dossiers_scrub`) and the referrals that opened them anonymised. The
    attestations' and proofs' files are deleted once committed. False when it already was (nothing is written)."""
    locked = Candidate.objects.select_for_update().filter(pk=candidate.pk, anonymised_at__isnull=True).first()
    if locked is None:
        return False
    Candidate.objects.filter(pk=locked.pk).update(
        first_name=ANONYMISED_FIRST_NAME,
        last_name=ANONYMISED_LAST_NAME,
        identity_key=identity_key(ANONYMISED_FIRST_NAME, ANONYMISED_LAST_NAME),
        birth_name="",
        birth_date=anonymised_birth_date(locked.birth_date),
        birth_place="",
        sex="",
        birth_insee_code="",
        anonymised_at=now,
        contacts_erased_at=locked.contacts_erased_at or now,
        **dict.fromkeys(CONTACT_FIELDS, ""),
    )
    _admin_history_unname(locked)
    # What the person wrote to have their data corrected, and the answer, speak of them.
    CorrectionRequest.objects.filter(candidate_id=locked.pk).update(message="", answer="")
    dossiers = Dossier.objects.filter(candidate_id=locked.pk)
    files = _dossiers_scrub(dossiers, now)
    _referrals_anonymise(Referral.objects.filter(dossier__in=dossiers), now)
    pix_rows_forget(dossiers=dossiers)
    _delete_files_on_commit(files)
    return True


def candidate_contacts_erase(*, candidate: Candidate, now: datetime.datetime) -> bool:
    """Erase a certificate holder's contact details (and those of the referral that opened their dossier), keeping
    their identity for the certificate. False when they already were."""
    updated = Candidate.objects.filter(
        pk=candidate.pk, contacts_erased_at__isnull=True, anonymised_at__isnull=True
    ).update(contacts_erased_at=now, **dict.fromkeys(CONTACT_FIELDS, ""))
    if updated:
        rows_changed(Dossier.objects.filter(candidate_id=candidate.pk), at=now)  # the dossier shows its candidate
        rows_update(
            Referral.objects.filter(dossier__candidate_id=candidate.pk),
            at=now,
            **dict.fromkeys(REFERRAL_CONTACT_FIELDS, ""),
        )
    return bool(updated)


def referral_anonymise(*, referral: Referral, now: datetime.datetime) -> bool:
    """Anonymise one referral closed without a dossier (`_referrals_anonymise`), inside the caller's transaction.
    False when it already was."""
    return bool(_referrals_anonymise(Referral.objects.filter(pk=referral.pk), now))


# -- The daily job ---------------------------------------------------------------------------------------------


Due = Callable[[datetime.datetime], models.QuerySet]


@dataclass(frozen=True)
class RetentionStep:
    """One category of the table that the job applies: what is due at an instant (`due`), and how to apply it to
    that (`apply`, returning how many rows it changed)."""

    key: str
    due: Due
    apply: Callable[[Due, datetime.datetime], int]


def _delete(due: Due, now: datetime.datetime) -> int:
    """Plain deletions, in one statement."""
    with transaction.atomic():
        rows = due(now)
        return int(rows.delete()[1].get(rows.model._meta.label, 0))


def _delete_interview_requests(due: Due, now: datetime.datetime) -> int:
    """Deleted like the others, after blanking the person's name and address on the appointments they proposed
    that no dossier took (those stay in the counsellors' agendas, as « Personne effacée »)."""
    with transaction.atomic():
        rows = due(now)
        information_appointments_forget(requests_appointment_ids(rows))
        return int(rows.delete()[1].get(rows.model._meta.label, 0))


# Rows anonymised one by one per category and run: about 5 ms each on PostgreSQL (README, "Données personnelles"),
# so a run stays well within the sweeps' time limit (LONG_TASK_SOFT_TIME_LIMIT) and writes its audit row; a backlog
# (the first run on years of data) is absorbed over the following days.
RETENTION_BATCH = 10_000


def _one_by_one(action: Callable[..., bool]) -> Callable[[Due, datetime.datetime], int]:
    """Each person in a transaction of their own, checked again under its lock (a dossier may have moved on since
    the list was read): a failure leaves the others done, and the next run takes it again. The oldest rows first,
    RETENTION_BATCH at most."""

    def apply(due: Due, now: datetime.datetime) -> int:
        done = 0
        for pk in list(due(now).values_list("pk", flat=True).order_by("pk")[:RETENTION_BATCH]):
            with transaction.atomic():
                row = due(now).filter(pk=pk).select_for_update(of=("self",)).first()
                done += row is not None and action(row, now)
        return done

    return apply


def candidate_retire(*, candidate: Candidate, now: datetime.datetime) -> bool:
    """A person past the retention of every dossier: anonymised (`candidate_anonymise`), then their dossiers stalled
    before the prior evaluation closed as withdrawn by the platform, with a reason that names no one. In this
    order: the anonymisation's row locks come before the withdrawal's audit rows (candidates/signals.py)."""
    stalled = list(stalled_dossiers_of(candidate))
    if not candidate_anonymise(candidate=candidate, now=now):
        return False
    for dossier in stalled:
        dossier_withdraw(
            dossier=dossier, by=None, reason=_("Sans activité au-delà de la durée de conservation : clos et anonymisé.")
        )
    return True


RETENTION_STEPS = (
    # First: a person with a stalled dossier is counted here, the others under closed_dossiers.
    RetentionStep(
        "stalled_dossiers",
        candidates_with_stalled_dossiers,
        _one_by_one(lambda candidate, now: candidate_retire(candidate=candidate, now=now)),
    ),
    # Then those whose dossier closed at the information step (never opened), before the other closed ones.
    RetentionStep(
        "closed_information",
        candidates_with_closed_information,
        _one_by_one(lambda candidate, now: candidate_retire(candidate=candidate, now=now)),
    ),
    RetentionStep(
        "closed_dossiers",
        candidates_to_anonymise,
        _one_by_one(lambda candidate, now: candidate_retire(candidate=candidate, now=now)),
    ),
    RetentionStep(
        "inactive_accounts",
        accounts_to_anonymise,
        _one_by_one(lambda user, now: user_anonymise(user=user, now=now)),
    ),
    RetentionStep(
        "certified_contacts",
        candidates_to_erase_contacts,
        _one_by_one(lambda candidate, now: candidate_contacts_erase(candidate=candidate, now=now)),
    ),
    RetentionStep(
        "closed_referrals",
        referrals_to_anonymise,
        _one_by_one(lambda referral, now: referral_anonymise(referral=referral, now=now)),
    ),
    RetentionStep("unconfirmed_interview_requests", unconfirmed_interview_requests_to_delete, _delete),
    RetentionStep("closed_interview_requests", closed_interview_requests_to_delete, _delete_interview_requests),
    RetentionStep("api_tokens", api_tokens_to_delete, _delete),
    RetentionStep("idempotency_keys", idempotency_keys_to_delete, _delete),
    RetentionStep("sessions", sessions_to_delete, _delete),
    RetentionStep("sign_in_links", sign_in_links_to_delete, _delete),
    RetentionStep("outbox_emails", emails_to_delete, _delete),
    RetentionStep("webhook_deliveries", webhook_deliveries_to_delete, _delete),
    RetentionStep(
        "pix_imports",
        pix_imports_to_expire,
        _one_by_one(lambda pix_import, now: pix_import_expire(pix_import=pix_import)),
    ),
)


def retention_due(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """How many rows of each applied category are past their retention at `now` (what --dry-run prints)."""
    now = now or timezone.now()
    return {step.key: step.due(now).count() for step in RETENTION_STEPS}


def retention_apply(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Apply the retention table at `now`: anonymise, erase or delete what is past its deadline, category by
    category (settings.DATA_RETENTION), and return how many rows each changed. Writes one audit row when anything
    changed. Idempotent: anonymised rows are marked, deleted ones gone, so a second run changes nothing."""
    now = now or timezone.now()
    done: dict[str, int] = {}
    for step in RETENTION_STEPS:
        done[step.key] = step.apply(step.due, now)
    if any(done.values()):
        with transaction.atomic():  # as every audit row is written: inside a transaction (the chain locks its tail)
            audit_record(action="privacy.retention", actor=None, details={"now": now.isoformat(), "done": done})
    logger.info("Retention applied at %s: %s", now.isoformat(), done)
    return done


# -- A person's requests (Certif'Pro answers them) --------------------------------------------------------------


def _certifpro_only(by: Membership) -> None:
    if by.role != Role.CERTIFPRO_ADMIN:
        raise PermissionDenied


def _ids(records: PersonRecords) -> dict[str, list[int]]:
    return {
        "candidates": [candidate.pk for candidate in records.candidates],
        "referrals": [referral.pk for referral in records.referrals],
    }


def person_export(*, records: PersonRecords, by: Membership, request: HttpRequest | None = None) -> bytes:
    """The subject-access export (art. 15 GDPR) of the chosen records, as a ZIP (privacy.exports.person_archive),
    and its audit row. The row names the records by id, never the person: the log outlives their identity."""
    _certifpro_only(by)
    if not records.records:
        raise PrivacyRefusal(_("Choisissez au moins une fiche de la personne."))
    content, files = person_archive(records)
    with transaction.atomic():
        audit_record(
            action="privacy.export",
            actor=by.user,
            organisation=by.organisation_id,
            request=request,
            details={**_ids(records), "files": files, "bytes": len(content)},
        )
    return content


REASON_MAX_LENGTH = 1000


@dataclass
class ErasureResult:
    erased: list[Candidate | Referral] = field(default_factory=list)
    # Each record kept, with the law's reasons.
    kept: list[tuple[Candidate | Referral, list[str]]] = field(default_factory=list)


def person_erase(
    *,
    records: PersonRecords,
    by: Membership,
    reason: str,
    request: HttpRequest | None = None,
    now: datetime.datetime | None = None,
) -> ErasureResult:
    """Erase the chosen records of a person on their request (art. 17 GDPR), where the law allows it now: a
    candidate whose dossiers are all closed without a certificate and hold no funding obligation, a referral
    declined or expired. The others are kept, each with its reasons (erasure_assessment), and said so. The
    erasure is the retention's anonymisation, done today. One audit row, naming the records by id and the reason
    (the form asks not to name the person in it)."""
    _certifpro_only(by)
    reason = reason.strip()
    if not reason:
        raise PrivacyRefusal(_("Indiquez le motif de l'effacement : la demande de la personne, sa date."))
    if len(reason) > REASON_MAX_LENGTH:
        raise PrivacyRefusal(
            ngettext(
                "Le motif ne doit pas dépasser %(n)s caractère.",
                "Le motif ne doit pas dépasser %(n)s caractères.",
                REASON_MAX_LENGTH,
            )
            % {"n": REASON_MAX_LENGTH},
        )
    if not records.records:
        raise PrivacyRefusal(_("Choisissez au moins une fiche de la personne."))
    now = now or timezone.now()
    result = ErasureResult()
    with transaction.atomic():
        for assessment in erasure_assessment(person_records_locked(records), timezone.localdate(now)):
            record = assessment.record
            if not assessment.erasable:
                result.kept.append((record, assessment.reasons))
                continue
            if isinstance(record, Candidate):
                changed = candidate_anonymise(candidate=record, now=now)
            else:
                changed = referral_anonymise(referral=record, now=now)
            if changed:
                result.erased.append(record)
        audit_record(
            action="privacy.erase" if result.erased else "privacy.erase_refused",
            actor=by.user,
            organisation=by.organisation_id,
            request=request,
            details={
                **_ids(records),
                "reason": reason,
                "erased": [record_token(record) for record in result.erased],
                "kept": [record_token(record) for record, _reasons in result.kept],
            },
        )
    return result
