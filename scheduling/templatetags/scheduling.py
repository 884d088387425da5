from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.simple_tag
def appointment_actions(schedule: Any, appointment: Any) -> set[str]:
    """The actions the selector computed for this appointment (a dict lookup: no query)."""
    return schedule.actions.get(appointment.pk, set())


@register.simple_tag(takes_context=True)
def agenda_actions(context: Any, appointment: Any) -> set[str]:
    """The agenda's actions, from `context["agenda_actions"]` computed by the view (no query here)."""
    return context.get("agenda_actions", {}).get(appointment.pk, set())
