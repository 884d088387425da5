from django import forms
from django.utils.translation import gettext_lazy as _

from credentials.verify import MAX_CREDENTIAL_BYTES


class CredentialUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Fichier du certificat numérique (.jwt ou .json)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".jwt,.json,application/jwt,application/json"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_CREDENTIAL_BYTES:
            raise forms.ValidationError(
                _("Ce fichier est trop gros pour être un certificat numérique (64 Ko au plus)."), code="too_big"
            )
        return upload
