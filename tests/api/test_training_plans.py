import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from candidates.models import DossierState
from organisations.models import AuditLog, Role
from tests.factories import MembershipFactory, OrganisationFactory
from tests.journey import DossierFactory
from training.models import TrainingPlan
from training.services import training_note_add, training_session_add

pytestmark = pytest.mark.django_db

LIST = "/api/v1/training-plans/"
TODAY = timezone.localdate


def _plan(state="in_training", organisation=None):
    dossier = DossierFactory(organisation=organisation, state=state)
    plan = TrainingPlan.objects.get(dossier=dossier, cycle=1)
    plan.team = dossier.team
    return plan


def _session(plan, done=False, hours="2"):
    return training_session_add(
        plan=plan, by=plan.team.trainer, date=TODAY(), duration_hours=Decimal(hours), topic="Règle de trois", done=done
    )


def _detail(plan):
    return reverse("api:training-plan-detail", kwargs={"pk": plan.pk})


def _url(name, plan, **kwargs):
    return reverse(f"api:training-plan-{name}", kwargs={"pk": plan.pk, **kwargs})


def _plan_payload(dossier, trainer, **overrides):
    return {
        "dossier": dossier.pk,
        "trainer": trainer.pk,
        "planned_hours": "30",
        "starts_on": f"{TODAY():%Y-%m-%d}",
        "ends_on": f"{TODAY() + datetime.timedelta(days=120):%Y-%m-%d}",
        **overrides,
    }


def _fields(response):
    return {error["field"]: error["message"] for error in response.json()["errors"]}


def _post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


# -- The list ---------------------------------------------------------------------------------------------------


def test_the_counsellor_lists_the_plans_of_the_organisations_dossiers_with_their_progress(client_for, org_a, org_b):
    plan = _plan(organisation=org_a)
    _session(plan, done=True, hours="1.5")
    _session(plan, done=False, hours="3")
    _plan(organisation=org_b)

    body = client_for(plan.team.counsellor).get(LIST).json()

    assert len(body["results"]) == 1 and body["next"] is None
    [row] = body["results"]
    assert row["id"] == plan.pk
    assert row["dossier"] == plan.dossier_id and row["dossier_reference"] == plan.dossier.reference
    assert row["candidate"] == {
        "first_name": plan.dossier.candidate.first_name,
        "last_name": plan.dossier.candidate.last_name,
    }
    assert row["trainer"] == {"name": plan.trainer.get_full_name(), "organisation": plan.organisation.name}
    assert (row["hours_done"], row["planned_hours"], row["is_completed"]) == ("1.5", "35.0", False)


def test_the_list_filters_by_dossier_and_by_completion(client_for, org_a):
    running = _plan(organisation=org_a)
    completed = _plan(state="final_evaluation", organisation=org_a)
    client = client_for(running.team.counsellor)

    by_dossier = client.get(LIST, {"dossier": running.dossier_id}).json()
    assert [row["id"] for row in by_dossier["results"]] == [running.pk]
    done = client.get(LIST, {"completed": "true"}).json()
    assert [row["id"] for row in done["results"]] == [completed.pk]
    assert done["results"][0]["is_completed"] is True
    under_way = client.get(LIST, {"completed": "false"}).json()
    assert [row["id"] for row in under_way["results"]] == [running.pk]
    assert len(client.get(LIST).json()["results"]) == 2


