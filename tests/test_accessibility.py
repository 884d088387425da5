"""The declaration of accessibility (issue 15): public, in the RGAA 4.1 model's sections, linked from every page."""

import pytest
from django.urls import reverse

from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

RGAA_SECTIONS = [
    "État de conformité",
    "Résultats des tests",
    "Contenus non accessibles",
    "Établissement de cette déclaration d'accessibilité",
    "Technologies utilisées pour la réalisation de la plateforme",
    "Environnement de test",
    "Retour d'information et contact",
    "Voies de recours",
]


def test_the_declaration_is_public_and_has_every_section_of_the_rgaa_model(client, settings):
    settings.ACCESSIBILITY_CONTACT_EMAIL = "a11y@certifpro.example"
    response = client.get("/accessibilite/")
    assert response.status_code == 200
    html = response.content.decode()
    for section in RGAA_SECTIONS:
        assert f">{section}</h" in html.replace("&#x27;", "'"), section
    assert "partiellement conforme" in html
    assert 'href="mailto:a11y@certifpro.example"' in html
    assert "Défenseur des droits" in html
    # What issue 15 has not yet fixed is declared, and no conformity rate is claimed without a full audit.
    assert "numéros de page" in html
    # What it has fixed is no longer declared: the middle-dot forms (tests/test_french.py), the commune suggestions
    # (a combobox) and a funding batch's progress.
    for fixed in ("point médian", "suggestions de communes", "lot de financement"):
        assert fixed not in html, fixed
    # The text spacing and 200 % zoom checks (tests/browser/test_text_spacing.py) are among the tests declared.
    results = html.split("Résultats des tests")[1].split("Contenus non accessibles")[0]
    assert "espacement du texte" in results and "zoom à 200 %" in results
    assert "%" not in html.split("Résultats des tests")[1].split("Contenus non accessibles")[0].replace("200 %", "")


@pytest.mark.parametrize("logged_in", [False, True])
def test_every_page_links_to_the_declaration_in_its_footer(client, logged_in):
    if logged_in:
        client.force_login(MembershipFactory().user)
    html = client.get(reverse("login") if not logged_in else reverse("home")).content.decode()
    footer = html.split('<footer class="site-footer"')[1]
    assert f'href="{reverse("accessibility")}"' in footer
