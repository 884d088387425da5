from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# La Poste's establishments share one SIREN and follow their own rule (sum of digits divisible by 5)
# rather than Luhn; its head office (35600000000048) follows Luhn.
LA_POSTE_SIREN = "356000000"


def luhn_valid(number: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def validate_siret(value: str) -> None:
    if len(value) != 14 or not value.isdigit():
        raise ValidationError(_("Le SIRET doit comporter exactement 14 chiffres."), code="siret_format")
    if value.startswith(LA_POSTE_SIREN):
        valid = luhn_valid(value) or sum(int(c) for c in value) % 5 == 0
    else:
        valid = luhn_valid(value)
    if not valid:
        raise ValidationError(
            _("Ce SIRET n'est pas valide (clé de contrôle incorrecte). Vérifiez les 14 chiffres."),
            code="siret_checksum",
        )


def validate_postcode(value: str) -> None:
    if len(value) != 5 or not value.isdigit():
        raise ValidationError(_("Le code postal doit comporter 5 chiffres."), code="postcode")


def validate_insee_code(value: str) -> None:
    # Corsica uses 2A/2B in place of the département's digits.
    if len(value) != 5 or not (value.isdigit() or (value[:2] in {"2A", "2B"} and value[2:].isdigit())):
        raise ValidationError(_("Le code INSEE de la commune comporte 5 caractères (ex. 59350, 2A004)."), code="insee")
