from __future__ import annotations

import datetime
import hashlib
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, TransitionNotAllowed, transition

from candidates.signals import dossier_state_changed
from clea_platform.certifications import Certification
from clea_platform.changes import TracksChanges
from organisations.models import Habilitation, Role, TenantQuerySet
from organisations.validators import validate_postcode

if TYPE_CHECKING:
    from collections.abc import Callable

    from django_stubs_ext import StrOrPromise

    from organisations.models import Membership
    from training.models import TrainingPlan

# The candidate has 5 years from the prior evaluation to finish training and the final evaluation
# (Certif'Pro); past that a new prior evaluation is needed.
WINDOW_YEARS = 5
WARNING_BEFORE_DEADLINE = datetime.timedelta(days=91)


def identity_key(first_name: str, last_name: str) -> str:
    """Names folded for the duplicate check: no accents, case, hyphens or repeated spaces."""
    text = f"{last_name} {first_name}".replace("-", " ").replace("'", " ")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(text.lower().split())


Day = TypeVar("Day", bound=datetime.date)


def add_years(day: Day, years: int) -> Day:
    """The same day (or instant: a datetime keeps its time) `years` later, or earlier when negative."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


# What an anonymised person's names become (privacy.services): the lists and documents still read "Personne
# ANONYMISÉE", and the duplicate check of a real person never matches them (their birth date keeps its year only).
ANONYMISED_FIRST_NAME = "Personne"
ANONYMISED_LAST_NAME = "anonymisée"
# The contact details erased once they are no longer needed (privacy.services), and with them the identity's
# other direct identifiers when the whole person is anonymised.
CONTACT_FIELDS = ("email", "phone", "address", "postcode", "city")


def anonymised_birth_date(birth_date: datetime.date) -> datetime.date:
    """The year only (1 January), which keeps the age statistics: the day and month identify."""
    return datetime.date(birth_date.year, 1, 1)


class Sex(models.TextChoices):
    """The sex of the civil status, as the Caisse des Dépôts asks for it (`sexe`, M or F); the civility is how the
    person is addressed, which need not be the same."""

    F = "F", _("Féminin")
    M = "M", _("Masculin")


# The INSEE code of the birthplace: a commune's (2A/2B for Corsica, 97x/98x overseas) or, for a birth abroad, the
# country's in the Code officiel géographique (99 followed by 3 digits, 99109 for Germany).
BIRTH_COMMUNE_CODE_RE = r"^(?!99)(\d{2}|2[AB])\d{3}$"
BIRTH_COUNTRY_CODE_RE = r"^99\d{3}$"


class Civility(models.TextChoices):
    MME = "mme", _("Madame")
    M = "m", _("Monsieur")


def civility_agree(civility: str, masculine: str, feminine: str) -> str:
    """The word that agrees with the person ("Née le" for Madame, "Né le" for Monsieur) where the civility is known,
    rather than "né·e": both forms are passed already translated. Without a civility, the masculine, French's
    unmarked form."""
    return feminine if civility == Civility.MME else masculine


class RegistrationStatus(models.TextChoices):
    EMPLOYEE = "employee", _("En emploi salarié")
    JOB_SEEKER = "job_seeker", _("En recherche d'emploi")
    OTHER = "other", _("Autre")


class EducationLevel(models.TextChoices):
    NONE = "none", _("Sans diplôme")
    LEVEL_3 = "3", _("Niveau 3 (CAP, BEP)")
    LEVEL_4 = "4", _("Niveau 4 (baccalauréat)")
    LEVEL_5 = "5", _("Niveau 5 (bac + 2)")
    LEVEL_6_PLUS = "6", _("Niveau 6 ou plus")


class Origin(models.TextChoices):
    OWN_INITIATIVE = "own_initiative", _("Initiative personnelle")
    EMPLOYER = "employer", _("Employeur")
    BRANCH = "branch", _("Branche professionnelle")
    OPCO = "opco", _("OPCO")
    REGION = "region", _("Région")
    FRANCE_TRAVAIL = "france_travail", _("France Travail")
    CEP = "cep", _("Conseil en évolution professionnelle")
    MISSION_LOCALE = "mission_locale", _("Mission locale")
    UNION = "union", _("Représentant syndical")


@dataclass(frozen=True)
class CandidatePerson:
    """A person signed in to their own space (space.middleware): the Candidate rows that are them, one per
    organisation that recorded them (the same e-mail address and birth date). Not a User: they have no account."""

    candidate_ids: tuple[int, ...]


class CandidateQuerySet(TenantQuerySet):
    """Counsellors, evaluators and administrators: their organisation's candidates; Certif'Pro: all."""

    def same_person(self, *, email: str, birth_date: datetime.date) -> CandidateQuerySet:
        """The records of one person as their own space knows them: the same e-mail address (any case) and birth
        date, in any organisation. An anonymised record is no one any more; a blank address matches nothing."""
        if not email.strip():
            return self.none()
        return self.filter(anonymised_at__isnull=True, email__iexact=email.strip(), birth_date=birth_date)


class Candidate(TracksChanges, models.Model):
    # The rows whose updated_at moves with this one's changes (clea_platform/changes.py).
    feed_parents = ("dossiers",)
    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="candidates",
        verbose_name=_("organisme évaluateur"),
    )
    civility = models.CharField(_("civilité"), max_length=3, choices=Civility.choices)
    first_name = models.CharField(_("prénom"), max_length=150)
    last_name = models.CharField(_("nom d'usage"), max_length=150)
    birth_name = models.CharField(_("nom de naissance"), max_length=150, blank=True)
    birth_date = models.DateField(_("date de naissance"))
    # Blank until the information interview when the dossier comes from a referral (an advisor may not know
    # them); opening the dossier requires both (Dossier.candidate_complete).
    birth_place = models.CharField(_("lieu de naissance"), max_length=150, blank=True)
    born_abroad = models.BooleanField(_("naissance à l'étranger"), default=False)
    # What the Caisse des Dépôts needs to find the holder (funding/cdc.py): asked at the interview, completed by
    # Certif'Pro when a certificate is to be declared without them.
    sex = models.CharField(_("sexe (état civil)"), max_length=1, choices=Sex.choices, blank=True)
    birth_insee_code = models.CharField(
        _("code INSEE du lieu de naissance"),
        max_length=5,
        blank=True,
        # Checked in the admin and any ModelForm too, not only in the holder form: the flux's schema refuses others.
        validators=[
            RegexValidator(
                f"{BIRTH_COMMUNE_CODE_RE}|{BIRTH_COUNTRY_CODE_RE}",
                _("Saisissez un code INSEE : 5 caractères, par exemple 59350, 2A004 ou 99109 pour l'Allemagne."),
            )
        ],
        help_text=_("Code de la commune de naissance, ou du pays (99…) pour une naissance à l'étranger."),
    )
    email = models.EmailField(_("adresse e-mail"), blank=True)
    phone = models.CharField(_("téléphone"), max_length=20, blank=True)
    address = models.CharField(_("adresse"), max_length=255, blank=True)
    postcode = models.CharField(_("code postal"), max_length=5, blank=True, validators=[validate_postcode])
    city = models.CharField(_("commune"), max_length=120, blank=True)
    registration_status = models.CharField(
        _("statut à l'inscription"), max_length=12, choices=RegistrationStatus.choices
    )
    education_level = models.CharField(
        _("niveau de formation"), max_length=4, choices=EducationLevel.choices, blank=True
    )
    origin = models.CharField(_("origine de la démarche"), max_length=20, choices=Origin.choices)
    identity_key = models.CharField(max_length=310, editable=False, db_index=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    # Set once by privacy.services, past the retention or on request: the identity is gone for good.
    anonymised_at = models.DateTimeField(_("anonymisée le"), null=True, blank=True, editable=False)
    # Set once the contact details of a certificate's holder were erased past their retention (the identity stays).
    contacts_erased_at = models.DateTimeField(_("coordonnées effacées le"), null=True, blank=True, editable=False)

    objects = CandidateQuerySet.as_manager()

    class Meta:
        verbose_name = _("personne candidate")
        verbose_name_plural = _("personnes candidates")
        ordering = ["last_name", "first_name"]
        indexes = [models.Index(fields=["identity_key", "birth_date"], name="candidate_identity_idx")]

    def __str__(self) -> str:
        return f"{self.last_name.upper()} {self.first_name}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.identity_key = identity_key(self.first_name, self.last_name)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "identity_key"}
        super().save(*args, **kwargs)

    def audit_label(self) -> str:
        """What the audit log keeps of this row: no name, which the log, unalterable, could never give up when
        the person's data is anonymised."""
        return gettext("Personne candidate n° %(id)s") % {"id": self.pk}

    @property
    def can_be_corrected(self) -> bool:
        """An anonymised person is no one any more: nobody enters an identity again (screens, service, admin)."""
        return self.anonymised_at is None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def holder_name(self) -> str:
        """The name as the documents print it (attestations, certificates, their verification pages): Léa MARTIN."""
        return f"{self.first_name} {self.last_name.upper()}"

    # What the information interview must have filled in before the dossier opens (Certif'Pro's data).
    FIELDS_FOR_OPENING = ("birth_place", "education_level")

    @property
    def missing_for_cdc(self) -> list[str]:
        """What the Caisse des Dépôts flux needs and the person's record lacks (funding/cdc.py): the sex and the
        INSEE code of the birthplace, consistent with `born_abroad`."""
        missing = [name for name in ("sex", "birth_insee_code", "birth_place") if not getattr(self, name)]
        if self.birth_insee_code and self.birth_insee_code.startswith("99") != self.born_abroad:
            missing.append("birth_insee_code")
        return missing

    @property
    def missing_for_opening(self) -> list[str]:
        """The fields still blank that opening the dossier requires (a referral may leave them out)."""
        return [name for name in self.FIELDS_FOR_OPENING if not getattr(self, name)]

    def civility_agree(self, masculine: str, feminine: str) -> str:
        return civility_agree(self.civility, masculine, feminine)

    @property
    def registration_status_label(self) -> str:
        """The status agreed with the person ("Salariée"); the choices' épicène "En emploi salarié" is for
        the form, before the civility is chosen, and for lists."""
        agreed = {
            RegistrationStatus.EMPLOYEE: (_("Salarié"), _("Salariée")),
            RegistrationStatus.JOB_SEEKER: (_("Demandeur d'emploi"), _("Demandeuse d'emploi")),
        }
        if self.registration_status not in agreed:
            return str(self.get_registration_status_display())
        masculine, feminine = agreed[RegistrationStatus(self.registration_status)]
        return self.civility_agree(str(masculine), str(feminine))


