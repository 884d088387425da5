from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from organisations.models import Membership, Site
from scheduling.models import (
    MAX_DURATION_MINUTES,
    MIN_DURATION_MINUTES,
    AppointmentModality,
    AppointmentPurpose,
    AssignmentPurpose,
)


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Membership) -> str:  # type: ignore[override]
        return f"{obj.user.get_full_name()} – {obj.get_role_display()} ({obj.organisation.name})"


class AssignmentForm(forms.Form):
    purpose = forms.ChoiceField(label=_("Étape"), choices=AssignmentPurpose.choices)
    assignee = PersonChoiceField(label=_("Confiée à"), queryset=Membership.objects.none())
    reason = forms.CharField(
        label=_("Motif du changement"),
        required=False,
        max_length=255,
        help_text=_("Si l'étape était déjà confiée à une autre personne."),
    )

    def __init__(self, *args: Any, people: list[Membership], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = Membership.objects.filter(pk__in=[m.pk for m in people]).select_related(
            "user", "organisation"
        )


class AppointmentForm(forms.Form):
    purpose = forms.ChoiceField(label=_("Objet"), choices=AppointmentPurpose.choices)
    with_membership = PersonChoiceField(label=_("Avec"), queryset=Membership.objects.none())
    day = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    time = forms.TimeField(label=_("Heure de début"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    duration_minutes = forms.IntegerField(
        label=_("Durée (minutes)"), min_value=MIN_DURATION_MINUTES, max_value=MAX_DURATION_MINUTES, initial=60
    )
    modality = forms.ChoiceField(
        label=_("Modalité"),
        choices=AppointmentModality.choices,
        widget=forms.RadioSelect,
        initial=AppointmentModality.SITE,
    )
    site = forms.ModelChoiceField(label=_("Site"), queryset=Site.objects.none(), required=False)
    remote_details = forms.CharField(
        label=_("Modalités à distance"),
        max_length=255,
        required=False,
        help_text=_("Lien de visioconférence ou numéro à appeler."),
    )

    def __init__(
        self, *args: Any, people: list[Membership], sites: Any, fixed_purpose: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["with_membership"].queryset = Membership.objects.filter(
            pk__in=[m.pk for m in people]
        ).select_related("user", "organisation")
        self.fields["site"].queryset = sites
        if fixed_purpose:
            del self.fields["purpose"]

    def starts_at(self) -> datetime.datetime:
        """The date and time typed, in Europe/Paris (the platform's time zone)."""
        return timezone.make_aware(datetime.datetime.combine(self.cleaned_data["day"], self.cleaned_data["time"]))


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Motif de l'annulation"), widget=forms.Textarea(attrs={"rows": 3}))
