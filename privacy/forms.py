from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from candidates.forms import DateInput
from privacy.selectors import PersonRecords, record_label, record_token
from privacy.services import REASON_MAX_LENGTH


class PersonSearchForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Nom et prénom"),
        max_length=300,
        help_text=gettext_lazy("Nom d'usage ou de naissance et prénom ; accents et majuscules sont ignorés."),
        error_messages={"required": gettext_lazy("Indiquez le nom de la personne.")},
    )
    birth_date = forms.DateField(
        label=gettext_lazy("Date de naissance"),
        widget=DateInput(),
        help_text=gettext_lazy("Celle que la personne indique dans sa demande."),
        error_messages={
            "required": gettext_lazy("Indiquez la date de naissance de la personne."),
            "invalid": gettext_lazy("Indiquez une date valide, par exemple 12/04/1985."),
        },
    )


class RecordsForm(forms.Form):
    """Which of the records found are the person's: all are ticked; Certif'Pro unticks a homonym's."""

    records = forms.MultipleChoiceField(
        label=gettext_lazy("Fiches de la personne"),
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy(
            "Décochez une fiche qui serait celle d'une autre personne (même nom, même date de naissance)."
        ),
        error_messages={"required": gettext_lazy("Cochez au moins une fiche de la personne.")},
    )

    def __init__(self, *args: Any, person: PersonRecords, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"records": [record_token(record) for record in person.records]})
        super().__init__(*args, **kwargs)
        self.person = person
        self.fields["records"].choices = [(record_token(record), record_label(record)) for record in person.records]

    def chosen(self) -> PersonRecords:
        return self.person.only(self.cleaned_data["records"])


class ErasureForm(RecordsForm):
    reason = forms.CharField(
        label=gettext_lazy("Motif"),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "La demande de la personne : sa date et comment elle est parvenue. N'y écrivez pas son nom : le motif "
            "est conservé au journal d'audit, qui survit à l'effacement."
        ),
        error_messages={"required": gettext_lazy("Indiquez le motif de l'effacement.")},
    )