# What the counsellor may correct after the information interview (candidate_correct), with the words the
# form and the timeline use for each.
CANDIDATE_IDENTITY_FIELDS = {
    "civility": _("civilité"),
    "last_name": _("nom d'usage"),
    "first_name": _("prénom"),
    "birth_name": _("nom de naissance"),
    "birth_date": _("date de naissance"),
    "birth_place": _("lieu de naissance"),
    "born_abroad": _("naissance à l'étranger"),
    "sex": _("sexe (état civil)"),
    "birth_insee_code": _("code INSEE du lieu de naissance"),
    "email": _("adresse e-mail"),
    "phone": _("téléphone"),
    "address": _("adresse"),
    "postcode": _("code postal"),
    "city": _("commune"),
}


class DossierState(models.TextChoices):
    INFORMATION = "information", _("Information")
    OPENED = "opened", _("Dossier ouvert")
    PRIOR_EVALUATION = "prior_evaluation", _("Évaluation préalable en cours")
    PARTIALLY_VALIDATED = "partially_validated", _("Validation partielle")
    IN_TRAINING = "in_training", _("En formation")
    FINAL_EVALUATION = "final_evaluation", _("Évaluation finale en cours")
    READY_FOR_JURY = "ready_for_jury", _("Prêt pour le jury")
    SUBMITTED_TO_JURY = "submitted_to_jury", _("Soumis au jury")
    CERTIFIED = "certified", _("Certifié")
    REFUSED = "refused", _("Refusé par le jury")
    WITHDRAWN = "withdrawn", _("Abandonné")
    EXPIRED = "expired", _("Expiré")


