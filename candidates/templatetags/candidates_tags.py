from django import template
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from candidates.models import WARNING_BEFORE_DEADLINE, WINDOW_STATES, Dossier, DossierState, civility_agree

register = template.Library()

# The badge's colour repeats what its text says; it never carries the information alone.
STATE_BADGES = {
    DossierState.INFORMATION: "neutral",
    DossierState.OPENED: "info",
    DossierState.PRIOR_EVALUATION: "info",
    DossierState.PARTIALLY_VALIDATED: "warning",
    DossierState.IN_TRAINING: "info",
    DossierState.FINAL_EVALUATION: "info",
    DossierState.READY_FOR_JURY: "success",
    DossierState.WITHDRAWN: "neutral",
    DossierState.EXPIRED: "danger",
}


@register.simple_tag
def state_badge(state: str) -> str:
    """`{% state_badge dossier.state %}`: the step's label in a badge."""
    # Looked up in a dict built once (DossierState.values builds its list at each call, and this runs per row).
    label = _STATE_LABELS.get(state, state)
    return format_html('<span class="badge badge--{}">{}</span>', STATE_BADGES.get(state, "neutral"), label)


_STATE_LABELS = {state.value: state.label for state in DossierState}


@register.simple_tag(name="civility_agree")
def civility_agree_tag(person: object, masculine: str, feminine: str) -> str:
    """`{% civility_agree candidate _("Né le") _("Née le") %}`: the form that agrees with a candidate's or a
    referral's civility; `_()` keeps both forms in the catalogue."""
    return civility_agree(getattr(person, "civility", ""), masculine, feminine)


@register.simple_tag
def deadline(dossier: Dossier) -> str:
    """`{% deadline dossier %}`: the 5-year deadline, and while the window runs a warning when it is close."""
    if dossier.deadline is None:
        return format_html('<span aria-label="{}">—</span>', _("Aucune échéance"))
    date = format_html(
        '<time datetime="{}">{}</time>', dossier.deadline.isoformat(), date_format(dossier.deadline, "d/m/Y")
    )
    if dossier.state not in WINDOW_STATES:
        return date
    left = dossier.days_left()
    if left is None or left >= WARNING_BEFORE_DEADLINE.days:
        return date
    if left < 0:
        text = _("dépassée")
    else:
        text = ngettext("%(n)s jour restant", "%(n)s jours restants", left) % {"n": left}
    return format_html('{} <span class="badge badge--warning">{}</span>', date, text)
