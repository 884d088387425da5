"""The jury screens' forms. They check the input's shape; the jury rules stay in juries/services.py."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from clea_platform.certifications import Certification
from juries.models import (
    PENDING,
    REVOKED,
    Attendance,
    DecisionKind,
    JuryMember,
    JurySession,
    SessionSeat,
    decision_domains_problem,
)
from organisations.models import Organisation, OrganisationKind, Region


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def session_label(session: JurySession) -> str:
    when = timezone.localtime(session.date).strftime("%d/%m/%Y %H:%M")
    where = _("à distance") if session.is_online else session.place
    return f"{when} – {where}"


class SubmitForm(forms.Form):
    """The counsellor picks one of the sessions listed (open, of the dossier's region and certification)."""

    session = forms.TypedChoiceField(label=_("Session de jury"), coerce=int, empty_value=None, widget=forms.RadioSelect)

    def __init__(self, *args: Any, sessions: list[JurySession], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sessions = {session.pk: session for session in sessions}
        self.fields["session"].choices = [(session.pk, session_label(session)) for session in sessions]
        self.fields["session"].error_messages["required"] = _("Choisissez une session.")

    def clean_session(self) -> JurySession:
        session = self.sessions.get(self.cleaned_data["session"])
        if session is None:
            raise forms.ValidationError(_("Choisissez une session de la liste."))
        return session


class SessionForm(forms.Form):
    """A new session. Certif'Pro picks the jury body; a jury body's administrator creates for their own."""

    organisation = forms.ModelChoiceField(
        label=_("Organisateur de jurys"), queryset=Organisation.objects.none(), empty_label=_("Choisir…")
    )
    region = forms.ChoiceField(label=_("Région"), choices=[("", _("Choisir…")), *Region.choices])
    certification = forms.ChoiceField(label=_("Certification"), choices=Certification.choices)
    date = forms.DateTimeField(label=_("Date et heure"), widget=DateTimeInput(), input_formats=["%Y-%m-%dT%H:%M"])
    place = forms.CharField(
        label=_("Lieu"), max_length=255, required=False, help_text=_("Adresse et salle ; inutile à distance.")
    )
    is_online = forms.BooleanField(label=_("Session à distance"), required=False)
    capacity = forms.IntegerField(label=_("Nombre de dossiers maximum"), min_value=1, max_value=500, initial=30)

    def __init__(self, *args: Any, pick_body: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if pick_body:
            self.fields["organisation"].queryset = Organisation.objects.filter(
                kind=OrganisationKind.JURY_BODY, is_active=True
            ).order_by("name")
        else:
            del self.fields["organisation"]

    def clean_date(self) -> datetime.datetime:
        date = self.cleaned_data["date"]
        if date <= timezone.now():
            raise forms.ValidationError(_("La session doit avoir lieu dans le futur."))
        return date

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not cleaned.get("is_online") and not (cleaned.get("place") or "").strip():
            self.add_error("place", _("Indiquez le lieu, ou cochez « à distance »."))
        return cleaned


class SeatsForm(forms.Form):
    """Who of the body's pool is convened, who presides. Rendered as one row per member. Who attends is recorded
    on the day, when the deliberation opens (AttendanceForm)."""

    members = forms.TypedMultipleChoiceField(label=_("Convocation"), coerce=int, required=False)
    president = forms.TypedChoiceField(label=_("Présidence"), coerce=int, empty_value=None, required=False)

    def __init__(self, *args: Any, pool: list[JuryMember], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pool = pool
        choices = [(member.pk, str(member)) for member in pool]
        self.fields["members"].choices = choices
        self.fields["president"].choices = [("", _("Aucun"))] + choices

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        members = set(cleaned.get("members") or [])
        president = cleaned.get("president")
        if president is not None and president not in members:
            self.add_error("president", _("La présidence revient à l'un des membres convoqués."))
        return cleaned

    def rows(self) -> list[dict[str, Any]]:
        """One row per pool member with what the form holds for them (bound input, or the initial seats)."""
        source = self.data if self.is_bound else None

        def chosen(name: str) -> set[str]:
            if source is not None:
                return set(source.getlist(name))
            value = self.initial.get(name)
            if value is None:
                return set()
            return {str(v) for v in value} if isinstance(value, list | set | tuple) else {str(value)}

        members, president = chosen("members"), chosen("president")
        return [
            {"member": member, "convened": str(member.pk) in members, "president": str(member.pk) in president}
            for member in self.pool
        ]


class AttendanceForm(forms.Form):
    """The attendance of each member convened, recorded by the president (or the jury body) when the deliberation
    opens: one radio group per member. The service counts parity and quorum on it."""

    def __init__(self, *args: Any, seats: list[SessionSeat], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seats = seats
        for seat in seats:
            name = seat.member.user.get_full_name()
            self.fields[self.field_name(seat)] = forms.ChoiceField(
                label=f"{name} ({seat.member.get_college_display()}, {seat.member.represents})",
                choices=Attendance.choices,
                widget=forms.RadioSelect,
                initial=seat.attendance or None,
                error_messages={
                    "required": _("Indiquez pour %(name)s : présence, absence ou absence excusée.") % {"name": name}
                },
            )

    @staticmethod
    def field_name(seat: SessionSeat) -> str:
        return f"member_{seat.member_id}"

    def members(self) -> list[Any]:
        """The bound fields, one per seat, in the seats' order (the president first)."""
        return [self[self.field_name(seat)] for seat in self.seats]

    @property
    def attendance(self) -> dict[int, str]:
        return {seat.member_id: self.cleaned_data[self.field_name(seat)] for seat in self.seats}


class ConflictForm(forms.Form):
    statement = forms.CharField(
        label=_("Nature du lien avec ce dossier"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_(
            "Ex. : je travaille pour l'organisme qui a formé la personne candidate. Vous ne prendrez pas part à la "
            "décision."
        ),
        error_messages={"required": _("Décrivez le lien qui vous lie à ce dossier.")},
    )

    prefix = "conflict"


class DecisionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Décision"), choices=DecisionKind.choices, widget=forms.RadioSelect)
    reason = forms.CharField(
        label=_("Motivation"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=4000,
        help_text=_("Obligatoire pour un refus ou un ajournement."),
    )
    missing_domains = forms.MultipleChoiceField(
        label=_("Domaines restant à acquérir"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Pour un ajournement seulement, et obligatoire : ces domaines seront à nouveau formés et évalués."),
    )

    prefix = "decision"

    def __init__(self, *args: Any, domains: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["missing_domains"].choices = domains

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind in {DecisionKind.REFUSED, DecisionKind.DEFERRED} and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", _("Motivez la décision."))
        if kind:
            problem = decision_domains_problem(kind, cleaned.get("missing_domains") or [])
            if problem:
                self.add_error("missing_domains", problem)
        return cleaned


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif de la révocation"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
        error_messages={"required": _("Indiquez le motif de la révocation.")},
    )


# The decision buckets of a session's page, in the order of its links ("" is every dossier).
DECISION_FILTERS = ("", PENDING, *DecisionKind.values, REVOKED)


class SessionDossiersFilter(forms.Form):
    """The search and the decision bucket of a session's dossier table (its counts are the links that choose the
    bucket; the search keeps it). Each is read on its own: a search too long to run keeps the chosen bucket."""

    q = forms.CharField(
        label=_("Nom ou référence"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search"}),
        error_messages={
            "max_length": ngettext_lazy(
                "La recherche est trop longue : %(limit_value)d caractère au plus.",
                "La recherche est trop longue : %(limit_value)d caractères au plus.",
                "limit_value",
            )
        },
    )
    # Chosen by the links, never typed: a stale or forged value shows every dossier rather than an error about a
    # field the page does not show (as the dossier list's sort does).
    decision = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_decision(self) -> str:
        decision = self.cleaned_data.get("decision", "")
        return decision if decision in DECISION_FILTERS else ""

    def cleaned(self) -> tuple[str, str]:
        """The search text and the bucket, each empty where invalid."""
        self.is_valid()
        return self.cleaned_data.get("q", "").strip(), self.cleaned_data.get("decision", "")