S = DossierState
OPEN_STATES = [
    S.INFORMATION,
    S.OPENED,
    S.PRIOR_EVALUATION,
    S.PARTIALLY_VALIDATED,
    S.IN_TRAINING,
    S.FINAL_EVALUATION,
    S.READY_FOR_JURY,
    S.SUBMITTED_TO_JURY,
]
# The roles whose screens and API list and show dossiers (what each sees is `Dossier.objects.visible_to`'s).
DOSSIER_ROLES = (Role.COUNSELLOR, Role.EVALUATOR, Role.ORG_ADMIN, Role.CERTIFPRO_ADMIN)
# States in which the 5-year window runs.
WINDOW_STATES = [S.PARTIALLY_VALIDATED, S.IN_TRAINING, S.FINAL_EVALUATION]
# The steps from which a dossier may move to another organisation: every step from opening to ready for the jury,
# an evaluation in progress included (issue 19: the previous organisation cannot block the move by keeping its grid
# open; evaluations abandon the draft on `dossier_transferred`). Not `information` (nothing is acquired yet: the person
# simply goes to the other organisation, whose information interview opens their dossier there), not once submitted
# to the jury, nor closed.
TRANSFERABLE_STATES = [
    S.OPENED,
    S.PRIOR_EVALUATION,
    S.PARTIALLY_VALIDATED,
    S.IN_TRAINING,
    S.FINAL_EVALUATION,
    S.READY_FOR_JURY,
]
# Where a move leaves the dossier, from each step (`Dossier.transfer`): the step before an evaluation in progress, or
# before a training in progress; the same step otherwise.
TRANSFER_EDGES: dict[str, list[str]] = {
    S.OPENED: [S.OPENED],
    S.PRIOR_EVALUATION: [S.OPENED],
    S.PARTIALLY_VALIDATED: [S.PARTIALLY_VALIDATED],
    S.IN_TRAINING: [S.IN_TRAINING, S.PARTIALLY_VALIDATED],
    S.FINAL_EVALUATION: [S.IN_TRAINING],
    S.READY_FOR_JURY: [S.READY_FOR_JURY],
}
TRANSFER_TARGETS = [S.OPENED, S.PARTIALLY_VALIDATED, S.IN_TRAINING, S.READY_FOR_JURY]


def _by(*roles: str) -> Callable[[models.Model, Any], bool]:
    """Transition permission: the acting membership holds one of the roles (Certif'Pro never acts on dossiers).

    django-fsm-2 calls it with what `has_perm` got, our Membership or None (its types say a Django user)."""
    return lambda instance, membership: membership is not None and membership.role in roles


class DossierSort(NamedTuple):
    """A sort of the dossier list: the fields it orders by, its column's header, and the direction of the first
    click ("-": dates newest first; names and steps A to Z)."""

    fields: tuple[str, ...]
    label: StrOrPromise
    first: str = ""


# The dossier list's sort keys (a whitelist: nothing the URL says reaches order_by otherwise), in column order.
DOSSIER_SORTS: dict[str, DossierSort] = {
    "name": DossierSort(("candidate__last_name", "candidate__first_name"), _("Personne candidate")),
    "reference": DossierSort(("reference",), _("Référence")),
    "state": DossierSort(("state_rank",), _("Étape")),
    "opened": DossierSort(("consent_at",), _("Ouvert le"), "-"),
    "updated": DossierSort(("updated_at",), _("Dernière modification"), "-"),
}
DEFAULT_DOSSIER_SORT = "-updated"


