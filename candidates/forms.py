from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from candidates.models import (
    BIRTH_COMMUNE_CODE_RE,
    BIRTH_COUNTRY_CODE_RE,
    CORRECTION_MESSAGE_MAX_LENGTH,
    DEFAULT_DOSSIER_SORT,
    DOSSIER_SORTS,
    NOTE_MAX_LENGTH,
    Candidate,
    DossierQuerySet,
    DossierState,
    EducationLevel,
    identity_key,
)
from candidates.services import NewDossierRefusal, dossier_new_refusal
from clea_platform.certifications import Certification

if TYPE_CHECKING:
    from organisations.models import Membership

# Shown to the candidate before the dossier is opened; the exact text is stored with the dossier
# (`Dossier.consent_text`), so changing it here never rewrites what earlier candidates agreed to.
CONSENT_TEXT = (
    "En ouvrant votre dossier CléA, l'organisme évaluateur enregistre sur la plateforme de Certif'Pro les "
    "informations que vous lui avez données (identité, coordonnées, situation, niveau de formation, origine de "
    "la démarche) ainsi que les résultats de vos évaluations, critère par critère. Ces informations sont "
    "partagées, pour ce qu'elles ont besoin de connaître, avec l'évaluateur qui conduit vos évaluations, le "
    "formateur qui assure votre parcours de formation et les membres du jury paritaire qui examinent votre "
    "dossier. Elles servent uniquement à votre parcours de certification et aux statistiques de Certif'Pro. "
    "Vous pouvez à tout moment renoncer à votre démarche : votre conseiller clôt alors le dossier, sans "
    "conséquence pour vous. Vous pouvez consulter et faire corriger vos informations auprès de votre conseiller."
)

# Shown to the candidate before their dossier moves to another organisation (issue 19), by the new organisation's
# counsellor or on their own screen; stored with the move (`DossierTransfer.consent_text`), like CONSENT_TEXT.
TRANSFER_CONSENT_TEXT = (
    "Vous choisissez un autre organisme pour suivre votre dossier CléA. Le nouvel organisme reçoit votre dossier : "
    "votre identité, vos coordonnées, les résultats de vos évaluations, vos attestations et vos parcours de "
    "formation. Ce que vous avez déjà acquis reste acquis. Votre date limite ne change pas. Vos rendez-vous prévus "
    "avec l'ancien organisme sont annulés. Une évaluation en cours avec lui s'arrête et ne compte pas : vous la "
    "repassez avec le nouvel organisme. L'ancien organisme est prévenu. Il garde ce qu'il a fait pour vous, "
    "mais ne voit pas la suite."
)

# The same text as the person reads it in their own space, in the first person like every page there (the space's
# readability test): what they agree to there is this one, stored with the move.
MY_TRANSFER_CONSENT_TEXT = (
    "Je choisis un autre organisme pour suivre mon dossier CléA. Le nouvel organisme reçoit mon dossier : "
    "mon identité, mes coordonnées, les résultats de mes évaluations, mes attestations et mes parcours de "
    "formation. Ce que j'ai déjà acquis reste acquis. Ma date limite ne change pas. Mes rendez-vous prévus "
    "avec l'ancien organisme sont annulés. Une évaluation en cours avec lui s'arrête et ne compte pas : je la "
    "repasse avec le nouvel organisme. L'ancien organisme est prévenu. Il garde ce qu'il a fait pour moi, "
    "mais ne voit pas la suite."
)

MIN_AGE, MAX_AGE = 16, 99
PHONE_RE = re.compile(r"^\+?[0-9 .\-()]{10,20}$")