def test_a_bad_filter_names_the_field_in_french(client_for, org_a):
    plan = _plan(organisation=org_a)
    response = client_for(plan.team.counsellor).get(LIST, {"completed": "peut-être", "dossier": "abc"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and body["message"] == "Certaines données sont invalides."
    assert {error["field"] for error in body["errors"]} == {"completed", "dossier"}
    assert all("valide" in error["message"] for error in body["errors"])
    beyond = client_for(plan.team.counsellor).get(LIST, {"dossier": 2**63})
    assert beyond.status_code == 400
    assert [error["field"] for error in beyond.json()["errors"]] == ["dossier"]


def test_a_trainer_lists_only_the_plans_they_deliver_with_a_token(token_client, org_a):
    plan = _plan(organisation=org_a)
    colleague = MembershipFactory(organisation=plan.organisation, role=Role.TRAINER)

    assert [row["id"] for row in token_client(plan.team.trainer).get(LIST).json()["results"]] == [plan.pk]
    assert len(token_client(colleague).get(LIST).json()["results"]) == 0


def test_the_training_organisations_administrator_and_the_evaluator_list_the_plans(client_for, org_a):
    plan = _plan(organisation=org_a)
    admin = MembershipFactory(organisation=plan.organisation, role=Role.ORG_ADMIN)

    for member in (admin, plan.team.evaluator):
        assert [row["id"] for row in client_for(member).get(LIST).json()["results"]] == [plan.pk]


def test_a_jury_member_outside_the_dossiers_session_lists_nothing(client_for, make_member, org_a):
    _plan(organisation=org_a)
    jury_member = make_member(OrganisationFactory(), role=Role.JURY_MEMBER)
    assert len(client_for(jury_member).get(LIST).json()["results"]) == 0


def test_a_france_travail_advisor_has_no_plan_list(client_for, make_member, org_a):
    _plan(organisation=org_a)
    advisor = make_member(OrganisationFactory(france_travail=True), role=Role.FT_ADVISOR)
    response = client_for(advisor).get(LIST)
    assert response.status_code == 403
    assert response.json() == {"code": "permission_denied", "message": "Votre rôle ne permet pas cette action."}


@pytest.mark.parametrize("rows", [2, 5])
def test_the_plan_list_costs_the_same_queries_whatever_the_rows(rows, client_for, org_a, django_assert_num_queries):
    for _ in range(rows):
        plan = _plan(organisation=org_a)
        _session(plan, done=True)
    client = client_for(plan.team.counsellor)
    client.get(LIST)  # warm the session
    # Session, user, membership; the count, then the page with its progress subquery.
    # No count since the cursor pagination (issue 20): one query fewer.
    with django_assert_num_queries(4):
        assert len(client.get(LIST).json()["results"]) == rows


# -- One plan ---------------------------------------------------------------------------------------------------


def test_the_counsellor_reads_the_plan_with_objectives_calendar_sessions_notes_and_progress(client_for, org_a):
    plan = _plan(organisation=org_a)
    _session(plan, done=True, hours="2")
    training_note_add(plan=plan, by=plan.team.trainer, text="Progrès nets sur les pourcentages.")

    response = client_for(plan.team.counsellor).get(_detail(plan))

    assert response.status_code == 200
    body = response.json()
    assert body["objectives"] == plan.objectives
    assert [criterion["code"] for criterion in body["target_criteria"]] == ["2.1.3", "2.1.4"]
    assert (body["starts_on"], body["ends_on"]) == (f"{plan.starts_on:%Y-%m-%d}", f"{plan.ends_on:%Y-%m-%d}")
    assert [(s["topic"], s["done"], s["duration_hours"]) for s in body["sessions"]] == [("Règle de trois", True, "2.0")]
    assert [(n["text"], n["author"]) for n in body["notes"]] == [
        ("Progrès nets sur les pourcentages.", plan.trainer.get_full_name())
    ]
    assert body["hours_done"] == "2.0"


def test_the_trainer_of_another_tenant_reads_the_plan_and_the_candidates_identity_only(client_for, org_a):
    plan = _plan(organisation=org_a)
    assert plan.organisation != plan.dossier.organisation

    response = client_for(plan.team.trainer).get(_detail(plan))

    assert response.status_code == 200
    text = response.content.decode()
    assert plan.dossier.candidate.last_name in text
    for dossier_content in ("candidate@exemple.fr", "Lille", "1985-04-12", "prior", "consent", "state"):
        assert dossier_content not in text
    assert response.json()["candidate"] == {
        "first_name": plan.dossier.candidate.first_name,
        "last_name": plan.dossier.candidate.last_name,
    }


def _member_of(plan, who, make_member):
    """A membership of the role matrix below, related to the plan as its name says."""
    match who:
        case "counsellor":
            return plan.team.counsellor
        case "evaluator":
            return plan.team.evaluator
        case "trainer":
            return plan.team.trainer
        case "trainer_colleague":
            return MembershipFactory(organisation=plan.organisation, role=Role.TRAINER)
        case "advisor":
            return make_member(OrganisationFactory(france_travail=True), role=Role.FT_ADVISOR)
        case "jury_member":
            return make_member(OrganisationFactory(), role=Role.JURY_MEMBER)
        case "other_counsellor":
            return make_member(OrganisationFactory(), role=Role.COUNSELLOR)
    raise AssertionError(who)


# Reading the plan: whoever the plan is visible to; the others get 404, as for a plan that does not exist.
@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("counsellor", 200),
        ("evaluator", 200),
        ("trainer", 200),
        ("trainer_colleague", 404),
        ("advisor", 404),
        ("jury_member", 404),
        ("other_counsellor", 404),
    ],
)
def test_who_reads_a_plan(who, status, client_for, make_member, org_a):
    plan = _plan(organisation=org_a)
    assert client_for(_member_of(plan, who, make_member)).get(_detail(plan)).status_code == status


