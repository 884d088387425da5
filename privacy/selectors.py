"""Reads for personal data: what is past its retention (settings.DATA_RETENTION), who a person is across the
organisations' records, and whether the law lets their data be erased now.

A person is not a row: each evaluator organisation records its own candidate (one per dossier), and a France
Travail referral holds its own copy of the identity. The same person is the same folded names
(`candidates.models.identity_key`) and birth date, as the one-dossier rule already decides; homonyms born the
same day exist, so the screens list the records found and Certif'Pro confirms which are the person's."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.contrib.sessions.models import Session
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from candidates.models import (
    Candidate,
    Dossier,
    DossierEvent,
    DossierQuerySet,
    DossierState,
    SignInLink,
    add_years,
    identity_key,
)
from evaluations.models import PixImport
from funding.models import AWAITING_PAYMENT_STATES, FundingLine, FundingLineQuerySet
from intake.models import CLOSED as CLOSED_INTERVIEW_REQUEST_STATES
from intake.models import InterviewRequest, InterviewRequestState
from juries.models import Certificate
from organisations.models import ApiToken, IdempotencyKey, User
from outbox.models import SideEffect
from privacy.retention import retention
from referrals.models import Referral, ReferralState
from webhooks.models import WebhookDelivery

# The closed dossiers that never led to a certificate; their retention runs from their closing.
CLOSED_WITHOUT_CERTIFICATE = (DossierState.WITHDRAWN, DossierState.EXPIRED, DossierState.REFUSED)
# Dossiers that had not reached the prior evaluation: their retention runs from their last activity.
STALLED_STATES = (DossierState.INFORMATION, DossierState.OPENED)
# Referrals closed without a dossier.
CLOSED_REFERRAL_STATES = (ReferralState.DECLINED, ReferralState.EXPIRED)


def _cutoff(key: str, now: datetime.datetime) -> datetime.datetime:
    cutoff = retention(key).cutoff(now)
    if cutoff is None:
        raise ValueError(f"DATA_RETENTION[{key!r}] has no end: nothing is ever past it")
    return cutoff


# -- What is past its retention --------------------------------------------------------------------------------


def accounting_hold_until(invoiced_on: datetime.date) -> datetime.date | None:
    """The day an invoiced line stops holding its dossier's personal data (accounting records), None: never."""
    duration = retention("invoiced_funding").duration
    if duration is None:
        return None
    return add_years(invoiced_on, duration["years"])


def funding_holds(today: datetime.date) -> FundingLineQuerySet:
    """The funding lines that keep their dossier's personal data: a line the funder has not paid in full yet, and
    a line invoiced within the accounting retention (settings.DATA_RETENTION["invoiced_funding"])."""
    duration = retention("invoiced_funding").duration
    recently = Q(invoiced_on__isnull=False)
    if duration is not None:
        recently &= Q(invoiced_on__gt=add_years(today, -duration["years"]))
    return FundingLine.objects.filter(Q(state__in=AWAITING_PAYMENT_STATES) | recently)


def dossier_closed_at() -> Coalesce:
    """When the dossier reached its current state: its timeline's latest event into it (its last change for a
    dossier whose timeline lacks one)."""
    latest = DossierEvent.objects.filter(dossier=OuterRef("pk"), to_state=OuterRef("state")).order_by("-at", "-id")
    return Coalesce(Subquery(latest.values("at")[:1]), F("updated_at"))


def dossier_last_activity() -> Coalesce:
    """The dossier's last step or change: its timeline's latest event, whatever it says (its last change for a
    dossier without one)."""
    latest = DossierEvent.objects.filter(dossier=OuterRef("pk")).order_by("-at", "-id")
    return Coalesce(Subquery(latest.values("at")[:1]), F("updated_at"))


def _stalled(now: datetime.datetime) -> Q:
    """On dossiers annotated by `_with_retention_facts`: still in information or opened, with no activity for
    longer than settings.DATA_RETENTION["stalled_dossiers"]."""
    return Q(state__in=STALLED_STATES, last_activity__lte=_cutoff("stalled_dossiers", now))


def _closed_information(now: datetime.datetime) -> Q:
    """On dossiers annotated by `_with_retention_facts`: closed at the information step, never opened (no consent:
    « sans suite après l'information » or an abandon), longer ago than settings.DATA_RETENTION["closed_information"]."""
    return Q(state=DossierState.WITHDRAWN, consent_at__isnull=True, closed_at__lte=_cutoff("closed_information", now))


