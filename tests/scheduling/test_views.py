"""The dossier's scheduling block, the booking form, the agenda by day and week."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from organisations.models import Role
from scheduling.models import Appointment, AppointmentState, Assignment
from scheduling.services import appointment_cancel, appointment_rebook
from tests.factories import MembershipFactory
from tests.journey import DossierFactory
from tests.scheduling import book, next_weekday_at

pytestmark = pytest.mark.django_db


def test_the_dossier_page_shows_assignments_and_appointments_with_their_actions(client_for):
    dossier = DossierFactory(state="prior_evaluation")
    appointment = book(dossier, with_membership=dossier.team.final_evaluator)
    page = client_for(dossier.team.counsellor).get(reverse("journey:dossier_detail", args=[dossier.pk]))
    html = page.content.decode()
    assert "Affectations" in html and dossier.team.evaluator.user.get_full_name() in html
    assert reverse("scheduling:appointment_ics", args=[appointment.pk]) in html
    assert reverse("scheduling:appointment_cancel", args=[appointment.pk]) in html
    assert reverse("scheduling:assignment_create", args=[dossier.pk]) in html


def test_booking_through_the_form_refuses_an_overlap_on_the_date_field(client_for):
    dossier = DossierFactory(state="opened")
    book(dossier, starts_at=next_weekday_at(9, days=2))
    client = client_for(dossier.team.counsellor)
    data = {
        "purpose": "prior_evaluation",
        "with_membership": dossier.team.evaluator.pk,
        "day": (timezone.localdate() + datetime.timedelta(days=2)).isoformat(),
        "time": "10:00",
        "duration_minutes": "60",
        "modality": "remote",
        "remote_details": "https://visio.exemple.fr/x",
    }
    response = client.post(reverse("scheduling:appointment_create", args=[dossier.pk]), data)
    assert response.status_code == 200
    assert "déjà un rendez-vous sur ce créneau" in str(response.context["form"].errors["day"])
    data["time"] = "14:00"
    response = client.post(reverse("scheduling:appointment_create", args=[dossier.pk]), data)
    assert response.status_code == 302
    assert Appointment.objects.filter(dossier=dossier).count() == 2


def test_assigning_through_the_form_keeps_the_history_on_the_page(client_for):
    dossier = DossierFactory(state="opened")
    client = client_for(dossier.team.counsellor)
    url = reverse("scheduling:assignment_create", args=[dossier.pk])
    for person in (dossier.team.evaluator, dossier.team.final_evaluator):
        response = client.post(url, {"purpose": "prior_evaluation", "assignee": person.pk, "reason": "Congé"})
        assert response.status_code == 302
    assert Assignment.objects.filter(dossier=dossier).count() == 2
    page = client.get(reverse("journey:dossier_detail", args=[dossier.pk])).content.decode()
    assert "1 affectation précédente" in page and "Congé" in page


def test_an_evaluator_cannot_assign(client_for):
    dossier = DossierFactory(state="opened")
    response = client_for(dossier.team.evaluator).get(reverse("scheduling:assignment_create", args=[dossier.pk]))
    assert response.status_code == 403


def test_the_week_agenda_lists_the_persons_own_appointments_by_day_in_paris_time(client_for):
    dossier = DossierFactory(state="opened")
    starts = next_weekday_at(9, days=7)
    mine = book(dossier, starts_at=starts)
    book(dossier, starts_at=starts, with_membership=dossier.team.final_evaluator)
    client = client_for(dossier.team.evaluator)
    response = client.get(reverse("scheduling:agenda"), {"view": "week", "date": starts.date().isoformat()})
    days = response.context["days"]
    assert len(days) == 7 and days[0].day.weekday() == 0
    listed = [a for d in days for a in d.appointments]
    assert listed == [mine]
    assert "09:00 – 11:00" in response.content.decode()
    previous = response.context["previous"]
    assert previous == days[0].day - datetime.timedelta(days=7)


def test_the_day_agenda_and_its_empty_state(client_for):
    dossier = DossierFactory(state="opened")
    starts = next_weekday_at(9, days=3)
    book(dossier, starts_at=starts)
    client = client_for(dossier.team.evaluator)
    response = client.get(reverse("scheduling:agenda"), {"view": "day", "date": starts.date().isoformat()})
    assert len(response.context["days"]) == 1 and not response.context["empty"]
    response = client.get(
        reverse("scheduling:agenda"), {"view": "day", "date": (starts.date() + datetime.timedelta(days=1)).isoformat()}
    )
    assert response.context["empty"] and "Aucun rendez-vous ce jour." in response.content.decode()


def test_a_counsellor_reads_a_colleagues_agenda_but_not_another_organisations(client_for):
    dossier = DossierFactory(state="opened")
    starts = next_weekday_at(9, days=2)
    appointment = book(dossier, starts_at=starts)
    query = {"view": "day", "date": starts.date().isoformat(), "person": dossier.team.evaluator.pk}
    response = client_for(dossier.team.counsellor).get(reverse("scheduling:agenda"), query)
    assert [a for d in response.context["days"] for a in d.appointments] == [appointment]
    outsider = MembershipFactory(role=Role.COUNSELLOR)
    assert client_for(outsider).get(reverse("scheduling:agenda"), query).status_code == 404
    # An evaluator reads only their own agenda, whatever is asked.
    other = client_for(dossier.team.final_evaluator).get(reverse("scheduling:agenda"), query)
    assert [a for d in other.context["days"] for a in d.appointments] == []


def test_the_ics_download(client_for):
    dossier = DossierFactory(state="opened")
    appointment = book(dossier)
    response = client_for(dossier.team.evaluator).get(reverse("scheduling:appointment_ics", args=[appointment.pk]))
    assert response["Content-Type"].startswith("text/calendar")
    assert b"BEGIN:VEVENT" in response.content


def test_marking_done_from_the_agenda(client_for):
    dossier = DossierFactory(state="opened")
    appointment = book(dossier)
    past = timezone.now() - datetime.timedelta(minutes=30)
    Appointment.objects.filter(pk=appointment.pk).update(starts_at=past, ends_at=past + datetime.timedelta(hours=1))
    response = client_for(dossier.team.evaluator).post(
        reverse("scheduling:appointment_done", args=[appointment.pk]), {"next": "agenda"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("scheduling:agenda")
    appointment.refresh_from_db()
    assert appointment.state == AppointmentState.DONE


def _queries(client, url, query) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, query).status_code == 200
    return len(captured)


def test_the_agenda_and_the_dossier_page_cost_the_same_queries_with_more_appointments(client_for):
    dossier = DossierFactory(state="opened")
    starts = next_weekday_at(9, days=7)
    book(dossier, starts_at=starts)
    agenda = (reverse("scheduling:agenda"), {"view": "week", "date": starts.date().isoformat()})
    page = (reverse("journey:dossier_detail", args=[dossier.pk]), {})
    evaluator, counsellor = client_for(dossier.team.evaluator), client_for(dossier.team.counsellor)
    before = (
        _queries(evaluator, *agenda),
        _queries(counsellor, *page),
    )
    for hour in (12, 15):
        appointment = book(dossier, starts_at=starts.replace(hour=hour))
    appointment_cancel(appointment=appointment, by=dossier.team.counsellor, reason="x")
    appointment_rebook(appointment=appointment, by=dossier.team.counsellor, starts_at=starts.replace(hour=17))
    after = (
        _queries(evaluator, *agenda),
        _queries(counsellor, *page),
    )
    assert after == before


def test_marking_done_from_the_dossier_page_with_htmx_answers_its_appointments_section(client_for):
    dossier = DossierFactory(state="opened")
    appointment = book(dossier)
    past = timezone.now() - datetime.timedelta(minutes=30)
    Appointment.objects.filter(pk=appointment.pk).update(starts_at=past, ends_at=past + datetime.timedelta(hours=1))
    client = client_for(dossier.team.counsellor)
    page = client.get(reverse("journey:dossier_detail", args=[dossier.pk])).content.decode()
    assert f'hx-post="{reverse("scheduling:appointment_missed", args=[appointment.pk])}"' in page
    response = client.post(reverse("scheduling:appointment_missed", args=[appointment.pk]), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and html.startswith('<section id="rendez-vous"')
    assert "Le rendez-vous est noté manqué." in html and 'id="live-status"' in html
    assert reverse("scheduling:appointment_rebook", args=[appointment.pk]) in html
    # Again: refused, said in the section.
    response = client.post(reverse("scheduling:appointment_done", args=[appointment.pk]), HTTP_HX_REQUEST="true")
    assert "cette action n&#x27;est plus possible" in response.content.decode()


def test_the_evaluation_start_page_says_when_the_step_is_assigned_to_someone_else(client_for):
    from scheduling.services import assignment_set

    dossier = DossierFactory(state="opened")
    team = dossier.team
    url = reverse("evaluations:evaluation_start", args=[dossier.pk])
    assert "vous la prenez en charge" not in client_for(team.evaluator).get(url).content.decode()
    assignment_set(dossier=dossier, purpose="prior_evaluation", assignee=team.final_evaluator, by=team.counsellor)
    page = client_for(team.evaluator).get(url).content.decode()
    assert f"confiée à {team.final_evaluator.user.get_full_name()}" in page and "vous la prenez en charge" in page
    assert "vous la prenez en charge" not in client_for(team.final_evaluator).get(url).content.decode()