# -- The counsellor defines a plan ------------------------------------------------------------------------------


def test_the_counsellor_defines_a_plan_through_the_service(client_for, org_a):
    dossier = DossierFactory(organisation=org_a, state="partially_validated")

    response = _post(client_for(dossier.team.counsellor), LIST, _plan_payload(dossier, dossier.team.trainer))

    assert response.status_code == 201, response.content
    plan = TrainingPlan.objects.get(dossier=dossier)
    body = response.json()
    assert body["id"] == plan.pk and body["cycle"] == 1
    assert body["trainer"]["name"] == dossier.team.trainer.user.get_full_name()
    # Objectives left out: the criteria still missing, as the service words them.
    assert body["objectives"] == "2.1.3 – Critère 2.1.3\n2.1.4 – Critère 2.1.4"
    assert body["planned_hours"] == "30.0" and body["hours_done"] == "0.0"
    dossier.refresh_from_db()
    assert dossier.state == DossierState.IN_TRAINING
    assert dossier.events.filter(note__contains="Parcours 1 confié").exists()


def test_objectives_written_by_the_counsellor_are_kept(client_for, org_a):
    dossier = DossierFactory(organisation=org_a, state="partially_validated")
    payload = _plan_payload(dossier, dossier.team.trainer, objectives="Calculer des remises.")

    response = _post(client_for(dossier.team.counsellor), LIST, payload)

    assert response.status_code == 201
    assert TrainingPlan.objects.get(dossier=dossier).objectives == "Calculer des remises."


def test_the_trainers_offered_to_the_counsellor(client_for, org_a):
    dossier = DossierFactory(organisation=org_a, state="partially_validated")
    trainer = dossier.team.trainer

    body = client_for(dossier.team.counsellor).get(reverse("api:training-plan-trainers")).json()

    assert {
        "id": trainer.pk,
        "name": trainer.user.get_full_name(),
        "organisation": trainer.organisation.name,
        "label": f"{trainer.user.get_full_name()} – {trainer.organisation.name}",
    } in body
    assert all(row["id"] != dossier.team.evaluator.pk for row in body)


@pytest.mark.parametrize("trainers", [2, 5])
def test_the_trainers_list_costs_the_same_queries_whatever_the_rows(
    trainers, client_for, org_a, django_assert_num_queries
):
    dossier = DossierFactory(organisation=org_a, state="partially_validated")
    for _ in range(trainers - 1):  # the team brought one
        MembershipFactory(organisation=OrganisationFactory(training=True), role=Role.TRAINER)
    client = client_for(dossier.team.counsellor)
    client.get(reverse("api:training-plan-trainers"))
    with django_assert_num_queries(4):
        assert len(client.get(reverse("api:training-plan-trainers")).json()) == trainers


