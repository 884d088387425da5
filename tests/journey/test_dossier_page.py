"""The dossier page as its counsellor reads it once the journey is over (issue 14)."""

import pytest
from django.urls import reverse

from juries.services import verification_url
from tests.journey import DossierFactory
from tests.juries.factories import certified

pytestmark = pytest.mark.django_db

DEADLINE_LINE = "Évaluation finale à réaliser au plus tard le"


def test_a_certified_dossier_shows_its_certificate_and_no_stale_deadline(client_for):
    _jury, submission, certificate = certified()
    dossier = submission.dossier
    assert dossier.deadline is not None, "the 5-year window was opened by the prior evaluation"

    page = client_for(dossier.team.counsellor).get(reverse("journey:dossier_detail", args=[dossier.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert reverse("juries:certificate_download", args=[certificate.pk]) in html
    verify = reverse("certificate_verify", args=[certificate.verification_code])
    assert f'href="{verify}"' in html and verification_url(certificate).endswith(verify)
    assert DEADLINE_LINE not in html
    assert client_for(dossier.team.counsellor).get(verify).status_code == 200


def test_the_deadline_still_shows_while_the_final_evaluation_is_due(client_for):
    dossier = DossierFactory(state="partially_validated")
    page = client_for(dossier.team.counsellor).get(reverse("journey:dossier_detail", args=[dossier.pk]))
    assert DEADLINE_LINE in page.content.decode()
