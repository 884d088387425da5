from __future__ import annotations

import base64
import datetime
import re
from decimal import Decimal
from typing import Any

from django import forms
from django.core import signing
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from candidates.models import BIRTH_COUNTRY_CODE_RE, Sex
from directory.forms import CommuneField
from funding.cdc import REPORT_MAX_BYTES, XML_FORBIDDEN
from funding.models import (
    Funder,
    FundingLine,
    FundingStep,
    LineState,
    add_months,
    previous_quarter,
    quarter_bounds,
)
from funding.money import DEFAULT_VAT_RATE, MAX_CENTS, format_euros, parse_euros
from funding.payment_files import MAX_BYTES as PAYMENT_FILE_MAX_BYTES
from funding.services import PaymentInput
from organisations.api_fields import MAX_ID
from organisations.models import Organisation, OrganisationKind


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class EurosField(forms.Field):
    """An amount typed in euros ("1 234,50", "1234.5", "1234 €"), cleaned to integer cents."""

    default_error_messages = {"invalid": _("Saisissez un montant en euros, par exemple 1 234,50.")}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "maxlength": 20})
        )
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, int):
            return format_euros(value).removesuffix("\u00a0€")
        return value

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values or not str(value).strip():
            return None
        try:
            cents = parse_euros(str(value)[:40])
        except ValueError as exc:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from exc
        if cents <= 0:
            raise forms.ValidationError(_("Le montant doit être positif."), code="min_value")
        if cents > MAX_CENTS:
            raise forms.ValidationError(
                _("Le montant dépasse %(max)s.") % {"max": format_euros(MAX_CENTS)}, code="max_value"
            )
        return cents


