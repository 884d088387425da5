"""The public pages (ask from a directory site, confirm, answer) and the organisation's pages (its requests, a
proposal, the dossier opened from a request)."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from candidates.models import Dossier, DossierState, Origin
from intake.models import InterviewRequest, InterviewRequestState
from organisations.models import Role
from tests.clients import logged_in_client
from tests.directory.conftest import client_from_own_address
from tests.directory.support import load_sample_communes
from tests.factories import MembershipFactory, SiteFactory
from tests.intake.support import counsellor_of, last_email_body, listed_site, make_request, token_from
from tests.journey import small_referentiel

pytestmark = pytest.mark.django_db

VALID = {
    "first_name": "Léa",
    "last_name": "Martin",
    "email": "lea.martin@exemple.fr",
    "phone": "",
    "certification": "clea",
    "preferred": ["morning"],
    "preferred_times": "pas le mercredi",
    "consent": "on",
    "website": "",
}


def ask(client, site, **changes):
    return client.post(reverse("intake:create", args=[site.pk]), {**VALID, **changes})


def test_the_directory_offers_to_ask_each_site_for_an_interview(org_a):
    load_sample_communes()
    site = listed_site(org_a)
    page = client_from_own_address().get(reverse("directory:search"), {"commune": "59350"}).content.decode()
    assert reverse("intake:create", args=[site.pk]) in page


def test_a_request_from_a_site_page_is_stored_unconfirmed_and_mails_a_link(
    org_a, fresh_rate_limit, django_capture_on_commit_callbacks
):
    site = listed_site(org_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = ask(client_from_own_address(), site)
    assert response.status_code == 302 and response["Location"] == reverse("intake:sent")
    request = InterviewRequest.objects.get()
    assert request.state == InterviewRequestState.UNCONFIRMED
    assert request.preferred_times == "Le matin ; pas le mercredi"
    [message] = mail.outbox
    assert message.to == ["lea.martin@exemple.fr"] and "/entretien/confirmer/" in message.body


def test_the_form_asks_nothing_more_than_how_to_call_back():
    from intake.forms import InterviewRequestForm

    fields = set(InterviewRequestForm(certifications=["clea"]).fields)
    assert not {"birth_date", "address", "postcode", "city"} & fields


def test_the_form_answers_in_french_with_the_error_summary(org_a, fresh_rate_limit):
    site = listed_site(org_a)
    response = ask(client_from_own_address(), site, first_name="", email="pas-une-adresse", consent="")
    assert response.status_code == 400
    page = response.content.decode()
    assert 'class="error-summary' in page
    assert "Indiquez votre prénom." in page
    assert "Cette adresse e-mail n&#x27;est pas valide" in page
    assert "Cochez la case pour que l&#x27;organisme puisse vous contacter." in page
    assert not InterviewRequest.objects.exists()


def test_the_form_fits_a_small_screen_and_hides_the_honeypot(org_a):
    page = client_from_own_address().get(reverse("intake:create", args=[listed_site(org_a).pk])).content.decode()
    assert 'name="viewport"' in page and "<table" not in page
    assert 'aria-hidden="true"' in page and 'tabindex="-1"' in page and 'name="website"' in page


def test_a_certification_the_site_is_not_habilitated_for_is_refused(org_a, fresh_rate_limit):
    response = ask(client_from_own_address(), listed_site(org_a), certification="clea_management")
    assert response.status_code == 400
    assert "Ce site ne propose pas cette certification." in response.content.decode()


def test_a_site_outside_the_directory_is_a_404(org_a):
    unlisted = SiteFactory(organisation=org_a)  # no habilitation
    assert client_from_own_address().get(reverse("intake:create", args=[unlisted.pk])).status_code == 404


def test_a_filled_honeypot_gets_the_same_answer_and_stores_nothing(org_a, fresh_rate_limit):
    response = ask(client_from_own_address(), listed_site(org_a), website="http://spam.example")
    assert response.status_code == 302 and response["Location"] == reverse("intake:sent")
    assert not InterviewRequest.objects.exists()


def test_requests_are_limited_per_address_and_per_email(org_a, fresh_rate_limit, settings):
    settings.INTAKE_REQUESTS_PER_ADDRESS = 2
    settings.INTAKE_REQUESTS_PER_EMAIL = 1
    site = listed_site(org_a)
    same_address = client_from_own_address()
    assert ask(same_address, site, email="a@exemple.fr").status_code == 302
    assert ask(same_address, site, email="b@exemple.fr").status_code == 302
    assert ask(same_address, site, email="c@exemple.fr").status_code == 429
    assert ask(client_from_own_address(), site, email="a@exemple.fr").status_code == 429
    assert InterviewRequest.objects.count() == 2


def test_the_confirmation_link_shows_a_button_and_only_the_post_confirms(org_a):
    make_request(org_a, state=InterviewRequestState.UNCONFIRMED)
    url = reverse("intake:confirm", args=[token_from(last_email_body(), "confirmer")])
    client = client_from_own_address()
    page = client.get(url)
    assert page.status_code == 200 and "Confirmer ma demande" in page.content.decode()
    assert InterviewRequest.objects.get().state == InterviewRequestState.UNCONFIRMED
    assert client.post(url).status_code == 200
    assert InterviewRequest.objects.get().state == InterviewRequestState.WAITING
    assert client.post(url).status_code == 410


def test_the_person_answers_from_the_e_mailed_link_and_downloads_the_calendar_file(org_a):
    make_request(org_a, state=InterviewRequestState.PROPOSED)
    token = token_from(last_email_body(), "reponse")
    client = client_from_own_address()
    page = client.get(reverse("intake:answer", args=[token])).content.decode()
    assert "Je viendrai" in page and "Demander un autre horaire" in page
    ics = client.get(reverse("intake:answer_ics", args=[token]))
    assert ics["Content-Type"].startswith("text/calendar") and b"BEGIN:VEVENT" in ics.content
    response = client.post(reverse("intake:answer", args=[token]), {"choice": "other", "message": "Le lundi"})
    assert response.status_code == 200
    request = InterviewRequest.objects.get()
    assert request.state == InterviewRequestState.OTHER_TIME and request.answer_message == "Le lundi"
    assert client.get(reverse("intake:answer", args=[token])).status_code == 410


def test_the_organisation_lists_its_confirmed_requests_only(org_a, org_b):
    make_request(org_a, last_name="Visible")
    make_request(org_a, state=InterviewRequestState.UNCONFIRMED, last_name="Inconnue")
    make_request(org_b, last_name="Ailleurs")
    page = logged_in_client(counsellor_of(org_a)).get(reverse("intake:list")).content.decode()
    assert "VISIBLE" in page and "INCONNUE" not in page and "AILLEURS" not in page


def test_the_list_says_when_there_is_nothing(org_a):
    page = logged_in_client(counsellor_of(org_a)).get(reverse("intake:list")).content.decode()
    assert "Aucune demande d'entretien pour le moment." in page


def test_the_list_is_paginated(org_a):
    for _ in range(26):
        make_request(org_a)
    page = logged_in_client(counsellor_of(org_a)).get(reverse("intake:list"), {"page": 2}).content.decode()
    assert "Page 2 sur 2" in page


def test_another_organisations_request_is_a_404_and_an_evaluator_is_refused(org_a, org_b):
    request = make_request(org_a)
    outsider = logged_in_client(counsellor_of(org_b))
    for name in ("intake:detail", "intake:propose", "intake:convert"):
        assert outsider.get(reverse(name, args=[request.pk])).status_code == 404
    evaluator = logged_in_client(MembershipFactory(organisation=org_a, role=Role.EVALUATOR))
    assert evaluator.get(reverse("intake:detail", args=[request.pk])).status_code == 403


def test_an_unconfirmed_request_is_a_404_even_for_its_organisation(org_a):
    request = make_request(org_a, state=InterviewRequestState.UNCONFIRMED)
    assert logged_in_client(counsellor_of(org_a)).get(reverse("intake:detail", args=[request.pk])).status_code == 404


def test_the_counsellor_proposes_a_meeting_and_the_history_shows_it(org_a, django_capture_on_commit_callbacks):
    request = make_request(org_a)
    counsellor = counsellor_of(org_a)
    client = logged_in_client(counsellor)
    day = timezone.localdate() + datetime.timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("intake:propose", args=[request.pk]),
            {
                "with_membership": counsellor.pk,
                "day": day.isoformat(),
                "time": "10:00",
                "duration_minutes": 45,
                "place": "Site de Lille",
            },
        )
    assert response.status_code == 302
    assert "/entretien/reponse/" in mail.outbox[-1].body
    page = client.get(reverse("intake:detail", args=[request.pk])).content.decode()
    assert "Rendez-vous proposé" in page and "Adresse e-mail confirmée" in page and "par la personne" in page


def test_a_proposal_in_the_past_is_refused_in_french(org_a):
    request = make_request(org_a)
    counsellor = counsellor_of(org_a)
    response = logged_in_client(counsellor).post(
        reverse("intake:propose", args=[request.pk]),
        {
            "with_membership": counsellor.pk,
            "day": "2020-01-06",
            "time": "10:00",
            "duration_minutes": 45,
            "place": "Lille",
        },
    )
    assert response.status_code == 400
    assert "Un rendez-vous ne se prend pas dans le passé" in response.content.decode()


def test_the_counsellor_opens_the_information_dossier_prefilled_from_the_request(org_a):
    small_referentiel("clea")
    request = make_request(org_a, state=InterviewRequestState.ACCEPTED, phone="06 12 34 56 78")
    client = logged_in_client(counsellor_of(org_a))
    url = reverse("intake:convert", args=[request.pk])
    form = client.get(url).context["form"]
    assert form.initial["last_name"] == "Martin" and form.initial["email"] == "lea.martin@exemple.fr"
    assert form.initial["origin"] == Origin.OWN_INITIATIVE and form.initial["certification"] == "clea"
    data = {
        "civility": "mme",
        "last_name": "Martin",
        "first_name": "Léa",
        "birth_date": "1985-04-02",
        "birth_place": "Lille",
        "email": "lea.martin@exemple.fr",
        "phone": "06 12 34 56 78",
        "address": "3 rue Nationale",
        "postcode": "59000",
        "city": "Lille",
        "registration_status": "job_seeker",
        "education_level": "3",
        "origin": Origin.OWN_INITIATIVE,
        "certification": "clea",
    }
    response = client.post(url, data)
    assert response.status_code == 302
    dossier = Dossier.objects.get()
    assert dossier.state == DossierState.INFORMATION and dossier.candidate.origin == Origin.OWN_INITIATIVE
    request.refresh_from_db()
    assert request.state == InterviewRequestState.CONVERTED and request.dossier == dossier


def test_a_closed_request_offers_no_proposal_and_no_dossier(org_a):
    request = make_request(org_a, state=InterviewRequestState.ACCEPTED)
    InterviewRequest.objects.filter(pk=request.pk).update(state=InterviewRequestState.EXPIRED)
    client = logged_in_client(counsellor_of(org_a))
    for name in ("intake:propose", "intake:convert"):
        response = client.get(reverse(name, args=[request.pk]))
        assert response.status_code == 302 and response["Location"] == reverse("intake:detail", args=[request.pk])
    page = client.get(reverse("intake:detail", args=[request.pk])).content.decode()
    assert "Proposer un" not in page and "ouvrir le dossier" not in page
