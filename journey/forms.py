from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from juries.forms import DateInput


class ExportFormat:
    CSV = "csv"
    XLSX = "xlsx"
    CHOICES = [(CSV, _("CSV (séparateur point-virgule)")), (XLSX, _("Excel (XLSX)"))]


def previous_month(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The calendar month before `today`'s, first and last day."""
    end = today.replace(day=1) - datetime.timedelta(days=1)
    return end.replace(day=1), end


class ExportForm(forms.Form):
    """The period of Certif'Pro's export, offered as the previous calendar month: juries sit about monthly, so a
    closed month's certificates are all there, and exporting month by month stays well inside the 3 months the
    Caisse des Dépôts allows for reporting them. One click exports it; any other period can be typed."""

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

    def __init__(self, *args: Any, today: datetime.date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        start, end = previous_month(today or timezone.localdate())
        self.fields["start"].initial, self.fields["end"].initial = start, end

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", _("La fin de la période précède son début."))
        cleaned["format"] = cleaned.get("format") or ExportFormat.CSV
        return cleaned