@pytest.mark.parametrize("who", ["evaluator", "trainer", "advisor", "jury_member"])
def test_only_a_counsellor_defines_a_plan_or_lists_the_trainers(who, client_for, make_member, org_a):
    plan_owner = _plan(organisation=org_a)  # for the team's memberships
    dossier = DossierFactory(organisation=org_a, state="partially_validated")
    client = client_for(_member_of(plan_owner, who, make_member))

    assert _post(client, LIST, _plan_payload(dossier, dossier.team.trainer)).status_code == 403
    assert client.get(reverse("api:training-plan-trainers")).status_code == 403
    assert not TrainingPlan.objects.filter(dossier=dossier).exists()


def test_a_dossier_of_another_organisation_is_answered_as_a_missing_one(client_for, make_member, org_a, org_b):
    dossier = DossierFactory(organisation=org_b, state="partially_validated")
    outsider = make_member(org_a, role=Role.COUNSELLOR)

    response = _post(client_for(outsider), LIST, _plan_payload(dossier, dossier.team.trainer))
    missing = _post(client_for(outsider), LIST, {**_plan_payload(dossier, dossier.team.trainer), "dossier": 987654321})

    assert response.status_code == missing.status_code == 400
    assert response.json() == missing.json()
    assert _fields(response) == {"dossier": "Aucun de vos dossiers ne porte cet identifiant."}
    # Nor anything else that names no dossier of theirs: the same answer, never a database error.
    for not_an_id in ("abc", 0, -1, 2**63, "9" * 5000, True, [dossier.pk], 1.5):
        answer = _post(
            client_for(outsider), LIST, {**_plan_payload(dossier, dossier.team.trainer), "dossier": not_an_id}
        )
        assert answer.status_code == 400, not_an_id
        assert answer.json() == missing.json(), not_an_id
    assert not TrainingPlan.objects.exists()


def test_bad_input_names_the_fields_in_french(client_for, org_a):
    dossier = DossierFactory(organisation=org_a, state="partially_validated")
    client = client_for(dossier.team.counsellor)

    missing = _post(client, LIST, {"dossier": dossier.pk})
    assert missing.status_code == 400
    assert {e["field"] for e in missing.json()["errors"]} == {"trainer", "planned_hours", "starts_on", "ends_on"}
    assert {e["message"] for e in missing.json()["errors"]} == {"Ce champ est obligatoire."}

    backwards = _post(
        client,
        LIST,
        _plan_payload(dossier, dossier.team.trainer, ends_on=f"{TODAY() - datetime.timedelta(days=1):%Y-%m-%d}"),
    )
    assert backwards.status_code == 400
    assert backwards.json()["errors"] == [
        {"field": "ends_on", "code": "invalid", "message": "La fin prévue précède le début."}
    ]

    # Not among trainer_memberships(): an evaluator's membership id, as a forged form would send it.
    forged = _post(client, LIST, _plan_payload(dossier, dossier.team.evaluator, planned_hours="5000"))
    assert forged.status_code == 400
    errors = {e["field"]: e["message"] for e in forged.json()["errors"]}
    assert set(errors) == {"trainer", "planned_hours"}
    assert "Sélectionnez un choix valide" in errors["trainer"]
    assert "1000" in errors["planned_hours"]
    dossier.refresh_from_db()
    assert dossier.state == DossierState.PARTIALLY_VALIDATED


def test_a_dossier_that_is_not_partially_validated_is_refused_with_409(client_for, org_a):
    dossier = DossierFactory(organisation=org_a, state="opened")

    response = _post(client_for(dossier.team.counsellor), LIST, _plan_payload(dossier, dossier.team.trainer))

    assert response.status_code == 409
    assert response.json() == {
        "code": "training_refused",
        "message": "Un parcours se définit après une validation partielle.",
    }