class CentsField(forms.IntegerField):
    """An amount in integer cents, as the API takes it, within the bounds of EurosField."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=MAX_CENTS, **kwargs)


def vat_rate_field() -> forms.DecimalField:
    return forms.DecimalField(
        label=_("Taux de TVA (%)"),
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        max_digits=5,
        decimal_places=2,
        initial=DEFAULT_VAT_RATE,
        localize=True,
        help_text=_("20 % par défaut ; 0 si l'organisme est exonéré de TVA pour cette prestation."),
    )


class FundingLineForm(forms.Form):
    step = forms.ChoiceField(label=_("Étape financée"), choices=FundingStep.choices)
    funder = forms.ModelChoiceField(label=_("Financeur"), queryset=Funder.objects.none(), empty_label=_("Choisir…"))
    requested_cents = EurosField(
        label=_("Montant demandé HT (€)"), help_text=_("En euros hors taxes, par exemple 450 ou 1 234,50.")
    )
    vat_rate = vat_rate_field()
    hours = forms.DecimalField(
        label=_("Heures"),
        required=False,
        min_value=Decimal("0"),
        max_value=Decimal("2000"),
        decimal_places=1,
        localize=True,
    )
    funder_reference = forms.CharField(
        label=_("Référence du financeur"),
        max_length=60,
        required=False,
        help_text=_("N° de dossier CPF, convention France Travail, accord OPCO… Obligatoire à l'accord."),
    )
    note = forms.CharField(label=_("Commentaire"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["funder"].queryset = Funder.objects.active()

    @classmethod
    def initial_for(cls, line: FundingLine) -> dict[str, Any]:
        return {name: getattr(line, name) for name in cls.base_fields}


class GrantForm(forms.Form):
    granted_cents = EurosField(label=_("Montant accordé HT (€)"))
    funder_reference = forms.CharField(label=_("Référence du financeur"), max_length=60)
    granted_on = forms.DateField(label=_("Accordé le"), widget=DateInput())
    override_reason = forms.CharField(
        label=_("Motif de la dérogation"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Seulement pour un montant accordé supérieur au montant demandé, ou un accord daté du futur. "
            "Il figure dans l'historique de la ligne."
        ),
    )

    def __init__(self, *args: Any, line: FundingLine, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "granted_cents": line.requested_cents,
                "funder_reference": line.funder_reference,
                "granted_on": timezone.localdate(),
            },
        )
        super().__init__(*args, **kwargs)
        self.line = line
        self.fields["funder_reference"].help_text = line.funder.reference_label

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        departures = self.line.grant_departures(
            granted_cents=cleaned.get("granted_cents"),
            granted_on=cleaned.get("granted_on"),
            today=timezone.localdate(),
        )
        if departures and not (cleaned.get("override_reason") or "").strip():
            for name, message in departures.items():
                self.add_error(name, message)
            self.add_error("override_reason", _("Indiquez le motif de la dérogation."))
        return cleaned

    @property
    def override_shown(self) -> bool:
        """Whether the page shows the reason's field without waiting for the script: when the grant as typed
        departs from the request, or a reason was typed (never lost)."""
        if not self.is_bound:
            return False
        return bool(self.data.get(self.add_prefix("override_reason"), "").strip()) or "override_reason" in self.errors


class InvoiceForm(forms.Form):
    invoiced_cents = EurosField(label=_("Montant facturé HT (€)"))
    invoiced_on = forms.DateField(label=_("Facturé le"), widget=DateInput())

    def __init__(self, *args: Any, line: FundingLine, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"invoiced_cents": line.granted_cents, "invoiced_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        self.fields["invoiced_cents"].help_text = _("Au plus le montant accordé : %(amount)s HT.") % {
            "amount": format_euros(line.granted_cents)
        }


class ReasonForm(forms.Form):
    note = forms.CharField(label=_("Motif"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, line: FundingLine, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)


class ConfirmForm(forms.Form):
    note = forms.CharField(label=_("Commentaire"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, line: FundingLine, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)


TRANSITION_FORMS: dict[str, type[forms.Form]] = {
    "request": ConfirmForm,
    "grant": GrantForm,
    "refuse": ReasonForm,
    "invoice": InvoiceForm,
    "cancel": ReasonForm,
    "write_off": ReasonForm,
}


# The same forms for the API, whose amounts are integer cents rather than euros as typed.


class FundingLineCentsForm(FundingLineForm):
    requested_cents = CentsField(label=_("Montant demandé HT (centimes)"))


class GrantCentsForm(GrantForm):
    granted_cents = CentsField(label=_("Montant accordé HT (centimes)"))


class InvoiceCentsForm(InvoiceForm):
    invoiced_cents = CentsField(label=_("Montant facturé HT (centimes)"))


TRANSITION_CENTS_FORMS: dict[str, type[forms.Form]] = {
    **TRANSITION_FORMS,
    "grant": GrantCentsForm,
    "invoice": InvoiceCentsForm,
}


class ProofForm(forms.Form):
    label = forms.CharField(label=_("Intitulé du justificatif"), max_length=200)
    file = forms.FileField(
        label=_("Fichier"),
        help_text=_("PDF, PNG ou JPEG, 5 Mo au plus."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}),
    )


def previous_month() -> tuple[datetime.date, datetime.date]:
    first_of_month = timezone.localdate().replace(day=1)
    return add_months(first_of_month, -1), first_of_month - datetime.timedelta(days=1)


class BatchRequestForm(forms.Form):
    funder = forms.ModelChoiceField(
        label=_("Financeur"),
        queryset=Funder.objects.none(),
        required=False,
        empty_label=_("Tous les financeurs ayant des lignes à réclamer"),
        help_text=_("Un lot par financeur."),
    )
    period_start = forms.DateField(label=_("Étapes réalisées du"), widget=DateInput())
    period_end = forms.DateField(label=_("au"), widget=DateInput())

    def __init__(self, *args: Any, funders: Any, **kwargs: Any) -> None:
        start, _end = previous_month()
        kwargs.setdefault("initial", {"period_start": start, "period_end": timezone.localdate()})
        super().__init__(*args, **kwargs)
        self.fields["funder"].queryset = funders

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        start, end = cleaned.get("period_start"), cleaned.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("La fin de la période précède son début."))
        return cleaned


class PaymentForm(forms.Form):
    received_on = forms.DateField(label=_("Reçu le"), widget=DateInput())
    reference = forms.CharField(label=_("Référence du virement"), max_length=100)
    lines = forms.CharField(
        label=_("Lignes du paiement"),
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        help_text=_(
            "Une ligne par dossier payé, telle que l'avis de paiement la donne : la référence du financeur, "
            "un point-virgule, puis le montant payé TTC en euros. Exemple : FT-2026-0042 ; 540,00"
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"received_on": timezone.localdate()})
        super().__init__(*args, **kwargs)

    def clean_lines(self) -> list[PaymentInput]:
        parsed, errors = [], []
        for number, raw in enumerate(self.cleaned_data["lines"].splitlines(), start=1):
            if not raw.strip():
                continue
            parts = [part.strip() for part in raw.replace("\t", ";").split(";")]
            try:
                if len(parts) != 2 or not parts[0]:
                    raise ValueError(raw)
                cents = parse_euros(parts[1])
                if cents <= 0:
                    raise ValueError(raw)
            except ValueError:
                errors.append(
                    _("Ligne %(n)s : « référence ; montant » attendu, par exemple FT-2026-0042 ; 540,00.")
                    % {"n": number}
                )
                continue
            parsed.append(PaymentInput(parts[0], cents))
        if errors:
            raise forms.ValidationError(errors)
        if not parsed:
            raise forms.ValidationError(_("Indiquez au moins une ligne de paiement."))
        return parsed


# An import's preview stays valid an hour: long enough to read it, short enough not to confirm a forgotten tab.
PAYMENT_FILE_MAX_AGE = 3600


class PaymentFileForm(forms.Form):
    file = forms.FileField(
        label=_("Fichier de paiement du financeur (CSV)"),
        help_text=_("CSV séparé par des points-virgules ou des virgules, en UTF-8, 1 Mo au plus."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size is not None and upload.size > PAYMENT_FILE_MAX_BYTES:
            raise forms.ValidationError(_("Le fichier dépasse 1 Mo : découpez-le par virement."))
        return upload.read()


class PaymentFileConfirmForm(forms.Form):
    """The previewed file, carried signed by the preview page: confirming records exactly what was shown."""

    token = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, batch_pk: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.salt = f"funding.payment_import:{batch_pk}"

    @classmethod
    def sign(cls, content: bytes, *, batch_pk: int) -> str:
        encoded = base64.b64encode(content).decode()
        return signing.dumps(encoded, salt=f"funding.payment_import:{batch_pk}", compress=True)

    def clean_token(self) -> bytes:
        try:
            encoded = signing.loads(self.cleaned_data["token"], salt=self.salt, max_age=PAYMENT_FILE_MAX_AGE)
        except signing.BadSignature as exc:
            raise forms.ValidationError(_("L'aperçu a expiré : déposez le fichier à nouveau.")) from exc
        return base64.b64decode(encoded)


def finished_quarters(count: int = 8) -> list[tuple[str, str]]:
    start = timezone.localdate()
    choices = []
    for _index in range(count):
        year, quarter = previous_quarter(start)
        start, end = quarter_bounds(year, quarter)
        label = _("T%(q)s %(y)s (du %(start)s au %(end)s)") % {
            "q": quarter,
            "y": year,
            "start": f"{start:%d/%m/%Y}",
            "end": f"{end:%d/%m/%Y}",
        }
        choices.append((f"{year}-{quarter}", label))
    return choices


class QuarterForm(forms.Form):
    quarter = forms.ChoiceField(label=_("Trimestre"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["quarter"].choices = finished_quarters()

    def clean_quarter(self) -> tuple[int, int]:
        year, quarter = self.cleaned_data["quarter"].split("-")
        return int(year), int(quarter)


class LineFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("Statut"), required=False, choices=[("", _("Tous"))] + LineState.choices)
    funder = forms.ModelChoiceField(
        label=_("Financeur"), queryset=Funder.objects.all(), required=False, empty_label=_("Tous")
    )

    def filter(self, lines: Any) -> Any:
        if not self.is_valid():
            return lines
        if self.cleaned_data.get("state"):
            lines = lines.filter(state=self.cleaned_data["state"])
        if self.cleaned_data.get("funder"):
            lines = lines.filter(funder=self.cleaned_data["funder"])
        return lines


class LineListFilterForm(LineFilterForm):
    """The screen's filters (state, funder), and the dossier (the API's list)."""

    dossier = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)

    def filter(self, lines: Any) -> Any:
        lines = super().filter(lines)
        if self.is_valid() and self.cleaned_data.get("dossier"):
            lines = lines.filter(dossier_id=self.cleaned_data["dossier"])
        return lines


class FeeFilterForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("Organisme"),
        queryset=Organisation.objects.filter(kind=OrganisationKind.EVALUATOR),
        required=False,
        empty_label=_("Tous"),
    )
    start = forms.DateField(label=_("Du"), required=False, widget=DateInput())
    end = forms.DateField(label=_("Au"), required=False, widget=DateInput())

    def filter(self, entries: Any) -> Any:
        if not self.is_valid():
            return entries
        data = self.cleaned_data
        if data.get("organisation"):
            entries = entries.filter(organisation=data["organisation"])
        if data.get("start"):
            entries = entries.filter(occurred_on__gte=data["start"])
        if data.get("end"):
            entries = entries.filter(occurred_on__lte=data["end"])
        return entries


class CdcReportForm(forms.Form):
    file = forms.FileField(
        label=_("Compte rendu de traitement de la Caisse des Dépôts (XML)"),
        help_text=_("Format provisoire décrit sur cette page ; 20 Mo au plus."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xml,application/xml,text/xml"}),
    )

    def clean_file(self) -> Any:
        # Before anything reads it: a file too large is refused on its announced size.
        upload = self.cleaned_data["file"]
        if upload.size is not None and upload.size > REPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("Le fichier dépasse 20 Mo : ce n'est pas un compte rendu de la Caisse des Dépôts.")
            )
        return upload


def refuse_xml_forbidden(value: str) -> None:
    """A control character (pasted from another document) cannot go into the flux: refused, said in French."""
    if XML_FORBIDDEN.search(value):
        raise forms.ValidationError(
            _("Ce champ contient un caractère invisible ou de contrôle ; saisissez-le à nouveau.")
        )


class CdcHolderForm(forms.Form):
    """The civil status the Caisse des Dépôts matches the holder on, completed or corrected by Certif'Pro. A birth
    in France is named by its commune (the directory's commune combobox, resolved to its INSEE code); a birth
    abroad by its country's INSEE code (99…) and name."""

    sex = forms.ChoiceField(
        label=_("Sexe (état civil)"),
        choices=Sex.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Indiquez le sexe inscrit à l'état civil.")},
    )
    birth_name = forms.CharField(
        label=_("Nom de naissance"),
        max_length=150,
        validators=[refuse_xml_forbidden],
        error_messages={"required": _("Indiquez le nom de naissance.")},
    )
    first_name = forms.CharField(
        label=_("Prénoms"),
        max_length=150,
        validators=[refuse_xml_forbidden],
        help_text=_(
            "Séparés par une espace, dans l'ordre de l'état civil ; un prénom composé garde son trait d'union."
        ),
        error_messages={"required": _("Indiquez le prénom.")},
    )
    birth_date = forms.DateField(
        label=_("Date de naissance"),
        widget=DateInput(),
        error_messages={
            "required": _("Indiquez la date de naissance."),
            "invalid": _("Saisissez une date valide, par exemple 12/04/1985."),
        },
    )
    born_abroad = forms.BooleanField(label=_("Naissance à l'étranger"), required=False)
    birth_commune = CommuneField(
        label=_("Commune de naissance (naissance en France)"),
        required=False,
        help_text=_("Nom, code postal ou code INSEE, par exemple « Lille (59) » ou « 59350 »."),
    )
    birth_country_code = forms.CharField(
        label=_("Code INSEE du pays de naissance (naissance à l'étranger)"),
        required=False,
        max_length=5,
        help_text=_("99 suivi de 3 chiffres, par exemple 99109 pour l'Allemagne, 99350 pour le Maroc."),
    )
    birth_country_place = forms.CharField(
        label=_("Lieu de naissance à l'étranger (ville, pays)"),
        required=False,
        max_length=150,
        validators=[refuse_xml_forbidden],
    )

    def __init__(self, *args: Any, candidate: Any, **kwargs: Any) -> None:
        abroad = candidate.born_abroad
        kwargs.setdefault(
            "initial",
            {
                "sex": candidate.sex,
                "birth_name": candidate.birth_name or candidate.last_name,
                "first_name": candidate.first_name,
                "birth_date": candidate.birth_date,
                "born_abroad": abroad,
                "birth_commune": "" if abroad else (candidate.birth_insee_code or candidate.birth_place),
                "birth_country_code": candidate.birth_insee_code if abroad else "",
                "birth_country_place": candidate.birth_place if abroad else "",
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["birth_country_code"].widget.attrs.update(inputmode="numeric", maxlength="5")

    def clean(self) -> dict[str, Any]:
        from directory.models import Commune

        data = super().clean()
        if data.get("born_abroad"):
            code = data.get("birth_country_code", "").replace(" ", "")
            if not re.match(BIRTH_COUNTRY_CODE_RE, code):
                self.add_error(
                    "birth_country_code",
                    _("Saisissez le code INSEE du pays : 99 suivi de 3 chiffres, par exemple 99109."),
                )
            if not data.get("birth_country_place", "").strip():
                self.add_error("birth_country_place", _("Indiquez le lieu de naissance à l'étranger."))
            data["birth_insee_code"] = code
            data["birth_place"] = " ".join(data.get("birth_country_place", "").split())
            return data
        query = data.get("birth_commune", "").strip()
        if not query:
            self.add_error("birth_commune", _("Indiquez la commune de naissance."))
            return data
        lookup = Commune.objects.resolve(query)
        if lookup.commune is None:
            if lookup.candidates:
                names = ", ".join(c.label for c in lookup.candidates[:5])
                message = _("Plusieurs communes correspondent ; précisez : %(names)s.") % {"names": names}
            else:
                message = _("Aucune commune ne correspond à « %(query)s ».") % {"query": query}
            self.add_error("birth_commune", message)
            return data
        data["birth_insee_code"] = lookup.commune.insee_code
        data["birth_place"] = lookup.commune.name
        return data

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "sex": data["sex"],
            "birth_name": " ".join(data["birth_name"].split()),
            "first_name": " ".join(data["first_name"].split()),
            "birth_date": data["birth_date"],
            "born_abroad": bool(data.get("born_abroad")),
            "birth_insee_code": data["birth_insee_code"],
            "birth_place": data["birth_place"],
        }
