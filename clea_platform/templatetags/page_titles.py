"""Page titles that say what the page shows (issue 15, WCAG 2.4.2): a screen reader announces the title first, and
a tab or history entry is found by it. A refused form says so before anything else ("Erreur – Nouveau dossier"); a
filtered list or a search says how many results it found and which page this is ("Dossiers – 12 résultats – page 2
sur 3")."""

from typing import Any

from django import template
from django.core.paginator import Page
from django.forms import BaseForm, BaseFormSet
from django.utils.translation import gettext, ngettext

register = template.Library()

# Query parameters that move through results without changing them: a list with only these is not a search.
NOT_A_SEARCH = frozenset({"page", "sort"})


@register.simple_tag(takes_context=True)
def error_prefix(context: template.Context) -> str:
    """ "Erreur – " when the page shows a bound form (or formset) with errors, whatever its name in the context:
    base.html puts it before every page's title, so each form of each app gets it."""
    for value in context.flatten().values():
        if isinstance(value, BaseForm | BaseFormSet) and value.is_bound and not value.is_valid():
            return gettext("Erreur") + " – "
    return ""


@register.simple_tag(takes_context=True)
def results_title(context: template.Context, title: str, page: Page | None = None, count: int | None = None) -> str:
    """The title of a list or a search: the number of results when the person has filtered or searched (from the
    page's paginator unless `count` is given), and the page number beyond the first.
    `{% block title %}{% results_title _("Dossiers") page %}{% endblock %}`."""
    parts = [str(title)]  # `_("…")` in a template gives a lazy string
    request: Any = context.get("request")
    searched = request is not None and any(
        value.strip() for key, value in request.GET.items() if key not in NOT_A_SEARCH
    )
    if count is None and page is not None:
        count = page.paginator.count
    if searched and count is not None:
        parts.append(
            ngettext("%(n)s résultat", "%(n)s résultats", count) % {"n": count} if count else gettext("aucun résultat")
        )
    if page is not None and page.paginator.num_pages > 1:
        parts.append(gettext("page %(n)s sur %(total)s") % {"n": page.number, "total": page.paginator.num_pages})
    return " – ".join(parts)