def test_the_candidates_evaluator_is_never_their_trainer(client_for, org_a):
    dossier = DossierFactory(organisation=org_a, state="partially_validated")
    # The same person, also a trainer of the evaluator organisation: CléA forbids it, the service says so.
    evaluator_as_trainer = MembershipFactory(
        user=dossier.team.evaluator.user, organisation=dossier.organisation, role=Role.TRAINER
    )

    response = _post(client_for(dossier.team.counsellor), LIST, _plan_payload(dossier, evaluator_as_trainer))

    assert response.status_code == 409
    assert response.json()["message"] == "Cette personne a évalué le candidat : elle ne peut pas être sa formatrice."
    assert not TrainingPlan.objects.filter(dossier=dossier).exists()


# -- The trainer's actions --------------------------------------------------------------------------------------


def test_the_trainer_adds_a_session_marks_it_done_writes_a_note_and_completes(token_client, org_a):
    plan = _plan(organisation=org_a)
    client = token_client(plan.team.trainer)

    added = _post(
        client, _url("sessions", plan), {"date": f"{TODAY():%Y-%m-%d}", "duration_hours": "2.5", "topic": "%"}
    )
    assert added.status_code == 201, added.content
    assert added.json()["done"] is False and added.json()["duration_hours"] == "2.5"

    done = _post(client, _url("session-done", plan, session_pk=added.json()["id"]))
    assert done.status_code == 200 and done.json()["done"] is True

    note = _post(client, _url("notes", plan), {"text": "  Autonome sur les remises.  "})
    assert note.status_code == 201
    assert note.json()["text"] == "Autonome sur les remises."
    assert note.json()["author"] == plan.trainer.get_full_name()

    completed = _post(client, _url("complete", plan), {"shortfall_reason": "Autonome plus tôt que prévu."})
    assert completed.status_code == 200, completed.content
    body = completed.json()
    assert body["is_completed"] is True and body["completed_at"]
    assert body["hours_done"] == "2.5"
    assert [n["text"] for n in body["notes"]] == ["Autonome sur les remises."]
    assert plan.dossier.events.filter(note__startswith="Formation terminée").exists()


def test_bad_session_and_note_input_names_the_fields_in_french(client_for, org_a):
    plan = _plan(organisation=org_a)
    client = client_for(plan.team.trainer)

    session = _post(client, _url("sessions", plan), {"date": "demain", "duration_hours": "20", "topic": ""})
    assert session.status_code == 400
    errors = {e["field"]: e["message"] for e in session.json()["errors"]}
    assert set(errors) == {"date", "duration_hours", "topic"}
    assert "12" in errors["duration_hours"]
    assert errors["topic"] == "Ce champ ne peut être vide."

    note = _post(client, _url("notes", plan), {"text": "   "})
    assert note.status_code == 400
    assert [e["field"] for e in note.json()["errors"]] == ["text"]
    assert not plan.sessions.exists() and not plan.notes.exists()


def test_a_session_of_another_plan_is_not_found(client_for, org_a):
    plan = _plan(organisation=org_a)
    other_session = _session(_plan(organisation=org_a))

    response = _post(client_for(plan.team.trainer), _url("session-done", plan, session_pk=other_session.pk))

    assert response.status_code == 404
    other_session.refresh_from_db()
    assert other_session.done is False
    not_an_id = _post(client_for(plan.team.trainer), _url("session-done", plan, session_pk="abc"))
    assert not_an_id.status_code == 404 and not_an_id.json()["code"] == "not_found"


def test_completing_without_a_done_session_is_refused_with_409(client_for, org_a):
    plan = _plan(organisation=org_a)
    _session(plan, done=False)

    response = _post(client_for(plan.team.trainer), _url("complete", plan))

    assert response.status_code == 409
    assert response.json() == {
        "code": "training_refused",
        "message": "Enregistrez au moins une séance réalisée avant de terminer le parcours.",
    }