def age_on(birth_date: datetime.date, day: datetime.date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


class DossierFilterForm(forms.Form):
    """The dossier list's filters (GET). Every field is optional; an invalid value is simply ignored."""

    q = forms.CharField(
        label=_("Rechercher"),
        required=False,
        max_length=100,
        help_text=_("Nom, prénom ou référence du dossier"),
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    state = forms.ChoiceField(
        label=_("Étape"), required=False, choices=[("", _("Toutes les étapes")), *DossierState.choices]
    )
    certification = forms.ChoiceField(
        label=_("Certification"),
        required=False,
        choices=[("", _("Toutes les certifications")), *Certification.choices],
    )

    # The column the list is sorted by, kept by the filter form (a hidden field) when the filters change.
    sort = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_sort(self) -> str:
        # Whitelisted rather than validated: a stale or forged key sorts by default and voids no filter.
        sort = self.cleaned_data.get("sort", "")
        return sort if sort.removeprefix("-") in DOSSIER_SORTS else ""

    def current_sort(self) -> str:
        self.is_valid()
        return self.cleaned_data.get("sort") or DEFAULT_DOSSIER_SORT

    def is_filtering(self) -> bool:
        return self.is_valid() and any(value for name, value in self.cleaned_data.items() if name != "sort")

    def filter(self, dossiers: DossierQuerySet) -> DossierQuerySet:
        """The dossiers the filters keep, in the chosen order."""
        dossiers = dossiers.sorted_by(self.current_sort())
        if not self.is_valid():
            return dossiers
        data = self.cleaned_data
        if data["state"]:
            dossiers = dossiers.filter(state=data["state"])
        if data["certification"]:
            dossiers = dossiers.filter(certification=data["certification"])
        query = data["q"].strip()
        if query:
            # Candidate.identity_key holds "last first" folded (no accents, case or hyphens): fold the
            # query the same way, and require each of its words, in any order.
            words = identity_key("", query).split()
            by_name = Q()
            for word in words:
                by_name &= Q(identity_key__contains=word)
            # The matching candidates as a subquery: on PostgreSQL the trigram index of candidates' identity
            # keys finds them (migration 0001_squashed_2026_12), where a join scanned every candidate of the country.
            named = Q(candidate__in=Candidate.objects.filter(by_name)) if words else Q(pk__in=[])
            # References hold digits after their certification's prefix (CLEA-2026-000123): a query without either
            # is a name, and the OR with the reference made PostgreSQL read every dossier of the organisation.
            if looks_like_reference(query):
                named |= Q(reference__icontains=query)
            dossiers = dossiers.filter(named)
        return dossiers


# A reference's prefix (CLEA-, CLEANUM-, CLEAMGT-) typed alone or followed by its hyphen or digits: not a surname
# that begins with the same letters (Cleary).
REFERENCE_PREFIX = re.compile(r"^CLEA(NUM|MGT)?(-|\d|$)")


def looks_like_reference(query: str) -> bool:
    """Whether a search may be (part of) a dossier reference: a digit, or the certifications' prefix."""
    return any(character.isdigit() for character in query) or bool(REFERENCE_PREFIX.match(query.strip().upper()))


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, str] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def birth_insee_code_error(code: str, *, born_abroad: bool) -> str | None:
    """Why an INSEE code of birthplace does not fit (format, or France/abroad mismatch), in French; None if it fits."""
    if born_abroad and not re.match(BIRTH_COUNTRY_CODE_RE, code):
        return _("Pour une naissance à l'étranger, saisissez le code INSEE du pays : 99 suivi de 3 chiffres (99109).")
    if not born_abroad and not re.match(BIRTH_COMMUNE_CODE_RE, code):
        if re.match(BIRTH_COUNTRY_CODE_RE, code):
            return _(
                "Ce code est celui d'un pays : cochez « naissance à l'étranger » ou saisissez celui de la commune."
            )
        return _("Saisissez le code INSEE de la commune : 5 caractères, par exemple 59350 ou 2A004.")
    return None


class CandidateIdentityForm(forms.ModelForm):
    """Who the candidate is and how to reach them: entered at the information interview, corrected later."""

    class Meta:
        model = Candidate
        fields = [
            "civility",
            "last_name",
            "first_name",
            "birth_name",
            "birth_date",
            "birth_place",
            "born_abroad",
            "sex",
            "birth_insee_code",
            "email",
            "phone",
            "address",
            "postcode",
            "city",
        ]
        widgets = {"birth_date": DateInput()}
        labels = {"email": _("Adresse e-mail")}
        help_texts = {
            "birth_name": _("Si différent du nom d'usage."),
            "birth_place": _("Commune, ou pays pour une naissance à l'étranger."),
            "sex": _(
                "Tel qu'inscrit à l'état civil ; demandé pour la déclaration du certificat à la Caisse des Dépôts."
            ),
            "birth_insee_code": _(
                "5 caractères : code de la commune (par exemple 59350 pour Lille, 2A004 pour Ajaccio) ou, pour une "
                "naissance à l'étranger, code du pays (par exemple 99109 pour l'Allemagne). Demandé pour la "
                "déclaration du certificat à la Caisse des Dépôts."
            ),
            "phone": _("Par exemple 06 12 34 56 78."),
            "postcode": _("5 chiffres."),
        }
        error_messages = {
            "civility": {"required": _("Indiquez la civilité.")},
            "last_name": {"required": _("Indiquez le nom d'usage.")},
            "first_name": {"required": _("Indiquez le prénom.")},
            "birth_date": {
                "required": _("Indiquez la date de naissance."),
                "invalid": _("Saisissez une date valide, par exemple 12/04/1985."),
            },
            "birth_place": {"required": _("Indiquez le lieu de naissance.")},
            "email": {"invalid": _("Saisissez une adresse e-mail valide.")},
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Blank is allowed for a referral's candidate until the dossier opens; once given, it cannot be erased.
        if self.instance.pk and self.instance.birth_place:
            self.fields["birth_place"].required = True
        autocomplete = {
            "last_name": "family-name",
            "first_name": "given-name",
            "birth_date": "bday",
            "email": "email",
            "phone": "tel",
            "address": "street-address",
            "postcode": "postal-code",
            "city": "address-level2",
        }
        for name, token in autocomplete.items():
            self.fields[name].widget.attrs["autocomplete"] = token
        self.fields["postcode"].widget.attrs.update(inputmode="numeric", maxlength="5")

    def identity_fields(self) -> list[forms.BoundField]:
        return [
            self[n]
            for n in (
                "civility",
                "sex",
                "last_name",
                "first_name",
                "birth_name",
                "birth_date",
                "birth_place",
                "born_abroad",
                "birth_insee_code",
            )
        ]

    def contact_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in ("email", "phone", "address", "postcode", "city")]

    def _clean_name(self, name: str) -> str:
        return " ".join(self.cleaned_data.get(name, "").split())

    def clean_last_name(self) -> str:
        return self._clean_name("last_name")

    def clean_first_name(self) -> str:
        return self._clean_name("first_name")

    def clean_birth_name(self) -> str:
        return self._clean_name("birth_name")

    def clean_birth_place(self) -> str:
        return self._clean_name("birth_place")

    def clean_birth_date(self) -> datetime.date:
        birth_date = self.cleaned_data["birth_date"]
        today = timezone.localdate()
        if birth_date >= today:
            raise forms.ValidationError(_("La date de naissance doit être dans le passé."), code="future")
        age = age_on(birth_date, today)
        if not MIN_AGE <= age <= MAX_AGE:
            raise forms.ValidationError(
                _("Le candidat doit avoir entre %(min)s et %(max)s ans (âge calculé : %(age)s ans).")
                % {"min": MIN_AGE, "max": MAX_AGE, "age": age},
                code="age",
            )
        return birth_date

    def clean_birth_insee_code(self) -> str:
        return self.cleaned_data.get("birth_insee_code", "").replace(" ", "").upper()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        code = cleaned.get("birth_insee_code", "")
        if code:
            error = birth_insee_code_error(code, born_abroad=bool(cleaned.get("born_abroad")))
            if error:
                self.add_error("birth_insee_code", error)
        return cleaned

    def clean_postcode(self) -> str:
        # The model validator says "5 chiffres"; tolerate the space people type in "59 000".
        return self.cleaned_data.get("postcode", "").replace(" ", "")

    def clean_phone(self) -> str:
        phone = self.cleaned_data.get("phone", "").strip()
        if phone and (not PHONE_RE.match(phone) or sum(c.isdigit() for c in phone) < 10):
            raise forms.ValidationError(
                _("Saisissez un numéro de téléphone valide (10 chiffres, par exemple 06 12 34 56 78)."), code="phone"
            )
        return phone


class DossierCreateForm(CandidateIdentityForm):
    """The information interview: who the candidate is, and the certification they aim for."""

    certification = forms.ChoiceField(label=_("Certification visée"))

    class Meta(CandidateIdentityForm.Meta):
        fields = [
            *CandidateIdentityForm.Meta.fields,
            "registration_status",
            "education_level",
            "origin",
        ]
        error_messages = {
            **CandidateIdentityForm.Meta.error_messages,
            "registration_status": {"required": _("Indiquez le statut à l'inscription.")},
            "education_level": {"required": _("Indiquez le niveau de formation.")},
            "origin": {"required": _("Indiquez l'origine de la démarche.")},
        }

    def __init__(
        self, *args: object, certifications: Iterable[str], membership: Membership | None = None, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)
        # With a membership, clean() refuses a person who may not have a new dossier (dossier_create refuses
        # it anyway: the API leaves it to the service, which answers 409 with the refusal's code).
        self.membership = membership
        self.refusal: NewDossierRefusal | None = None
        # The model leaves them blank for a referral's dossier; the counsellor's own interview asks them.
        for name in Candidate.FIELDS_FOR_OPENING:
            self.fields[name].required = True
        allowed = set(certifications)
        choices = [(value, label) for value, label in Certification.choices if value in allowed]
        # With several certifications, make the counsellor choose rather than keep the first by accident.
        self.fields["certification"].choices = choices if len(choices) == 1 else [("", "---------"), *choices]
        self.fields["certification"].error_messages.update(
            required=_("Choisissez la certification visée."),
            invalid_choice=_("Votre organisme n'est pas habilité pour cette certification."),
        )

    def situation_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in ("registration_status", "education_level", "origin")]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        identity = [cleaned.get(name) for name in ("first_name", "last_name", "birth_date", "certification")]
        if self.membership is not None and all(identity):
            first_name, last_name, birth_date, certification = identity
            self.refusal = dossier_new_refusal(
                organisation_id=self.membership.organisation_id,
                first_name=first_name,
                last_name=last_name,
                birth_date=birth_date,
                certification=certification,
            )
            if self.refusal is not None:
                self.add_error(None, forms.ValidationError(str(self.refusal), code=self.refusal.code))
        return cleaned

    def candidate_data(self) -> dict[str, object]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class DossierOpenForm(forms.Form):
    """The consent, and what the information interview learnt that the candidate record still lacks (a
    referral leaves the birth place and the education level to it)."""

    birth_place = forms.CharField(
        label=_("Lieu de naissance"),
        max_length=150,
        help_text=_("Commune, ou pays pour une naissance à l'étranger."),
        error_messages={"required": _("Indiquez le lieu de naissance.")},
    )
    education_level = forms.ChoiceField(
        label=_("Niveau de formation"),
        choices=[("", "---------"), *EducationLevel.choices],
        error_messages={"required": _("Indiquez le niveau de formation.")},
    )
    consent = forms.BooleanField(
        label=_("Le candidat a donné son accord"),
        error_messages={"required": _("Le dossier ne peut être ouvert qu'avec l'accord du candidat : cochez la case.")},
    )
    notify_by_email = forms.BooleanField(
        label=_("Le candidat accepte d'être prévenu par courriel"),
        required=False,
        help_text=_(
            "De ses rendez-vous, de ses documents (attestation, certificat) et de la décision du jury, à l'adresse "
            "e-mail de son dossier. Facultatif."
        ),
    )

    def __init__(self, *args: Any, candidate: Candidate, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only what is missing is asked; what the candidate record holds is not asked again.
        for name in Candidate.FIELDS_FOR_OPENING:
            if name not in candidate.missing_for_opening:
                del self.fields[name]

    def candidate_data(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in Candidate.FIELDS_FOR_OPENING if name in self.cleaned_data}


class DossierWithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif de l'abandon"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Par exemple : déménagement, reprise d'emploi, choix du candidat. Le motif figure à l'historique."),
        error_messages={"required": _("Indiquez le motif de l'abandon.")},
    )


