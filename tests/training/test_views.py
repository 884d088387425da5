import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.template.defaultfilters import floatformat
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from candidates.models import DossierState
from organisations.models import AuditLog, Role
from tests.factories import MembershipFactory, OrganisationFactory
from tests.journey import DossierFactory
from training.models import TrainingPlan
from training.services import training_plan_create, training_session_add

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def _plan_of(dossier, cycle=1):
    return TrainingPlan.objects.get(dossier=dossier, cycle=cycle)


def _plan_data(dossier, trainer, **overrides):
    data = {
        "trainer": str(trainer.pk),
        "planned_hours": "30",
        "starts_on": f"{TODAY():%Y-%m-%d}",
        "ends_on": f"{TODAY() + datetime.timedelta(days=120):%Y-%m-%d}",
        "objectives": "Calculer des pourcentages à partir d'un bon de commande.",
    }
    return {**data, **overrides}


def _session_data(**overrides):
    data = {
        "session-date": f"{TODAY():%Y-%m-%d}",
        "session-duration_hours": "3",
        "session-topic": "Règle de trois",
    }
    return {**data, **overrides}


def _dossier_detail_url(dossier):
    return reverse("journey:dossier_detail", kwargs={"pk": dossier.pk})


# -- The counsellor defines the plan ----------------------------------------------------------------------------


def test_the_form_proposes_the_gaps_as_objectives_and_lists_the_target_criteria(client_for):
    dossier = DossierFactory(state="partially_validated")
    trainer = dossier.team.trainer

    response = client_for(dossier.team.counsellor).get(reverse("training:plan_create", args=[dossier.pk]))

    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["objectives"] == "2.1.3 – Critère 2.1.3\n2.1.4 – Critère 2.1.4"
    assert [c.code for c in response.context["gaps"]] == ["2.1.3", "2.1.4"]
    assert f"{trainer.user.get_full_name()} – {trainer.organisation.name}" in response.content.decode()
    assert f"{dossier.deadline:%d/%m/%Y}" in response.content.decode()


def test_a_counsellor_defines_a_plan_through_the_view(client_for):
    dossier = DossierFactory(state="partially_validated")
    trainer = dossier.team.trainer

    response = client_for(dossier.team.counsellor).post(
        reverse("training:plan_create", args=[dossier.pk]), _plan_data(dossier, trainer)
    )

    plan = _plan_of(dossier)
    assert response.status_code == 302
    assert response.url == reverse("training:plan_detail", args=[plan.pk])
    assert plan.trainer == trainer.user
    assert plan.planned_hours == Decimal("30")
    assert plan.objectives == "Calculer des pourcentages à partir d'un bon de commande."
    dossier.refresh_from_db()
    assert dossier.state == DossierState.IN_TRAINING


def test_objectives_left_blank_on_the_screen_are_the_criteria_still_missing(client_for):
    dossier = DossierFactory(state="partially_validated")

    response = client_for(dossier.team.counsellor).post(
        reverse("training:plan_create", args=[dossier.pk]), _plan_data(dossier, dossier.team.trainer, objectives="")
    )

    assert response.status_code == 302
    assert _plan_of(dossier).objectives == "2.1.3 – Critère 2.1.3\n2.1.4 – Critère 2.1.4"


def test_an_end_after_the_deadline_keeps_the_input_and_says_the_deadline(client_for):
    dossier = DossierFactory(state="partially_validated")
    late = dossier.deadline + datetime.timedelta(days=1)
    data = _plan_data(dossier, dossier.team.trainer, ends_on=f"{late:%Y-%m-%d}", planned_hours="42")

    response = client_for(dossier.team.counsellor).post(reverse("training:plan_create", args=[dossier.pk]), data)

    assert response.status_code == 200
    assert f"{dossier.deadline:%d/%m/%Y}" in str(response.context["form"].errors["ends_on"])
    content = response.content.decode()
    assert "Calculer des pourcentages à partir d&#x27;un bon de commande." in content
    assert 'value="42"' in content
    assert not dossier.training_plans.exists()


