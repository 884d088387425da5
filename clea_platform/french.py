"""French grammar for names interpolated into sentences: "d'Arras", "de Lille", "du Havre"."""

from __future__ import annotations

import unicodedata

# Names of places whose article contracts with "de" ("Le Havre": "du Havre") or "à" ("au Havre").
_ARTICLES = {"le": ("du", "au"), "les": ("des", "aux")}


def _starts_with_vowel_sound(name: str) -> bool:
    """A vowel, accented or not, or a mute h: "d'Hénin-Beaumont", "d'Hazebrouck" are the usual spellings too."""
    letters = unicodedata.normalize("NFKD", name.strip()).encode("ascii", "ignore").decode().lower()
    if letters[:1] == "y":  # "d'Yves", "d'Yvetot", but "de Yannick": a y before a vowel is a consonant
        return letters[1:2] not in set("aeiouy")
    return letters[:1] in set("aeiouh")


def _article(name: str) -> tuple[str, str] | None:
    first, _space, rest = name.strip().partition(" ")
    if rest and first.lower() in _ARTICLES:
        return first, rest
    return None


def of_name(name: str) -> str:
    """ "de" before the name, elided before a vowel sound, contracted with Le/Les ("du Havre", "des Ulis")."""
    name = str(name).strip()
    article = _article(name)
    if article is not None:
        return f"{_ARTICLES[article[0].lower()][0]} {article[1]}"
    return f"d'{name}" if _starts_with_vowel_sound(name) else f"de {name}"


def at_name(name: str) -> str:
    """ "à" before a place, contracted with Le/Les ("au Havre", "aux Mureaux"); "à La Rochelle", "à Arras"."""
    name = str(name).strip()
    article = _article(name)
    if article is not None:
        return f"{_ARTICLES[article[0].lower()][1]} {article[1]}"
    return f"à {name}"
