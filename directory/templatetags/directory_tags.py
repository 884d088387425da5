from typing import Any

from django import template

from directory.forms import DirectorySearchForm

register = template.Library()


@register.inclusion_tag("includes/field.html")
def directory_commune_field(auto_id: str = "id_%s") -> dict[str, Any]:
    """The directory search's commune field, labelled and empty, for a page whose small form sends the search to
    the directory (the France Travail advisor's home): the same combobox as the directory's, from the same widget.
    It never shows errors: the directory's page reports them, with its summary."""
    return {"field": DirectorySearchForm(auto_id=auto_id)["commune"]}
