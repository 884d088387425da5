"""The stylesheet's markers are silent in Chromium's accessibility tree (issue 15): "✕", "✓", "›" are shown, not
read. The template side is checked without a browser in tests/test_decorative_markers.py."""

from pathlib import Path

import pytest
from django.conf import settings

pytestmark = [pytest.mark.browser]

STYLESHEET = Path(settings.BASE_DIR) / "static" / "css" / "clea.css"


def test_the_message_error_and_breadcrumb_markers_are_not_read(page):
    page.set_content(
        '<html lang="fr"><main><div class="messages"><p class="message--error">Dossier refusé</p>'
        '<p class="message--success">Dossier ouvert</p></div>'
        '<ul class="errorlist"><li>Ce champ est obligatoire.</li></ul>'
        '<nav class="breadcrumbs" aria-label="Fil d’Ariane"><ol><li><a href="/">Accueil</a></li>'
        '<li aria-current="page">Dossier</li></ol></nav></main></html>'
    )
    page.add_style_tag(path=str(STYLESHEET))
    shown = page.locator(".message--error").evaluate("p => getComputedStyle(p, '::before').content")
    assert "✕" in shown  # still on screen
    tree = page.locator("main").aria_snapshot()
    assert "Dossier refusé" in tree and "Accueil" in tree
    for marker in ("✕", "✓", "›"):
        assert marker not in tree, tree
