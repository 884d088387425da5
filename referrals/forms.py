from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.utils.translation import gettext_lazy as _

from candidates.forms import PHONE_RE, DateInput
from candidates.models import EducationLevel
from clea_platform.certifications import Certification
from referrals.models import Referral, ReferralQuerySet, ReferralState
from referrals.services import IDENTITY_FIELDS


class ReferralForm(forms.ModelForm):
    """What the advisor sends: who the job seeker is, how to reach them, the certification, and their consent."""

    certification = forms.ChoiceField(label=_("Certification visée"))
    consent = forms.BooleanField(
        label=_("La personne a lu le texte ci-dessus et accepte que ses coordonnées soient transmises"),
        error_messages={"required": _("Sans l'accord de la personne, l'orientation ne peut pas être envoyée.")},
    )

    class Meta:
        model = Referral
        fields = [
            "civility",
            "last_name",
            "first_name",
            "birth_date",
            "birth_place",
            "email",
            "phone",
            "postcode",
            "city",
            "education_level",
            "certification",
            "note",
        ]
        widgets = {"birth_date": DateInput(), "note": forms.Textarea(attrs={"rows": 4})}
        help_texts = {
            "phone": _("Par exemple 06 12 34 56 78."),
            "birth_place": _("Facultatif : l'organisme le demandera sinon."),
            "note": _("Ce que l'organisme doit savoir pour bien accueillir la personne (disponibilités, besoins)."),
        }
        error_messages = {
            "civility": {"required": _("Indiquez la civilité.")},
            "last_name": {"required": _("Indiquez le nom d'usage.")},
            "first_name": {"required": _("Indiquez le prénom.")},
            "birth_date": {
                "required": _("Indiquez la date de naissance."),
                "invalid": _("Saisissez une date valide, par exemple 12/04/1985."),
            },
            "email": {"invalid": _("Saisissez une adresse e-mail valide.")},
        }

    def __init__(self, *args: object, certifications: Iterable[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        allowed = set(certifications)
        choices = [(value, label) for value, label in Certification.choices if value in allowed]
        self.fields["certification"].choices = choices if len(choices) == 1 else [("", "---------"), *choices]
        self.fields["certification"].error_messages.update(
            required=_("Choisissez la certification visée."),
            invalid_choice=_("Ce site ne prépare pas à cette certification."),
        )
        autocomplete = {
            "last_name": "off",
            "first_name": "off",
            "email": "off",
            "phone": "off",
        }
        for name, value in autocomplete.items():
            self.fields[name].widget.attrs["autocomplete"] = value

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        if phone and not PHONE_RE.match(phone):
            raise forms.ValidationError(_("Saisissez un numéro de téléphone valide, par exemple 06 12 34 56 78."))
        return phone

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("email") and not data.get("phone") and not self.has_error("email"):
            self.add_error("phone", _("Indiquez au moins un moyen de contact : téléphone ou adresse e-mail."))
        return data

    def identity(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in IDENTITY_FIELDS}


class ReferralAcceptForm(forms.Form):
    """What the counsellor may complete on accepting: only what an advisor could have known is needed, the
    birth place and the education level are asked at the information interview, before the dossier opens."""

    birth_place = forms.CharField(
        label=_("Lieu de naissance"),
        max_length=150,
        required=False,
        help_text=_("Facultatif : sinon, il sera demandé à l'ouverture du dossier, après l'entretien d'information."),
    )
    education_level = forms.ChoiceField(
        label=_("Niveau de formation"),
        choices=[("", "---------"), *EducationLevel.choices],
        required=False,
        help_text=_("Facultatif : sinon, il sera demandé à l'ouverture du dossier, après l'entretien d'information."),
    )


class ReferralDeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif du refus"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("La conseillère ou le conseiller France Travail le lira : restez factuel."),
        error_messages={"required": _("Indiquez le motif du refus.")},
    )


class ReferralFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=_("État"), required=False, choices=[("", _("Tous les états")), *ReferralState.choices]
    )

    def filter(self, referrals: ReferralQuerySet) -> ReferralQuerySet:
        if self.is_valid() and self.cleaned_data["state"]:
            return referrals.filter(state=self.cleaned_data["state"])
        return referrals