def _past_retention(now: datetime.datetime) -> Q:
    """On dossiers annotated with `closed_at`, `last_activity` and `held` (`_with_retention_facts`): opened then closed
    without a certificate longer ago than their retention, closed at the information step longer ago than theirs, or
    stalled before the prior evaluation longer than theirs; held by no funding line."""
    closed = Q(
        state__in=CLOSED_WITHOUT_CERTIFICATE,
        certificate__isnull=True,
        consent_at__isnull=False,
        closed_at__lte=_cutoff("closed_dossiers", now),
    )
    return (closed | _closed_information(now) | _stalled(now)) & Q(held=False)


def _with_retention_facts(dossiers: DossierQuerySet, now: datetime.datetime) -> DossierQuerySet:
    holds = funding_holds(timezone.localdate(now)).filter(dossier=OuterRef("pk"))
    return dossiers.annotate(closed_at=dossier_closed_at(), last_activity=dossier_last_activity(), held=Exists(holds))


def dossiers_past_retention(now: datetime.datetime) -> DossierQuerySet:
    """Dossiers not anonymised yet, closed without a certificate longer ago than their retention, which no funding
    line holds."""
    return _with_retention_facts(Dossier.objects.filter(anonymised_at__isnull=True), now).filter(_past_retention(now))


def candidates_to_anonymise(now: datetime.datetime) -> QuerySet[Candidate]:
    """Candidates not anonymised yet whose every dossier is past its retention (`dossiers_past_retention`).

    Starts from the dossiers past their retention (closed ones, by the indexed state), and checks each of their
    candidates' other dossiers by the candidate's own: no scan of the national table per candidate."""
    others = _with_retention_facts(Dossier.objects.filter(candidate=OuterRef("pk")), now).exclude(_past_retention(now))
    return Candidate.objects.filter(
        pk__in=dossiers_past_retention(now).values("candidate_id"), anonymised_at__isnull=True
    ).filter(~Exists(others))


def candidates_with_stalled_dossiers(now: datetime.datetime) -> QuerySet[Candidate]:
    """Of `candidates_to_anonymise`, those with a dossier stalled before the prior evaluation (closed before they
    are anonymised)."""
    stalled = _with_retention_facts(Dossier.objects.filter(candidate=OuterRef("pk")), now).filter(_stalled(now))
    return candidates_to_anonymise(now).filter(Exists(stalled))


def candidates_with_closed_information(now: datetime.datetime) -> QuerySet[Candidate]:
    """Of `candidates_to_anonymise`, those with a dossier closed at the information step (counted under their own
    row of the table, and before the other closed dossiers)."""
    closed = _with_retention_facts(Dossier.objects.filter(candidate=OuterRef("pk")), now).filter(
        _closed_information(now)
    )
    return candidates_to_anonymise(now).filter(Exists(closed))


def stalled_dossiers_of(candidate: Candidate) -> DossierQuerySet:
    """The candidate's dossiers still in information or opened (to close: `candidates_with_stalled_dossiers` said
    they are all past their retention)."""
    return Dossier.objects.filter(candidate=candidate, state__in=STALLED_STATES, anonymised_at__isnull=True)


def accounts_to_anonymise(now: datetime.datetime) -> QuerySet[User]:
    """Accounts not logged into (or, never used, created) longer ago than settings.DATA_RETENTION
    ["inactive_accounts"], not anonymised yet. Never a superuser: the operators' own account, whose loss would lock
    the administration."""
    cutoff = _cutoff("inactive_accounts", now)
    return User.objects.filter(is_superuser=False, anonymised_at__isnull=True).filter(
        Q(last_login__lte=cutoff) | Q(last_login__isnull=True, date_joined__lte=cutoff)
    )


def candidates_to_erase_contacts(now: datetime.datetime) -> QuerySet[Candidate]:
    """Certificates' holders whose contact details are past their retention: a certificate awarded longer ago
    than settings.DATA_RETENTION["certified_contacts"], and no dossier in progress."""
    cutoff = timezone.localdate(_cutoff("certified_contacts", now))
    awarded = Certificate.objects.filter(dossier__candidate=OuterRef("pk"), awarded_on__lte=cutoff)
    in_progress = Dossier.objects.open().filter(candidate=OuterRef("pk"))
    return Candidate.objects.filter(
        Exists(awarded), ~Exists(in_progress), anonymised_at__isnull=True, contacts_erased_at__isnull=True
    )


