"""How hard a password is to guess: zxcvbn's estimate, taught French and the user's own words.

A password validator (settings.AUTH_PASSWORD_VALIDATORS), so it applies wherever Django sets a password from a form:
the admin's account creation and password change, the reset by e-mail link, the change of one's own password,
`createsuperuser` and `changepassword`. Code that calls `User.set_password` directly (the demo seed, the test
factories) is not validated: that is how the demo accounts keep their published password, which this validator
refuses to everyone else.

zxcvbn (Dropbox's estimator, the `zxcvbn` port on PyPI) recognises dictionary words, names, keyboard walks,
sequences, repeats, dates and l33t substitutions, and estimates the guesses an attacker needs; its own lists are
English. It is taught here the lists of `password_lists/` (see its README: frequent French passwords and the
platform's words, frequent French words, French first names) and, for each check, the user's first and last names,
the parts of their e-mail address and their organisations' names. Below the minimum score (3 of 4: more than 10^8
guesses, out of reach of an online attack and costly offline) the password is refused with the reason zxcvbn gives,
in French, and what to do instead.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from zxcvbn import matching, zxcvbn

from organisations.demo import DEMO_PASSWORD

if TYPE_CHECKING:
    from organisations.models import User

LISTS_DIR = Path(__file__).resolve().parent / "password_lists"
# zxcvbn's own dictionaries stay; these are added beside them, each under its name (the names our feedback reads).
FRENCH_LISTS = {"fr_passwords": "fr_passwords.txt", "fr_words": "fr_words.txt", "fr_first_names": "fr_first_names.txt"}
PUBLISHED = "published_passwords"
# zxcvbn refuses longer input (its matching is quadratic in the length); a longer password is judged on its start,
# which refuses nothing a strong password needs.
MAX_CHECKED_LENGTH = 72

# zxcvbn's feedback, keyed by its English text (zxcvbn/feedback.py), in French. tests/organisations/
# test_password_strength.py checks that every text of the installed zxcvbn is here: an upgrade that adds one fails
# there instead of showing English.
FEEDBACK: dict[str, Promise] = {
    # Warnings: why the password is weak.
    "Straight rows of keys are easy to guess.": _(
        "Une rangée de touches du clavier (comme « azerty ») est facile à deviner."
    ),
    "Short keyboard patterns are easy to guess.": _("Un motif court dessiné sur le clavier est facile à deviner."),
    'Repeats like "aaa" are easy to guess.': _("Une répétition comme « aaa » est facile à deviner."),
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".': _(
        "Une répétition comme « abcabcabc » est à peine plus difficile à deviner que « abc »."
    ),
    'Sequences like "abc" or "6543" are easy to guess.': _("Une suite comme « abc » ou « 6543 » est facile à deviner."),
    "Recent years are easy to guess.": _("Une année récente est facile à deviner."),
    "Dates are often easy to guess.": _("Une date est souvent facile à deviner."),
    "This is a top-10 common password.": _("C'est l'un des 10 mots de passe les plus utilisés au monde."),
    "This is a top-100 common password.": _("C'est l'un des 100 mots de passe les plus utilisés au monde."),
    "This is a very common password.": _("C'est un mot de passe très utilisé."),
    "This is similar to a commonly used password.": _("Il ressemble à un mot de passe très utilisé."),
    "A word by itself is easy to guess.": _("Un mot seul est facile à deviner."),
    "Names and surnames by themselves are easy to guess.": _("Un prénom ou un nom seul est facile à deviner."),
    "Common names and surnames are easy to guess.": _("Les prénoms et les noms courants sont faciles à deviner."),
    # Suggestions: what would help.
    "Use a few words, avoid common phrases.": _("Utilisez quelques mots, en évitant les expressions toutes faites."),
    "No need for symbols, digits, or uppercase letters.": _(
        "Inutile d'ajouter des symboles, des chiffres ou des majuscules."
    ),
    "Add another word or two. Uncommon words are better.": _("Ajoutez un ou deux mots, de préférence peu courants."),
    "Use a longer keyboard pattern with more turns.": _(
        "Un motif de clavier plus long, qui change plus souvent de direction, serait moins facile à deviner."
    ),
    "Avoid repeated words and characters.": _("Évitez de répéter des mots ou des caractères."),
    "Avoid sequences.": _("Évitez les suites de caractères."),
    "Avoid recent years.": _("Évitez les années récentes."),
    "Avoid years that are associated with you.": _("Évitez les années liées à vous (naissance, mariage…)."),
    "Avoid dates and years that are associated with you.": _(
        "Évitez les dates et les années liées à vous (naissance, mariage…)."
    ),
    "Capitalization doesn't help very much.": _("Une majuscule au début n'aide pas beaucoup."),
    "All-uppercase is almost as easy to guess as all-lowercase.": _(
        "Tout écrire en majuscules n'est guère plus sûr que tout en minuscules."
    ),
    "Reversed words aren't much harder to guess.": _("Un mot écrit à l'envers n'est guère plus difficile à deviner."),
    "Predictable substitutions like '@' instead of 'a' don't help very much.": _(
        "Les substitutions prévisibles, comme « @ » pour « a », n'aident pas beaucoup."
    ),
}

# zxcvbn gives no warning for a dictionary it does not know: ours, when the weakest part of the password is in one.
DICTIONARY_WARNINGS: dict[str, tuple[Promise, Promise]] = {
    # (the password is this word alone, the password contains it)
    PUBLISHED: (
        _("C'est le mot de passe publié des comptes de démonstration."),
        _("Il contient le mot de passe publié des comptes de démonstration."),
    ),
    "fr_passwords": (
        _("C'est un mot de passe très utilisé en France, ou un mot lié à la plateforme."),
        _("Il repose sur un mot de passe très utilisé en France, ou sur un mot lié à la plateforme."),
    ),
    "fr_words": (_("Un mot seul est facile à deviner."), _("Les mots courants du français sont faciles à deviner.")),
    "fr_first_names": (
        _("Un prénom seul est facile à deviner."),
        _("Les prénoms sont faciles à deviner."),
    ),
    "user_inputs": (
        _("Il reprend votre nom, votre adresse e-mail ou le nom de votre organisation."),
        _("Il contient votre nom, votre adresse e-mail ou le nom de votre organisation."),
    ),
}

WHAT_TO_DO = _(
    "Choisissez par exemple une phrase de passe : quatre ou cinq mots sans lien entre eux, ni avec vous ou votre "
    "organisation, séparés par des espaces."
)

# zxcvbn keeps the user's words in a module-level dictionary for the length of a call: two checks in two threads
# would otherwise judge each password against the other user's words.
_zxcvbn_lock = threading.Lock()


def unaccented(word: str) -> str:
    """`évaluateur` → `evaluateur`: passwords are often typed without accents."""
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


def read_list(path: Path) -> list[str]:
    """The entries of a list file, in order: one per line, `#` starts a comment line."""
    lines = (line.strip().lower() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def ranked(words: Iterable[str]) -> dict[str, int]:
    """zxcvbn's ranked dictionary (rank 1 is the most guessable), each word's unaccented form at the same rank."""
    ranks: dict[str, int] = {}
    for rank, word in enumerate(words, start=1):
        ranks.setdefault(word, rank)
        ranks.setdefault(unaccented(word), rank)
    return ranks


@functools.cache
def install_french_dictionaries() -> None:
    """Add the French lists and the published password to zxcvbn's dictionaries, once per process."""
    for name, filename in FRENCH_LISTS.items():
        matching.RANKED_DICTIONARIES[name] = ranked(read_list(LISTS_DIR / filename))
    matching.RANKED_DICTIONARIES[PUBLISHED] = ranked([DEMO_PASSWORD.lower()])


