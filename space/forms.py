from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from candidates.forms import DateInput


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
        help_text=_("Exemple : 12/04/1985."),
        error_messages={
            "required": _("Écrivez votre date de naissance."),
            "invalid": _("Cette date n'est pas valide. Exemple : 12/04/1985."),
        },
        widget=DateInput(attrs={"autocomplete": "bday"}),
    )
