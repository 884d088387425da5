from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from clea_platform.certifications import Certification
from directory.models import Commune, CommuneLookup, SheetScope
from directory.selectors import DEFAULT_RADIUS_KM, RADII_KM

RADIUS_CHOICES = [(r, _("%(n)s km") % {"n": r}) for r in RADII_KM]
CERTIFICATION_CHOICES = [("", _("Toutes les certifications")), *Certification.choices]


class CommuneCombobox(forms.TextInput):
    """The commune input and the listbox under it that static/js/combobox.js fills from the suggestions URL as one
    types (WAI-ARIA APG combobox, list autocomplete). Without the script it stays a plain search input, which the
    search and the sheet form resolve on the server; the script gives it its combobox role, not the markup, so
    that nothing claims a popup that cannot open. The listbox is HTML, not a native datalist, so that its text
    follows the page's zoom."""

    input_type = "search"
    template_name = "directory/widgets/commune_combobox.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"autocomplete": "off", **(attrs or {})})

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"]["suggestions_url"] = reverse("directory:commune_suggestions")
        context["widget"]["listbox_label"] = _("Communes proposées")
        return context


class CommuneField(forms.CharField):
    """A text input completed from the commune table (the combobox above)."""

    widget = CommuneCombobox

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 100)
        kwargs.setdefault("label", _("Commune, code postal ou code INSEE"))
        kwargs.setdefault("help_text", _("Par exemple « Saint-Étienne », « 59000 » ou « 2A004 »."))
        super().__init__(**kwargs)


class DirectorySearchForm(forms.Form):
    """The directory's search (GET): a place, a radius the advisor can widen, and filters."""

    commune = CommuneField(required=False)
    radius = forms.TypedChoiceField(
        label=_("Dans un rayon de"), choices=RADIUS_CHOICES, coerce=int, required=False, empty_value=DEFAULT_RADIUS_KM
    )
    certification = forms.ChoiceField(label=_("Certification"), choices=CERTIFICATION_CHOICES, required=False)
    wheelchair = forms.BooleanField(label=_("Accessible en fauteuil roulant"), required=False)
    remote = forms.BooleanField(label=_("Évaluation à distance possible"), required=False)

    def lookup(self) -> CommuneLookup | None:
        """The commune searched for (or the candidates to choose from); None when nothing was typed."""
        if not self.is_valid() or not self.cleaned_data["commune"].strip():
            return None
        return Commune.objects.resolve(self.cleaned_data["commune"])

    def filters(self) -> dict[str, Any]:
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "radius_km": data.get("radius") or DEFAULT_RADIUS_KM,
            "certification": data.get("certification", ""),
            "wheelchair_accessible": bool(data.get("wheelchair")),
            "remote_evaluation": bool(data.get("remote")),
        }


def departement_choices() -> list[tuple[str, str]]:
    rows = Commune.objects.order_by("departement").values_list("departement", "departement_name").distinct()
    return [("", "---------"), *((code, f"{code} – {name}") for code, name in rows)]


class SheetRequestForm(forms.Form):
    """Which territory the printable sheet covers: a département, or a radius around a commune."""

    scope = forms.ChoiceField(
        label=_("Territoire"), choices=SheetScope.choices, widget=forms.RadioSelect, initial=SheetScope.DEPARTEMENT
    )
    departement = forms.ChoiceField(label=_("Département"), required=False)
    commune = CommuneField(required=False, label=_("Commune (pour un rayon)"))
    radius = forms.TypedChoiceField(
        label=_("Rayon"), choices=RADIUS_CHOICES, coerce=int, required=False, empty_value=DEFAULT_RADIUS_KM
    )
    certification = forms.ChoiceField(label=_("Certification"), choices=CERTIFICATION_CHOICES, required=False)
    wheelchair = forms.BooleanField(label=_("Seulement les sites accessibles en fauteuil roulant"), required=False)
    remote = forms.BooleanField(label=_("Seulement les sites qui évaluent à distance"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["departement"].choices = departement_choices()
        self.commune_choices: list[Commune] = []

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        scope = data.get("scope")
        data["commune_obj"] = None
        if scope == SheetScope.DEPARTEMENT and not data.get("departement"):
            self.add_error("departement", _("Choisissez un département."))
        if scope == SheetScope.RADIUS:
            text = (data.get("commune") or "").strip()
            if not text:
                self.add_error("commune", _("Indiquez la commune autour de laquelle chercher."))
            else:
                lookup = Commune.objects.resolve(text)
                if lookup.commune is None:
                    self.commune_choices = lookup.candidates
                    if lookup.candidates:
                        message = _("Précisez la commune parmi les propositions.")
                    elif lookup.suggestions:
                        message = _("Aucune commune ne correspond à « %(text)s ». Vouliez-vous dire : %(names)s ?") % {
                            "text": text,
                            "names": ", ".join(c.label for c in lookup.suggestions),
                        }
                    else:
                        message = _("Aucune commune ne correspond à « %(text)s ».") % {"text": text}
                    self.add_error("commune", message)
                data["commune_obj"] = lookup.commune
        return data
