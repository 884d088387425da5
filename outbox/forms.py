from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from outbox import registry
from outbox.models import SideEffectQuerySet, SideEffectState

# The list's default: what needs an operator (failed, or pending for too long), not every row of the last 90 days.
ATTENTION = ""
ALL = "all"


class SideEffectFilterForm(forms.Form):
    """The operators' filters, read from the query string. An invalid value filters nothing and says why."""

    state = forms.ChoiceField(
        label=_("État"),
        required=False,
        choices=[
            (ATTENTION, _("À traiter : en échec ou en retard")),
            (SideEffectState.FAILED, _("En échec")),
            (SideEffectState.PENDING, _("En attente")),
            (SideEffectState.DONE, _("Fait")),
            (ALL, _("Tous")),
        ],
    )
    kind = forms.ChoiceField(label=_("Nature"), required=False)
    organisation = forms.CharField(label=_("Organisme (nom ou SIRET)"), required=False, max_length=200)

    def __init__(self, *args: Any, with_organisation: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The apps register their kinds in ready(): read them now, not at import.
        self.fields["kind"].choices = [("", _("Toutes")), *((kind.name, kind.label) for kind in registry.kinds())]
        if not with_organisation:
            del self.fields["organisation"]

    def _valid_data(self) -> dict[str, Any]:
        # The fields that validated: a bad value in one leaves the others working.
        self.is_valid()
        return self.cleaned_data

    @property
    def narrowed(self) -> bool:
        """Filtered by something other than the state: an empty list then says so."""
        data = self._valid_data()
        return bool(data.get("kind") or (data.get("organisation") or "").strip())

    @property
    def chosen_state(self) -> str:
        return self._valid_data().get("state") or ATTENTION

    def filter(self, side_effects: SideEffectQuerySet) -> SideEffectQuerySet:
        data = self._valid_data()
        state = self.chosen_state
        if state == ATTENTION:
            side_effects = side_effects.needs_attention()
        elif state != ALL:
            side_effects = side_effects.filter(state=state)
        if data.get("kind"):
            side_effects = side_effects.filter(kind=data["kind"])
        text = (data.get("organisation") or "").strip()
        if text:
            siret = text.replace(" ", "")
            side_effects = side_effects.filter(Q(organisation__name__icontains=text) | Q(organisation__siret=siret))
        return side_effects
