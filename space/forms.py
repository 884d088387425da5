from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

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