_WORD_SEPARATORS = re.compile(r"[\s._+'’-]+")


def user_words(user: User | None) -> list[str]:
    """The words of a user that an attacker who knows them tries first: names, the e-mail address and its parts,
    their organisations' names and the words in them."""
    if user is None:
        return []
    texts = [user.first_name, user.last_name]
    local, _at, domain = (user.email or "").lower().partition("@")
    texts += [local, *domain.split(".")[:-1]]
    if user.pk is not None:
        from organisations.models import Membership

        texts += Membership.objects.filter(user=user).values_list("organisation__name", flat=True)
    words: list[str] = []
    for text in texts:
        text = (text or "").lower().strip()
        if not text:
            continue
        parts = [part for part in _WORD_SEPARATORS.split(text) if len(part) >= 3]
        for word in [text, "".join(_WORD_SEPARATORS.split(text)), *parts]:
            words += [word, unaccented(word)]
    return list(dict.fromkeys(word for word in words if len(word) >= 3))


def estimate(password: str, user: User | None = None) -> dict[str, Any]:
    """zxcvbn's result for the password, against its dictionaries, the French ones and the user's words."""
    install_french_dictionaries()
    with _zxcvbn_lock:
        return dict(zxcvbn(password[:MAX_CHECKED_LENGTH], user_inputs=user_words(user)))


def _weakest_part(sequence: list[dict[str, Any]]) -> dict[str, Any] | None:
    # The match zxcvbn's own feedback speaks about: the longest one, the first of equals.
    longest = None
    for match in sequence:
        if longest is None or len(match["token"]) > len(longest["token"]):
            longest = match
    return longest


def reasons(result: dict[str, Any]) -> list[str]:
    """Why the password is weak and what would help, in French: zxcvbn's feedback, translated, and our warning for
    the French and personal dictionaries it says nothing about. Untranslated texts are left out."""
    feedback = result["feedback"]
    warning = str(FEEDBACK[feedback["warning"]]) if feedback["warning"] in FEEDBACK else ""
    if not warning:
        match = _weakest_part(result["sequence"])
        if match is not None and match.get("dictionary_name") in DICTIONARY_WARNINGS:
            alone, within = DICTIONARY_WARNINGS[match["dictionary_name"]]
            warning = str(alone if len(result["sequence"]) == 1 else within)
    suggestions = [str(FEEDBACK[text]) for text in feedback["suggestions"] if text in FEEDBACK]
    return [text for text in [warning, *suggestions] if text]


class PasswordStrengthValidator:
    """Refuse a password that zxcvbn scores below `min_score` (0 to 4), saying why and what to do."""

    def __init__(self, min_score: int = 3) -> None:
        self.min_score = min_score

    def validate(self, password: str, user: User | None = None) -> None:
        result = estimate(password, user)
        if result["score"] >= self.min_score:
            return
        messages = [gettext("Ce mot de passe est trop facile à deviner."), *reasons(result), str(WHAT_TO_DO)]
        raise ValidationError([ValidationError(message, code="password_too_guessable") for message in messages])

    def get_help_text(self) -> str:
        return gettext(
            "Votre mot de passe ne doit pas être facile à deviner : ni mot ou mot de passe courant, ni suite de "
            "touches ou de caractères, ni répétition, ni votre nom, votre adresse e-mail ou le nom de votre "
            "organisation. Une phrase de quelques mots sans lien entre eux convient."
        )
