"""Safe retries and safe concurrent writes (issue 20): Idempotency-Key on POSTs, ETag / If-None-Match / If-Match,
the RateLimit-* headers, and Deprecation / Sunset."""

import datetime
import time

import pytest
from django.db import connection, transaction
from django.db.models.signals import post_save
from django.http import HttpResponse
from django.test import Client
from django.urls import include, path, reverse
from django.utils import timezone
from rest_framework import viewsets
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from candidates.models import Dossier
from clea_platform.api_headers import deprecated
from funding.models import FundingLine
from funding.references import funding_references_load
from organisations.models import IdempotencyKey
from privacy.services import retention_apply
from tests.api.test_dossiers import _candidate_payload
from tests.concurrency import in_a_thread, sessions_waiting_on_a_lock, someone_waits_on_a_lock
from tests.funding.support import draft_line, funder
from tests.journey import DossierFactory, small_referentiel, team_for
from training.models import TrainingPlan, TrainingSession

pytestmark = pytest.mark.django_db


def _post(client: Client, url: str, data: dict, key: str | None = None, **headers):
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(url, data, content_type="application/json", **headers)


# -- Idempotency-Key ---------------------------------------------------------------------------------------------


def _dossier_create(org):
    small_referentiel()
    team = team_for(org)
    return team.counsellor, "/api/v1/dossiers/", {"certification": "clea", "candidate": _candidate_payload()}, Dossier


def _line_create(org):
    funding_references_load()
    dossier = DossierFactory(organisation=org, state="opened")
    body = {"dossier": dossier.pk, "step": "prior_evaluation", "funder": funder().pk, "requested_cents": 45000}
    return dossier.team.counsellor, "/api/v1/funding-lines/", body, FundingLine


def _session_create(org):
    dossier = DossierFactory(organisation=org, state="in_training")
    plan = TrainingPlan.objects.get(dossier=dossier, cycle=1)
    body = {"date": f"{timezone.localdate():%Y-%m-%d}", "duration_hours": "2.5", "topic": "Règle de trois"}
    return dossier.team.trainer, reverse("api:training-plan-sessions", kwargs={"pk": plan.pk}), body, TrainingSession


@pytest.mark.parametrize("setup", [_dossier_create, _line_create, _session_create], ids=["dossier", "line", "session"])
def test_a_create_sent_again_with_its_key_makes_one_row_and_replays_the_answer(setup, token_client, org_a):
    membership, url, body, model = setup(org_a)
    client = token_client(membership)
    before = model.objects.count()

    first = _post(client, url, body, key="create-1")
    again = _post(client, url, body, key="create-1")

    assert first.status_code == 201, first.content
    assert (again.status_code, again.json()) == (201, first.json())
    assert again["Idempotent-Replayed"] == "true" and not first.has_header("Idempotent-Replayed")
    assert model.objects.count() == before + 1


def test_the_same_key_with_another_body_is_refused_and_another_client_has_its_own_keys(token_client, client_for, org_a):
    membership, url, body, _model = _line_create(org_a)
    client = token_client(membership)
    assert _post(client, url, body, key="k").status_code == 201

    reused = _post(client, url, {**body, "requested_cents": 1}, key="k")
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"
    assert "nouvelle clé" in reused.json()["message"]
    # The same key from the counsellor's browser session (or another token) is another client's key: it runs.
    assert _post(client_for(membership), url, body, key="k").status_code == 201
    assert _post(token_client(membership), url, body, key="k").status_code == 201
    assert FundingLine.objects.count() == 3


def test_a_key_in_flight_answers_409_and_a_refused_request_frees_its_key(token_client, org_a):
    membership, url, body, _model = _line_create(org_a)
    client = token_client(membership)

    refused = _post(client, url, {**body, "requested_cents": "beaucoup"}, key="retry-me")
    assert refused.status_code == 400
    assert not IdempotencyKey.objects.exists()
    assert _post(client, url, body, key="retry-me").status_code == 201

    # A request still running under a key (its row written, no answer yet), as a concurrent retry sees it.
    row = IdempotencyKey.objects.get()
    IdempotencyKey.objects.create(
        owner=row.owner, key="running", membership=row.membership, token=row.token, fingerprint=row.fingerprint
    )
    in_flight = _post(client, url, body, key="running")
    assert (in_flight.status_code, in_flight.json()["code"]) == (409, "idempotency_key_in_flight")
    assert FundingLine.objects.count() == 1


