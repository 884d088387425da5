"""A candidate's own space: the sign-in links (made, sent, used), the session they open, and what the candidate does
there (withdraw their consent). Every write has its audit row; every e-mail leaves through the outbox."""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING, Literal

from django.conf import settings
from django.contrib.auth import logout
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from candidates.forms import MY_TRANSFER_CONSENT_TEXT
from candidates.models import (
    LINK_VALIDITY,
    Candidate,
    CandidatePerson,
    CandidateQuerySet,
    Dossier,
    DossierTransfer,
    LinkOrigin,
    SignInLink,
    token_hash,
)
from candidates.services import CANDIDATE_CORRECTION_ROLES, dossier_transfer, dossier_withdraw
from clea_platform.errors import BusinessRefusal
from clea_platform.pdf import html_to_pdf
from organisations.services import audit_record
from outbox.services import email_add
from privacy.exports import person_data, summary_html
from privacy.selectors import PersonRecords, person_key

if TYPE_CHECKING:
    import datetime

    from django.http import HttpRequest

    from organisations.models import Membership, Site

# What the session keeps of a signed-in candidate (space.middleware reads it): the candidate ids that are the person,
# and when they were last active.
SESSION_PERSON_KEY = "space_candidate_ids"
SESSION_SEEN_KEY = "space_seen"


# Who keeps the person's contact data (the dossier page shows them the button): the same roles as correct it.
LINK_SENDERS = frozenset(CANDIDATE_CORRECTION_ROLES)


class SpaceRefusal(BusinessRefusal):
    code = "space_refused"


class LinkUnusable(SpaceRefusal):
    """Unknown, used or past its 30 minutes: the page offers to ask for a new one, whichever it is."""

    code = "sign_in_link_unusable"

    def __init__(self) -> None:
        super().__init__(_("Ce lien ne marche plus."))


def sign_in_url(token: str) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("space:sign_in", args=[token])


def sign_in_link_create(
    *, candidate: Candidate, origin: str, sent_by: Membership | None = None, request: HttpRequest | None = None
) -> tuple[SignInLink, str]:
    """A new link for the candidate and its token (shown once: the database keeps its hash), with its audit row."""
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    link = SignInLink.objects.create(
        candidate=candidate,
        token_sha256=token_hash(token),
        created_at=now,
        expires_at=now + LINK_VALIDITY,
        origin=LinkOrigin(origin),
        sent_by=sent_by,
    )
    audit_record(
        action="space.link_created",
        actor=sent_by.user if sent_by is not None else None,
        organisation=candidate.organisation_id,
        obj=candidate,
        request=request,
        details={"link": link.pk, "origin": origin},
    )
    return link, token