class DossierQuerySet(TenantQuerySet):
    """Counsellors, evaluators and administrators: their organisation's dossiers; Certif'Pro: all; jury
    members: the dossiers of their sessions. Trainers see the plans they deliver (with the candidate's
    identity), not the dossier."""

    def visible_to_others(self, membership: Membership) -> DossierQuerySet:
        if membership.role == Role.JURY_MEMBER:
            return self.filter(submissions__session__seats__member__user_id=membership.user_id).distinct()
        return self.none()

    def transferred_away_from(self, organisation_id: int) -> DossierQuerySet:
        """The dossiers that left this organisation for another (DossierTransfer) and are not back in it."""
        left = DossierTransfer.objects.filter(from_organisation_id=organisation_id).values("dossier_id")
        return self.filter(pk__in=left).exclude(organisation_id=organisation_id)

    def readable_by(self, membership: Membership | None) -> DossierQuerySet:
        """`visible_to`, plus, for the members of an organisation a dossier has left, that dossier: read only, as it
        stood when it left (child querysets' `visible_to` keep only that organisation's own rows for them). Every
        action starts from `visible_to`, so the previous organisation's action URLs answer 404."""
        if membership is None or membership.is_certifpro or membership.role not in self.organisation_roles:
            return self.visible_to(membership)
        left = DossierTransfer.objects.filter(from_organisation_id=membership.organisation_id).values("dossier_id")
        # One condition on the dossier's own rows (no join, no DISTINCT): the lists keep their index order.
        return self.filter(models.Q(organisation_id=membership.organisation_id) | models.Q(pk__in=left))

    def with_departure(self, membership: Membership | None) -> DossierQuerySet:
        """For the rows `readable_by` adds: when the dossier left the member's organisation and for which one
        (`left_at`, `left_to`), None otherwise; in the list's own query."""
        if membership is None or membership.is_certifpro or membership.role not in self.organisation_roles:
            return self
        last = DossierTransfer.objects.filter(
            dossier_id=models.OuterRef("pk"), from_organisation_id=membership.organisation_id
        ).order_by("-at", "-id")
        gone = ~models.Q(organisation_id=membership.organisation_id)
        return self.annotate(
            left_at=models.Case(models.When(gone, then=models.Subquery(last.values("at")[:1]))),
            left_to=models.Case(models.When(gone, then=models.Subquery(last.values("to_organisation__name")[:1]))),
            left_state=models.Case(models.When(gone, then=models.Subquery(last.values("from_state")[:1]))),
        )

    def of_person(self, person: CandidatePerson) -> DossierQuerySet:
        """The candidate's own space: the dossiers of the records that are this person, none once anonymised."""
        return self.filter(candidate_id__in=person.candidate_ids, candidate__anonymised_at__isnull=True)

    def open(self) -> DossierQuerySet:
        return self.filter(state__in=OPEN_STATES)

    def open_or_certified(self) -> DossierQuerySet:
        """The dossiers that stand in the way of another for the same person and certification: one in progress,
        or the certification held (a revoked award has moved its dossier back before the jury)."""
        return self.filter(state__in=[*OPEN_STATES, S.CERTIFIED])

    def sorted_by(self, sort: str) -> DossierQuerySet:
        """Ordered by a key of DOSSIER_SORTS ("-" first: descending), then by id in the same direction so that
        equal values (a surname, a step) keep one order from page to page. Steps sort in journey order, not
        alphabetically; a dossier not yet opened comes last either way. An unknown key sorts by last change."""
        descending = sort.startswith("-")
        known = DOSSIER_SORTS.get(sort.removeprefix("-"))
        if known is None:
            return self.sorted_by(DEFAULT_DOSSIER_SORT)
        fields = known.fields
        dossiers: DossierQuerySet = self
        if "state_rank" in fields:
            ranks = [models.When(state=state, then=rank) for rank, state in enumerate(DossierState.values)]
            dossiers = self.annotate(state_rank=models.Case(*ranks, output_field=models.IntegerField()))
        order: list[str | models.OrderBy] = []
        for name in (*fields, "id"):
            if name == "consent_at":  # the only nullable key
                order.append(
                    models.F(name).desc(nulls_last=True) if descending else models.F(name).asc(nulls_last=True)
                )
            else:
                # Plain "-updated_at", "-id": the default order reads the index dossier_org_recent_idx.
                order.append(f"-{name}" if descending else name)
        return dossiers.order_by(*order)

    def with_last_activity(self) -> DossierQuerySet:
        """Annotated with `last_activity`: the latest of its timeline's events (every step, note, appointment,
        correction, « prend le temps de réfléchir » writes one) and of its own last change."""
        latest = DossierEvent.objects.filter(dossier=models.OuterRef("pk")).order_by("-at", "-id").values("at")[:1]
        return self.annotate(
            last_activity=Greatest(Coalesce(models.Subquery(latest), models.F("updated_at")), models.F("updated_at"))
        )

    def idle_information(self, *, before: datetime.datetime) -> DossierQuerySet:
        """Information dossiers untouched since `before`: no event, note or change since, no appointment planned
        from then on and no call-back day from then on (a meeting booked, or a call agreed, far ahead is not a person
        who left)."""
        return (
            self.filter(state=S.INFORMATION)
            .exclude(reflection_reminder_on__gte=timezone.localdate(before))
            # One filter() call: the state and the date of the same appointment (scheduling, above this app).
            .exclude(pk__in=Dossier.objects.filter(appointments__state="planned", appointments__starts_at__gte=before))
            .with_last_activity()
            .filter(last_activity__lt=before)
        )

    def past_deadline(self, today: datetime.date) -> DossierQuerySet:
        return self.filter(state__in=WINDOW_STATES, deadline__lt=today)

    def to_warn(self, today: datetime.date) -> DossierQuerySet:
        return self.filter(
            state__in=WINDOW_STATES,
            deadline__gte=today,
            deadline__lte=today + WARNING_BEFORE_DEADLINE,
            deadline_warning_sent_at__isnull=True,
        )