def test_a_key_taken_over_while_its_write_ran_still_answers_the_write(token_client, org_a):
    """Another process took the key over (its request looked dead) while this write ran: the write succeeded, so
    its client gets its 201, not a 500 from storing an answer on a row that is gone."""
    membership, url, body, _model = _line_create(org_a)
    client = token_client(membership)

    def taken_over(sender, **kwargs):
        IdempotencyKey.objects.all().delete()

    post_save.connect(taken_over, sender=FundingLine, dispatch_uid="tests.taken_over")
    try:
        answer = _post(client, url, body, key="k")
    finally:
        post_save.disconnect(dispatch_uid="tests.taken_over")
    assert answer.status_code == 201 and FundingLine.objects.count() == 1
    assert not IdempotencyKey.objects.exists()


def test_a_malformed_key_is_a_400(token_client, org_a):
    membership, url, body, _model = _line_create(org_a)
    response = _post(token_client(membership), url, body, key="é" * 3)
    assert (response.status_code, response.json()["code"]) == (400, "idempotency_key_invalid")


def test_keys_are_replayed_for_24_hours_then_deleted_by_the_retention_job(token_client, org_a):
    membership, url, body, _model = _line_create(org_a)
    client = token_client(membership)
    assert _post(client, url, body, key="old").status_code == 201
    IdempotencyKey.objects.update(created_at=timezone.now() - datetime.timedelta(hours=25))

    # Past its 24 hours a key is a new one...
    assert "Idempotent-Replayed" not in _post(client, url, body, key="old")
    assert FundingLine.objects.count() == 2
    # ...and the daily retention job deletes what is older than a day.
    IdempotencyKey.objects.update(created_at=timezone.now() - datetime.timedelta(hours=25))
    assert retention_apply()["idempotency_keys"] == 1
    assert not IdempotencyKey.objects.exists()


# -- ETag, If-None-Match, If-Match -------------------------------------------------------------------------------


def test_a_read_has_an_etag_that_moves_with_the_resource_and_if_none_match_answers_304(client_for, org_a):
    funding_references_load()
    dossier = DossierFactory(organisation=org_a, state="opened")
    line = draft_line(dossier)
    client = client_for(dossier.team.counsellor)
    url = reverse("api:funding-line-detail", kwargs={"pk": line.pk})

    etag = client.get(url)["ETag"]
    unchanged = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert (unchanged.status_code, unchanged.content, unchanged["ETag"]) == (304, b"", etag)

    assert client.patch(url, {"requested_cents": 100}, content_type="application/json").status_code == 200
    changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_an_update_or_an_action_with_a_stale_if_match_is_a_412_and_changes_nothing(client_for, org_a):
    funding_references_load()
    dossier = DossierFactory(organisation=org_a, state="opened")
    line = draft_line(dossier, cents=45000)
    client = client_for(dossier.team.counsellor)
    url = reverse("api:funding-line-detail", kwargs={"pk": line.pk})
    read = client.get(url)["ETag"]

    assert (
        client.patch(url, {"requested_cents": 100}, content_type="application/json", HTTP_IF_MATCH=read).status_code
        == 200
    )
    # If-Match is optional: without it the write proceeds (last write wins).
    assert client.patch(url, {"requested_cents": 100}, content_type="application/json").status_code == 200
    stale = client.patch(url, {"requested_cents": 200}, content_type="application/json", HTTP_IF_MATCH=read)
    assert stale.status_code == 412
    assert stale.json()["code"] == "precondition_failed"
    transition = reverse("api:funding-line-transition", kwargs={"pk": line.pk})
    assert _post(client, transition, {"name": "request"}, HTTP_IF_MATCH=read).status_code == 412
    line.refresh_from_db()
    assert (line.requested_cents, line.state) == (100, "draft")

    fresh = client.get(url)["ETag"]
    requested = _post(client, transition, {"name": "request"}, HTTP_IF_MATCH=fresh)
    assert requested.status_code == 200
    # The answer carries the resource's new tag, the one its GET now gives.
    assert requested["ETag"] == client.get(url)["ETag"] != fresh


# -- RateLimit-* -------------------------------------------------------------------------------------------------


