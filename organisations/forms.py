from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from clea_platform.certifications import Certification
from clea_platform.mail import email_send_task
from clea_platform.tasks_queue import enqueue
from organisations.models import (
    ApiTokenScope,
    ApplicationKind,
    ApplicationState,
    Habilitation,
    HabilitationApplication,
    HabilitationStatus,
    Site,
)


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Adresse e-mail"), widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})
    )

    error_messages = {
        "invalid_login": _("Adresse e-mail ou mot de passe incorrect."),
        "inactive": _("Ce compte est désactivé."),
    }

    def get_invalid_login_error(self) -> forms.ValidationError:
        # The thresholds are settings (LOGIN_FAILURE_LIMITS, AXES_COOLOFF_TIME): the message says the ones in force.
        failures = settings.LOGIN_FAILURE_LIMITS["username"]
        minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
        warning = ngettext(
            "Après %(failures)d échec, le compte est bloqué %(minutes)d minutes.",
            "Après %(failures)d échecs, le compte est bloqué %(minutes)d minutes.",
            failures,
        ) % {"failures": failures, "minutes": minutes}
        return forms.ValidationError(f"{self.error_messages['invalid_login']} {warning}", code="invalid_login")


class QueuedPasswordResetForm(PasswordResetForm):
    """Send the reset e-mail from a worker, so that the page answers at once and SMTP hiccups are retried."""

    # Django's French says "Courriel"; the platform's one term for an address is "adresse e-mail" (README).
    email = forms.EmailField(
        label=_("Adresse e-mail"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )

    def send_mail(
        self, subject_template_name, email_template_name, context, from_email, to_email, html_email_template_name=None
    ) -> None:
        from django.template import loader

        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        # The page says "sent" whatever the address (no account enumeration); with the broker down the
        # e-mail is logged as not queued rather than failing the page, and the user may ask again.
        enqueue(email_send_task, subject=subject, body=body, to=[to_email])


class SiteForm(forms.ModelForm):
    """A site's details, and the availability its organisation declares in the evaluator directory."""

    class Meta:
        model = Site
        fields = [
            "name",
            "address",
            "postcode",
            "city",
            "insee_code",
            "latitude",
            "longitude",
            "wheelchair_accessible",
            "accessibility_notes",
            "remote_evaluation",
            "contact_name",
            "contact_email",
            "contact_phone",
            "next_slot_on",
            "typical_wait_days",
            "is_active",
        ]
        widgets = {"next_slot_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
        help_texts = {
            "typical_wait_days": _(
                "Nombre de jours habituel entre la prise de contact et l'évaluation préalable. "
                "Ces disponibilités sont affichées dans l'annuaire public : tenez-les à jour."
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Computed from the bookings (scheduling/availability.py): nothing to declare by hand.
        if self.instance.pk and self.instance.organisation.uses_platform_agenda:
            for name in Site.AVAILABILITY_FIELDS:
                del self.fields[name]

    def changes(self) -> dict[str, object]:
        """The changed fields' new values; a change of availability also dates it (shown in the directory)."""
        changes = {name: self.cleaned_data[name] for name in self.changed_data}
        if any(name in changes for name in Site.AVAILABILITY_FIELDS):
            changes["availability_updated_at"] = timezone.now()
        return changes


class ApiTokenForm(forms.Form):
    """A personal API token: a name, the membership it acts under, and a lifetime of at most one year."""

    LIFETIMES = [(30, _("30 jours")), (90, _("90 jours")), (180, _("6 mois")), (365, _("1 an"))]

    name = forms.CharField(label=_("Nom du jeton"), max_length=100, help_text=_("Par exemple : logiciel régional"))
    membership = forms.ModelChoiceField(
        label=_("Agit au nom de"),
        queryset=None,
        empty_label=None,
        help_text=_("L'organisation et le rôle sous lesquels le jeton agit"),
    )
    lifetime = forms.TypedChoiceField(label=_("Durée de validité"), choices=LIFETIMES, coerce=int, initial=90)
    scope = forms.ChoiceField(
        label=_("Droits du jeton"),
        choices=ApiTokenScope.choices,
        initial=ApiTokenScope.READ_ONLY,
        widget=forms.RadioSelect,
        help_text=_("Un jeton en lecture seule consulte les données mais ne peut rien créer ni modifier."),
    )

    def __init__(self, *args: object, memberships: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["membership"].queryset = memberships


class TotpCodeForm(forms.Form):
    """The 6 digits an authenticator app shows."""

    code = forms.CharField(
        label=_("Code à 6 chiffres"),
        max_length=12,
        help_text=_("Le code affiché par votre application d'authentification, sans espace."),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9 ]*",
                "autofocus": True,
                "spellcheck": "false",
                "size": 8,
            }
        ),
        error_messages={"required": _("Saisissez le code à 6 chiffres de votre application.")},
    )


class RecoveryCodeForm(forms.Form):
    """One of the recovery codes shown once at enrolment (8 letters and digits, used up once typed)."""

    recovery_code = forms.CharField(
        label=_("Code de secours"),
        max_length=20,
        help_text=_("L'un des 10 codes notés lors de l'activation, par exemple abcd-2345. Chacun ne sert qu'une fois."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "off", "spellcheck": "false", "size": 12}
        ),
        error_messages={"required": _("Saisissez l'un de vos codes de secours.")},
    )


class ReauthenticationForm(forms.Form):
    """The person's password, asked again before a change to how they sign in (new recovery codes, the second factor
    turned off: ASVS 5.0 7.5.1), so that a session left open on a shared PC cannot weaken the account. Checked
    through `authenticate`, hence axes: wrong passwords here count towards the account's lockout like at login."""

    password = forms.CharField(
        label=_("Votre mot de passe"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args: Any, request: HttpRequest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        user = self.request.user
        confirmed = authenticate(self.request, username=getattr(user, "email", ""), password=password)
        if confirmed is None or confirmed.pk != user.pk:
            raise forms.ValidationError(_("Mot de passe incorrect : rien n'a été modifié."), code="wrong_password")
        return password


# -- Habilitations -----------------------------------------------------------------------------------------------


class HabilitationApplicationForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Type de demande"), choices=ApplicationKind.choices, widget=forms.RadioSelect, initial="first"
    )
    certifications = forms.MultipleChoiceField(
        label=_("Certifications"), choices=Certification.choices, widget=forms.CheckboxSelectMultiple
    )
    sites = forms.ModelMultipleChoiceField(
        label=_("Sites où votre organisme évaluera"),
        queryset=Site.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Les sites actifs de votre organisme ; ajoutez un site avant de le choisir."),
    )
    requested_from = forms.DateField(
        label=_("Début souhaité"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Pour un renouvellement, la nouvelle période suit la précédente, sans interruption."),
    )
    requested_until = forms.DateField(
        label=_("Fin souhaitée"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    note = forms.CharField(
        label=_("Précisions pour Certif'Pro"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, sites: QuerySet[Site], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sites"].queryset = sites
        self.fields["sites"].label_from_instance = lambda site: f"{site.name} ({site.postcode} {site.city})"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("requested_from"), data.get("requested_until")
        if start and end and end < start:
            self.add_error("requested_until", _("La fin souhaitée précède le début."))
        return data


class HabilitationFilterForm(forms.Form):
    certification = forms.ChoiceField(
        label=_("Certification"), required=False, choices=[("", _("Toutes")), *Certification.choices]
    )
    status = forms.ChoiceField(
        label=_("Statut"), required=False, choices=[("", _("Tous")), *HabilitationStatus.choices]
    )
    expiring = forms.BooleanField(label=_("Prend fin dans les 3 mois, sans renouvellement"), required=False)

    def filter(self, rows: QuerySet[Habilitation]) -> QuerySet[Habilitation]:
        if not self.is_valid():
            return rows
        if self.cleaned_data["certification"]:
            rows = rows.filter(certification=self.cleaned_data["certification"])
        if self.cleaned_data["status"]:
            rows = rows.filter(status=self.cleaned_data["status"])
        if self.cleaned_data["expiring"]:
            rows = rows.expiring()  # type: ignore[attr-defined]
        return rows


class ApplicationFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("État"), required=False, choices=[("", _("Tous")), *ApplicationState.choices])
    certification = forms.ChoiceField(
        label=_("Certification"), required=False, choices=[("", _("Toutes")), *Certification.choices]
    )
    kind = forms.ChoiceField(label=_("Type"), required=False, choices=[("", _("Tous")), *ApplicationKind.choices])

    def filter(self, rows: QuerySet[HabilitationApplication]) -> QuerySet[HabilitationApplication]:
        if not self.is_valid():
            return rows
        if self.cleaned_data["state"]:
            rows = rows.filter(state=self.cleaned_data["state"])
        if self.cleaned_data["kind"]:
            rows = rows.filter(kind=self.cleaned_data["kind"])
        if code := self.cleaned_data["certification"]:
            # A JSON list of codes, matched as its text: SQLite has no JSON containment, and between its quotes
            # one code never matches another ("clea" is not "clea_numerique").
            rows = rows.annotate(certifications_text=Cast("certifications", TextField())).filter(
                certifications_text__contains=f'"{code}"'
            )
        return rows


class GrantForm(forms.Form):
    valid_from = forms.DateField(
        label=_("Valable du"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Pour un renouvellement, la période commence le lendemain de la fin de la précédente."),
    )
    valid_until = forms.DateField(
        label=_("Valable jusqu'au"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


class RenewForm(forms.Form):
    valid_until = forms.DateField(
        label=_("Nouvelle période jusqu'au"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Elle commence le lendemain de la fin de la période actuelle."),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Motif"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, required: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = required
