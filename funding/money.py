"""Money as integer cents: VAT, French display ("1 234,50 €") and parsing of what users type.

Amounts are never floats: a sum of cents is exact, and each file of a batch adds up to the cent.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

DEFAULT_VAT_RATE = Decimal("20.00")
# The largest amount excluding VAT (10 billion euros): with its VAT, it stays within the database's integers.
MAX_CENTS = 10**12
NBSP = "\u00a0"


def vat_cents(cents: int, rate: Decimal) -> int:
    """The VAT on an amount excluding VAT, rounded to the cent (half up, as on an invoice)."""
    return int((Decimal(cents) * Decimal(rate) / 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def incl_vat(cents: int, rate: Decimal) -> int:
    return cents + vat_cents(cents, rate)


def _grouped(units: int) -> str:
    digits = str(units)
    groups: list[str] = []
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    groups.insert(0, digits)
    return NBSP.join(groups)


def format_euros(cents: int | None) -> str:
    """`123450` → "1 234,50 €" (non-breaking spaces: the amount never wraps)."""
    if cents is None:
        return "—"
    sign = "-" if cents < 0 else ""
    units, rest = divmod(abs(int(cents)), 100)
    return f"{sign}{_grouped(units)},{rest:02d}{NBSP}€"


_SPACES = re.compile(r"[\s\u00a0\u202f]")


def parse_euros(text: str) -> int:
    """ "1 234,50 €", "1234.5" or "1234" → cents. Raises ValueError on anything else or a negative amount."""
    cleaned = _SPACES.sub("", text or "").removesuffix("€").replace(",", ".")
    if not re.fullmatch(r"\d+(\.\d{1,2})?", cleaned):
        raise ValueError(text)
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:  # pragma: no cover - the pattern above already refuses it
        raise ValueError(text) from exc
    return int((value * 100).quantize(Decimal("1")))