def test_a_refusal_of_the_service_is_shown_with_the_input_kept(client_for):
    dossier = DossierFactory(state="partially_validated")
    # The evaluator of the prior evaluation, also a trainer: the form accepts them, the CléA rule refuses them.
    evaluator_as_trainer = MembershipFactory(
        user=dossier.team.evaluator.user, organisation=dossier.organisation, role=Role.TRAINER
    )
    data = _plan_data(dossier, evaluator_as_trainer, objectives="Objectifs saisis à la main")

    response = client_for(dossier.team.counsellor).post(reverse("training:plan_create", args=[dossier.pk]), data)

    assert response.status_code == 200
    content = response.content.decode()
    assert "a évalué le candidat" in content
    assert "Objectifs saisis à la main" in content
    assert f'<option value="{evaluator_as_trainer.pk}" selected>' in content
    assert not dossier.training_plans.exists()


def test_a_membership_outside_the_trainers_list_is_refused(client_for):
    dossier = DossierFactory(state="partially_validated")
    data = _plan_data(dossier, dossier.team.counsellor)

    response = client_for(dossier.team.counsellor).post(reverse("training:plan_create", args=[dossier.pk]), data)

    assert response.status_code == 200
    assert "trainer" in response.context["form"].errors
    assert not dossier.training_plans.exists()


def test_an_evaluator_cannot_define_a_plan(client_for):
    dossier = DossierFactory(state="partially_validated")

    response = client_for(dossier.team.evaluator).get(reverse("training:plan_create", args=[dossier.pk]))

    assert response.status_code == 403


# -- The trainer works on the plan ------------------------------------------------------------------------------


def test_the_trainer_adds_sessions_and_notes_and_completes_the_plan_through_the_views(client_for):
    dossier = DossierFactory(state="in_training")
    plan = _plan_of(dossier)
    client = client_for(dossier.team.trainer)

    response = client.post(reverse("training:session_add", args=[plan.pk]), _session_data())
    assert response.status_code == 302
    assert response.url == reverse("training:plan_detail", args=[plan.pk]) + "#seances"
    session = plan.sessions.get()
    assert (session.topic, session.duration_hours, session.done) == ("Règle de trois", Decimal("3"), False)

    response = client.post(reverse("training:session_done", args=[session.pk]))
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.done

    response = client.post(reverse("training:note_add", args=[plan.pk]), {"note-text": "Maîtrise la règle de trois."})
    assert response.status_code == 302
    assert plan.notes.get().text == "Maîtrise la règle de trois."

    confirmation = client.get(reverse("training:plan_complete", args=[plan.pk]))
    assert confirmation.status_code == 200
    assert "Confirmer : la formation est terminée" in confirmation.content.decode()
    plan.refresh_from_db()
    assert plan.completed_at is None

    response = client.post(reverse("training:plan_complete", args=[plan.pk]), {"shortfall_reason": "Autonome."})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.completed_at is not None

    page = client.get(reverse("training:plan_detail", args=[plan.pk])).content.decode()
    assert "Terminé" in page
    assert "Ajouter la séance" not in page
    assert "Maîtrise la règle de trois." in page
    # Each step is audited with the screen's request (the address the row keeps).
    steps = ["training_session.add", "training_session.done", "progress_note.add", "training_plan.complete"]
    rows = AuditLog.objects.filter(action__in=steps, object_id=str(plan.pk)).order_by("id")
    assert [(row.action, row.ip_address) for row in rows] == [(step, "127.0.0.1") for step in steps]


def test_the_plan_page_shows_the_objectives_criteria_calendar_and_forms_to_its_trainer(client_for):
    dossier = DossierFactory(state="in_training")
    plan = _plan_of(dossier)
    training_session_add(
        plan=plan, by=dossier.team.trainer, date=TODAY(), duration_hours=Decimal("2.5"), topic="Fractions"
    )

    response = client_for(dossier.team.trainer).get(reverse("training:plan_detail", args=[plan.pk]))

    content = response.content.decode()
    assert response.status_code == 200
    assert "2.1.3</strong> – Critère 2.1.3" in content
    assert "Fractions" in content
    assert "Marquer comme réalisée" in content
    assert "Ajouter la séance" in content
    assert "Enregistrer la note" in content
    assert reverse("training:plan_complete", args=[plan.pk]) in content