class Dossier(ConcurrentTransitionMixin, TracksChanges, models.Model):
    """A candidate's journey towards one certification, owned by the evaluator organisation that opened it."""

    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="dossiers",
        verbose_name=_("organisme évaluateur"),
    )
    candidate = models.ForeignKey(
        Candidate, on_delete=models.PROTECT, related_name="dossiers", verbose_name=_("personne candidate")
    )
    certification = models.CharField(_("certification"), max_length=20, choices=Certification.choices)
    referentiel = models.ForeignKey(
        "referentiels.Referentiel", on_delete=models.PROTECT, related_name="dossiers", verbose_name=_("référentiel")
    )
    reference = models.CharField(_("référence"), max_length=30, unique=True, null=True, blank=True)
    state = FSMField(_("étape"), default=S.INFORMATION, choices=DossierState.choices, protected=True, db_index=True)
    counsellor = models.ForeignKey(
        "organisations.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("suivi par")
    )
    consent_at = models.DateTimeField(_("consentement recueilli le"), null=True, blank=True)
    consent_text = models.TextField(_("texte présenté à la personne"), blank=True)
    # Whether the candidate agreed, at opening, to hear by e-mail of their appointments, documents and decision
    # (notifications); off unless asked. The date says when they agreed.
    notify_by_email = models.BooleanField(_("accepte d'être prévenu par courriel"), default=False)
    notify_by_email_at = models.DateTimeField(_("accord pour les courriels recueilli le"), null=True, blank=True)
    window_starts_on = models.DateField(_("date de l'évaluation préalable"), null=True, blank=True)
    deadline = models.DateField(_("échéance des 5 ans"), null=True, blank=True, db_index=True)
    deadline_warning_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    withdrawal_reason = models.TextField(_("motif d'abandon"), blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)
    # Set once by privacy.services with its candidate's: notes, free texts and personal files are gone.
    anonymised_at = models.DateTimeField(_("anonymisé le"), null=True, blank=True, editable=False)
    # After the information interview the person may take time to think (CléA: « le candidat reste libre de ses
    # choix, il peut prendre le temps de réfléchir, revenir plus tard »): when they left without opening, and the day
    # the counsellor wants to call them back (their « À faire »). Meaningful in the information step only.
    reflection_since = models.DateTimeField(_("prend le temps de réfléchir depuis le"), null=True, blank=True)
    reflection_reminder_on = models.DateField(_("rappeler la personne le"), null=True, blank=True)

    objects = DossierQuerySet.as_manager()

    class Meta:
        verbose_name = _("dossier")
        verbose_name_plural = _("dossiers")
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["organisation", "state", "-updated_at"], name="dossier_org_state_idx"),
            # The counsellor's list: an organisation's latest dossiers, read from the index in list order
            # instead of joining and sorting all of them (bench/README.md).
            models.Index(fields=["organisation", "-updated_at", "-id"], name="dossier_org_recent_idx"),
            # The name search counts an organisation's dossiers whose candidate matches: read from this index alone
            # rather than from the dossiers' rows, scattered over 20,000 pages for 74,000 dossiers at 1,000,000.
            models.Index(fields=["organisation", "candidate"], name="dossier_org_candidate_idx"),
        ]

    def __str__(self) -> str:
        return self.reference or f"Dossier {self.pk}"

    def record_event(self, **fields: Any) -> DossierEvent:
        """The dossier's timeline row for a transition (organisations.transitions writes it), or for its creation;
        a change of step is announced (`dossier_state_changed`) in the same transaction."""
        event = DossierEvent.objects.create(dossier=self, **fields)
        if event.to_state and event.to_state != event.from_state:
            dossier_state_changed.send(sender=Dossier, dossier=self, event=event)
        return event

    # -- Derived facts -------------------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def final_evaluation_due(self) -> bool:
        """Inside the 5-year window, before the final evaluation: the only time its deadline means anything."""
        return self.deadline is not None and self.state in WINDOW_STATES

    @cached_property
    def current_training_plan(self) -> TrainingPlan | None:
        return self.training_plans.order_by("-cycle").first()

    def days_left(self, today: datetime.date | None = None) -> int | None:
        if self.deadline is None:
            return None
        return (self.deadline - (today or timezone.localdate())).days

    # -- Conditions (guards) -------------------------------------------------------------------------------

    def has_consent(self) -> bool:
        return self.consent_at is not None and bool(self.consent_text.strip())

    def candidate_complete(self) -> bool:
        return not self.candidate.missing_for_opening

    def habilitation_in_force(self) -> bool:
        """Active within its period: what opening a new dossier needs (a suspension stops new dossiers)."""
        # By the organisation's id: one query, without loading the organisation first.
        return (
            Habilitation.objects.filter(organisation_id=self.organisation_id, certification=self.certification)
            .in_force()
            .exists()
        )

    def habilitation_covering(self) -> bool:
        """Active or suspended within its period: what an opened dossier needs to start its prior evaluation (it
        may through a suspension, not after a withdrawal or the period's end). Later steps check no habilitation."""
        return (
            Habilitation.objects.filter(organisation_id=self.organisation_id, certification=self.certification)
            .covering()
            .exists()
        )

    def within_window(self) -> bool:
        return self.deadline is None or self.deadline >= timezone.localdate()

    def deadline_passed(self, today: datetime.date | None = None) -> bool:
        return self.deadline is not None and self.deadline < (today or timezone.localdate())

    def has_training_plan(self) -> bool:
        return self.current_training_plan is not None

    def training_completed(self) -> bool:
        plan = self.current_training_plan
        return plan is not None and plan.completed_at is not None

    # -- Transitions: each changes this instance only; services persist them and write the timeline ------

    @transition(
        field=state,
        source=S.INFORMATION,
        target=S.OPENED,
        conditions=[has_consent, candidate_complete, habilitation_in_force],  # type: ignore[list-item]  # django-fsm-2 types conditions on Model
        permission=_by(Role.COUNSELLOR),
        custom={"label": _("Ouvrir le dossier"), "url": "open"},
    )
    def open(self) -> None:
        pass

    @transition(
        field=state,
        source=S.OPENED,
        target=S.PRIOR_EVALUATION,
        conditions=[habilitation_covering],  # type: ignore[list-item]  # django-fsm-2 types conditions on Model
        permission=_by(Role.EVALUATOR),
        custom={"label": _("Commencer l'évaluation préalable"), "url": "evaluation_start"},
    )
    def start_prior_evaluation(self) -> None:
        pass

    @transition(
        field=state,
        source=S.PRIOR_EVALUATION,
        target=RETURN_VALUE(S.PARTIALLY_VALIDATED, S.READY_FOR_JURY),
        permission=_by(Role.EVALUATOR),
        custom={"automatic": True},
    )
    def close_prior_evaluation(self, *, all_validated: bool, evaluated_on: datetime.date) -> str:
        self.window_starts_on = evaluated_on
        self.deadline = add_years(evaluated_on, WINDOW_YEARS)
        return S.READY_FOR_JURY if all_validated else S.PARTIALLY_VALIDATED

    # -- Step 4: the jury. The president's decisions move the dossier; Certif'Pro alone revokes them.

    @transition(
        field=state,
        source=S.READY_FOR_JURY,
        target=S.SUBMITTED_TO_JURY,
        permission=_by(Role.COUNSELLOR),
        custom={"label": _("Soumettre au jury"), "url": "submit_to_jury"},
    )
    def submit_to_jury(self) -> None:
        pass

    @transition(
        field=state,
        source=S.SUBMITTED_TO_JURY,
        target=S.CERTIFIED,
        permission=_by(Role.JURY_MEMBER),
        custom={"automatic": True},
    )
    def award(self) -> None:
        pass

    @transition(
        field=state,
        source=S.SUBMITTED_TO_JURY,
        target=S.PARTIALLY_VALIDATED,
        permission=_by(Role.JURY_MEMBER),
        custom={"automatic": True},
    )
    def defer(self) -> None:
        """Back to training on the domains the jury names (the decision records them)."""

    @transition(
        field=state,
        source=S.SUBMITTED_TO_JURY,
        target=S.REFUSED,
        permission=_by(Role.JURY_MEMBER),
        custom={"automatic": True},
    )
    def refuse(self) -> None:
        pass

    @transition(
        field=state,
        source=S.SUBMITTED_TO_JURY,
        target=S.READY_FOR_JURY,
        permission=_by(Role.JURY_MEMBER),
        custom={"automatic": True},
    )
    def mark_absent(self) -> None:
        """Absent or excused: the dossier waits for another session."""

    @transition(
        field=state,
        source=[S.CERTIFIED, S.REFUSED, S.PARTIALLY_VALIDATED],
        target=S.READY_FOR_JURY,
        permission=_by(Role.CERTIFPRO_ADMIN),
        custom={"automatic": True},
    )
    def revoke_decision(self) -> None:
        pass

    @transition(
        field=state,
        source=S.PARTIALLY_VALIDATED,
        target=S.IN_TRAINING,
        conditions=[has_training_plan, within_window],  # type: ignore[list-item]  # django-fsm-2 types conditions on Model
        permission=_by(Role.COUNSELLOR),
        custom={"automatic": True},
    )
    def start_training(self) -> None:
        pass

    @transition(
        field=state,
        source=S.IN_TRAINING,
        target=S.FINAL_EVALUATION,
        conditions=[training_completed, within_window],  # type: ignore[list-item]  # django-fsm-2 types conditions on Model
        permission=_by(Role.EVALUATOR),
        custom={"label": _("Commencer l'évaluation finale"), "url": "evaluation_start"},
    )
    def start_final_evaluation(self) -> None:
        pass

    @transition(
        field=state,
        source=S.FINAL_EVALUATION,
        target=RETURN_VALUE(S.READY_FOR_JURY, S.IN_TRAINING),
        permission=_by(Role.EVALUATOR),
        custom={"automatic": True},
    )
    def close_final_evaluation(self, *, all_validated: bool) -> str:
        return S.READY_FOR_JURY if all_validated else S.IN_TRAINING

    @transition(
        field=state,
        source=OPEN_STATES,
        target=S.WITHDRAWN,
        permission=_by(Role.COUNSELLOR, Role.ORG_ADMIN),
        custom={"label": _("Clore le dossier (abandon)"), "url": "withdraw", "danger": True},
    )
    def withdraw(self, *, reason: str) -> None:
        self.withdrawal_reason = reason

    @transition(
        field=state,
        source=TRANSFERABLE_STATES,
        target=RETURN_VALUE(*TRANSFER_TARGETS),
        # A counsellor or administrator of the new organisation asks (the candidate, who has no membership, acts
        # through by=None); the organisation that holds the dossier never pushes it away, nor is it offered the step.
        permission=lambda instance, membership: (
            membership is not None
            and membership.role in (Role.COUNSELLOR, Role.ORG_ADMIN)
            and membership.organisation_id != instance.organisation_id
        ),
        custom={"automatic": True, "edges": TRANSFER_EDGES},
    )
    def transfer(self, *, organisation_id: int, counsellor_id: int) -> str:
        """To another organisation, with its counsellor. The 5-year window does not move.

        An evaluation in progress is abandoned (its draft is closed without a result by the evaluations app), and
        the dossier is back to the step before it: a prior evaluation is one whole act, the new organisation starts
        it again (opened); a final evaluation starts again on what remains once the training is completed
        (in training). A training in progress stops (its plan is closed by the training app): the new organisation
        defines its own from what remains (partially validated); a training already completed stays so, and the
        final evaluation is what comes next (in training)."""
        if self.state == S.PRIOR_EVALUATION:
            target: str = S.OPENED
        elif self.state == S.FINAL_EVALUATION:
            target = S.IN_TRAINING
        elif self.state == S.IN_TRAINING:
            target = S.IN_TRAINING if self.training_completed() else S.PARTIALLY_VALIDATED
        else:
            target = self.state
        self.organisation_id = organisation_id
        self.counsellor_id = counsellor_id
        return target

    @transition(
        field=state,
        source=WINDOW_STATES,
        target=S.EXPIRED,
        permission=lambda instance, membership: False,
        custom={"automatic": True},
    )
    def expire(self, *, today: datetime.date | None = None) -> None:
        # A guard inside the method rather than a condition: the daily job says which day it is.
        if not self.deadline_passed(today):
            raise TransitionNotAllowed("The 5-year window is still open.", object=self, method=self.expire)