@pytest.fixture
def two_a_minute(settings, monkeypatch) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api": "2/minute"}}
    # DRF reads the rates once, at import: swapped for this test only.
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", api_settings.DEFAULT_THROTTLE_RATES)


def test_every_answer_says_the_rate_limit_left_and_a_429_when_to_retry(two_a_minute, token_client, org_a, make_member):
    client = token_client(make_member(org_a))
    answers = [client.get("/api/v1/dossiers/") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert [a["RateLimit-Limit"] for a in answers] == ["2", "2", "2"]
    assert [a["RateLimit-Remaining"] for a in answers] == ["1", "0", "0"]
    assert all(0 < int(a["RateLimit-Reset"]) <= 60 for a in answers)
    assert answers[0]["RateLimit-Policy"] == "2;w=60"
    assert 0 < int(answers[2]["Retry-After"]) <= 60


def test_a_replay_counts_against_the_rate_limit(two_a_minute, token_client, org_a):
    """A replay skips the operation, not the limit: otherwise replays would be a way around it."""
    membership, url, body, _model = _line_create(org_a)
    client = token_client(membership)
    answers = [_post(client, url, body, key="same") for _ in range(3)]
    assert [a.status_code for a in answers] == [201, 201, 429]
    assert answers[1]["Idempotent-Replayed"] == "true" and answers[1]["RateLimit-Remaining"] == "0"
    assert answers[2].json()["code"] == "throttled" and int(answers[2]["Retry-After"]) > 0


# -- Deprecation / Sunset ----------------------------------------------------------------------------------------


SINCE = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)
SUNSET = datetime.datetime(2027, 6, 1, tzinfo=datetime.UTC)


@deprecated(since=SINCE, sunset=SUNSET, link="https://clea.example.fr/docs/api-changelog")
class OldView(APIView):
    authentication_classes: list[type] = []
    permission_classes: list[type] = []

    def get(self, request):
        return Response({"ok": True})


class ThingViewSet(viewsets.ViewSet):
    """A resource whose GET may fail: "broken" answers a page, not JSON."""

    authentication_classes: list[type] = []
    permission_classes: list[type] = []
    written: list[str] = []

    def retrieve(self, request, pk):
        if pk == "broken":
            return HttpResponse("<p>Erreur</p>", content_type="text/html")
        return Response({"pk": pk, "query": request.query_params.dict()})

    def partial_update(self, request, pk):
        self.written.append(pk)
        return Response({"pk": pk})


things = SimpleRouter()
things.register("things", ThingViewSet, basename="thing")
urlpatterns = [path("api/v1/old/", OldView.as_view()), path("api/v1/", include(things.urls))]


@pytest.mark.urls(__name__)
def test_a_deprecated_operation_says_so_and_when_it_goes(client):
    response = client.get("/api/v1/old/")
    assert response.status_code == 200
    assert response["Deprecation"] == f"@{int(SINCE.timestamp())}"
    assert response["Sunset"] == "Tue, 01 Jun 2027 00:00:00 GMT"
    assert response["Link"] == '<https://clea.example.fr/docs/api-changelog>; rel="deprecation"; type="text/html"'


@pytest.mark.urls(__name__)
def test_an_if_match_that_cannot_be_checked_is_a_412_and_the_write_query_string_is_not_the_reads(client):
    ThingViewSet.written.clear()
    # RFC 9110, 13.1.1: a precondition that cannot be evaluated is false, the write does not run.
    refused = client.patch("/api/v1/things/broken/", {}, content_type="application/json", HTTP_IF_MATCH='"x"')
    assert (refused.status_code, refused.json()["code"], ThingViewSet.written) == (412, "precondition_failed", [])
    # The read that checks the tag is the resource's GET, without the write's query string.
    etag = client.get("/api/v1/things/1/")["ETag"]
    passed = client.patch("/api/v1/things/1/?dry=1", {}, content_type="application/json", HTTP_IF_MATCH=etag)
    assert (passed.status_code, ThingViewSet.written) == (200, ["1"])


def test_an_if_match_on_another_organisations_resource_is_a_404(client_for, org_a, org_b):
    funding_references_load()
    line = draft_line(DossierFactory(organisation=org_b, state="opened"))
    client = client_for(DossierFactory(organisation=org_a, state="opened").team.counsellor)
    url = reverse("api:funding-line-detail", kwargs={"pk": line.pk})
    answer = client.patch(url, {"requested_cents": 1}, content_type="application/json", HTTP_IF_MATCH='"x"')
    assert answer.status_code == 404