def unconfirmed_interview_requests_to_delete(now: datetime.datetime) -> QuerySet[InterviewRequest]:
    return InterviewRequest.objects.filter(
        state=InterviewRequestState.UNCONFIRMED,
        created_at__lte=_cutoff("unconfirmed_interview_requests", now),
    )


def closed_interview_requests_to_delete(now: datetime.datetime) -> QuerySet[InterviewRequest]:
    return InterviewRequest.objects.filter(
        state__in=CLOSED_INTERVIEW_REQUEST_STATES, closed_at__lte=_cutoff("closed_interview_requests", now)
    )


def referrals_to_anonymise(now: datetime.datetime) -> QuerySet[Referral]:
    """Referrals declined or expired longer ago than their retention; not those that opened a dossier, which follow
    their dossier."""
    return (
        Referral.objects.filter(state__in=CLOSED_REFERRAL_STATES, anonymised_at__isnull=True)
        .annotate(closed_at=Coalesce("answered_at", "sent_at"))
        .filter(closed_at__lte=_cutoff("closed_referrals", now))
    )


def api_tokens_to_delete(now: datetime.datetime) -> QuerySet[ApiToken]:
    cutoff = _cutoff("api_tokens", now)
    return ApiToken.objects.filter(Q(revoked_at__lte=cutoff) | Q(expires_at__lte=cutoff))


def idempotency_keys_to_delete(now: datetime.datetime) -> QuerySet[IdempotencyKey]:
    return IdempotencyKey.objects.filter(created_at__lte=_cutoff("idempotency_keys", now))


def sessions_to_delete(now: datetime.datetime) -> QuerySet[Session]:
    return Session.objects.filter(expire_date__lte=_cutoff("sessions", now))


def sign_in_links_to_delete(now: datetime.datetime) -> QuerySet[SignInLink]:
    return SignInLink.objects.filter(expires_at__lte=_cutoff("sign_in_links", now))


def pix_imports_to_expire(now: datetime.datetime) -> QuerySet[PixImport]:
    """Pix results files received before the retention's cutoff, not yet emptied."""
    return PixImport.objects.filter(uploaded_at__lte=_cutoff("pix_imports", now)).exclude(file="")


def webhook_deliveries_to_delete(now: datetime.datetime) -> QuerySet[WebhookDelivery]:
    """Their attempts go with them (the receivers' answers may say more than the ids the platform sent)."""
    return WebhookDelivery.objects.past_retention(_cutoff("webhook_deliveries", now))


def emails_to_delete(now: datetime.datetime) -> QuerySet[SideEffect]:
    return SideEffect.objects.filter(kind="email", created_at__lte=_cutoff("outbox_emails", now))


# -- A person ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonKey:
    identity_key: str
    birth_date: datetime.date


def person_key(record: Candidate | Referral) -> PersonKey:
    if isinstance(record, Candidate):
        return PersonKey(record.identity_key, record.birth_date)
    return PersonKey(identity_key(record.first_name, record.last_name), record.birth_date)


@dataclass(frozen=True)
class PersonRecords:
    """What the platform holds about one person under one identity: the candidates (with their dossiers) and the
    referrals that no candidate here accounts for (declined, expired, waiting, or accepted into a dossier whose
    identity was corrected since). Anonymised records are someone no more, and are never part of it."""

    key: PersonKey
    candidates: list[Candidate] = field(default_factory=list)
    referrals: list[Referral] = field(default_factory=list)

    @property
    def records(self) -> list[Candidate | Referral]:
        return [*self.candidates, *self.referrals]

    @property
    def display_name(self) -> str:
        first = self.records[0] if self.records else None
        return f"{first.first_name} {first.last_name.upper()}" if first is not None else ""

    def only(self, tokens: Iterable[str]) -> PersonRecords:
        """The records named by `record_token`s, in the same order."""
        chosen = set(tokens)
        return PersonRecords(
            key=self.key,
            candidates=[c for c in self.candidates if record_token(c) in chosen],
            referrals=[r for r in self.referrals if record_token(r) in chosen],
        )


def record_token(record: Candidate | Referral) -> str:
    """How a form names one record: "candidate-12", "referral-7"."""
    return f"{'candidate' if isinstance(record, Candidate) else 'referral'}-{record.pk}"


