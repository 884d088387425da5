"""A jury session's history: its creation and every transition, persisted and shown on its page."""

import pytest
from django.urls import reverse

from juries.models import DecisionKind, JurySessionEvent, SessionState
from juries.services import JuryError, decision_record, jury_session_convene
from tests.journey import DossierFactory
from tests.juries.factories import close, deliberating, make_jury
from tests.spoken import spoken

pytestmark = pytest.mark.django_db


def test_each_step_of_a_session_is_recorded_with_who_took_it():
    jury = make_jury()
    dossier = DossierFactory(state="ready_for_jury")
    [submission] = deliberating(jury, dossier)
    decision_record(submission=submission, by=jury.president, kind=DecisionKind.AWARDED)
    close(jury)

    events = list(JurySessionEvent.objects.filter(session=jury.session).order_by("at", "id"))
    assert [(e.transition, e.from_state, e.to_state) for e in events] == [
        ("", "", SessionState.PLANNED),
        ("convene", SessionState.PLANNED, SessionState.CONVENED),
        ("start_deliberation", SessionState.CONVENED, SessionState.DELIBERATING),
        ("close", SessionState.DELIBERATING, SessionState.CLOSED),
    ]
    assert [e.actor for e in events] == [jury.admin.user, jury.admin.user, jury.president.user, jury.president.user]


def test_a_refused_step_records_nothing():
    jury = make_jury()
    jury.session = jury_session_convene(session=jury.session, by=jury.admin)
    with pytest.raises(JuryError, match="n'est pas possible pour une session « Convoquée »"):
        jury_session_convene(session=jury.session, by=jury.admin)
    assert JurySessionEvent.objects.filter(session=jury.session, transition="convene").count() == 1


def test_the_session_page_shows_its_history(client_for):
    jury = make_jury()
    jury_session_convene(session=jury.session, by=jury.admin)
    response = client_for(jury.admin).get(reverse("juries:session_detail", kwargs={"pk": jury.session.pk}))
    assert response.status_code == 200
    history = response.content.decode().split('id="history-title"')[1]
    assert "Planifiée vers Convoquée" in spoken(history)
    assert jury.admin.user.get_full_name() in history


def test_events_are_visible_only_with_their_session(org_a, make_member):
    jury = make_jury()
    outsider = make_member(org_a)
    assert not JurySessionEvent.objects.visible_to(outsider).exists()
    assert JurySessionEvent.objects.visible_to(jury.admin).count() == 1