class CorrectionRequestForm(forms.Form):
    """The candidate's request to correct their data (their space calls correction_request_create with it)."""

    message = forms.CharField(
        label=_("Ce qui est à corriger"),
        max_length=CORRECTION_MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Dites ce qui est faux et ce qui est juste. Par exemple : mon nom s'écrit avec un « é »."),
        error_messages={"required": _("Indiquez ce qui est à corriger dans vos données.")},
    )


class CorrectionAnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Votre réponse à la personne"),
        max_length=CORRECTION_MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "Elle la lit dans son espace. Dites ce que vous avez corrigé, ou pourquoi rien n'a changé "
            "(une pièce justificative à montrer, par exemple)."
        ),
        error_messages={"required": _("Indiquez votre réponse à la personne.")},
    )


class DossierNoteForm(forms.Form):
    """A note of the information interview (dossier_note_add)."""

    text = forms.CharField(
        label=_("Note d'entretien"),
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "Ce que la personne a dit, ses questions, ce qui a été convenu. La note est datée et reste au dossier ; "
            "seul votre organisme la lit."
        ),
        error_messages={"required": _("Écrivez la note avant de l'enregistrer.")},
    )


class DossierTakeTimeForm(forms.Form):
    """The person takes time to think (dossier_take_time), with an optional day to call them back."""

    reminder_on = forms.DateField(
        label=_("Date de rappel (facultatif)"),
        required=False,
        widget=DateInput(),
        help_text=_("Ce jour-là, le dossier apparaît dans votre liste « À faire » pour rappeler la personne."),
        error_messages={"invalid": _("Saisissez une date valide, par exemple 15/03/2027.")},
    )

    def clean_reminder_on(self) -> datetime.date | None:
        day: datetime.date | None = self.cleaned_data.get("reminder_on")
        if day is not None and day <= timezone.localdate():
            raise forms.ValidationError(_("Choisissez une date de rappel après aujourd'hui."), code="past")
        return day


class TransferFindForm(forms.Form):
    """The new organisation looks for the dossier the person brings: its reference and their birth date together."""

    reference = forms.CharField(
        label=_("Référence du dossier"),
        max_length=30,
        help_text=_("Elle figure sur les courriers et dans l'espace de la personne, par exemple CLEA-2026-000123."),
        error_messages={"required": _("Indiquez la référence du dossier.")},
    )
    birth_date = forms.DateField(
        label=_("Date de naissance de la personne"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": _("Indiquez la date de naissance de la personne."),
            "invalid": _("Indiquez une date valide, par exemple 12/04/1985."),
        },
    )


class TransferConfirmForm(TransferFindForm):
    """The found dossier's move: the person's agreement to the text read to them, and why they change."""

    consent = forms.BooleanField(
        label=_("La personne a donné son accord"),
        error_messages={
            "required": _("Le dossier ne peut changer d'organisme qu'avec l'accord de la personne : cochez la case.")
        },
    )
    reason = forms.CharField(
        label=_("Motif du changement"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Par exemple : déménagement, horaires, choix de la personne. Le motif figure à l'historique."),
        error_messages={"required": _("Indiquez le motif du changement d'organisme.")},
    )
