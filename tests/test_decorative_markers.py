"""Decorative markers are hidden from assistive technology (issue 15): a screen reader reads "→" as "flèche
droite", "·" as "point", "✕" as "croix". Every such character written by a template sits in an element with
aria-hidden="true" (next to words that say the same thing when it means something, like "vers" for an arrow), and
every marker the stylesheet generates has an empty alternative (`content: "✓" / ""`)."""

import re
from pathlib import Path

from django.conf import settings

TEMPLATES = Path(settings.BASE_DIR) / "templates"
STYLESHEET = Path(settings.BASE_DIR) / "static" / "css" / "clea.css"

# Arrows, ticks, crosses, bullets, chevrons, stars, the information sign; the middle dot as a separator (between
# letters it is inclusive writing, a matter of wording: "Candidat·e").
MARKERS = re.compile(r"[←↑→↓↗✓✔✕✖✗•‣›‹▸▶◂◀★☆ℹ]|(?<!\w)·|·(?!\w)")

# Templates where such a character is right, and why.
ALLOWED = {
    # Printed documents are PDF, where aria-hidden means nothing; their tagging (PDF/UA, artifacts) is issue 15's
    # documents part.
    "documents/": "PDF templates",
}

COMMENTS = re.compile(r"\{#.*?#\}|\{% comment %\}.*?\{% endcomment %\}|<!--.*?-->", re.S)
ARIA_HIDDEN = re.compile(r'<(\w+)\b[^>]*\baria-hidden="true"[^>]*>.*?</\1>', re.S)


def unhidden_markers(source: str) -> list[str]:
    """The markers left once comments and aria-hidden elements are removed, each with a little context."""
    text = ARIA_HIDDEN.sub("", COMMENTS.sub("", source))
    return [text[max(0, m.start() - 30) : m.end() + 30].replace("\n", " ") for m in MARKERS.finditer(text)]


def test_the_check_sees_a_bare_marker_and_accepts_a_hidden_one():
    assert unhidden_markers("<p>Ouvert → Clos</p>")
    assert unhidden_markers("<a>CSV</a> · <a>PDF</a>")
    assert not unhidden_markers('<p>Ouvert <span aria-hidden="true">→</span><span>vers</span> Clos</p>')
    assert not unhidden_markers("<th>Candidat·e</th>")
    assert not unhidden_markers("{# Dossiers › dossier #}<p>Dossiers</p>")


def test_no_template_shows_a_decorative_marker_to_assistive_technology():
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        name = path.relative_to(TEMPLATES).as_posix()
        if any(name.startswith(prefix) for prefix in ALLOWED):
            continue
        found += [f"{name}: …{context}…" for context in unhidden_markers(path.read_text())]
    assert not found, 'Wrap these in <span aria-hidden="true">:\n' + "\n".join(found)


# Generated content that carries meaning, and why.
ALLOWED_CONTENT = {
    'content: " (" attr(href) ")";': "print stylesheet: a printed link shows its address",
}


def test_every_marker_the_stylesheet_generates_has_an_empty_alternative():
    css = re.sub(r"/\*.*?\*/", "", STYLESHEET.read_text(), flags=re.S)
    found = []
    for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        declarations = [d.strip() + ";" for d in body.split(";") if d.strip().startswith("content:")]
        shown = [d for d in declarations if d not in ALLOWED_CONTENT and re.search(r'"[^"]*\S[^"]*"', d)]
        if shown and not any(re.search(r'/\s*""\s*;$', d) for d in declarations):
            found.append(f"{selector.strip()}: {shown}")
    assert not found, 'Give these an empty alternative (content: "x" / ""):\n' + "\n".join(found)
