"""Referrals from France Travail advisors to evaluator sites: send, accept (which opens a dossier), decline,
expire. Each action is atomic, locks the referral's row, writes its audit row, and sends its e-mail once
committed. The e-mails carry no personal data: only a link to the platform."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from candidates.models import DossierEvent, Origin, RegistrationStatus
from candidates.services import NewDossierRefusal, dossier_create, dossier_new_refusal
from clea_platform.certifications import Certification
from clea_platform.errors import BusinessRefusal
from directory.selectors import directory_sites
from organisations.models import Habilitation, Membership, Role, Site
from organisations.services import audit_record
from organisations.transitions import transition_apply
from outbox.services import email_add
from referentiels.models import Referentiel
from referrals.models import ACCEPTING_ROLE, Referral, ReferralState
from referrals.signals import referral_answered, referral_sent

# What the advisor fills in about the job seeker (the model's field names).
IDENTITY_FIELDS = (
    "civility",
    "first_name",
    "last_name",
    "birth_date",
    "birth_place",
    "email",
    "phone",
    "postcode",
    "city",
    "education_level",
)

# Shown to the job seeker before the referral is sent; the exact text is kept with the referral.
CONSENT_TEMPLATE = (
    "J'accepte que France Travail transmette mon identité, mes coordonnées et mon projet de certification "
    "{certification} à l'organisme évaluateur « {organisation} » (site « {site} »), qui me contactera pour un "
    "entretien d'information gratuit et sans engagement. Cet organisme enregistrera ces informations sur la "
    "plateforme CléA de Certif'Pro. Mon conseiller ou ma conseillère France Travail pourra savoir si "
    "l'organisme a donné suite et à quelle étape en est mon dossier, mais pas le contenu de mes évaluations."
)


class ReferralError(BusinessRefusal):
    """The referral cannot take this step now; the message says why, in French."""

    code = "referral_refused"


def referral_consent_text(*, site: Site, certification: str) -> str:
    return CONSENT_TEMPLATE.format(
        certification=Certification(certification).label, organisation=site.organisation.name, site=site.name
    )


def referral_new_dossier_refusal(*, referral: Referral) -> NewDossierRefusal | None:
    """Why accepting would be refused (dossier_new_refusal): the person has a dossier in progress for the
    certification, here or elsewhere, or already holds it. The message names no other organisation."""
    return dossier_new_refusal(
        organisation_id=referral.organisation_id,
        first_name=referral.first_name,
        last_name=referral.last_name,
        birth_date=referral.birth_date,
        certification=referral.certification,
    )


def _link(referral: Referral) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("referrals:detail", kwargs={"pk": referral.pk})


def _refused(referral: Referral, name: str) -> ReferralError:
    return ReferralError(
        _("Cette orientation est « %(state)s » : elle n'attend plus de réponse.")
        % {"state": referral.get_state_display()}
    )


def _lock(referral: Referral) -> Referral:
    """The referral's row, locked for this transaction; refused if it was answered in the meantime."""
    rows = Referral.objects.select_for_update(of=("self",))
    locked = rows.select_related("site", "organisation", "from_organisation", "advisor").get(pk=referral.pk)
    if locked.state != ReferralState.SENT:
        messages = {
            ReferralState.ACCEPTED: _("Cette orientation a déjà été acceptée : le dossier est ouvert."),
            ReferralState.DECLINED: _("Cette orientation a déjà été déclinée."),
            ReferralState.EXPIRED: _("Cette orientation a expiré sans réponse : elle ne peut plus être traitée."),
        }
        raise ReferralError(messages[locked.state])
    return locked


@transaction.atomic
def referral_send(
    *,
    by: Membership,
    site: Site,
    certification: str,
    identity: dict[str, Any],
    note: str = "",
    consent_text: str,
    request: HttpRequest | None = None,
) -> Referral:
    """Record a job seeker's referral to a directory site, with the consent text they agreed to, and tell
    the site's contact (or the organisation) that a referral awaits an answer.

    Refused when the site no longer takes this certification (habilitation ended, site closed) or when the
    same person already awaits an answer from the same organisation for it."""
    if by.role != Role.FT_ADVISOR:
        raise PermissionDenied
    if not consent_text.strip():
        raise ReferralError(_("Le consentement de la personne est nécessaire pour transmettre ses coordonnées."))
    if not directory_sites(certification).filter(pk=site.pk).exists():
        raise ReferralError(
            _("Ce site ne peut pas recevoir de candidat pour cette certification : choisissez un autre site.")
        )
    identity = {name: identity.get(name) or "" for name in IDENTITY_FIELDS}
    pending = Referral.objects.awaiting_answer().filter(
        organisation_id=site.organisation_id,
        certification=certification,
        birth_date=identity["birth_date"],
        last_name__iexact=identity["last_name"],
        first_name__iexact=identity["first_name"],
    )
    if pending.exists():
        raise ReferralError(
            _(
                "Cette personne est déjà orientée vers cet organisme pour cette certification ; "
                "il n'a pas encore répondu."
            )
        )
    referral = Referral.objects.create(
        organisation_id=site.organisation_id,
        site=site,
        from_organisation_id=by.organisation_id,
        advisor=by.user,
        certification=certification,
        note=note.strip(),
        consent_at=timezone.now(),
        consent_text=consent_text.strip(),
        **identity,
    )
    referral.record_event(transition="", from_state="", to_state=referral.state, actor=by.user, note="")
    audit_record(
        action="referral.send",
        actor=by.user,
        organisation=site.organisation_id,
        obj=referral,
        request=request,
        details={"from_organisation": by.organisation_id, "site": site.pk},
    )
    email_add(
        organisation=site.organisation_id,
        subject=_("Nouvelle orientation France Travail – %(site)s") % {"site": site.name},
        body=_(
            "Bonjour,\n\nUne conseillère ou un conseiller France Travail vous oriente une personne pour la "
            "certification %(certification)s (site « %(site)s »).\nRépondez sur la plateforme CléA : %(link)s\n\n"
            "Sans réponse, l'orientation expire le %(expires)s."
        )
        % {
            "certification": referral.get_certification_display(),
            "site": site.name,
            "link": _link(referral),
            "expires": date_format(timezone.localtime(referral.expires_at), "d/m/Y"),
        },
        to=[site.contact_email or site.organisation.email],
    )
    referral_sent.send(sender=Referral, referral=referral, by=by)
    return referral


