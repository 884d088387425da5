"""The change feed (issue 20): updated_at moves with any change to a row or its children, `updated_since`, a cursor
over (updated_at, id) that skips and repeats nothing when rows change between two pages, and a 400 for any query
parameter an operation does not declare."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import models
from django.test import Client
from django.utils.dateparse import parse_datetime

from candidates.models import Dossier
from candidates.services import candidate_correct
from clea_platform.api_feed import FeedViewSetMixin
from clea_platform.api_urls import router
from clea_platform.changes import rows_changed
from evaluations.models import Evaluation
from evaluations.services import evaluation_save_results
from juries.models import JurySession
from juries.services import jury_session_set_seats
from notifications.models import Notification
from notifications.services import notifications_mark_all_read
from tests.journey import DossierFactory
from tests.juries.factories import make_jury, submit
from tests.notifications.support import notification_for
from training.models import TrainingPlan
from training.services import training_note_add, training_session_remove

UTC = datetime.UTC
LONG_AGO = datetime.datetime(2020, 1, 1, tzinfo=UTC)
DOSSIERS = "/api/v1/dossiers/"


def aged(*rows: models.Model) -> None:
    """Date the rows long ago, so that any move shows."""
    for row in rows:
        type(row)._default_manager.filter(pk=row.pk).update(updated_at=LONG_AGO)


def moved(*rows: models.Model) -> list[str]:
    """The rows whose updated_at stayed behind (an empty list when every one moved)."""
    return [
        f"{type(row).__name__} {row.pk}"
        for row in rows
        if type(row)._default_manager.get(pk=row.pk).updated_at <= LONG_AGO
    ]


# -- What moves updated_at --------------------------------------------------------------------------------------


def test_saving_results_moves_the_evaluation_and_its_dossier(db):
    dossier = DossierFactory(state="prior_evaluation")
    evaluation = dossier.evaluations.get()
    aged(evaluation, dossier)
    line = evaluation.results.first()
    evaluation_save_results(
        evaluation=evaluation, by=dossier.team.evaluator, results={line.criterion_id: ("acquired", "")}
    )
    assert moved(Evaluation.objects.get(pk=evaluation.pk), dossier) == []


def test_a_change_dated_earlier_never_takes_a_parent_back_in_time(db):
    dossier = DossierFactory(state="prior_evaluation")
    evaluation = dossier.evaluations.get()
    dossier.refresh_from_db()
    rows_changed(evaluation, at=LONG_AGO + datetime.timedelta(days=1))
    assert Dossier.objects.get(pk=dossier.pk).updated_at == dossier.updated_at


def test_a_training_session_added_or_removed_and_a_note_move_the_plan_and_its_dossier(org_a):
    # Imported here: tests.training.tenancy feeds tests/tenancy_registry.py, which must import it first.
    from tests.training.tenancy import delivered_by, planned_session

    plan, trainer = delivered_by(org_a)
    dossier = plan.dossier
    aged(plan, dossier)
    session = planned_session(plan, trainer)
    assert moved(plan, dossier) == []

    aged(plan, dossier)
    training_session_remove(session=session, by=trainer)
    assert moved(plan, dossier) == []

    aged(plan, dossier)
    training_note_add(plan=TrainingPlan.objects.get(pk=plan.pk), by=trainer, text="Bonne progression.")
    assert moved(plan, dossier) == []


def test_a_corrected_identity_moves_the_candidates_dossier(org_a):
    dossier = DossierFactory(organisation=org_a, state="opened")
    aged(dossier)
    candidate_correct(candidate=dossier.candidate, by=dossier.team.counsellor, data={"city": "Roubaix"})
    assert moved(dossier) == []


def test_a_submission_and_the_seats_move_the_jury_session_and_the_dossier(db):
    jury = make_jury()
    dossier = DossierFactory(state="ready_for_jury")
    aged(jury.session, dossier)
    submit(jury, dossier)
    assert moved(jury.session, dossier) == []

    # Seats removed and a president named are written without save(): the service says so.
    aged(jury.session)
    session = JurySession.objects.get(pk=jury.session.pk)
    jury_session_set_seats(session=session, by=jury.admin, member_ids=[jury.employer.pk], president_id=jury.employer.pk)
    assert moved(jury.session) == []


def test_reading_all_notifications_moves_each(make_member, org_a):
    member = make_member(org_a)
    rows = [notification_for(member) for _ in range(2)]
    aged(*rows)
    assert notifications_mark_all_read(by=member) == 2
    assert moved(*rows) == []


# -- The cursor ---------------------------------------------------------------------------------------------------


def read_all(client: Client, url: str, **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    page = client.get(url, params).json()
    rows += page["results"]
    while page["next"]:
        page = client.get(page["next"]).json()
        rows += page["results"]
    return rows


def test_a_row_changed_between_two_pages_is_not_skipped_and_no_other_is_repeated(client_for, org_a):
    dossiers = [DossierFactory(organisation=org_a, state="opened") for _ in range(5)]
    ids = sorted(d.pk for d in dossiers)
    # All at one instant, as a bulk change writes them: only the id orders them, and the cursor holds it.
    Dossier.objects.filter(pk__in=ids).update(updated_at=LONG_AGO)
    client = client_for(dossiers[0].team.counsellor)

    first = client.get(DOSSIERS, {"page_size": 2}).json()
    assert set(first) == {"next", "previous", "results"}
    assert [row["id"] for row in first["results"]] == ids[:2] and first["previous"] is None
    # Between two pages: a row not read yet changes (with page numbers over "-updated_at" it jumped to the first
    # page, never to be read, and pushed a row read already onto the next page), and so does a row read already.
    Dossier.objects.get(pk=ids[3]).save()
    Dossier.objects.get(pk=ids[0]).save()
    rest = []
    page = first
    while page["next"]:
        page = client.get(page["next"]).json()
        rest += page["results"]

    assert [row["id"] for row in rest] == [ids[2], ids[4], ids[3], ids[0]]
    # Each row read once, but the one that changed after it was read: it comes again, at the end, newer.
    again = rest[-1]
    assert parse_datetime(again["updated_at"]) > parse_datetime(first["results"][0]["updated_at"])


def test_the_previous_link_reads_back_the_same_page(client_for, org_a):
    dossiers = [DossierFactory(organisation=org_a, state="opened") for _ in range(3)]
    client = client_for(dossiers[0].team.counsellor)
    first = client.get(DOSSIERS, {"page_size": 2}).json()
    second = client.get(first["next"]).json()
    assert second["next"] is None
    back = client.get(second["previous"]).json()
    assert [row["id"] for row in back["results"]] == [row["id"] for row in first["results"]]
    assert back["previous"] is None


def test_notifications_page_newest_first(make_member, org_a, client_for):
    member = make_member(org_a)
    rows = [notification_for(member) for _ in range(3)]
    Notification.objects.filter(pk=rows[0].pk).update(updated_at=LONG_AGO)
    listed = read_all(client_for(member), "/api/v1/notifications/", page_size=1)
    assert [row["id"] for row in listed] == [rows[2].pk, rows[1].pk, rows[0].pk]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"page_size": 201}, "page_size"), ({"page_size": 0}, "page_size"), ({"cursor": "nonsense"}, "cursor")],
)
def test_a_bad_page_size_or_cursor_is_a_400_on_it(params, field, client_for, org_a):
    client = client_for(DossierFactory(organisation=org_a, state="opened").team.counsellor)
    response = client.get(DOSSIERS, params)
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == [field]


# -- updated_since ---------------------------------------------------------------------------------------------------


def test_updated_since_is_an_instant_with_its_offset_inclusive(client_for, org_a):
    old, new = (DossierFactory(organisation=org_a, state="opened") for _ in range(2))
    Dossier.objects.filter(pk=old.pk).update(updated_at=datetime.datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    Dossier.objects.filter(pk=new.pk).update(updated_at=datetime.datetime(2026, 1, 5, 10, 0, tzinfo=UTC))
    client = client_for(old.team.counsellor)

    def listed(query: str) -> list[int]:
        response = client.get(f"{DOSSIERS}?{query}")
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    # 11:00 in Paris in winter is 10:00 UTC: the bound itself is included.
    assert listed("updated_since=2026-01-05T11:00:00%2B01:00") == [new.pk]
    assert listed("updated_since=2026-01-05T09:00:00Z") == [old.pk, new.pk]
    # A "+" left unencoded arrives as a space: the one repair made.
    assert listed("updated_since=2026-01-05T11:00:00+01:00") == [new.pk]
    # An offset beyond PostgreSQL's 16 hours is still an instant (read in UTC, not a 500).
    assert listed("updated_since=2026-01-04T16:28:00-17:32") == [new.pk]

    for naive in ("2026-01-05T10:00:00", "2026-01-05", "05/01/2026", "0001-01-01T00:00:00+01:00"):
        response = client.get(DOSSIERS, {"updated_since": naive})
        assert response.status_code == 400
        [error] = response.json()["errors"]
        assert error["field"] == "updated_since" and "décalage horaire" in error["message"]


# -- Undeclared query parameters -----------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["ordering=-id", "page=2", "sort=-updated", "dossier_id=1"])
def test_an_undeclared_query_parameter_is_a_400_naming_it(query, client_for, org_a):
    client = client_for(DossierFactory(organisation=org_a, state="opened").team.counsellor)
    response = client.get(f"{DOSSIERS}?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    [error] = body["errors"]
    assert (error["field"], error["code"]) == (query.split("=")[0], "unknown_parameter")
    assert "updated_since" in error["message"]


def test_an_operation_on_one_object_declares_no_query_parameter(client_for, org_a):
    dossier = DossierFactory(organisation=org_a, state="opened")
    client = client_for(dossier.team.counsellor)
    for url in (f"{DOSSIERS}{dossier.pk}/", f"{DOSSIERS}{dossier.pk}/transitions/"):
        assert client.get(url, {"format": "json"}).status_code == 200
        response = client.get(url, {"expand": "candidate"})
        assert response.status_code == 400, url
        assert [error["field"] for error in response.json()["errors"]] == ["expand"]


def test_evaluations_filter_by_dossier(client_for, org_a):
    dossier = DossierFactory(organisation=org_a, state="prior_evaluation")
    DossierFactory(organisation=org_a, state="prior_evaluation")
    client = client_for(dossier.team.evaluator)
    assert len(client.get("/api/v1/evaluations/").json()["results"]) == 2
    listed = client.get("/api/v1/evaluations/", {"dossier": dossier.pk}).json()["results"]
    assert [row["dossier"] for row in listed] == [dossier.pk]


def test_every_list_accepts_exactly_the_query_parameters_its_schema_declares(db):
    schema = Client().get("/api/schema/", {"format": "json"}).json()
    checked = 0
    for prefix, viewset, _basename in router.registry:
        if not issubclass(viewset, FeedViewSetMixin):
            continue
        view = viewset(action="list", request=None, format_kwarg=None)
        operation = schema["paths"][f"/api/v1/{prefix}/"]["get"]
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        assert declared == set(view.declared_query_params()), prefix
        checked += 1
    assert checked == len(router.registry)


@pytest.mark.django_db(transaction=True)
def test_a_change_does_not_wait_for_a_parent_another_transaction_holds_and_moves_it_after_its_commit():
    """A child written while another transaction holds its dossier (a move or a withdrawal lock the dossier first)
    must not wait for it under the child's own lock, the order that deadlocked: the dossier moves once the writer
    has committed, as soon as the holder lets go. PostgreSQL only: SQLite writes one transaction at a time."""
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL (CI)")
    import threading
    import time

    from tests.concurrency import in_a_thread

    dossier = DossierFactory(in_prior_evaluation=True)
    evaluation = Evaluation.objects.get(dossier=dossier)
    held, release = threading.Event(), threading.Event()

    def hold_the_dossier() -> None:
        with transaction.atomic():
            list(Dossier.objects.select_for_update().filter(pk=dossier.pk).values_list("pk"))
            held.set()
            release.wait(10)

    errors: list[BaseException] = []
    holder = in_a_thread(hold_the_dossier, errors)
    assert held.wait(10)
    started = time.monotonic()
    writer_done = threading.Event()

    def write_the_child() -> None:
        with transaction.atomic():
            rows_changed(evaluation)
        writer_done.set()  # after the commit and its deferred move of the dossier

    writer = in_a_thread(write_the_child, errors)
    # The child is written without waiting for the dossier; only the move after the commit waits for the holder.
    time.sleep(0.5)
    assert not writer_done.is_set()
    assert Evaluation.objects.get(pk=evaluation.pk).updated_at > dossier.updated_at
    release.set()
    for thread in (holder, writer):
        thread.join(10)
    assert errors == []
    assert time.monotonic() - started < 10
    assert Dossier.objects.get(pk=dossier.pk).updated_at >= Evaluation.objects.get(pk=evaluation.pk).updated_at