def _send(*, candidate: Candidate, token: str) -> None:
    body = render_to_string(
        "space/email/sign_in_link.txt",
        {"candidate": candidate, "url": sign_in_url(token), "minutes": int(LINK_VALIDITY.total_seconds() // 60)},
    )
    email_add(
        subject=_("CléA : votre lien pour ouvrir votre espace"),
        body=body,
        to=[candidate.email],
        organisation=candidate.organisation_id,
    )


def _reachable(candidates: CandidateQuerySet) -> Candidate | None:
    """The record to write to: the most recent one holding a dossier (its organisation sends the mail)."""
    return candidates.filter(dossiers__isnull=False).distinct().order_by("-created_at", "-pk").first()


@transaction.atomic
def sign_in_link_request(
    *, email: str, birth_date: datetime.date, request: HttpRequest | None = None
) -> SignInLink | None:
    """The candidate asks for a link on /mon-espace/connexion/: sent (once this transaction commits) to the address
    only when a record with that address and birth date holds a dossier; None otherwise. The page answers the same
    either way, so that nobody learns from it whether a person is a candidate."""
    candidate = _reachable(Candidate.objects.same_person(email=email, birth_date=birth_date))
    if candidate is None:
        return None
    link, token = sign_in_link_create(candidate=candidate, origin=LinkOrigin.SELF_REQUEST, request=request)
    _send(candidate=candidate, token=token)
    return link


@transaction.atomic
def sign_in_link_send(*, dossier: Dossier, by: Membership, request: HttpRequest | None = None) -> SignInLink:
    """The counsellor (or an administrator of the organisation) sends the candidate a link from the dossier page, the
    dossier read through `by`'s scope: another organisation's is a DoesNotExist."""
    if by.role not in LINK_SENDERS:
        raise PermissionDenied
    dossier = Dossier.objects.visible_to(by).select_related("candidate").get(pk=dossier.pk)
    candidate = dossier.candidate
    if not candidate.email or candidate.anonymised_at is not None:
        raise SpaceRefusal(_("Ce dossier n'a pas d'adresse e-mail : aucun lien ne peut être envoyé."))
    link, token = sign_in_link_create(candidate=candidate, origin=LinkOrigin.COUNSELLOR, sent_by=by, request=request)
    _send(candidate=candidate, token=token)
    return link


@transaction.atomic
def sign_in_link_use(*, token: str, request: HttpRequest) -> CandidatePerson:
    """Spend the link (once: its row is locked, then marked used) and open the candidate's session: a new session
    key, any staff member signed in on this browser signed out, and the person's records kept in the session. Raises
    LinkUnusable for a link unknown, used or expired."""
    now = timezone.now()
    link = (
        SignInLink.objects.select_for_update(of=("self",))
        .select_related("candidate")
        .filter(token_sha256=token_hash(token))
        .first()
    )
    if link is None or not link.is_usable(now) or link.candidate.anonymised_at is not None:
        raise LinkUnusable
    link.used_at = now
    link.save(update_fields=["used_at"])
    candidate = link.candidate
    same = Candidate.objects.same_person(email=candidate.email, birth_date=candidate.birth_date).exclude(
        pk=candidate.pk
    )
    person = CandidatePerson(candidate_ids=(candidate.pk, *same.order_by("pk").values_list("pk", flat=True)))
    audit_record(
        action="space.link_used",
        actor=None,
        organisation=candidate.organisation_id,
        obj=candidate,
        request=request,
        details={"link": link.pk, "candidates": list(person.candidate_ids)},
    )
    if request.user.is_authenticated:
        logout(request)  # flushes the session: a staff member's pages close before the candidate's open
    request.session.cycle_key()
    request.session[SESSION_PERSON_KEY] = list(person.candidate_ids)
    request.session[SESSION_SEEN_KEY] = int(now.timestamp())
    return person


def candidate_session_end(request: HttpRequest) -> None:
    """Sign the candidate out: the whole session goes (flush gives the browser a new, empty one)."""
    request.session.flush()


@transaction.atomic
def consent_withdraw(*, person: CandidatePerson, dossier: Dossier, request: HttpRequest | None = None) -> Dossier:
    """The candidate withdraws their consent, which withdraws the dossier (candidates.services.dossier_withdraw, by
    the candidate: the timeline and the audit row say so). Another person's dossier is a DoesNotExist."""
    dossier = Dossier.objects.of_person(person).get(pk=dossier.pk)
    return dossier_withdraw(
        dossier=dossier,
        by=None,
        by_candidate=True,
        reason=_("Retrait de son accord par la personne candidate"),
        request=request,
    )


def person_data_export(
    *, person: CandidatePerson, kind: Literal["json", "pdf"], request: HttpRequest | None = None
) -> bytes:
    """Everything the platform holds on the person (privacy.exports.person_data, as Certif'Pro's subject-access export
    gives it): JSON for a program, or its summary as a PDF a person reads; with its audit row. Their own records only:
    the Candidate rows of their session, none anonymised."""
    candidates = list(Candidate.objects.filter(pk__in=person.candidate_ids, anonymised_at__isnull=True).order_by("pk"))
    if not candidates:
        raise Candidate.DoesNotExist
    data = person_data(PersonRecords(key=person_key(candidates[0]), candidates=candidates))
    if kind == "json":
        content = json.dumps(data, ensure_ascii=False, indent=2, default=str).encode()
    else:
        content = html_to_pdf(summary_html(data))
    with transaction.atomic():
        audit_record(
            action="space.data_export",
            actor=None,
            organisation=candidates[0].organisation_id,
            obj=candidates[0],
            request=request,
            details={"format": kind, "candidates": [c.pk for c in candidates], "bytes": len(content)},
        )
    return content


@transaction.atomic
def dossier_move(
    *, person: CandidatePerson, dossier: Dossier, site: Site, reason: str = "", request: HttpRequest | None = None
) -> DossierTransfer:
    """The candidate moves their dossier to the organisation of `site` from their space (issue 19), having confirmed
    the text on screen (MY_TRANSFER_CONSENT_TEXT, stored with the move). Another person's dossier is a DoesNotExist;
    the rules (states, habilitation) are candidates.services.dossier_transfer's."""
    dossier = Dossier.objects.of_person(person).get(pk=dossier.pk)
    return dossier_transfer(
        dossier=dossier,
        to_organisation=site.organisation,
        consent_text=MY_TRANSFER_CONSENT_TEXT,
        consent_given=True,
        reason=reason.strip() or _("Choix de la personne candidate"),
        by=None,
        request=request,
    )