@pytest.mark.skipif(connection.vendor != "postgresql", reason="two requests at once need PostgreSQL's row locks")
@pytest.mark.django_db(transaction=True)
def test_two_writes_sent_at_once_with_the_same_if_match_one_lands_the_other_is_a_412(client_for, org_a):
    """The test holds the line's row; both PATCHes, sent with the tag of the same read, wait on it. Once released,
    the first one to lock it writes; the second one checks its tag against that write's result."""
    funding_references_load()
    dossier = DossierFactory(organisation=org_a, state="opened")
    line = draft_line(dossier, cents=45000)
    client = client_for(dossier.team.counsellor)
    url = reverse("api:funding-line-detail", kwargs={"pk": line.pk})
    etag = client.get(url)["ETag"]
    answers: list[int] = []
    errors: list[BaseException] = []

    def patch(cents: int) -> None:
        body = {"requested_cents": cents}
        answers.append(client.patch(url, body, content_type="application/json", HTTP_IF_MATCH=etag).status_code)

    with transaction.atomic():
        FundingLine.objects.select_for_update().get(pk=line.pk)
        threads = [in_a_thread(lambda cents=cents: patch(cents), errors) for cents in (100, 200)]
        deadline = time.monotonic() + 10
        while sessions_waiting_on_a_lock() < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sessions_waiting_on_a_lock() == 2
    for thread in threads:
        thread.join(30)
    assert errors == [] and sorted(answers) == [200, 412]
    line.refresh_from_db()
    assert line.requested_cents in (100, 200)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="two requests at once need PostgreSQL's row locks")
@pytest.mark.django_db(transaction=True)
def test_a_retry_while_the_first_request_runs_gets_409_and_the_first_one_lands(token_client, org_a):
    """The first request holds its key (committed at once) while its service waits on the dossier's row, which the
    test keeps locked; the retry, sent meanwhile with the same key, is told to wait instead of creating again."""
    membership, url, body, _model = _line_create(org_a)
    client = token_client(membership)
    answers: dict[str, int] = {}
    errors: list[BaseException] = []
    with transaction.atomic():
        Dossier.objects.select_for_update().get(pk=body["dossier"])
        first = in_a_thread(lambda: answers.setdefault("first", _post(client, url, body, key="k").status_code), errors)
        deadline = time.monotonic() + 10
        while not someone_waits_on_a_lock() and time.monotonic() < deadline:
            time.sleep(0.02)
        retry = _post(client, url, body, key="k")
        assert (retry.status_code, retry.json()["code"]) == (409, "idempotency_key_in_flight")
    first.join(30)
    assert errors == [] and answers == {"first": 201}
    assert FundingLine.objects.count() == 1
    replay = _post(client, url, body, key="k")
    assert (replay.status_code, replay["Idempotent-Replayed"]) == (201, "true")


# -- The schema ------------------------------------------------------------------------------------------------


def test_the_schema_declares_the_safe_write_headers_and_their_answers(client):
    paths = client.get("/api/schema/", {"format": "json"}).json()["paths"]

    def names(operation):
        return {parameter["name"] for parameter in operation.get("parameters", [])}

    create = paths["/api/v1/funding-lines/"]["post"]
    assert "Idempotency-Key" in names(create) and "If-Match" not in names(create)
    assert {"409", "422"} <= set(create["responses"])
    assert "Idempotent-Replayed" in create["responses"]["201"]["headers"]
    update = paths["/api/v1/funding-lines/{id}/"]["patch"]
    assert "If-Match" in names(update) and "412" in update["responses"]
    action = paths["/api/v1/dossiers/{id}/transitions/"]["post"]
    assert {"Idempotency-Key", "If-Match"} <= names(action)
    read = paths["/api/v1/funding-lines/{id}/"]["get"]
    assert "If-None-Match" in names(read) and "304" in read["responses"]
    assert {"ETag", "RateLimit-Remaining"} <= set(read["responses"]["200"]["headers"])
    public = paths["/api/v1/credentials/verify/"]["post"]
    assert "Idempotency-Key" not in names(public)
