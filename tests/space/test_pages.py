"""What the candidate sees (issue 18): the steps, what is acquired and what remains, the documents, the consent and
its withdrawal, the data."""

from __future__ import annotations

import datetime
import io
import json

import pytest
from django.urls import reverse
from pypdf import PdfReader

from candidates.models import CorrectionRequest, DossierEvent, DossierState
from candidates.services import correction_request_answer
from credentials.verify import credential_verify
from evaluations.models import Evaluation
from evaluations.services import attestation_generate
from juries.services import decision_revoke
from notifications.models import Notification
from organisations.models import AuditLog, Membership
from tests.journey import DossierFactory
from tests.juries.factories import certified, make_certifpro
from tests.scheduling import book
from tests.space.support import candidate_client

pytestmark = pytest.mark.django_db


def content(response) -> str:
    return b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()


@pytest.fixture
def in_training(org_a):
    return DossierFactory(organisation=org_a, state="in_training", email="t@exemple.fr")


def test_one_dossier_goes_straight_to_its_page(in_training):
    response = candidate_client(in_training).get(reverse("space:home"))
    assert response.status_code == 302 and response["Location"] == reverse("space:dossier", args=[in_training.pk])


def test_the_dossier_page_shows_the_four_steps_and_marks_the_current_one(in_training):
    response = candidate_client(in_training).get(reverse("space:dossier", args=[in_training.pk]))
    page = response.content.decode()
    steps = [(item.step.number, item.status) for item in response.context["page"].steps]
    assert steps == [(1, "done"), (2, "done"), (3, "current"), (4, "todo")]
    assert page.count('aria-current="step"') == 1
    assert "Je suis en formation." in page
    plan = in_training.training_plans.get()
    assert plan.trainer.get_full_name() in page  # who does the next thing
    assert in_training.counsellor.get_full_name() in page  # whom to call


def test_the_next_appointment_is_shown_with_its_calendar_file(org_a):
    dossier = DossierFactory(organisation=org_a, opened=True, email="r@exemple.fr")
    appointment = book(dossier)
    client = candidate_client(dossier)
    page = client.get(reverse("space:dossier", args=[dossier.pk])).content.decode()
    ics_url = reverse("space:appointment_ics", args=[appointment.pk])
    assert ics_url in page and appointment.site.name in page
    ics = client.get(ics_url)
    assert ics["Content-Type"].startswith("text/calendar") and b"BEGIN:VEVENT" in ics.content


def test_acquired_and_remaining_in_plain_words(in_training):
    response = candidate_client(in_training).get(reverse("space:acquired", args=[in_training.pk]))
    page = response.content.decode()
    # The test référentiel: domain 1 acquired, 2.1 short of 2.1.3 and 2.1.4 (tests/journey PRIOR_WITH_GAPS).
    acquisitions = response.context["acquisitions"]
    assert [d.code for d in acquisitions.acquired] == ["1"]
    assert [d.code for d in acquisitions.remaining] == ["2"]
    assert "Parler, lire et écrire en français" in page  # the plain title of CléA's domain 1
    assert "Critère 2.1.3" in page and "Critère 2.1.4" in page
    assert "Critère 2.1.1" not in page


def test_before_any_evaluation_nothing_is_acquired_yet(org_a):
    dossier = DossierFactory(organisation=org_a, opened=True, email="o@exemple.fr")
    page = candidate_client(dossier).get(reverse("space:acquired", args=[dossier.pk])).content.decode()
    assert "Je n'ai pas encore fait mon bilan" in page


def test_the_attestation_downloads_as_a_pdf(org_a):
    dossier = DossierFactory(organisation=org_a, state="partially_validated", email="p@exemple.fr")
    attestation = attestation_generate(evaluation_id=Evaluation.objects.get(dossier=dossier).pk)
    client = candidate_client(dossier)
    page = client.get(reverse("space:documents")).content.decode()
    url = reverse("space:attestation_download", args=[attestation.pk])
    assert url in page
    response = client.get(url)
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_the_certificate_comes_with_its_verification_link_and_qr_code(db):
    _jury, _submission, certificate = certified(email="cert@exemple.fr")
    page = candidate_client(certificate.dossier).get(reverse("space:documents")).content.decode()
    assert reverse("certificate_verify", args=[certificate.verification_code]) in page
    assert "<svg" in page and "Code QR" in page
    assert reverse("space:certificate_download", args=[certificate.pk]) in page
    credential_url = reverse("space:credential_download", args=[certificate.pk])
    assert credential_url in page and reverse("certificate_verify_form") in page


