"""The journey's formatting: how long a piece of work has waited, and the dossier's state diagram. No query."""

from __future__ import annotations

import datetime
from typing import Any

from django import template
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

register = template.Library()

# Rendered drawings of the dossier's state diagram, by language and `Diagram.drawing_key`: a dossier page drew its
# 20 steps and 33 arrows through the template engine each time (an eighth of the page). The machine only changes
# with the code, and the key holds everything else the drawing shows; a few hundred paths exist in practice.
_DRAWINGS: dict[tuple[str, tuple[object, ...]], SafeString] = {}
DRAWINGS_KEPT = 512


@register.simple_tag
def state_diagram_drawing(diagram: Any) -> SafeString:
    """`{% state_diagram_drawing diagram %}`: the SVG of a `journey.diagram.Diagram`, rendered once per language
    and drawing."""
    key = (get_language(), diagram.drawing_key)
    drawing = _DRAWINGS.get(key)
    if drawing is None:
        if len(_DRAWINGS) >= DRAWINGS_KEPT:
            _DRAWINGS.clear()
        drawing = _DRAWINGS[key] = mark_safe(  # noqa: S308 - the template's own escaped output
            render_to_string("journey/_state_diagram_svg.html", {"diagram": diagram})
        )
    return drawing


def waiting_text(since: datetime.date, today: datetime.date) -> str:
    """ "depuis 12 jours", "depuis aujourd'hui", or for a day to come (a session, a jury), "le 05/12/2026"."""
    days = (today - since).days
    if days < 0:
        return _("le %(date)s") % {"date": f"{since:%d/%m/%Y}"}
    if days == 0:
        return _("depuis aujourd'hui")
    return ngettext("depuis %(n)s jour", "depuis %(n)s jours", days) % {"n": days}


@register.simple_tag
def queue_age(since: datetime.date) -> SafeString:
    """`{% queue_age item.since %}`: the wait in words, in a <time> carrying the date."""
    return format_html(
        '<time class="queue-age" datetime="{}">{}</time>', since.isoformat(), waiting_text(since, timezone.localdate())
    )
