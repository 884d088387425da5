"""The platform's French (issue 14): the catalogue that gives French plurals, and the words it writes."""

from __future__ import annotations

import ast
import functools
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


@functools.cache
def parsed_sources() -> tuple[tuple[Path, ast.Module], ...]:
    """Each source parsed once for the tests that walk them (about 400 files: a second or two each time)."""
    return tuple((path, ast.parse(path.read_text())) for path in python_sources())


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
    for _path, tree in parsed_sources():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            args = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            # npgettext(context, singular, plural, n); ngettext(singular, plural, n), where a lazy one's n may be
            # the name of the format's key ("limit_value"), a string too.
            first = 1 if name.startswith("np") else 0
            if name in PLURAL_FUNCTIONS and len(args) >= first + 2:
                found.add((args[first], args[first + 1]))
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


# -- The words ---------------------------------------------------------------------------------------------------

# Inclusive writing, whether with a middle dot ("né·e", "conseiller·ère", "un·e") or brackets ("candidat(e)"):
# screen readers say "point" or spell it out (RGAA 4.1, issue 15). Where the person is known (a candidate: civility
# required) the word agrees with them ({% civility_agree %}, Candidate.registration_status_label); elsewhere the
# wording is épicène ("Personne candidate", "Présidence", "Évaluation menée par"): users and jury members have no
# civility recorded. A separator between words (" <span aria-hidden="true">·</span> ") is not a letter·letter form.
INCLUSIVE = re.compile(r"[^\W\d_]·[^\W\d_]|\w\((?:e|es|ne|nes|se|ses|rice|rices|ère|ères)\)")
BRACKETED_PLURAL = re.compile(r"\w\((?:s|x|es)\)")


def inclusive_forms(text: str) -> list[str]:
    """Each word that holds an inclusive form ("Candidat·e", "d'administrateur·rice"), to name it in a failure."""
    return re.findall(rf"[^\s>]*(?:{INCLUSIVE.pattern})[^\s<]*", text)


@pytest.mark.parametrize(
    ("text", "forms"),
    [
        ("<th>Candidat·e</th>", ["Candidat·e"]),
        ("Au nom d'un·e administrateur·rice.", ["d'un·e", "administrateur·rice."]),
        ("Convoqué(e) le 3", ["Convoqué(e)"]),
        ('Jury du 12/05 <span aria-hidden="true">·</span> Lille', []),
        ("Domaines 1 · 2 · 3", []),
    ],
)
def test_an_inclusive_form_is_a_middle_dot_or_a_bracket_between_letters(text, forms):
    assert inclusive_forms(text) == forms


def test_templates_write_no_plural_in_brackets_nor_the_english_pluralize():
    offenders = []
    for path in templates():
        text = path.read_text()
        offenders += [f"{path.relative_to(ROOT)}: {match}" for match in BRACKETED_PLURAL.findall(text)]
        offenders += [f"{path.relative_to(ROOT)}: |pluralize" for _ in re.findall(r"\|pluralize\b", text)]

    assert offenders == []


def test_templates_write_no_inclusive_form():
    """Every template: screens, e-mails and the PDF documents (the jury's minutes among them)."""
    offenders = [
        f"{path.relative_to(ROOT / 'templates')}: {form}"
        for path in templates()
        for form in inclusive_forms(path.read_text())
    ]

    assert offenders == []


# What a PDF document may print outside {% translate %} and {% blocktranslate %}: the brands, and the verification
# address's path (the public URL printed under the certificate's QR code).
DOCUMENT_WORDS_OUTSIDE_GETTEXT = {"CléA", "Certif'Pro", "verifier"}
UNTRANSLATED_NOISE = re.compile(
    r"\{% comment %\}.*?\{% endcomment %\}"
    r"|\{% blocktrans(?:late)?\b.*?%\}.*?\{% endblocktrans(?:late)? %\}"
    r"|<(style|script)\b.*?</\1>"
    r"|\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}|<[^>]*>",
    re.DOTALL,
)


def untranslated_words(template: str) -> list[str]:
    """The words of a template that reach the reader without gettext: what is left once the translated texts, the
    tags, the variables and the markup are taken out."""
    return re.findall(r"[^\W\d_][\w'-]*", UNTRANSLATED_NOISE.sub(" ", template))


def test_untranslated_words_are_found_and_translated_ones_are_not():
    template = (
        '{% load i18n %}<h1 class="title">{% translate "Décisions" %}</h1><p>Fait le {{ day }}.</p>'
        "{% blocktranslate with n=number %}N° {{ n }}{% endblocktranslate %}<style>p { color: red }</style>"
    )
    assert untranslated_words(template) == ["Fait", "le"]


def test_every_word_of_the_pdf_documents_goes_through_the_catalogue():
    """The minutes, certificates, attestations, claim batches, fee statements and directory sheets, like the screens."""
    documents = sorted((ROOT / "templates" / "documents").glob("*.html"))
    assert len(documents) >= 6
    offenders = {
        path.name: words
        for path in documents
        if (words := [w for w in untranslated_words(path.read_text()) if w not in DOCUMENT_WORDS_OUTSIDE_GETTEXT])
    }

    assert offenders == {}


