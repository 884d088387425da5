"""The dashboard's filters. Each choice list is the scope's own: a region or an organisation outside it is not a
valid choice, so the form refuses it (and the figures stay those of the scope)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from candidates.models import EducationLevel, RegistrationStatus
from clea_platform.certifications import Certification
from funding.models import FunderKind
from indicators.models import AgeBand
from indicators.selectors import NATION, ORGANISATION, Filters, Scope, organisations_in, regions_in

ALL = [("", _("Toutes"))]
ALL_M = [("", _("Tous"))]


class ManyOptionsSelect(forms.Select):
    """A select whose options are written here rather than by one template include each: the nation's 300
    organisations cost 300 includes, a third of the dashboard's rendering time at national scale."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        chosen = "" if value is None else str(value)
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((v, mark_safe(" selected") if str(v) == chosen else "", label) for v, label in self.choices),
        )
        return format_html(
            "<select{}>{}</select>", flatatt(self.build_attrs(self.attrs, {**(attrs or {}), "name": name})), options
        )


class MonthInput(forms.DateInput):
    input_type = "month"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m")


class MonthField(forms.DateField):
    """A month as the browser's month picker sends it (AAAA-MM), or typed without one."""

    widget = MonthInput
    input_formats = ["%Y-%m", "%m/%Y"]


class FiltersForm(forms.Form):
    start = MonthField(
        label=_("Ouverts à partir de (mois)"), required=False, error_messages={"invalid": _("Mois invalide (AAAA-MM).")}
    )
    end = MonthField(
        label=_("Ouverts jusqu'à (mois)"), required=False, error_messages={"invalid": _("Mois invalide (AAAA-MM).")}
    )
    region = forms.ChoiceField(label=_("Région"), required=False)
    departement = forms.RegexField(
        label=_("Département"),
        regex=r"^(\d{2}|2A|2B|97\d)$",
        required=False,
        max_length=3,
        error_messages={"invalid": _("Un code de département : 2 chiffres, 2A, 2B ou 3 chiffres outre-mer.")},
    )
    organisation = forms.TypedChoiceField(
        label=_("Organisme évaluateur"), required=False, coerce=int, empty_value=None, widget=ManyOptionsSelect
    )
    certification = forms.ChoiceField(label=_("Certification"), required=False, choices=ALL + Certification.choices)
    funder_kind = forms.ChoiceField(label=_("Financeur"), required=False, choices=ALL_M + FunderKind.choices)
    registration_status = forms.ChoiceField(
        label=_("Statut de la personne"), required=False, choices=ALL_M + RegistrationStatus.choices
    )
    education_level = forms.ChoiceField(
        label=_("Niveau de formation"), required=False, choices=ALL_M + EducationLevel.choices
    )
    age_band = forms.ChoiceField(label=_("Âge à l'ouverture"), required=False, choices=ALL_M + AgeBand.choices)

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scope = scope
        if scope.level == NATION:
            self.fields["region"].choices = ALL + regions_in(scope)
        else:
            del self.fields["region"]
        if scope.level == ORGANISATION:
            del self.fields["organisation"]
        else:
            self.fields["organisation"].choices = ALL_M + [(o.pk, o.name) for o in organisations_in(scope)]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", _("Le mois de fin précède le mois de début."))
        return data

    def filters(self) -> Filters:
        """The valid filters only: an invalid one is dropped, never read."""
        data = self.cleaned_data if self.is_bound else {}
        return Filters(
            start=data.get("start"),
            end=data.get("end"),
            region=data.get("region") or "",
            departement=data.get("departement") or "",
            organisation_id=data.get("organisation"),
            certification=data.get("certification") or "",
            funder_kind=data.get("funder_kind") or "",
            registration_status=data.get("registration_status") or "",
            education_level=data.get("education_level") or "",
            age_band=data.get("age_band") or "",
        )
