from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from candidates.models import Dossier
from organisations.models import Membership
from training.models import ProgressNote, TrainingPlan, TrainingSession, hours_label, plan_calendar_errors


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


def trainer_label(membership: Membership) -> str:
    return f"{membership.user.get_full_name()} – {membership.organisation.name}"


class TrainingPlanForm(forms.Form):
    """The counsellor's definition of a plan. The trainer is one of `trainer_memberships()`, chosen by id."""

    trainer = forms.TypedChoiceField(label=_("Formation assurée par"), coerce=int, empty_value=None)
    planned_hours = forms.DecimalField(
        label=_("Durée prévue (heures)"), min_value=1, max_value=1000, max_digits=5, decimal_places=1
    )
    starts_on = forms.DateField(label=_("Début"), widget=DateInput())
    ends_on = forms.DateField(label=_("Fin prévue"))
    # Left blank, the plan's objectives are the criteria still missing (training_plan_create).
    objectives = forms.CharField(
        label=_("Objectifs pédagogiques"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Pré-remplis avec les critères encore à acquérir ; adaptez-les au candidat."),
    )

    def __init__(self, *args: Any, dossier: Dossier, trainers: list[Membership], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dossier = dossier
        self.trainers = {m.pk: m for m in trainers}
        self.fields["trainer"].choices = [("", _("Choisir…"))] + [(m.pk, trainer_label(m)) for m in trainers]
        ends_on = self.fields["ends_on"]
        if dossier.deadline:
            ends_on.help_text = _("Au plus tard le %(date)s (échéance des 5 ans après l'évaluation préalable).") % {
                "date": f"{dossier.deadline:%d/%m/%Y}"
            }
            ends_on.widget = DateInput(attrs={"max": f"{dossier.deadline:%Y-%m-%d}"})
        else:
            ends_on.widget = DateInput()

    def clean_trainer(self) -> Membership:
        # The choices are the list shown; re-check against it so that a forged id never reaches the service.
        membership = self.trainers.get(self.cleaned_data["trainer"])
        if membership is None:
            raise forms.ValidationError(_("Choisissez une personne de la liste."))
        return membership

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        starts_on, ends_on = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts_on and ends_on:
            for field, message in plan_calendar_errors(self.dossier, starts_on, ends_on).items():
                self.add_error(field, message)
        return cleaned


class TrainingSessionForm(forms.ModelForm):
    """A session of `plan`: the model's own rules (within the plan's period, done only once its day has come)
    answer on the field concerned."""

    prefix = "session"

    class Meta:
        model = TrainingSession
        fields = ["date", "duration_hours", "topic", "done"]
        widgets = {"date": DateInput()}
        labels = {"done": _("Séance déjà réalisée")}

    def __init__(self, *args: Any, plan: TrainingPlan, **kwargs: Any) -> None:
        super().__init__(*args, instance=TrainingSession(plan=plan), **kwargs)
        self.fields["date"].widget.attrs.update(min=f"{plan.starts_on:%Y-%m-%d}", max=f"{plan.ends_on:%Y-%m-%d}")
        self.fields["date"].help_text = _("Entre le %(start)s et le %(end)s, dates du parcours.") % {
            "start": f"{plan.starts_on:%d/%m/%Y}",
            "end": f"{plan.ends_on:%d/%m/%Y}",
        }


class TrainingPlanCompleteForm(forms.Form):
    """The trainer's confirmation. The reason is asked for only when fewer hours were done than planned; whether it
    is missing is the plan's rule (`TrainingPlan.check_completion`, through the service), worded once there."""

    shortfall_reason = forms.CharField(
        label=_("Motif des heures non réalisées"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "aria-required": "true"}),
    )

    def __init__(self, *args: Any, plan: TrainingPlan, hours_done: Decimal, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not plan.has_shortfall(hours_done):
            del self.fields["shortfall_reason"]
            return
        self.fields["shortfall_reason"].help_text = _(
            "Obligatoire : %(done)s h réalisées sur %(planned)s h prévues. Le motif figurera dans l'historique du "
            "dossier."
        ) % {"done": hours_label(hours_done), "planned": hours_label(plan.planned_hours)}


class ProgressNoteForm(forms.ModelForm):
    prefix = "note"

    class Meta:
        model = ProgressNote
        fields = ["text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 4})}
