"""The certificate agrees with its holder's civility (issue 14): "née le" for Madame, "né le" for Monsieur, a
wording without gender marks when the civility is unknown."""

import uuid

import pytest
from pypdf import PdfReader

from candidates.models import Candidate
from juries.services import certificate_regenerate
from tests.juries.factories import certified

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_in_tmp_path(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def pdf_text(path: str) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(path).pages).split())


def test_the_certificate_agrees_with_the_civility_and_is_neutral_when_it_is_unknown():
    _jury, _submission, certificate = certified()  # the factories' candidates are "Madame"
    text = pdf_text(certificate.file.path)
    assert "née le 12/04/1985, ayant maîtrisé" in text
    assert "·e" not in text

    for civility, expected in [("m", "né le 12/04/1985, ayant maîtrisé"), ("", "(date de naissance : 12/04/1985)")]:
        Candidate.objects.filter(pk=certificate.dossier.candidate_id).update(civility=civility)

        again = certificate_regenerate(
            document_id=certificate.pk, regeneration=str(uuid.uuid4()), by_id=None, reason="Civilité corrigée"
        )
        text = pdf_text(again.file.path)
        assert expected in text
        assert "née" not in text and "·e" not in text
