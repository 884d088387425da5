from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from candidates.forms import CorrectionRequestForm
from candidates.models import Dossier

# A birth date as a person writes it in France: 12/04/1985, with slashes, dashes, dots or spaces, or no separator.
# A text field rather than the browser's date picker, which shows the device's format (mm/dd/yyyy on an English
# phone) and makes a birth date forty years back a long scroll.
BIRTH_DATE_FORMATS = ["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d %m %Y", "%d%m%Y", "%Y-%m-%d"]


class SignInRequestForm(forms.Form):
    """What the candidate gives to receive a link: the address their counsellor wrote down, and their birth date."""

    email = forms.EmailField(
        label=_("Mon adresse e-mail"),
        help_text=_("Celle que j'ai donnée pour mon dossier."),
        error_messages={
            "required": _("Écrivez votre adresse e-mail."),
            "invalid": _("Cette adresse e-mail n'est pas complète. Exemple : marie.dupont@exemple.fr"),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    birth_date = forms.DateField(
        label=_("Ma date de naissance"),
        help_text=_("Le jour, le mois, puis l'année. Exemple : 12/04/1985."),
        error_messages={
            "required": _("Écrivez votre date de naissance."),
            "invalid": _("Cette date n'est pas valide. Exemple : 12/04/1985."),
        },
        input_formats=BIRTH_DATE_FORMATS,
        widget=forms.TextInput(attrs={"autocomplete": "bday", "spellcheck": "false"}),
    )


class MyCorrectionForm(CorrectionRequestForm):
    """The correction request as the person writes it, in the first person like the rest of their space. A person
    followed by two organisations (one record each) says which one holds the wrong data."""

    def __init__(self, *args: Any, dossiers: Sequence[Dossier], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        message = self.fields["message"]
        message.label = _("Ce qui est faux dans mes données")
        message.help_text = _("Je dis ce qui est faux et ce qui est juste. Exemple : mon nom s'écrit avec un « é ».")
        message.error_messages["required"] = _("Écrivez ce qui est faux dans vos données.")
        self.dossiers = {str(dossier.pk): dossier for dossier in dossiers}
        if len(self.dossiers) > 1:
            self.fields["dossier"] = forms.ChoiceField(
                label=_("Mon dossier"),
                choices=[
                    (pk, f"{dossier.get_certification_display()}, {dossier.organisation.name}")
                    for pk, dossier in self.dossiers.items()
                ],
                error_messages={"required": _("Choisissez le dossier."), "invalid_choice": _("Choisissez le dossier.")},
            )
            self.order_fields(["dossier", "message"])

    @property
    def dossier(self) -> Dossier:
        """The dossier the request is about (the person's only one, or the one chosen); after is_valid()."""
        if len(self.dossiers) == 1:
            return next(iter(self.dossiers.values()))
        return self.dossiers[self.cleaned_data["dossier"]]


class MoveForm(forms.Form):
    """The person confirms the move of their dossier to another organisation: they agree, and may say why."""

    agree = forms.BooleanField(
        label=_("J'ai lu ce texte et je suis d'accord"),
        error_messages={"required": _("Cochez la case pour dire que vous êtes d'accord.")},
    )
    reason = forms.CharField(
        label=_("Pourquoi je change (si je veux)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Exemple : je déménage. L'ancien et le nouvel organisme le liront."),
    )