def catalogue_texts() -> list[str]:
    """Every msgid and msgstr of the French catalogue: the .po (whose empty msgstr make gettext return the msgid)
    and the compiled .mo that Django reads."""
    po = polib.pofile(str(catalogue_path("po")))
    texts = [text for entry in po for text in (entry.msgid, entry.msgid_plural, entry.msgstr) if text]
    texts += [text for entry in po for text in entry.msgstr_plural.values()]
    for key, value in read_mo(catalogue_path("mo"))._catalog.items():
        texts += [key[0] if isinstance(key, tuple) else key, value]
    return texts


def test_the_catalogue_writes_no_plural_in_brackets_nor_any_inclusive_form():
    texts = catalogue_texts()

    assert len(texts) > 1000  # the walk reads the catalogue
    assert [text for text in texts if BRACKETED_PLURAL.search(text)] == []
    assert sorted({text for text in texts if INCLUSIVE.search(text)}) == []


def test_the_code_s_strings_write_no_inclusive_form():
    """What gettext does not carry: export headers, reference data (funder names), management commands' help.
    Docstrings and comments are for developers and may quote the forms they avoid."""
    offenders = []
    for path, tree in parsed_sources():
        # One walk: the docstrings and the strings that match, the docstrings taken out after.
        docstrings, matching = set(), []
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                and node.body
                and isinstance(node.body[0], ast.Expr)
                and isinstance(node.body[0].value, ast.Constant)
            ):
                docstrings.add(id(node.body[0].value))
            # The plain search first: inclusive_forms' word-wide pattern backtracks over every long string.
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and INCLUSIVE.search(node.value):
                matching.append(node)
        for node in matching:
            if id(node) not in docstrings:
                offenders += [f"{path.relative_to(ROOT)}:{node.lineno}: {form}" for form in inclusive_forms(node.value)]

    assert offenders == []


@pytest.mark.parametrize(
    ("name", "of", "at"),
    [
        ("Arras", "d'Arras", "à Arras"),
        ("Lille", "de Lille", "à Lille"),
        ("Évreux", "d'Évreux", "à Évreux"),
        ("Hénin-Beaumont", "d'Hénin-Beaumont", "à Hénin-Beaumont"),
        ("Yvetot", "d'Yvetot", "à Yvetot"),
        ("Yasmine Benali", "de Yasmine Benali", "à Yasmine Benali"),
        ("Le Havre (76)", "du Havre (76)", "au Havre (76)"),
        ("Les Mureaux", "des Mureaux", "aux Mureaux"),
        ("La Madeleine", "de La Madeleine", "à La Madeleine"),
        ("APP Roubaix", "d'APP Roubaix", "à APP Roubaix"),
        ("Leers", "de Leers", "à Leers"),
    ],
)
def test_names_are_elided_and_contracted(name, of, at):
    from clea_platform.french import at_name, of_name

    assert (of_name(name), at_name(name)) == (of, at)
    template = engines["django"].from_string("{% load french %}{{ name|de }} / {{ name|a }}")
    assert template.render({"name": name}) == f"{of} / {at}".replace("'", "&#x27;")


@pytest.mark.django_db
def test_the_dossier_page_agrees_with_the_candidate_s_civility(client_for):
    from django.urls import reverse

    from tests.journey import DossierFactory

    dossier = DossierFactory(first_name="Aïcha")
    candidate = dossier.candidate
    candidate.birth_name = "Martin"
    candidate.save(update_fields=["birth_name"])
    url = reverse("journey:dossier_detail", args=[dossier.pk])

    woman = client_for(dossier.team.counsellor).get(url).content.decode()
    candidate.civility = "m"
    candidate.save(update_fields=["civility"])
    man = client_for(dossier.team.counsellor).get(url).content.decode()

    assert "Demandeuse d&#x27;emploi" in woman and "(née Martin)" in woman
    assert "Demandeur d&#x27;emploi" in man and "(né Martin)" in man
    assert "·" not in woman.split("Statut à l")[1].split("</dd>")[0]


@pytest.mark.django_db
def test_the_certificate_and_the_attestation_agree_with_the_candidate():
    from django.template.loader import render_to_string

    from evaluations.services import attestation_statement
    from juries.services import certificate_mastery
    from tests.journey import DossierFactory

    dossier = DossierFactory(first_name="Aïcha")
    candidate = dossier.candidate
    # The sentences that agree are built with the PDFs' context (the services), then printed by the templates.
    statement = attestation_statement(
        candidate, organisation=dossier.organisation.name, certification=dossier.get_certification_display()
    )
    context = {
        "dossier": dossier,
        "candidate": candidate,
        "organisation": dossier.organisation,
        "statement": statement,
        "mastery": certificate_mastery(candidate),
    }

    attestation = " ".join(render_to_string("documents/attestation.html", context).split())
    certificate = " ".join(render_to_string("documents/certificate.html", context).split())

    assert "atteste que Madame" in attestation and "née le 12/04/1985" in attestation
    assert "née le 12/04/1985" in certificate
    assert "·" not in attestation
