"""The journey's formatting: how long a piece of work has waited. No query."""

from __future__ import annotations

import datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

register = template.Library()


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