def test_completing_without_a_done_session_says_why(client_for):
    dossier = DossierFactory(state="in_training")
    plan = _plan_of(dossier)

    response = client_for(dossier.team.trainer).post(reverse("training:plan_complete", args=[plan.pk]), follow=True)

    assert "au moins une séance réalisée" in response.content.decode()
    plan.refresh_from_db()
    assert plan.completed_at is None


def test_an_htmx_request_gets_the_sessions_fragment(client_for):
    dossier = DossierFactory(state="in_training")
    plan = _plan_of(dossier)

    response = client_for(dossier.team.trainer).post(
        reverse("training:session_add", args=[plan.pk]), _session_data(), HTTP_HX_REQUEST="true"
    )

    content = response.content.decode()
    assert response.status_code == 200
    assert content.startswith('<section id="seances"')
    assert "<html" not in content
    assert "Règle de trois" in content
    assert "La séance est ajoutée au calendrier." in content
    assert plan.sessions.count() == 1


def test_an_htmx_note_gets_the_notes_fragment(client_for):
    dossier = DossierFactory(state="in_training")
    plan = _plan_of(dossier)

    response = client_for(dossier.team.trainer).post(
        reverse("training:note_add", args=[plan.pk]), {"note-text": "Bonne dynamique."}, HTTP_HX_REQUEST="true"
    )

    content = response.content.decode()
    assert content.startswith('<section id="notes"')
    assert "Bonne dynamique." in content


def test_bad_session_input_keeps_the_data_with_htmx_and_without(client_for):
    dossier = DossierFactory(state="in_training")
    plan = _plan_of(dossier)
    client = client_for(dossier.team.trainer)
    data = _session_data(**{"session-duration_hours": "20", "session-topic": "Lecture de consignes"})

    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        response = client.post(reverse("training:session_add", args=[plan.pk]), data, **headers)

        assert response.status_code == 200
        assert "duration_hours" in response.context["session_form"].errors
        assert 'value="Lecture de consignes"' in response.content.decode()
    assert not plan.sessions.exists()


# -- What others see --------------------------------------------------------------------------------------------


def test_the_trainer_of_another_tenant_sees_the_candidates_identity_and_nothing_of_the_evaluation(client_for):
    dossier = DossierFactory(state="in_training")
    plan = _plan_of(dossier)
    assert plan.organisation != dossier.organisation

    response = client_for(dossier.team.trainer).get(reverse("training:plan_detail", args=[plan.pk]))

    content = response.content.decode()
    assert response.status_code == 200
    assert dossier.candidate.full_name in content
    assert dossier.reference in content
    assert dossier.get_certification_display() in content
    # The evaluation grid (criteria acquired or validated), the timeline, the attestation: none of it.
    for evaluation_content in ("Critère 1.1.1", "Critère 1.2.3", "Consentement", "ttestation"):
        assert evaluation_content not in content
    assert not re.search(r"domaines? validés? sur", content)
    assert "candidate@exemple.fr" not in content
    assert "Voir le dossier" not in content


def test_the_trainer_of_another_tenant_cannot_open_the_dossier_and_cannot_tell_it_exists(client_for):
    dossier = DossierFactory(state="in_training")
    client = client_for(dossier.team.trainer)

    response = client.get(_dossier_detail_url(dossier))
    missing = client.get(reverse("journey:dossier_detail", kwargs={"pk": 987654321}))

    # The candidates app refuses the trainer's role (403) before any lookup; a 404 from the scoped queryset
    # would do as well. What matters: the same answer as for a dossier that does not exist.
    assert response.status_code in {403, 404}
    assert response.status_code == missing.status_code
    assert dossier.candidate.full_name not in response.content.decode()


def test_another_trainer_of_the_training_organisation_gets_404_on_the_plan(client_for):
    dossier = DossierFactory(state="in_training")
    plan = _plan_of(dossier)
    colleague = MembershipFactory(organisation=plan.organisation, role=Role.TRAINER)

    assert client_for(colleague).get(reverse("training:plan_detail", args=[plan.pk])).status_code == 404


