from pathlib import Path

import pytest
from django.conf import settings

from organisations.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"


def test_counsellor_logs_in_and_sees_the_dashboard(page, live_server, org_a, make_member):
    from tests.factories import TEST_PASSWORD

    make_member(org_a, role=Role.COUNSELLOR, email="camille@exemple.fr", first_name="Camille")
    page.goto(f"{live_server.url}/")
    assert page.url.startswith(f"{live_server.url}/compte/connexion/")
    page.get_by_label("Adresse e-mail").fill("camille@exemple.fr")
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Bonjour Camille"
    assert page.get_by_text("Aucun dossier pour le moment.").is_visible()
    # Accessibility basics: the skip link targets the main landmark.
    assert page.locator("a.skip-link").get_attribute("href") == "#contenu"
    assert page.locator("main#contenu").count() == 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "counsellor-dashboard.png"), full_page=True)
    assert (ARTIFACTS / "counsellor-dashboard.png").stat().st_size > 1000