@transaction.atomic
def referral_accept(
    *, referral: Referral, by: Membership, extra: dict[str, Any] | None = None, request: HttpRequest | None = None
) -> Referral:
    """Accept the referral: open the job seeker's dossier in the "information" step with the referral's
    details (origin France Travail), note the referral in the dossier's timeline, and tell the advisor.
    Refused like dossier_create when the person has a dossier in progress or holds the certification.

    Needs only what an advisor can know: the birth place and the education level, if still blank, are asked
    when the dossier opens after the information interview (dossier_open). `extra` completes the identity."""
    if by.role != ACCEPTING_ROLE or by.organisation_id != referral.organisation_id:
        raise PermissionDenied
    locked = _lock(referral)
    if (
        not Habilitation.objects.in_force()
        .filter(organisation_id=locked.organisation_id, certification=locked.certification)
        .exists()
    ):
        raise ReferralError(
            _("Votre organisme n'a plus d'habilitation en cours pour cette certification : déclinez l'orientation.")
        )
    data = {name: getattr(locked, name) for name in IDENTITY_FIELDS}
    data.update({k: v for k, v in (extra or {}).items() if k in IDENTITY_FIELDS and v not in (None, "")})
    try:
        dossier = dossier_create(
            membership=by,
            certification=locked.certification,
            candidate_data={
                **data,
                "registration_status": RegistrationStatus.JOB_SEEKER,
                "origin": Origin.FRANCE_TRAVAIL,
            },
            request=request,
        )
    except Referentiel.DoesNotExist as exc:
        raise ReferralError(
            _("Aucun référentiel n'est en vigueur pour cette certification : contactez Certif'Pro.")
        ) from exc
    DossierEvent.objects.create(
        dossier=dossier,
        actor=by.user,
        note=_("Orienté par France Travail (%(agency)s, %(advisor)s) le %(date)s")
        % {
            "agency": locked.from_organisation.name,
            "advisor": locked.advisor.get_full_name(),
            "date": date_format(timezone.localtime(locked.sent_at), "d/m/Y"),
        },
    )
    transition_apply(
        locked,
        "accept",
        by=by,
        refused=_refused,
        action="referral",
        request=request,
        details={"dossier": dossier.pk},
        dossier=dossier,
        answered_by=by.user,
        at=timezone.now(),
    )
    _notify_advisor(locked, _("acceptée : un dossier est ouvert"))
    referral_answered.send(sender=Referral, referral=locked, by=by)
    return locked


@transaction.atomic
def referral_decline(
    *, referral: Referral, by: Membership, reason: str, request: HttpRequest | None = None
) -> Referral:
    """Decline the referral with a reason (which the advisor reads), and tell the advisor."""
    if by.role not in {Role.COUNSELLOR, Role.ORG_ADMIN} or by.organisation_id != referral.organisation_id:
        raise PermissionDenied
    reason = reason.strip()
    if not reason:
        raise ReferralError(
            _("Indiquez le motif du refus : la conseillère ou le conseiller France Travail le lira."), field="reason"
        )
    locked = _lock(referral)
    transition_apply(
        locked,
        "decline",
        by=by,
        refused=_refused,
        action="referral",
        request=request,
        note=reason,
        reason=reason,
        answered_by=by.user,
        at=timezone.now(),
    )
    _notify_advisor(locked, _("déclinée"))
    referral_answered.send(sender=Referral, referral=locked, by=by)
    return locked


def _notify_advisor(referral: Referral, outcome: str) -> None:
    email_add(
        organisation=referral.from_organisation_id,
        subject=_("Votre orientation vers %(organisation)s") % {"organisation": referral.organisation.name},
        body=_(
            "Bonjour,\n\nL'orientation n° %(number)s du %(date)s vers %(organisation)s (site « %(site)s ») a été "
            "%(outcome)s.\nDétails sur la plateforme CléA : %(link)s"
        )
        % {
            "number": referral.pk,
            "date": date_format(timezone.localtime(referral.sent_at), "d/m/Y"),
            "organisation": referral.organisation.name,
            "site": referral.site.name,
            "outcome": outcome,
            "link": _link(referral),
        },
        to=[referral.advisor.email],
    )


def referrals_expire(*, now: datetime.datetime | None = None) -> int:
    """Expire the referrals left unanswered past the delay (settings.REFERRAL_EXPIRY_DAYS). Daily; safe to
    run twice or alongside a counsellor answering: each referral is locked and checked again."""
    now = now or timezone.now()
    expired = 0
    for pk in Referral.objects.overdue(now).values_list("pk", flat=True):
        with transaction.atomic():
            locked = Referral.objects.select_for_update(of=("self",)).filter(pk=pk).first()
            if locked is None or not locked.is_overdue(now):
                continue
            try:
                transition_apply(
                    locked,
                    "expire",
                    by=None,
                    refused=_refused,
                    action="referral",
                    note=_("Sans réponse dans le délai"),
                    details={"sent_at": locked.sent_at.isoformat()},
                    now=now,
                )
            except ReferralError:
                continue
            expired += 1
    return expired
