from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from juries.forms import DateInput


class ExportFormat:
    CSV = "csv"
    XLSX = "xlsx"
    CHOICES = [(CSV, _("CSV (séparateur point-virgule)")), (XLSX, _("Excel (XLSX)"))]


class ExportForm(forms.Form):
    start = forms.DateField(
        label=_("Du"),
        widget=DateInput(),
        error_messages={"required": _("Indiquez le début de la période."), "invalid": _("Date invalide (AAAA-MM-JJ).")},
    )
    end = forms.DateField(
        label=_("Au"),
        widget=DateInput(),
        error_messages={"required": _("Indiquez la fin de la période."), "invalid": _("Date invalide (AAAA-MM-JJ).")},
    )
    format = forms.ChoiceField(
        label=_("Format"),
        choices=ExportFormat.CHOICES,
        initial=ExportFormat.CSV,
        required=False,
        widget=forms.RadioSelect,
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", _("La fin de la période précède son début."))
        cleaned["format"] = cleaned.get("format") or ExportFormat.CSV
        return cleaned