@pytest.mark.parametrize("name", ["sessions", "notes", "complete"])
def test_a_completed_plan_refuses_the_trainers_actions_with_409(name, client_for, org_a):
    plan = _plan(state="final_evaluation", organisation=org_a)
    payload = {"date": f"{TODAY():%Y-%m-%d}", "duration_hours": "2", "topic": "Encore", "text": "Encore."}

    response = _post(client_for(plan.team.trainer), _url(name, plan), payload)

    assert response.status_code == 409
    assert response.json() == {"code": "training_refused", "message": "Ce parcours est terminé."}


# -- Dates and hours (issue 14): 400 on the field, as the screens ------------------------------------------------


def test_a_session_outside_the_plan_or_done_before_its_day_is_400_on_its_field(client_for, org_a):
    plan = _plan(organisation=org_a)
    client = client_for(plan.team.trainer)
    late = plan.ends_on + datetime.timedelta(days=1)
    tomorrow = TODAY() + datetime.timedelta(days=1)

    outside = _post(client, _url("sessions", plan), {"date": f"{late:%Y-%m-%d}", "duration_hours": "2", "topic": "%"})
    assert outside.status_code == 400
    assert _fields(outside) == {
        "date": "La séance doit avoir lieu pendant le parcours, "
        f"du {plan.starts_on:%d/%m/%Y} au {plan.ends_on:%d/%m/%Y}."
    }

    ahead = _post(
        client,
        _url("sessions", plan),
        {"date": f"{tomorrow:%Y-%m-%d}", "duration_hours": "2", "topic": "%", "done": True},
    )
    assert ahead.status_code == 400
    assert list(_fields(ahead)) == ["done"]
    assert not plan.sessions.exists()

    planned = _session(plan)
    plan.sessions.filter(pk=planned.pk).update(date=tomorrow)
    marked = _post(client, _url("session-done", plan, session_pk=planned.pk))
    assert marked.status_code == 400
    assert _fields(marked) == {
        "done": f"La séance du {tomorrow:%d/%m/%Y} n'a pas encore eu lieu : elle ne peut pas être marquée réalisée."
    }
    planned.refresh_from_db()
    assert planned.done is False


def test_completing_is_400_while_a_session_is_planned_then_on_the_missing_reason(client_for, org_a):
    plan = _plan(organisation=org_a)
    client = client_for(plan.team.trainer)
    _session(plan, done=True, hours="2")
    later = _session(plan)
    plan.sessions.filter(pk=later.pk).update(date=TODAY() + datetime.timedelta(days=3))

    held = _post(client, _url("complete", plan), {"shortfall_reason": "Autonome."})
    assert held.status_code == 400
    assert list(_fields(held)) == ["non_field_errors"]

    removed = _post(client, _url("session-remove", plan, session_pk=later.pk))
    assert removed.status_code == 204
    assert plan.sessions.count() == 1
    assert AuditLog.objects.get(action="training_session.remove").ip_address == "127.0.0.1"
    assert plan.dossier.events.filter(note__startswith="Séance du").exists()

    no_reason = _post(client, _url("complete", plan))
    assert no_reason.status_code == 400
    assert _fields(no_reason) == {
        "shortfall_reason": "2 h réalisées sur 35 h prévues : indiquez pourquoi la formation se termine avant les "
        "heures prévues."
    }

    completed = _post(client, _url("complete", plan), {"shortfall_reason": "Autonome."})
    assert completed.status_code == 200, completed.content
    assert completed.json()["shortfall_reason"] == "Autonome."


def test_a_done_session_is_not_removed(client_for, org_a):
    plan = _plan(organisation=org_a)
    session = _session(plan, done=True)

    response = _post(client_for(plan.team.trainer), _url("session-remove", plan, session_pk=session.pk))

    assert response.status_code == 409
    assert plan.sessions.count() == 1