def record_label(record: Candidate | Referral) -> str:
    """What tells one record from another's homonym: its kind, organisation, birth place, e-mail, commune."""
    details = [record.birth_place, record.email, record.city]
    described = ", ".join(detail for detail in details if detail)
    if isinstance(record, Candidate):
        references = [dossier.reference or str(dossier.pk) for dossier in record.dossiers.all()]
        text = ngettext(
            "Personne candidate chez %(organisation)s (dossier %(references)s)",
            "Personne candidate chez %(organisation)s (dossiers %(references)s)",
            len(references),
        ) % {"organisation": record.organisation.name, "references": ", ".join(references) or "–"}
    else:
        text = _("Orientation France Travail vers %(organisation)s, envoyée le %(date)s (%(state)s)") % {
            "organisation": record.organisation.name,
            "date": date_format(timezone.localdate(record.sent_at), "d/m/Y"),
            "state": record.get_state_display(),
        }
    return f"{text} – {described}" if described else text


def _candidates() -> QuerySet[Candidate]:
    dossiers = Dossier.objects.select_related("certificate").prefetch_related("funding_lines__funder")
    return (
        Candidate.objects.filter(anonymised_at__isnull=True)
        .select_related("organisation")
        .prefetch_related(Prefetch("dossiers", queryset=dossiers.order_by("created_at", "pk")))
        .order_by("created_at", "pk")
    )


def _referrals() -> QuerySet[Referral]:
    return (
        Referral.objects.filter(anonymised_at__isnull=True)
        .select_related("organisation", "from_organisation", "site", "dossier")
        .order_by("sent_at", "pk")
    )


def person_records(key: PersonKey) -> PersonRecords:
    """Every record of the person under this identity, across organisations (Certif'Pro's view: all of them)."""
    candidates = list(_candidates().filter(identity_key=key.identity_key, birth_date=key.birth_date))
    mine = {candidate.pk for candidate in candidates}
    referrals = [
        referral
        for referral in _referrals().filter(birth_date=key.birth_date)
        if person_key(referral) == key and (referral.dossier is None or referral.dossier.candidate_id not in mine)
    ]
    return PersonRecords(key=key, candidates=candidates, referrals=referrals)


def person_records_locked(records: PersonRecords) -> PersonRecords:
    """The same records read again and locked, inside the caller's transaction: an erasure decides on the state it
    holds (a refusal revoked by Certif'Pro since the page was read puts the dossier back before the jury). Those
    anonymised since are gone."""
    candidates = _candidates().filter(pk__in=[c.pk for c in records.candidates]).select_for_update(of=("self",))
    referrals = _referrals().filter(pk__in=[r.pk for r in records.referrals]).select_for_update(of=("self",))
    return PersonRecords(key=records.key, candidates=list(candidates), referrals=list(referrals))


def person_of(kind: str, pk: int) -> PersonRecords | None:
    """The person a record belongs to (`kind` "candidat" or "orientation", as the screens' URLs say), None when
    there is no such record or it is anonymised."""
    if kind == "candidat":
        record: Candidate | Referral | None = Candidate.objects.filter(pk=pk, anonymised_at__isnull=True).first()
    elif kind == "orientation":
        record = Referral.objects.filter(pk=pk, anonymised_at__isnull=True).first()
    else:
        return None
    return person_records(person_key(record)) if record is not None else None


@dataclass(frozen=True)
class PersonFound:
    """One search result: a person, the record the screens open them from, and what tells homonyms apart."""

    records: PersonRecords
    kind: str
    pk: int

    @property
    def organisations(self) -> list[str]:
        return sorted({record.organisation.name for record in self.records.records})


SEARCH_LIMIT = 50


def persons_search(*, name: str, birth_date: datetime.date) -> list[PersonFound]:
    """The people born on `birth_date` whose names contain every word of `name` (accents, case and hyphens
    ignored), not anonymised, at most SEARCH_LIMIT, each with all their records: every record of a person has the
    same folded names, so the search finds them all. A fixed number of queries, whatever it finds."""
    words = identity_key("", name).split()
    if not words:
        return []
    candidates = _candidates().filter(birth_date=birth_date)
    for word in words:
        candidates = candidates.filter(identity_key__contains=word)
    people: dict[PersonKey, PersonRecords] = {}
    for candidate in candidates:
        people.setdefault(person_key(candidate), PersonRecords(person_key(candidate))).candidates.append(candidate)
    theirs = {candidate.pk for person in people.values() for candidate in person.candidates}
    for referral in _referrals().filter(birth_date=birth_date):
        key = person_key(referral)
        if all(word in key.identity_key for word in words) and (
            referral.dossier is None or referral.dossier.candidate_id not in theirs
        ):
            people.setdefault(key, PersonRecords(key)).referrals.append(referral)
    found = [
        PersonFound(person, "candidat" if person.candidates else "orientation", person.records[0].pk)
        for person in people.values()
    ]
    return sorted(found, key=lambda person: person.records.key.identity_key)[:SEARCH_LIMIT]


