"""/api/v1/appointments/: the screens' rules and scoping, with the .ics download."""

import datetime

import icalendar
import pytest
from django.urls import reverse
from django.utils import timezone

from intake.models import InterviewRequestState
from organisations.models import Role
from scheduling.models import Appointment, AppointmentState
from tests.factories import MembershipFactory
from tests.intake.support import counsellor_of, make_request
from tests.journey import DossierFactory
from tests.scheduling import book, next_weekday_at

pytestmark = pytest.mark.django_db

LIST = "/api/v1/appointments/"


def _payload(dossier, **overrides):
    return {
        "dossier": dossier.pk,
        "purpose": "prior_evaluation",
        "with_membership": dossier.team.evaluator.pk,
        "starts_at": next_weekday_at(9, days=2).isoformat(),
        "duration_minutes": 90,
        "modality": "remote",
        "remote_details": "https://visio.exemple.fr/a",
        **overrides,
    }


def test_a_counsellor_books_lists_and_reads_an_appointment(token_client):
    dossier = DossierFactory(state="opened")
    client = token_client(dossier.team.counsellor)
    response = client.post(LIST, _payload(dossier), content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "planned" and body["duration_minutes"] == 90
    listed = client.get(LIST, {"dossier": dossier.pk}).json()
    assert [row["id"] for row in listed["results"]] == [body["id"]]
    assert client.get(reverse("api:appointment-detail", args=[body["id"]])).json()["with_name"]


def test_booking_rules_answer_400_on_their_field(token_client):
    dossier = DossierFactory(state="opened")
    book(dossier, starts_at=next_weekday_at(9, days=2))
    client = token_client(dossier.team.counsellor)
    past = (timezone.now() - datetime.timedelta(hours=1)).isoformat()
    for overrides, field in (
        ({"starts_at": past}, "starts_at"),
        ({"duration_minutes": 500}, "duration_minutes"),
        ({"with_membership": dossier.team.counsellor.pk}, "with_membership"),
        ({}, "starts_at"),  # the overlap with the appointment booked above
    ):
        response = client.post(LIST, _payload(dossier, **overrides), content_type="application/json")
        assert response.status_code == 400, (overrides, response.content)
        assert field in str(response.json()), (overrides, response.json())


def test_another_organisations_dossier_and_appointment_are_not_found(token_client):
    dossier = DossierFactory(state="opened")
    appointment = book(dossier)
    outsider = MembershipFactory(role=Role.COUNSELLOR)
    client = token_client(outsider)
    assert client.post(LIST, _payload(dossier), content_type="application/json").status_code == 400
    assert client.get(reverse("api:appointment-detail", args=[appointment.pk])).status_code == 404
    assert client.get(reverse("api:appointment-ics", args=[appointment.pk])).status_code == 404
    assert client.get(LIST).json()["results"] == []


def test_cancel_needs_a_reason_then_cancelling_again_is_a_409(token_client):
    dossier = DossierFactory(state="opened")
    appointment = book(dossier)
    client = token_client(dossier.team.counsellor)
    url = reverse("api:appointment-cancel", args=[appointment.pk])
    assert client.post(url, {}, content_type="application/json").status_code == 400
    response = client.post(url, {"reason": "Empêchement"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["state"] == "cancelled"
    assert client.post(url, {"reason": "Encore"}, content_type="application/json").status_code == 409


def test_done_before_the_start_is_a_409_then_done_after(token_client):
    dossier = DossierFactory(state="opened")
    appointment = book(dossier)
    client = token_client(dossier.team.evaluator)
    url = reverse("api:appointment-done", args=[appointment.pk])
    assert client.post(url).status_code == 409
    past = timezone.now() - datetime.timedelta(minutes=10)
    Appointment.objects.filter(pk=appointment.pk).update(starts_at=past, ends_at=past + datetime.timedelta(hours=1))
    assert client.post(url).json()["state"] == AppointmentState.DONE


def test_an_evaluator_cannot_book(token_client):
    dossier = DossierFactory(state="opened")
    response = token_client(dossier.team.evaluator).post(LIST, _payload(dossier), content_type="application/json")
    assert response.status_code == 403


def test_rebook_and_ics(token_client):
    dossier = DossierFactory(state="opened")
    appointment = book(dossier)
    client = token_client(dossier.team.counsellor)
    client.post(
        reverse("api:appointment-cancel", args=[appointment.pk]), {"reason": "x"}, content_type="application/json"
    )
    response = client.post(
        reverse("api:appointment-rebook", args=[appointment.pk]),
        {"starts_at": next_weekday_at(15, days=4).isoformat()},
        content_type="application/json",
    )
    assert response.status_code == 201 and response.json()["rebooked_from"] == appointment.pk
    ics = client.get(reverse("api:appointment-ics", args=[appointment.pk]))
    assert ics["Content-Type"].startswith("text/calendar")
    (event,) = icalendar.Calendar.from_ical(ics.content).walk("VEVENT")
    assert event["status"] == "CANCELLED"


def test_the_api_lists_the_interview_without_a_dossier_to_its_organisation_only(org_a, org_b, token_client):
    request = make_request(org_a, state=InterviewRequestState.PROPOSED)
    rows = token_client(counsellor_of(org_a)).get(LIST).json()["results"]
    [row] = [r for r in rows if r["id"] == request.appointment_id]
    assert row["dossier"] is None and row["state"] == "planned"
    others = token_client(counsellor_of(org_b)).get(LIST).json()["results"]
    assert request.appointment_id not in [r["id"] for r in others]