def test_the_credential_downloads_and_verifies_as_the_holder_s(db):
    _jury, _submission, certificate = certified(email="badge@exemple.fr")
    response = candidate_client(certificate.dossier).get(reverse("space:credential_download", args=[certificate.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vc+jwt"
    assert f"clea-{certificate.number}.jwt" in response["Content-Disposition"]
    verdict = credential_verify(response.content)
    assert verdict.valid and not verdict.revoked


def test_a_revoked_certificate_is_no_longer_offered_nor_its_credential(db):
    jury, _submission, certificate = certified(email="revoked@exemple.fr")
    decision_revoke(decision=certificate.decision, by=make_certifpro(), reason="Fraude établie")
    client = candidate_client(certificate.dossier)
    assert (
        reverse("space:credential_download", args=[certificate.pk])
        not in client.get(reverse("space:documents")).content.decode()
    )
    assert client.get(reverse("space:credential_download", args=[certificate.pk])).status_code == 404


def test_a_correction_request_reaches_the_counsellor_and_its_answer_comes_back(in_training):
    client = candidate_client(in_training)
    url = reverse("space:data")
    empty = client.post(url, {"message": "  "})
    assert empty.status_code == 400
    assert "Écrivez ce qui est faux dans vos données." in empty.content.decode()
    assert not CorrectionRequest.objects.exists()

    response = client.post(url, {"message": "Mon nom s'écrit Lefèvre, avec un accent."}, follow=True)
    assert response.redirect_chain == [(url, 302)]
    assert "Ma demande est envoyée." in response.content.decode()  # the layout's messages (includes/messages.html)
    correction = CorrectionRequest.objects.get()
    assert correction.dossier == in_training and correction.candidate == in_training.candidate
    assert Notification.objects.filter(kind="correction_requested", recipient=in_training.counsellor).exists()
    page = client.get(url).content.decode()
    assert "Lefèvre" in page and "Pas encore de réponse." in page

    counsellor = Membership.objects.get(user=in_training.counsellor, organisation=in_training.organisation)
    correction_request_answer(correction=correction, by=counsellor, answer="Le nom est corrigé.")
    page = client.get(url).content.decode()
    assert "Le nom est corrigé." in page and "Pas encore de réponse." not in page


def test_a_person_with_two_organisations_says_which_dossier_the_request_is_about(org_a, org_b):
    first = DossierFactory(organisation=org_a, in_training=True, email="deux@exemple.fr")
    second = DossierFactory(
        organisation=org_b,
        certification="clea_numerique",
        opened=True,
        email="DEUX@exemple.fr",
        first_name=first.candidate.first_name,
        last_name=first.candidate.last_name,
    )
    client = candidate_client(first)
    url = reverse("space:data")
    missing = client.post(url, {"message": "Mon adresse a changé."})
    assert missing.status_code == 400 and "Choisissez le dossier." in missing.content.decode()
    assert client.post(url, {"message": "Mon adresse a changé.", "dossier": str(second.pk)}).status_code == 302
    correction = CorrectionRequest.objects.get()
    assert correction.organisation == org_b and correction.candidate == second.candidate


def test_the_consent_page_shows_the_text_and_its_date(in_training):
    page = candidate_client(in_training).get(reverse("space:consent", args=[in_training.pk])).content.decode()
    assert in_training.consent_text.split()[0] in page
    assert f"{in_training.consent_at:%Y}" in page


def test_withdrawing_consent_says_what_it_means_then_withdraws_the_dossier(in_training):
    client = candidate_client(in_training)
    url = reverse("space:consent_withdraw", args=[in_training.pk])
    confirm = client.get(url).content.decode()
    assert "Mon parcours s'arrête" in confirm and "Mes attestations restent à moi" in confirm
    in_training.refresh_from_db()
    assert in_training.is_open  # the page alone changes nothing

    response = client.post(url)

    assert response.status_code == 302
    in_training.refresh_from_db()
    assert in_training.state == DossierState.WITHDRAWN
    event = DossierEvent.objects.filter(dossier=in_training, transition="withdraw").get()
    assert event.actor is None and "Par la personne candidate" in event.note
    audit = AuditLog.objects.get(action="dossier.withdraw", object_id=str(in_training.pk))
    assert audit.details["by_candidate"] is True and audit.actor is None


def test_my_data_downloads_as_json_and_as_a_readable_pdf(in_training):
    client = candidate_client(in_training)
    data = json.loads(client.get(reverse("space:data_json")).content)
    [record] = data["fiches"]
    assert record["dossiers"][0]["référence"] == in_training.reference
    pdf = client.get(reverse("space:data_pdf"))
    assert pdf["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert in_training.reference in text
    assert AuditLog.objects.filter(action="space.data_export").count() == 2


def test_a_closed_dossier_says_so_and_offers_no_withdrawal(org_a):
    dossier = DossierFactory(organisation=org_a, withdrawn=True, email="w@exemple.fr")
    client = candidate_client(dossier)
    page = client.get(reverse("space:dossier", args=[dossier.pk])).content.decode()
    assert "Mon dossier est fermé" in page and 'aria-current="step"' not in page
    assert (
        reverse("space:consent_withdraw", args=[dossier.pk])
        not in client.get(reverse("space:consent", args=[dossier.pk])).content.decode()
    )


def test_birth_date_is_part_of_the_person(org_a):
    """Two people sharing an address (a couple's mailbox) are two people: the birth date tells them apart."""
    one = DossierFactory(
        organisation=org_a, opened=True, email="famille@exemple.fr", birth_date=datetime.date(1980, 1, 1)
    )
    two = DossierFactory(
        organisation=org_a, opened=True, email="famille@exemple.fr", birth_date=datetime.date(1982, 1, 1)
    )
    client = candidate_client(one)
    assert client.get(reverse("space:dossier", args=[two.pk])).status_code == 404


def test_the_counsellor_hears_that_the_candidate_withdrew(in_training):
    candidate_client(in_training).post(reverse("space:consent_withdraw", args=[in_training.pk]))
    told = Notification.objects.get(kind="dossier_withdrawn")
    assert told.recipient_id == in_training.counsellor_id
    assert told.body == "Retrait de son accord par la personne candidate"


def test_a_dossier_that_needed_no_training_says_so(db):
    _jury, _submission, certificate = certified(email="direct@exemple.fr")
    response = candidate_client(certificate.dossier).get(reverse("space:dossier", args=[certificate.dossier_id]))
    assert [item.status for item in response.context["page"].steps] == ["done", "done", "skipped", "done"]
    assert "Pas besoin : je savais déjà tout." in response.content.decode()
