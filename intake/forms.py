from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clea_platform.certifications import Certification
from organisations.models import Membership
from scheduling.forms import PersonChoiceField
from scheduling.models import MAX_DURATION_MINUTES, MIN_DURATION_MINUTES

PREFERRED_TIME_CHOICES = [
    ("morning", _("Le matin")),
    ("afternoon", _("L'après-midi")),
    ("evening", _("En fin de journée")),
]


class InterviewRequestForm(forms.Form):
    """What the person gives to be called back: nothing more (no birth date, no address)."""

    first_name = forms.CharField(label=_("Prénom"), max_length=150)
    last_name = forms.CharField(label=_("Nom"), max_length=150)
    email = forms.EmailField(
        label=_("Adresse e-mail"),
        help_text=_("Vous recevrez un lien pour confirmer votre demande."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Téléphone (facultatif)"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )
    certification = forms.ChoiceField(label=_("Certification"))
    preferred = forms.MultipleChoiceField(
        label=_("Quand préférez-vous venir ? (facultatif)"),
        choices=PREFERRED_TIME_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    preferred_times = forms.CharField(
        label=_("Précisions sur vos disponibilités (facultatif)"),
        max_length=300,
        required=False,
        help_text=_("Par exemple : « pas le mercredi »."),
    )
    consent = forms.BooleanField(
        label=_("J'accepte que cet organisme me contacte pour fixer un entretien"),
        error_messages={"required": _("Cochez la case pour que l'organisme puisse vous contacter.")},
    )
    # A honeypot: hidden from people (CSS and aria-hidden), filled by robots. A filled one is answered as a success.
    website = forms.CharField(required=False, label=_("Ne remplissez pas ce champ"))

    def __init__(self, *args: Any, certifications: Iterable[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, message in (
            ("first_name", _("Indiquez votre prénom.")),
            ("last_name", _("Indiquez votre nom.")),
            ("email", _("Indiquez votre adresse e-mail.")),
        ):
            self.fields[name].error_messages["required"] = message
        self.fields["email"].error_messages["invalid"] = _(
            "Cette adresse e-mail n'est pas valide. Exemple : prenom.nom@exemple.fr"
        )
        allowed = set(certifications)
        choices = [(value, label) for value, label in Certification.choices if value in allowed]
        self.fields["certification"].choices = choices if len(choices) == 1 else [("", "---------"), *choices]
        self.fields["certification"].error_messages.update(
            required=_("Choisissez la certification."),
            invalid_choice=_("Ce site ne propose pas cette certification."),
        )

    def visible_fields(self) -> list[forms.BoundField]:
        return [field for field in super().visible_fields() if field.name != "website"]

    @property
    def is_robot(self) -> bool:
        return bool(self.data.get("website"))

    def preferred_text(self) -> str:
        labels = dict(PREFERRED_TIME_CHOICES)
        chosen = [str(labels[value]) for value in self.cleaned_data["preferred"]]
        typed = self.cleaned_data["preferred_times"].strip()
        return " ; ".join([*chosen, typed] if typed else chosen)


class AnswerForm(forms.Form):
    message = forms.CharField(
        label=_("Votre message (facultatif)"),
        max_length=500,
        required=False,
        help_text=_("Pour demander un autre horaire : dites quand vous êtes disponible."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ProposalForm(forms.Form):
    with_membership = PersonChoiceField(label=_("Avec"), queryset=Membership.objects.none())
    day = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    time = forms.TimeField(label=_("Heure de début"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    duration_minutes = forms.IntegerField(
        label=_("Durée (minutes)"), min_value=MIN_DURATION_MINUTES, max_value=MAX_DURATION_MINUTES, initial=60
    )
    place = forms.CharField(
        label=_("Lieu"),
        max_length=500,
        help_text=_("L'adresse du site, ou le lien de visioconférence."),
    )

    def __init__(self, *args: Any, people: list[Membership], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["with_membership"].queryset = Membership.objects.filter(
            pk__in=[m.pk for m in people]
        ).select_related("user", "organisation")

    def starts_at(self) -> datetime.datetime:
        return timezone.make_aware(datetime.datetime.combine(self.cleaned_data["day"], self.cleaned_data["time"]))