def test_the_dossiers_counsellor_sees_the_plan_read_only_with_a_link_to_the_dossier(client_for):
    dossier = DossierFactory(state="in_training")
    plan = _plan_of(dossier)

    response = client_for(dossier.team.counsellor).get(reverse("training:plan_detail", args=[plan.pk]))

    content = response.content.decode()
    assert response.status_code == 200
    assert "2.1.4</strong> – Critère 2.1.4" in content
    assert "Ajouter la séance" not in content
    assert "Enregistrer la note" not in content
    assert reverse("training:plan_complete", args=[plan.pk]) not in content
    assert f'href="{_dossier_detail_url(dossier)}"' in content


def test_a_counsellor_cannot_add_notes(client_for):
    dossier = DossierFactory(state="in_training")
    plan = _plan_of(dossier)

    response = client_for(dossier.team.counsellor).post(
        reverse("training:note_add", args=[plan.pk]), {"note-text": "Je ne suis pas formatrice."}
    )

    assert response.status_code == 403
    assert not plan.notes.exists()


def test_a_counsellor_cannot_complete_the_plan_nor_open_its_confirmation(client_for):
    dossier = DossierFactory(state="in_training")
    plan = _plan_of(dossier)
    client = client_for(dossier.team.counsellor)

    assert client.get(reverse("training:plan_complete", args=[plan.pk])).status_code == 403
    assert client.post(reverse("training:plan_complete", args=[plan.pk])).status_code == 403


# -- Lists and dashboard ----------------------------------------------------------------------------------------


def _plans_for_one_trainer(count):
    first = DossierFactory(state="in_training")
    trainer, organisation = first.team.trainer, first.organisation
    for _ in range(count - 1):
        dossier = DossierFactory(organisation=organisation, state="partially_validated")
        plan = training_plan_create(
            dossier=dossier,
            by=dossier.team.counsellor,
            trainer=trainer,
            planned_hours=Decimal("12"),
            starts_on=TODAY(),
            ends_on=TODAY() + datetime.timedelta(days=30),
        )
        training_session_add(plan=plan, by=trainer, date=TODAY(), duration_hours=Decimal("2"), topic="T", done=True)
    return trainer


def test_the_plan_list_query_count_does_not_grow_with_the_plans(client_for, django_assert_num_queries):
    one = client_for(_plans_for_one_trainer(1))
    with CaptureQueriesContext(connection) as with_one:
        assert len(one.get(reverse("training:plan_list")).context["page"].object_list) == 1

    five = client_for(_plans_for_one_trainer(5))
    with django_assert_num_queries(len(with_one.captured_queries)):
        assert len(five.get(reverse("training:plan_list")).context["page"].object_list) == 5


def test_the_plan_list_shows_progress_and_status(client_for):
    trainer = _plans_for_one_trainer(2)
    first = TrainingPlan.objects.get(trainer=trainer.user, planned_hours=Decimal("12"))
    second = TrainingPlan.objects.exclude(pk=first.pk).get(trainer=trainer.user)

    content = client_for(trainer).get(reverse("training:plan_list")).content.decode()

    assert "2 h / 12 h" in content
    assert f"0 h / {floatformat(second.planned_hours, -1)} h" in content
    assert content.count("En cours") == 2


def test_the_plan_list_shows_only_the_trainers_own_plans(client_for):
    DossierFactory(state="in_training")
    stranger = MembershipFactory(organisation=OrganisationFactory(training=True), role=Role.TRAINER)

    response = client_for(stranger).get(reverse("training:plan_list"))

    assert response.status_code == 200
    assert not response.context["page"].object_list
    assert "Aucun parcours de formation ne vous est confié" in response.content.decode()


def test_the_training_organisations_administrator_lists_its_plans(client_for):
    dossier = DossierFactory(state="in_training")
    plan = _plan_of(dossier)
    admin = MembershipFactory(organisation=plan.organisation, role=Role.ORG_ADMIN)

    response = client_for(admin).get(reverse("training:plan_list"))

    assert list(response.context["page"].object_list) == [plan]
    assert dossier.team.trainer.user.get_full_name() in response.content.decode()


def test_a_counsellor_has_no_plan_list(client_for):
    dossier = DossierFactory(state="in_training")

    assert client_for(dossier.team.counsellor).get(reverse("training:plan_list")).status_code == 403


