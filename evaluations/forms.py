from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from evaluations.models import CriterionResult, CriterionResultValue, Evaluation, Modality


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        # The browser's date picker sends and expects ISO dates whatever the language.
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class EvaluationStartForm(forms.Form):
    started_on = forms.DateField(label=_("Date de début"), initial=timezone.localdate, widget=DateInput())
    modality = forms.ChoiceField(label=_("Modalité"), choices=Modality.choices, initial=Modality.ON_SITE)
    context = forms.CharField(
        label=_("Contexte professionnel ou secteur"),
        max_length=255,
        required=False,
        help_text=_(
            "CléA s'évalue en situation de travail : métier, branche ou secteur retenu pour les mises en situation."
        ),
    )

    def clean_started_on(self) -> Any:
        started_on = self.cleaned_data["started_on"]
        if errors := Evaluation.start_errors(started_on):
            raise ValidationError(errors)
        return started_on


class EvaluationCloseForm(forms.Form):
    ended_on = forms.DateField(label=_("Date de fin"), initial=timezone.localdate, widget=DateInput())
    duration_hours = forms.DecimalField(
        label=_("Durée (heures)"),
        required=False,
        min_value=Decimal("0"),
        max_value=Decimal("40"),
        max_digits=4,
        decimal_places=1,
        help_text=_("De 2 à 8 heures en général, sur une ou plusieurs journées."),
        widget=forms.NumberInput(attrs={"step": "0.5", "inputmode": "decimal"}),
    )
    confirm = forms.BooleanField(
        label=_("Je confirme la clôture : les résultats enregistrés ne pourront plus être modifiés."),
        required=True,
        error_messages={"required": _("Cochez la case pour confirmer la clôture.")},
    )

    def __init__(self, *args: Any, evaluation: Evaluation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.evaluation = evaluation

    def clean_ended_on(self) -> Any:
        ended_on = self.cleaned_data["ended_on"]
        if errors := self.evaluation.end_errors(ended_on):
            raise ValidationError(errors)
        return ended_on


def result_field_name(criterion_id: int) -> str:
    return f"result-{criterion_id}"


def comment_field_name(criterion_id: int) -> str:
    return f"comment-{criterion_id}"


class GridForm(forms.Form):
    """The grid as the browser posts it: `result-<criterion id>` (a radio group) and `comment-<criterion id>`
    for each line of the evaluation."""

    def __init__(self, *args: Any, lines: Iterable[CriterionResult], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines = list(lines)
        if not self.is_bound:
            # Displayed, the grid reads the lines themselves (`current`): 214 fields with translated labels
            # would only be built to be thrown away, a fifth of the page's time.
            return
        for line in self.lines:
            code = line.criterion.code
            self.fields[result_field_name(line.criterion_id)] = forms.ChoiceField(
                label=_("Résultat du critère %(code)s") % {"code": code},
                choices=CriterionResultValue.choices,
                initial=line.result,
                widget=forms.RadioSelect,
            )
            self.fields[comment_field_name(line.criterion_id)] = forms.CharField(
                label=_("Commentaire sur le critère %(code)s") % {"code": code},
                required=False,
                max_length=500,
                initial=line.comment,
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        outside = sorted(
            key.removeprefix("result-") for key in self.data if key.startswith("result-") and key not in self.fields
        )
        if outside:
            raise ValidationError(
                _("Ces critères ne font pas partie de cette évaluation : %(ids)s") % {"ids": ", ".join(outside)}
            )
        return cleaned

    def results(self) -> dict[int, tuple[str, str]]:
        """{criterion id: (result, comment)}, as `evaluation_save_results` takes them."""
        return {
            line.criterion_id: (
                self.cleaned_data[result_field_name(line.criterion_id)],
                self.cleaned_data[comment_field_name(line.criterion_id)],
            )
            for line in self.lines
        }

    def last_changed(self) -> int | None:
        """The id of the last criterion, in grid order, whose result or comment the post changes: where the
        evaluator was when saving, and where the page takes them back."""
        results = self.results()
        for line in reversed(self.lines):
            if results[line.criterion_id] != (line.result, line.comment):
                return line.criterion_id
        return None

    def current(self, line: CriterionResult) -> tuple[str, str, list[str]]:
        """What the grid shows for a line: the value posted (kept after an error) or the stored one, and errors."""
        result, comment = result_field_name(line.criterion_id), comment_field_name(line.criterion_id)
        if self.is_bound:
            errors = [*self.errors.get(result, []), *self.errors.get(comment, [])]
            return self.data.get(result, ""), self.data.get(comment, ""), errors
        return line.result, line.comment, []


# -- Pix results (issue 21) --------------------------------------------------------------------------------------


class PixUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Fichier de résultats Pix (CSV)"),
        help_text=_(
            "Le fichier de résultats de certification que Pix fournit, tel quel : séparateur « ; » ou « , », "
            "20 Mo au plus."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".txt")):
            raise ValidationError(_("Choisissez un fichier CSV (extension .csv)."))
        if upload.size > 20 * 1024 * 1024:
            raise ValidationError(_("Le fichier dépasse 20 Mo : découpez-le en plusieurs fichiers."))
        return upload


class PixResolveForm(forms.Form):
    """Choose the line's dossier among the suggestions, or by its reference, or ignore the line."""

    dossier = forms.TypedChoiceField(
        label=_("Dossiers possibles"), coerce=int, required=False, widget=forms.RadioSelect
    )
    reference = forms.CharField(
        label=_("Ou la référence d'un autre dossier"),
        max_length=30,
        required=False,
        help_text=_("Un dossier CléA numérique de votre périmètre, en attente de son évaluation préalable."),
    )

    def __init__(self, *args: Any, suggestions: Iterable[tuple[int, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["dossier"].choices = list(suggestions)
        if not self.fields["dossier"].choices:
            del self.fields["dossier"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not cleaned.get("dossier") and not cleaned.get("reference", "").strip():
            raise ValidationError(_("Choisissez un dossier ou saisissez sa référence."))
        return cleaned
