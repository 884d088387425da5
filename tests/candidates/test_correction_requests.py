"""A candidate's request to correct their data (GDPR art. 16): written from their space, waiting in the counsellors'
« À faire », answered once on its page, told to the counsellor and, if they agreed, to the candidate."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from candidates.models import CorrectionRequest, CorrectionState, Dossier, DossierEvent
from candidates.services import CorrectionAlreadyAnswered, correction_request_answer, correction_request_create
from journey.selectors import work_queue
from notifications.models import Notification
from organisations.models import AuditLog, Role
from outbox.models import SideEffect
from outbox.services import side_effect_run
from privacy.exports import person_data
from privacy.selectors import person_key, person_records
from privacy.services import candidate_anonymise
from tests.clients import page_text
from tests.journey import DossierFactory

pytestmark = pytest.mark.django_db

MESSAGE = "Mon nom s'écrit Lefèvre, avec un accent, et j'habite 12 rue des Lilas."
ANSWER = "C'est corrigé : votre nom porte maintenant son accent."


def url(correction: CorrectionRequest) -> str:
    return reverse("candidates:correction_request", kwargs={"pk": correction.pk})


@pytest.fixture
def dossier(org_a) -> Dossier:
    return DossierFactory(organisation=org_a, state="opened")


def ask(dossier: Dossier, message: str = MESSAGE) -> CorrectionRequest:
    return correction_request_create(candidate=dossier.candidate, dossier=dossier, message=message)


def consenting(dossier: Dossier) -> Dossier:
    Dossier.objects.filter(pk=dossier.pk).update(notify_by_email=True, notify_by_email_at=timezone.now())
    dossier.refresh_from_db()
    return dossier


# -- Asking ------------------------------------------------------------------------------------------------------


def test_the_candidate_s_request_waits_open_and_its_traces_never_quote_it(dossier):
    correction = ask(dossier, f"  {MESSAGE}  ")

    correction.refresh_from_db()
    assert correction.state == CorrectionState.OPEN and correction.message == MESSAGE
    assert (correction.organisation_id, correction.candidate_id) == (dossier.organisation_id, dossier.candidate_id)
    assert list(CorrectionRequest.objects.open()) == [correction]
    audit = AuditLog.objects.get(action="candidate.correction_request")
    assert audit.actor is None and audit.organisation_id == dossier.organisation_id
    assert audit.details == {"by": "candidate", "candidate": dossier.candidate_id, "dossier": dossier.pk}
    event = DossierEvent.objects.get(dossier=dossier, transition="correction_request")
    assert event.note == "Demande de rectification de ses données envoyée par la personne candidate."
    assert "Lefèvre" not in str(audit.details) + audit.object_repr + event.note


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ("   ", "Indiquez ce qui est à corriger dans vos données."),
        ("x" * 2001, "Le texte ne doit pas dépasser 2000 caractères (il en compte 2001)."),
    ],
)
def test_an_empty_or_too_long_message_is_refused_in_french_and_nothing_is_written(dossier, message, error):
    with pytest.raises(ValidationError) as refused:
        ask(dossier, message)
    assert refused.value.message_dict == {"message": [error]}
    assert not CorrectionRequest.objects.exists()
    assert not AuditLog.objects.filter(action="candidate.correction_request").exists()
    assert not Notification.objects.filter(kind="correction_requested").exists()


def test_a_request_names_only_the_candidate_s_own_dossier(dossier, org_a):
    someone_else = DossierFactory(organisation=org_a, state="opened")
    with pytest.raises(PermissionDenied):
        correction_request_create(candidate=dossier.candidate, dossier=someone_else, message=MESSAGE)
    assert not CorrectionRequest.objects.exists()


def test_an_anonymised_person_has_nothing_left_to_correct(dossier):
    candidate_anonymise(candidate=dossier.candidate, now=timezone.now())
    dossier.candidate.refresh_from_db()
    with pytest.raises(PermissionDenied):
        ask(dossier)


def test_the_dossier_s_counsellor_is_told_with_a_link_to_the_request_and_an_email(dossier, org_b, make_member):
    bystander = make_member(org_b, role=Role.COUNSELLOR)
    colleague = make_member(dossier.organisation, role=Role.COUNSELLOR)

    correction = ask(dossier)

    [notification] = Notification.objects.filter(kind="correction_requested")
    assert notification.recipient_id == dossier.team.counsellor.user_id
    assert notification.organisation_id == dossier.organisation_id
    assert notification.url == url(correction)
    assert dossier.reference in notification.title
    assert MESSAGE not in notification.body  # the request stays on the platform
    assert not Notification.objects.filter(recipient__in=[bystander.user, colleague.user]).exists()
    assert SideEffect.objects.filter(key=f"notification_email:{notification.pk}").exists()


def test_without_a_dossier_named_the_latest_dossier_s_counsellor_is_told(dossier):
    correction = correction_request_create(candidate=dossier.candidate, message=MESSAGE)
    assert correction.dossier is None
    [notification] = Notification.objects.filter(kind="correction_requested")
    assert notification.recipient_id == dossier.team.counsellor.user_id
    assert not DossierEvent.objects.filter(transition="correction_request").exists()


# -- The counsellors' queue and the dossier page -------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.COUNSELLOR, Role.ORG_ADMIN])
def test_the_request_waits_in_the_queue_of_the_organisation_s_counsellors_and_administrator(
    role, dossier, org_b, make_member
):
    correction = ask(dossier)
    ask(DossierFactory(organisation=org_b, state="opened"))  # another organisation's

    queue = work_queue(make_member(dossier.organisation, role=role), limit=20)

    [item] = [item for item in queue.items if item.kind == "correction_request"]
    assert item.url == url(correction)
    assert item.action == "Répondre à la demande de rectification"
    assert item.subject == str(dossier.candidate) and item.detail == dossier.reference
    assert item.since == timezone.localdate()

    correction_request_answer(correction=correction, by=dossier.team.counsellor, answer=ANSWER)
    queue = work_queue(make_member(dossier.organisation, role=role), limit=20)
    assert not [item for item in queue.items if item.kind == "correction_request"]


def test_the_home_page_links_the_request(dossier, client_for):
    correction = ask(dossier)
    page = page_text(client_for(dossier.team.counsellor).get(reverse("home")))
    assert f'href="{url(correction)}"' in page and "Répondre à la demande de rectification" in page


def test_the_dossier_page_shows_the_open_requests_until_answered(dossier, client_for, make_member):
    correction = ask(dossier)
    detail = reverse("journey:dossier_detail", kwargs={"pk": dossier.pk})
    page = page_text(client_for(dossier.team.counsellor).get(detail))
    assert "1 demande de rectification à traiter" in page and url(correction) in page
    # An evaluator reads that there is one, and has no page to answer it from.
    page = page_text(client_for(make_member(dossier.organisation, role=Role.EVALUATOR)).get(detail))
    assert "1 demande de rectification à traiter" in page and url(correction) not in page

    correction_request_answer(correction=correction, by=dossier.team.counsellor, answer=ANSWER)
    assert "demande de rectification à traiter" not in page_text(client_for(dossier.team.counsellor).get(detail))


# -- The page of the request and the answer ------------------------------------------------------------------------


def test_the_page_shows_the_request_the_current_data_and_the_correction_form_s_link(dossier, client_for):
    correction = ask(dossier)
    page = page_text(client_for(dossier.team.counsellor).get(url(correction)))
    candidate = dossier.candidate
    assert MESSAGE in page
    assert candidate.last_name in page and candidate.email in page and f"{candidate.birth_date:%d/%m/%Y}" in page
    assert reverse("candidates:candidate_correct", kwargs={"pk": dossier.pk}) in page
    assert '<label for="id_answer"' in page and "Marquer comme traitée" in page


def test_the_counsellor_answers_and_the_request_is_handled(dossier, client_for):
    correction = ask(dossier)
    counsellor = dossier.team.counsellor

    response = client_for(counsellor).post(url(correction), {"answer": f" {ANSWER} "}, follow=True)

    page = page_text(response)
    assert "La demande est traitée : la personne lira votre réponse dans son espace." in page
    assert ANSWER in page and "Marquer comme traitée" not in page
    correction.refresh_from_db()
    assert correction.state == CorrectionState.ANSWERED and correction.answer == ANSWER
    assert correction.answered_by == counsellor.user and correction.answered_at is not None
    audit = AuditLog.objects.get(action="candidate.correction_answer")
    assert audit.actor == counsellor.user and audit.details == {"candidate": dossier.candidate_id}
    assert DossierEvent.objects.get(transition="correction_answer").actor == counsellor.user


def test_an_empty_answer_is_refused_on_its_field(dossier, client_for):
    correction = ask(dossier)
    response = client_for(dossier.team.counsellor).post(url(correction), {"answer": "  "})
    assert response.status_code == 200
    page = page_text(response)
    assert "Indiquez votre réponse à la personne." in page and 'id="id_answer_errors"' in page
    correction.refresh_from_db()
    assert correction.state == CorrectionState.OPEN


def test_a_second_answer_is_refused(dossier, client_for, make_member):
    correction = ask(dossier)
    correction_request_answer(correction=correction, by=dossier.team.counsellor, answer=ANSWER)
    admin = make_member(dossier.organisation, role=Role.ORG_ADMIN)

    with pytest.raises(CorrectionAlreadyAnswered):
        correction_request_answer(correction=correction, by=admin, answer="Autre chose.")
    # From a page loaded before the first answer: told, and nothing changes.
    response = client_for(admin).post(url(correction), {"answer": "Autre chose."}, follow=True)
    assert "Cette demande de rectification est déjà traitée." in page_text(response)
    correction.refresh_from_db()
    assert correction.answer == ANSWER and correction.answered_by == dossier.team.counsellor.user
    assert AuditLog.objects.filter(action="candidate.correction_answer").count() == 1


def test_the_candidate_who_agreed_is_emailed_to_read_the_answer_in_their_space(org_a, settings):
    settings.SITE_URL = "https://clea.exemple.fr"
    dossier = consenting(DossierFactory(organisation=org_a, state="opened"))
    correction = ask(dossier)
    mail.outbox.clear()

    correction_request_answer(correction=correction, by=dossier.team.counsellor, answer=ANSWER)

    [notification] = Notification.objects.filter(kind="correction_answered")
    assert notification.recipient is None and notification.recipient_email == dossier.candidate.email
    assert notification.url == "/mon-espace/"
    side_effect_run(SideEffect.objects.get(key=f"notification_email:{notification.pk}").pk)
    [message] = mail.outbox
    assert message.to == [dossier.candidate.email]
    assert message.subject == "CléA : Votre demande de correction a reçu une réponse"
    assert "https://clea.exemple.fr/mon-espace/" in message.body
    assert ANSWER not in message.body  # read in their space, not left in a mailbox


def test_the_candidate_who_did_not_agree_hears_nothing_and_no_staff_is_told(dossier):
    correction = ask(dossier)
    correction_request_answer(correction=correction, by=dossier.team.counsellor, answer=ANSWER)
    assert not Notification.objects.filter(kind="correction_answered").exists()


# -- Who may answer ---------------------------------------------------------------------------------------------------


def test_another_organisation_s_counsellor_gets_404_and_cannot_answer(dossier, org_b, make_member, client_for):
    correction = ask(dossier)
    outsider = make_member(org_b, role=Role.COUNSELLOR)
    assert client_for(outsider).get(url(correction)).status_code == 404
    assert client_for(outsider).post(url(correction), {"answer": ANSWER}).status_code == 404
    with pytest.raises(PermissionDenied):
        correction_request_answer(correction=correction, by=outsider, answer=ANSWER)
    correction.refresh_from_db()
    assert correction.state == CorrectionState.OPEN


@pytest.mark.parametrize("role", [Role.EVALUATOR, Role.TRAINER, Role.CERTIFPRO_ADMIN])
def test_only_counsellors_and_administrators_answer(role, dossier, make_member, client_for):
    correction = ask(dossier)
    member = make_member(None if role == Role.CERTIFPRO_ADMIN else dossier.organisation, role=role)
    assert client_for(member).get(url(correction)).status_code == 403
    with pytest.raises(PermissionDenied):
        correction_request_answer(correction=correction, by=member, answer=ANSWER)


# -- The person's data ----------------------------------------------------------------------------------------------


def test_the_request_is_in_the_person_s_data_and_anonymising_blanks_it(dossier):
    correction = ask(dossier)
    correction_request_answer(correction=correction, by=dossier.team.counsellor, answer=ANSWER)

    [fiche] = person_data(person_records(person_key(dossier.candidate)))["fiches"]
    [exported] = fiche["demandes de rectification"]
    assert (exported["demande"], exported["réponse"], exported["état"]) == (MESSAGE, ANSWER, "Traitée")

    candidate_anonymise(candidate=dossier.candidate, now=timezone.now())
    correction.refresh_from_db()
    assert (correction.message, correction.answer) == ("", "")
