from django import template
from django.forms import BoundField

from directory.forms import DirectorySearchForm

register = template.Library()


@register.simple_tag
def directory_commune_field(auto_id: str = "id_%s") -> BoundField:
    """The directory search's commune field, empty, for a page that sends its own small search form to the directory
    (the France Travail advisor's home): the same combobox as the directory's, from the same widget."""
    return DirectorySearchForm(auto_id=auto_id)["commune"]