def test_the_trainers_dashboard_shows_current_plans_with_the_next_session_and_hours_done(client_for):
    dossier = DossierFactory(state="in_training")
    plan, trainer = _plan_of(dossier), dossier.team.trainer
    training_session_add(plan=plan, by=trainer, date=TODAY(), duration_hours=Decimal("1.5"), topic="A", done=True)
    next_day = TODAY() + datetime.timedelta(days=3)
    training_session_add(plan=plan, by=trainer, date=next_day, duration_hours=Decimal("2"), topic="B")

    response = client_for(trainer).get(reverse("home"))

    content = response.content.decode()
    assert dossier.candidate.full_name in content
    assert f"1,5 h sur {floatformat(plan.planned_hours, -1)} h" in content
    assert next_day.strftime("%Y") in content
    assert reverse("training:plan_detail", args=[plan.pk]) in content


def test_the_trainers_dashboard_has_an_empty_state(client_for):
    trainer = MembershipFactory(organisation=OrganisationFactory(training=True), role=Role.TRAINER)

    content = client_for(trainer).get(reverse("home")).content.decode()

    assert "Aucun parcours de formation ne vous est confié." in content


# -- Dates and hours (issue 14) ---------------------------------------------------------------------------------


def test_a_session_after_the_plan_is_refused_on_its_date_field_with_the_input_kept(client_for):
    dossier = DossierFactory(state="in_training")
    plan = _plan_of(dossier)
    late = plan.ends_on + datetime.timedelta(days=1)
    data = _session_data(**{"session-date": f"{late:%Y-%m-%d}", "session-topic": "Lecture de consignes"})

    response = client_for(dossier.team.trainer).post(reverse("training:session_add", args=[plan.pk]), data)

    content = response.content.decode()
    assert response.status_code == 200
    assert list(response.context["session_form"].errors) == ["date"]
    assert 'id="id_session-date_errors"' in content
    assert re.search(r'aria-describedby="[^"]*id_session-date_errors', content)
    assert 'value="Lecture de consignes"' in content
    assert f"du {plan.starts_on:%d/%m/%Y} au {plan.ends_on:%d/%m/%Y}" in content
    assert not plan.sessions.exists()


def test_a_session_in_the_future_cannot_be_added_as_done(client_for):
    dossier = DossierFactory(state="in_training")
    plan = _plan_of(dossier)
    data = _session_data(**{"session-date": f"{TODAY() + datetime.timedelta(days=1):%Y-%m-%d}", "session-done": "on"})

    response = client_for(dossier.team.trainer).post(
        reverse("training:session_add", args=[plan.pk]), data, HTTP_HX_REQUEST="true"
    )

    assert list(response.context["session_form"].errors) == ["done"]
    assert "pas encore eu lieu : elle ne peut pas être marquée réalisée" in response.content.decode()
    assert not plan.sessions.exists()


def test_marking_a_future_session_done_says_why_and_it_can_be_taken_off_the_calendar(client_for):
    dossier = DossierFactory(state="in_training")
    plan = _plan_of(dossier)
    tomorrow = TODAY() + datetime.timedelta(days=1)
    session = training_session_add(
        plan=plan, by=dossier.team.trainer, date=tomorrow, duration_hours=Decimal("2"), topic="Fractions"
    )
    client = client_for(dossier.team.trainer)

    response = client.post(reverse("training:session_done", args=[session.pk]), HTTP_HX_REQUEST="true")

    assert response.content.decode().startswith('<section id="seances"')
    assert f"La séance du {tomorrow:%d/%m/%Y} n&#x27;a pas encore eu lieu" in response.content.decode()
    session.refresh_from_db()
    assert session.done is False

    response = client.post(reverse("training:session_remove", args=[session.pk]), follow=True)
    assert f"La séance du {tomorrow:%d/%m/%Y} est retirée du calendrier." in response.content.decode()
    assert not plan.sessions.exists()
    # The removal is traced with the screen's request (the address the audit row keeps).
    assert AuditLog.objects.get(action="training_session.remove").ip_address == "127.0.0.1"
    assert dossier.events.filter(note__startswith=f"Séance du {tomorrow:%d/%m/%Y}").exists()


