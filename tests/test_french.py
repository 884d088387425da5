"""The platform's French (issue 14): the catalogue that gives French plurals, and the words it writes."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.template import engines
from django.utils import translation
from django.utils.translation import ngettext
from django.utils.translation.template import templatize

from clea_platform.messages import PLURAL_FORMS, catalogue_compile, catalogue_path

ROOT = Path(settings.BASE_DIR)
APPS = sorted(p.parent.name for p in ROOT.glob("*/apps.py")) + ["clea_platform"]


def templates() -> list[Path]:
    return sorted(p for p in (ROOT / "templates").rglob("*") if p.suffix in {".html", ".txt"})


def python_sources() -> list[Path]:
    return sorted(p for app in APPS for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts)


def read_mo(path: Path) -> gettext.GNUTranslations:
    with path.open("rb") as handle:
        return gettext.GNUTranslations(handle)


# -- The catalogue ----------------------------------------------------------------------------------------------


def test_the_committed_mo_is_the_compiled_po(tmp_path):
    """What Django reads is the .mo: a .po changed without `make messages` would change nothing on screen."""
    fresh = tmp_path / "django.mo"
    catalogue_compile(catalogue_path("po"), fresh)

    committed, expected = read_mo(catalogue_path("mo")), read_mo(fresh)

    assert committed._catalog == expected._catalog, "locale/fr is stale: run `make messages` and commit both files"
    assert [committed.plural(n) for n in range(4)] == [0, 0, 1, 1]


def test_the_catalogue_states_the_french_plural_rule():
    po = polib.pofile(str(catalogue_path("po")))

    assert po.metadata["Plural-Forms"] == PLURAL_FORMS
    assert all(entry.msgstr_plural == {0: entry.msgid, 1: entry.msgid_plural} for entry in po if entry.msgid_plural)
    assert not [entry.msgid for entry in po if "fuzzy" in entry.flags]


LITERAL = r"u?(?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"
TEMPLATE_PLURAL = re.compile(rf"\bn(?:p)?gettext\((?:({LITERAL}), )?({LITERAL}), ({LITERAL}),")
PLURAL_FUNCTIONS = {"ngettext", "ngettext_lazy", "npgettext", "npgettext_lazy"}


def plural_msgids() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for path in templates():
        # Django's own reading of a template for makemessages: each {% blocktranslate count %} becomes ngettext().
        for match in TEMPLATE_PLURAL.finditer(templatize(path.read_text(), origin=str(path))):
            found.add((ast.literal_eval(match[2]), ast.literal_eval(match[3])))
    for path in python_sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            args = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if name in PLURAL_FUNCTIONS and len(args) >= 2:
                found.add((args[-2], args[-1]))
    return found


def test_every_plural_of_the_code_and_templates_is_in_the_catalogue():
    """A msgid the catalogue lacks falls back to the English rule: "0 tentatives". `make messages` adds it."""
    po = polib.pofile(str(catalogue_path("po")))
    known = {(entry.msgid, entry.msgid_plural) for entry in po if entry.msgid_plural}

    found = plural_msgids()

    assert len(found) > 40  # the walk finds them: blocktranslate count in templates, ngettext in Python
    assert sorted(found - known) == []


@pytest.mark.parametrize(("n", "text"), [(0, "0 tentative"), (1, "1 tentative"), (2, "2 tentatives")])
def test_zero_and_one_are_singular_in_a_template(n, text):
    template = engines["django"].from_string(
        "{% load i18n %}{% blocktranslate count n=n %}{{ n }} tentative{% plural %}{{ n }} tentatives"
        "{% endblocktranslate %}"
    )

    assert template.render({"n": n}) == text
    with translation.override("fr"):
        assert ngettext("%(n)s tentative", "%(n)s tentatives", n) % {"n": n} == text
