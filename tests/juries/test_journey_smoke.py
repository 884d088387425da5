import pytest
from pypdf import PdfReader

from juries.models import Certificate, DecisionKind, SessionMinutes
from juries.services import (
    decision_record,
    dossier_submit_to_jury,
    jury_session_close,
    jury_session_convene,
    jury_session_start_deliberation,
)
from tests.journey import DossierFactory
from tests.juries.factories import everyone_present, make_jury, session_day

pytestmark = pytest.mark.django_db


def test_a_dossier_goes_from_ready_to_certified_with_minutes_and_certificate(django_capture_on_commit_callbacks):
    jury = make_jury()
    dossier = DossierFactory(state="ready_for_jury")
    submission = dossier_submit_to_jury(dossier=dossier, session=jury.session, by=dossier.team.counsellor)
    with django_capture_on_commit_callbacks(execute=True):
        session = jury_session_convene(session=jury.session, by=jury.admin)
    session = jury_session_start_deliberation(
        session=session_day(session), by=jury.president, attendance=everyone_present(session)
    )
    decision_record(submission=submission, by=jury.president, kind=DecisionKind.AWARDED)
    with django_capture_on_commit_callbacks(execute=True):
        jury_session_close(session=session, by=jury.president)
    dossier.refresh_from_db()
    assert dossier.state == "certified"
    certificate = Certificate.objects.get(dossier=dossier)
    text = "".join(page.extract_text() for page in PdfReader(certificate.file.path).pages)
    assert certificate.verification_code in text
    minutes = SessionMinutes.objects.get(session=jury.session)
    minutes_text = "".join(page.extract_text() for page in PdfReader(minutes.file.path).pages)
    assert dossier.reference in minutes_text