def test_completing_under_the_planned_hours_asks_for_a_reason_on_its_field_and_the_dossier_shows_it(client_for):
    dossier = DossierFactory(state="in_training")
    plan = _plan_of(dossier)
    trainer = dossier.team.trainer
    training_session_add(plan=plan, by=trainer, date=TODAY(), duration_hours=Decimal("3"), topic="Calcul", done=True)
    client = client_for(trainer)
    url = reverse("training:plan_complete", args=[plan.pk])

    confirmation = client.get(url).content.decode()
    assert "Motif des heures non réalisées" in confirmation
    assert "Obligatoire : 3 h réalisées sur 35 h prévues." in confirmation

    refused = client.post(url, {"shortfall_reason": "  "})
    content = refused.content.decode()
    assert refused.status_code == 200
    assert list(refused.context["form"].errors) == ["shortfall_reason"]
    assert 'id="id_shortfall_reason_errors"' in content
    plan.refresh_from_db()
    assert plan.completed_at is None

    response = client.post(url, {"shortfall_reason": "Le candidat a retrouvé un emploi à temps plein."})
    assert response.status_code == 302
    timeline = client_for(dossier.team.counsellor).get(_dossier_detail_url(dossier)).content.decode()
    assert "3 h réalisées sur 35 h prévues. Motif : Le candidat a retrouvé un emploi à temps plein." in timeline


def test_a_plan_with_a_session_still_planned_is_not_completed_and_the_page_says_why(client_for):
    dossier = DossierFactory(state="in_training")
    plan = _plan_of(dossier)
    trainer = dossier.team.trainer
    training_session_add(plan=plan, by=trainer, date=TODAY(), duration_hours=Decimal("3"), topic="Calcul", done=True)
    later = TODAY() + datetime.timedelta(days=5)
    training_session_add(plan=plan, by=trainer, date=later, duration_hours=Decimal("3"), topic="Bilan")

    response = client_for(trainer).post(
        reverse("training:plan_complete", args=[plan.pk]), {"shortfall_reason": "Autonome."}
    )

    content = response.content.decode()
    assert response.status_code == 200
    assert f"Une séance est encore prévue le {later:%d/%m/%Y}" in content
    assert "Autonome." in content
    plan.refresh_from_db()
    assert plan.completed_at is None


def test_a_plan_starting_before_the_prior_evaluation_is_refused_on_its_start(client_for):
    evaluated_on = TODAY() - datetime.timedelta(days=10)
    dossier = DossierFactory(state="partially_validated", evaluated_on=evaluated_on)
    early = evaluated_on - datetime.timedelta(days=3)

    response = client_for(dossier.team.counsellor).post(
        reverse("training:plan_create", args=[dossier.pk]),
        _plan_data(dossier, dossier.team.trainer, starts_on=f"{early:%Y-%m-%d}"),
    )

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["starts_on"]
    assert f"au plus tôt le {evaluated_on:%d/%m/%Y}" in response.content.decode()
    assert not dossier.training_plans.exists()


def test_an_htmx_session_answer_announces_through_the_live_region_and_marks_the_message_for_the_focus(client_for):
    dossier = DossierFactory(state="in_training")
    plan = _plan_of(dossier)

    response = client_for(dossier.team.trainer).post(
        reverse("training:session_add", args=[plan.pk]), _session_data(), HTTP_HX_REQUEST="true"
    )

    content = response.content.decode()
    section, out_of_band = content.split("</section>")
    assert '<div class="messages" tabindex="-1" data-swap-focus><p class="message--success">' in section
    assert 'role="status"' not in section and 'role="alert"' not in section
    assert out_of_band.strip() == (
        '<div id="live-status" hx-swap-oob="innerHTML"><p>La séance est ajoutée au calendrier.</p></div>'
    )


def test_an_htmx_note_refused_on_its_field_marks_the_field_invalid_without_announcing_a_message(client_for):
    dossier = DossierFactory(state="in_training")
    plan = _plan_of(dossier)

    response = client_for(dossier.team.trainer).post(
        reverse("training:note_add", args=[plan.pk]), {"note-text": ""}, HTTP_HX_REQUEST="true"
    )

    content = response.content.decode()
    assert 'aria-invalid="true"' in content  # where static/js/live-region.js puts the focus
    assert "data-error-summary" in content
    assert "hx-swap-oob" not in content