def of_visible_dossier(membership: Membership | None) -> models.Exists:
    """Rows whose dossier (`dossier_id`) `membership` may see, as a correlated EXISTS for the scopes that add an OR
    (an organisation a dossier left keeps its own rows). Under that OR PostgreSQL cannot make `dossier__in=` a join:
    it hashed the organisation's every dossier to read one dossier's rows, 24 to 35 ms a query for 74,000 dossiers
    (bench/README.md, issue 22 at 1,000,000); the EXISTS reads that one dossier."""
    return models.Exists(Dossier.objects.visible_to(membership).filter(pk=models.OuterRef("dossier_id")))


class DossierEventQuerySet(models.QuerySet["DossierEvent"]):
    def visible_to(self, membership: Membership | None) -> DossierEventQuerySet:
        """The whole timeline of a dossier one may see; for an organisation the dossier left, up to the move."""
        if membership is not None and membership.is_certifpro:
            return self.all()
        events = self.filter(of_visible_dossier(membership))
        if membership is None or membership.is_certifpro or membership.role not in DossierQuerySet.organisation_roles:
            return events
        left = DossierTransfer.objects.filter(
            dossier_id=models.OuterRef("dossier_id"), from_organisation_id=membership.organisation_id
        ).exclude(dossier__organisation_id=membership.organisation_id)
        before_move = models.Exists(left.filter(at__gte=models.OuterRef("at")))
        return events | self.filter(before_move)


