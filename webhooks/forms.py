from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from webhooks.models import EventType, validate_webhook_url


class SubscriptionForm(forms.Form):
    name = forms.CharField(
        label=_("Nom"),
        max_length=100,
        help_text=_("Pour vous y retrouver : le logiciel qui reçoit les événements, par exemple."),
    )
    url = forms.URLField(
        label=_("Adresse de réception"),
        max_length=500,
        assume_scheme="https",
        validators=[validate_webhook_url],
        help_text=_(
            "Une adresse https:// joignable depuis Internet, qui répond par un code 2xx en moins de 10 secondes."
        ),
    )
    event_types = forms.MultipleChoiceField(
        label=_("Événements envoyés"),
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choisissez au moins un événement.")},
    )
