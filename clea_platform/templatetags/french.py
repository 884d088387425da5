from django import template

from clea_platform.french import at_name, of_name

register = template.Library()


@register.filter
def de(name: object) -> str:
    """`{{ organisation.name|de }}`: "d'Arras", "de Lille", "du Havre", in a sentence that says "… de X"."""
    return of_name(str(name))


@register.filter
def a(name: object) -> str:
    """`{{ commune|a }}`: "à Arras", "au Havre"."""
    return at_name(str(name))
