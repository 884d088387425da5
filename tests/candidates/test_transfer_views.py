"""The new organisation takes in a dossier (issue 19): found by reference and birth date, the person's agreement to
the text read to them, the move; French messages through the error summary."""

from __future__ import annotations

import datetime
import html

import pytest
from django.urls import reverse

from candidates.forms import TRANSFER_CONSENT_TEXT
from candidates.models import CorrectionRequest, DossierTransfer
from candidates.services import correction_request_create
from organisations.models import Role
from tests.candidates.transfer_support import move, new_organisation
from tests.clients import logged_in_client
from tests.factories import MembershipFactory
from tests.journey import DossierFactory
from tests.juries.factories import make_jury, submit

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


URL = "candidates:transfer"


def _found(dossier) -> dict[str, str]:
    return {"reference": dossier.reference, "birth_date": dossier.candidate.birth_date.isoformat()}


def test_the_counsellor_finds_the_dossier_records_the_consent_and_takes_it_in():
    dossier = DossierFactory(partially_validated=True)
    org_b, team_b = new_organisation()
    client = logged_in_client(team_b.counsellor)
    assert reverse(URL) in text(client.get(reverse("candidates:dossier_list")))

    found = client.post(reverse(URL), _found(dossier))
    body = text(found)
    assert found.status_code == 200
    assert dossier.candidate.full_name in body and dossier.organisation.name in body
    assert "Lisez ce texte à la personne" in body

    missing = client.post(reverse(URL), {**_found(dossier), "consent_step": "1"})
    assert missing.status_code == 400
    body = text(missing)
    assert 'class="error-summary"' in body
    assert "cochez la case" in body and "Indiquez le motif du changement d'organisme." in body

    taken = client.post(
        reverse(URL), {**_found(dossier), "consent_step": "1", "consent": "on", "reason": "Déménagement"}
    )
    assert taken.status_code == 302 and taken["Location"] == reverse("journey:dossier_detail", args=[dossier.pk])
    transfer = DossierTransfer.objects.get()
    assert transfer.requested_by == team_b.counsellor and transfer.consent_text == TRANSFER_CONSENT_TEXT
    page = text(client.get(taken["Location"]))
    assert f"Le dossier {dossier.reference} est maintenant suivi par votre organisme." in page


def test_a_wrong_birth_date_finds_nothing_and_says_so():
    dossier = DossierFactory(opened=True)
    _org_b, team_b = new_organisation()
    response = logged_in_client(team_b.counsellor).post(
        reverse(URL), {"reference": dossier.reference, "birth_date": datetime.date(1900, 1, 1).isoformat()}
    )
    assert response.status_code == 400
    body = text(response)
    assert "Aucun dossier d'un autre organisme ne correspond" in body
    assert dossier.candidate.full_name not in body


def test_the_empty_form_names_each_missing_field():
    _org_b, team_b = new_organisation()
    response = logged_in_client(team_b.counsellor).post(reverse(URL), {})
    body = text(response)
    assert response.status_code == 400
    assert "Indiquez la référence du dossier." in body and "Indiquez la date de naissance de la personne." in body


def test_a_refused_move_shows_the_reason_in_the_summary():
    dossier = DossierFactory(ready_for_jury=True)
    submit(make_jury(), dossier)
    _org_b, team_b = new_organisation()
    response = logged_in_client(team_b.counsellor).post(
        reverse(URL), {**_found(dossier), "consent_step": "1", "consent": "on", "reason": "Déménagement"}
    )
    assert response.status_code == 400
    assert "Un dossier « Soumis au jury » ne peut plus changer d'organisme." in text(response)
    assert not DossierTransfer.objects.exists()


def test_during_an_evaluation_the_new_organisation_is_told_it_starts_again():
    dossier = DossierFactory(in_prior_evaluation=True)
    _org_b, team_b = new_organisation()
    page = text(logged_in_client(team_b.counsellor).post(reverse(URL), _found(dossier)))
    assert (
        "Une évaluation préalable est en cours dans l'autre organisme. Elle s'arrête et ne compte pas : votre "
        "organisme refera l'évaluation préalable en entier." in page
    )


@pytest.mark.parametrize("role", [Role.EVALUATOR, Role.TRAINER, Role.JURY_MEMBER])
def test_only_counsellors_and_administrators_take_in_a_dossier(role):
    org_b, _team = new_organisation()
    assert logged_in_client(MembershipFactory(organisation=org_b, role=role)).get(reverse(URL)).status_code == 403


def test_the_administrator_may_take_it_in_and_becomes_its_counsellor():
    dossier = DossierFactory(ready_for_jury=True)
    org_b, _team = new_organisation()
    admin = MembershipFactory(organisation=org_b, role=Role.ORG_ADMIN)
    logged_in_client(admin).post(
        reverse(URL), {**_found(dossier), "consent_step": "1", "consent": "on", "reason": "Choix de la personne"}
    )
    dossier.refresh_from_db()
    assert dossier.organisation == org_b and dossier.counsellor == admin.user


@pytest.mark.usefixtures("fresh_rate_limit")
def test_a_member_who_looks_for_too_many_dossiers_is_stopped_for_an_hour(settings):
    """References are numbered and birth dates few: guessing must not let an organisation take dossiers in."""
    settings.TRANSFER_LOOKUPS_PER_HOUR = 2
    dossier = DossierFactory(partially_validated=True)
    _org_b, team_b = new_organisation()
    client = logged_in_client(team_b.counsellor)
    wrong = {"reference": dossier.reference, "birth_date": "1970-01-01"}
    assert client.post(reverse(URL), wrong).status_code == 400
    assert client.post(reverse(URL), wrong).status_code == 400

    stopped = client.post(reverse(URL), _found(dossier))  # even the right pair, once over the limit
    assert stopped.status_code == 429
    body = text(stopped)
    assert "Trop de recherches de dossier en une heure." in body and 'class="error-summary"' in body
    assert dossier.candidate.full_name not in body
    # Another member of the same organisation counts on their own.
    other = MembershipFactory(organisation=team_b.counsellor.organisation, role=Role.COUNSELLOR)
    assert logged_in_client(other).post(reverse(URL), _found(dossier)).status_code == 200


def test_the_organisation_left_reads_no_contact_details_and_the_new_one_answers_the_open_correction_request():
    dossier = DossierFactory(partially_validated=True)
    team_a = dossier.team
    candidate = dossier.candidate
    candidate.phone = "06 11 22 33 44"
    candidate.save(update_fields=["phone"])
    correction = correction_request_create(candidate=candidate, dossier=dossier, message="Mon nom prend un accent.")
    org_b, team_b = new_organisation()
    move(dossier, org_b, by=team_b.counsellor)

    correction.refresh_from_db()
    assert correction.organisation == org_b
    assert CorrectionRequest.objects.visible_to(team_a.counsellor).filter(pk=correction.pk).count() == 0
    page_b = text(logged_in_client(team_b.counsellor).get(reverse("journey:dossier_detail", args=[dossier.pk])))
    assert "06 11 22 33 44" in page_b
    page_a = text(logged_in_client(team_a.counsellor).get(reverse("journey:dossier_detail", args=[dossier.pk])))
    assert "Parti vers" in page_a
    assert "06 11 22 33 44" not in page_a and candidate.email not in page_a