class DossierEvent(models.Model):
    """The dossier's timeline: every transition (and a few notable facts), append-only."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="events", verbose_name=_("dossier"))
    at = models.DateTimeField(_("date"), default=timezone.now)
    actor = models.ForeignKey(
        "organisations.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("par")
    )
    transition = models.CharField(_("transition"), max_length=50, blank=True)
    from_state = models.CharField(_("étape de départ"), max_length=30, choices=DossierState.choices, blank=True)
    to_state = models.CharField(_("étape d'arrivée"), max_length=30, choices=DossierState.choices, blank=True)
    note = models.TextField(_("note"), blank=True)

    objects = DossierEventQuerySet.as_manager()
    tenant_path = "dossier__organisation"

    class Meta:
        verbose_name = _("événement du dossier")
        verbose_name_plural = _("historique des dossiers")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d} {self.transition}"


# -- Changing organisation (issue 19) ------------------------------------------------------------------------


class DossierTransferQuerySet(models.QuerySet["DossierTransfer"]):
    def visible_to(self, membership: Membership | None) -> DossierTransferQuerySet:
        """Both organisations of the move, and Certif'Pro."""
        if membership is None:
            return self.none()
        if membership.is_certifpro:
            return self.all()
        if membership.role not in DossierQuerySet.organisation_roles:
            return self.none()
        org = membership.organisation_id
        return self.filter(models.Q(from_organisation_id=org) | models.Q(to_organisation_id=org))


class DossierTransfer(models.Model):
    """A dossier moved from one evaluator organisation to another, asked by the new one (with the candidate's consent
    recorded) or by the candidate from their space. Append-only: the previous organisation's read-only view of the
    dossier is drawn from it."""

    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="transfers", verbose_name=_("dossier"))
    from_organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organisme quitté"),
    )
    to_organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("nouvel organisme"),
    )
    at = models.DateTimeField(_("date"), default=timezone.now)
    # Who asked: a member of the new organisation, or None when the candidate moved their dossier themself.
    requested_by = models.ForeignKey(
        "organisations.Membership",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("demandé par"),
    )
    by_candidate = models.BooleanField(_("demandé par la personne candidate"), default=False)
    # The exact text the candidate agreed to (like Dossier.consent_text), on screen in their space or read to them.
    consent_text = models.TextField(_("texte présenté à la personne"))
    reason = models.TextField(_("motif"))
    from_state = models.CharField(_("étape au départ"), max_length=30, choices=DossierState.choices)

    objects = DossierTransferQuerySet.as_manager()
    tenant_path = "dossier__organisation"

    class Meta:
        verbose_name = _("changement d'organisme")
        verbose_name_plural = _("changements d'organisme")
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(from_organisation=models.F("to_organisation")), name="transfer_changes_organisation"
            ),
            models.CheckConstraint(
                condition=models.Q(by_candidate=True, requested_by__isnull=True)
                | models.Q(by_candidate=False, requested_by__isnull=False),
                name="transfer_one_requester",
            ),
        ]

    def __str__(self) -> str:
        return f"DossierTransfer {self.pk}"


# What the person may write in a correction request: enough to say what is wrong and what is right, short enough
# to be read in the counsellor's queue.
CORRECTION_MESSAGE_MAX_LENGTH = 2000


class CorrectionState(models.TextChoices):
    OPEN = "open", _("À traiter")
    ANSWERED = "answered", _("Traitée")


