from django import forms
from django.utils.translation import gettext_lazy as _

from notifications.models import EmailMode


class PreferenceForm(forms.Form):
    email_mode = forms.ChoiceField(
        label=_("Recevoir les notifications par courriel"),
        choices=EmailMode.choices,
        widget=forms.RadioSelect,
        help_text=_("Toutes restent dans le centre de notifications, quel que soit votre choix."),
    )