# -- May the person's data be erased now? -----------------------------------------------------------------------


@dataclass(frozen=True)
class Assessment:
    """One record, and why it must be kept (the law's reasons, in French); none: it may be erased now."""

    record: Candidate | Referral
    reasons: list[str]

    @property
    def erasable(self) -> bool:
        return not self.reasons

    @property
    def label(self) -> str:
        return record_label(self.record)


def _day(day: datetime.date) -> str:
    return date_format(day, "d/m/Y")


def candidate_keep_reasons(candidate: Candidate, today: datetime.date) -> list[str]:
    """Why the candidate's data must be kept today: a dossier in progress, a certificate (kept so that it stays
    verifiable), a funding line the funder has not paid or invoiced within the accounting retention. Reads the
    prefetched dossiers, their certificate and lines."""
    reasons = []
    holds = set(funding_holds(today).filter(dossier__candidate=candidate).values_list("pk", flat=True))
    for dossier in candidate.dossiers.all():
        if dossier.is_open:
            reasons.append(
                _(
                    "Le dossier %(ref)s est en cours (« %(state)s ») : l'organisme évaluateur doit d'abord le clore "
                    "(abandon) à la demande de la personne."
                )
                % {"ref": dossier.reference or dossier.pk, "state": dossier.get_state_display()}
            )
        certificate: Certificate | None = getattr(dossier, "certificate", None)
        if certificate is not None:
            reasons.append(
                _(
                    "Le certificat %(number)s a été délivré le %(date)s : l'identité de son titulaire est conservée "
                    "pour qu'il reste vérifiable (article 17.3 du RGPD)."
                )
                % {"number": certificate.number, "date": _day(certificate.awarded_on)}
            )
        for line in dossier.funding_lines.all():
            if line.pk not in holds:
                continue
            label = f"{line.get_step_display()}, {line.funder}"
            invoiced_on = line.invoiced_on
            until = accounting_hold_until(invoiced_on) if invoiced_on is not None else None
            if line.state in AWAITING_PAYMENT_STATES or invoiced_on is None or until is None:
                reasons.append(
                    _(
                        "Le financement « %(line)s » du dossier %(ref)s attend encore son paiement : il est conservé "
                        "jusqu'à son solde, puis comme pièce comptable."
                    )
                    % {"line": label, "ref": dossier.reference}
                )
            else:
                reasons.append(
                    _(
                        "Le financement « %(line)s » du dossier %(ref)s a été facturé le %(date)s : pièce comptable "
                        "conservée jusqu'au %(until)s (article L123-22 du Code de commerce)."
                    )
                    % {"line": label, "ref": dossier.reference, "date": _day(invoiced_on), "until": _day(until)}
                )
    return reasons


def referral_keep_reasons(referral: Referral) -> list[str]:
    """Why a referral's data must be kept today: it waits for an answer, or it opened a dossier (it follows it)."""
    if referral.state == ReferralState.SENT:
        return [
            _(
                "L'orientation attend la réponse de l'organisme évaluateur (au plus tard le %(date)s) : elle pourra "
                "être effacée une fois déclinée ou expirée."
            )
            % {"date": _day(timezone.localdate(referral.expires_at))}
        ]
    if referral.state == ReferralState.ACCEPTED and referral.dossier is not None:
        return [
            _("L'orientation a ouvert le dossier %(ref)s : elle est effacée avec ce dossier.")
            % {"ref": referral.dossier.reference}
        ]
    return []


def erasure_assessment(records: PersonRecords, today: datetime.date | None = None) -> list[Assessment]:
    """Each record of the person, with why the law keeps it today (art. 17.3 GDPR), if it does."""
    today = today or timezone.localdate()
    assessments: Sequence[Assessment] = [
        Assessment(candidate, candidate_keep_reasons(candidate, today)) for candidate in records.candidates
    ]
    return [*assessments, *(Assessment(referral, referral_keep_reasons(referral)) for referral in records.referrals)]