class CorrectionRequestQuerySet(TenantQuerySet):
    """Counsellors, evaluators and administrators: their organisation's requests; Certif'Pro: all. The candidate,
    who has no membership, reads their own through their space (by the candidate, not through this rule)."""

    def open(self) -> CorrectionRequestQuerySet:
        return self.filter(state=CorrectionState.OPEN)


class CorrectionRequest(models.Model):
    """A candidate says that some of their data is wrong (GDPR art. 16, right to rectification): their counsellor
    reads it in their queue, corrects what needs correcting through the usual form (candidate_correct, which keeps
    its own traces), and answers."""

    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="correction_requests",
        verbose_name=_("organisme évaluateur"),
    )
    candidate = models.ForeignKey(
        Candidate, on_delete=models.PROTECT, related_name="correction_requests", verbose_name=_("personne candidate")
    )
    # The dossier the person was looking at, if any: it names the counsellor who hears of the request.
    dossier = models.ForeignKey(
        Dossier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="correction_requests",
        verbose_name=_("dossier"),
    )
    message = models.TextField(_("ce qui est à corriger"), max_length=CORRECTION_MESSAGE_MAX_LENGTH)
    created_at = models.DateTimeField(_("demandée le"), default=timezone.now)
    state = models.CharField(
        _("état"), max_length=10, choices=CorrectionState.choices, default=CorrectionState.OPEN, db_index=True
    )
    answered_at = models.DateTimeField(_("traitée le"), null=True, blank=True)
    answered_by = models.ForeignKey(
        "organisations.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("traitée par"),
    )
    answer = models.TextField(_("réponse"), blank=True, max_length=CORRECTION_MESSAGE_MAX_LENGTH)

    objects = CorrectionRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("demande de rectification")
        verbose_name_plural = _("demandes de rectification")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organisation", "state", "created_at"], name="correction_org_state_idx")]

    def __str__(self) -> str:
        return gettext("Demande de rectification n° %(id)s") % {"id": self.pk}

    @property
    def is_open(self) -> bool:
        return self.state == CorrectionState.OPEN


# -- The candidate's own space: sign-in links ------------------------------------------------------------

# How long a link opens the space after it is made: long enough to read one's mail, short enough that a link left
# in a forwarded or stolen mailbox is soon worth nothing.
LINK_VALIDITY = datetime.timedelta(minutes=30)


def token_hash(token: str) -> str:
    """What the database keeps of a link's token: its SHA-256, so that a copy of the database opens no space."""
    return hashlib.sha256(token.encode()).hexdigest()


class LinkOrigin(models.TextChoices):
    SELF_REQUEST = "self_request", _("Demandé par la personne")
    COUNSELLOR = "counsellor", _("Envoyé par son conseiller ou sa conseillère")
    SUPPORT = "support", _("Créé par le support (commande)")


class SignInLinkQuerySet(models.QuerySet["SignInLink"]):
    def usable(self, now: datetime.datetime | None = None) -> SignInLinkQuerySet:
        return self.filter(used_at__isnull=True, expires_at__gt=now or timezone.now())


class SignInLink(models.Model):
    """A single-use link that opens a candidate's own space (the space app, issue 18). A candidate has no account and
    no password: a link sent to the e-mail address their dossier holds proves that the address is theirs, once, for
    30 minutes. Here, beside the candidate, so that the retention job (privacy) deletes the spent ones."""

    candidate = models.ForeignKey(
        Candidate,
        on_delete=models.CASCADE,
        related_name="sign_in_links",
        verbose_name=_("personne candidate"),
    )
    token_sha256 = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)
    expires_at = models.DateTimeField(_("valable jusqu'au"))
    used_at = models.DateTimeField(_("utilisé le"), null=True, blank=True)
    origin = models.CharField(_("origine"), max_length=20, choices=LinkOrigin.choices)
    # The counsellor who sent it (LinkOrigin.COUNSELLOR).
    sent_by = models.ForeignKey(
        "organisations.Membership",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("envoyé par"),
    )

    objects = SignInLinkQuerySet.as_manager()
    tenant_path = "candidate__organisation"

    class Meta:
        verbose_name = _("lien de connexion")
        verbose_name_plural = _("liens de connexion")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"SignInLink {self.pk}"

    def is_usable(self, now: datetime.datetime | None = None) -> bool:
        return self.used_at is None and self.expires_at > (now or timezone.now())


# -- The information interview's notes ------------------------------------------------------------------------

# Long enough for what was said at an interview, short enough to be read on the dossier page.
NOTE_MAX_LENGTH = 4000


class DossierNoteQuerySet(TenantQuerySet):
    """The organisation's counsellors, evaluators and administrators, and Certif'Pro (TenantQuerySet); nobody
    outside the organisation that held the interview (jury members never read them)."""


class DossierNote(models.Model):
    """What the counsellor wrote down at the information interview, and at each later contact before the dossier
    opens: dated entries rather than one field overwritten, kept once the dossier opens. Free text about the person:
    privacy.services blanks it when the dossier is anonymised."""

    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="dossier_notes",
        verbose_name=_("organisme évaluateur"),
    )
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="notes", verbose_name=_("dossier"))
    author = models.ForeignKey(
        "organisations.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("écrite par")
    )
    at = models.DateTimeField(_("date"), default=timezone.now)
    text = models.TextField(_("note"), max_length=NOTE_MAX_LENGTH)

    objects = DossierNoteQuerySet.as_manager()

    class Meta:
        verbose_name = _("note d'entretien")
        verbose_name_plural = _("notes d'entretien")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return gettext("Note d'entretien n° %(id)s") % {"id": self.pk}
