"""Redis down is a degraded mode, not a crash (issue 13). The broker and the cache point at a local port where
nothing listens, through the real Celery app, kombu transport and Django Redis cache: no mock."""

from __future__ import annotations

import datetime
import json
import logging
import socket
import time
from collections.abc import Iterator

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clea_platform import ratelimit
from clea_platform.celery import app as celery_app
from evaluations.models import Attestation, EvaluationStatus
from organisations.services import api_token_create
from outbox.models import SideEffect, SideEffectState
from outbox.services import side_effects_requeue
from tests.evaluations.support import grid_post_data
from tests.factories import UserFactory
from tests.journey import PRIOR_WITH_GAPS, DossierFactory
from tests.juries.factories import certified

pytestmark = pytest.mark.django_db

DEAD_PORT = 6390
DEAD_REDIS = f"redis://127.0.0.1:{DEAD_PORT}/0"


def _nothing_listens(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def _drop_broker_pools() -> None:
    """Celery keeps its connection and producer pools: forget them so that the next publish uses the new URL (not
    closed: kombu's global pool registry hands the same pools out again for the same URL)."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def broker_down(settings) -> Iterator[None]:
    """Tasks are published for real (not run eagerly), to a Redis that does not answer."""
    assert _nothing_listens(DEAD_PORT), f"something listens on port {DEAD_PORT}"
    conf = celery_app.conf
    saved = {"broker_url": conf.broker_url, "task_always_eager": conf.task_always_eager}
    settings.CELERY_TASK_ALWAYS_EAGER = False  # /healthz reads the setting
    conf.broker_url, conf.task_always_eager = DEAD_REDIS, False
    _drop_broker_pools()
    yield
    conf.update(saved)
    _drop_broker_pools()


@pytest.fixture
def cache_down(settings, monkeypatch) -> Iterator[None]:
    """The rate-limit cache is a Redis that does not answer; the per-process fallback starts empty."""
    assert _nothing_listens(DEAD_PORT), f"something listens on port {DEAD_PORT}"
    settings.CACHES = {
        "default": {
            **django_settings.CACHES["default"],
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1},
        }
    }
    monkeypatch.setattr(ratelimit, "_shared_down_until", 0.0)  # restored afterwards: other tests use the cache
    ratelimit._local_counters.clear()
    yield
    ratelimit._local_counters.clear()


# -- Enqueueing after commit -----------------------------------------------------------------------------------


def test_closing_an_evaluation_with_the_broker_down_commits_and_logs_the_attestation_not_queued(
    broker_down, client_for, caplog, django_capture_on_commit_callbacks
):
    evaluation = DossierFactory(state="prior_evaluation").evaluations.get()
    client = client_for(evaluation.dossier.team.evaluator)
    grid = reverse("evaluations:grid", args=[evaluation.pk])
    client.post(grid, grid_post_data(evaluation, acquired=PRIOR_WITH_GAPS))

    with caplog.at_level(logging.ERROR, logger="clea_platform.tasks_queue"):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = client.post(
                reverse("evaluations:close", args=[evaluation.pk]),
                {"ended_on": timezone.localdate().isoformat(), "duration_hours": "3", "confirm": "on"},
            )

    assert response.status_code == 302 and response.url == grid
    assert callbacks, "the attestation is queued after the commit"
    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.CLOSED
    assert not Attestation.objects.exists()
    # The promise is a row, written with the closing: the broker's absence only delays it.
    side_effect = SideEffect.objects.get(kind="attestation")
    assert (side_effect.state, side_effect.arguments) == (SideEffectState.PENDING, {"evaluation_id": evaluation.pk})
    # The counsellor's notification e-mail was promised with it, and is not queued either.
    unqueued = [r.getMessage() for r in caplog.records if "side_effect_run_task not queued" in r.getMessage()]
    assert len(unqueued) == 2
    assert any(f"args=({side_effect.pk},)" in message for message in unqueued)


def test_the_attestation_promised_while_the_broker_was_down_appears_once_it_is_back(
    broker_down, client_for, settings, django_capture_on_commit_callbacks
):
    evaluation = DossierFactory(state="prior_evaluation").evaluations.get()
    client = client_for(evaluation.dossier.team.evaluator)
    client.post(reverse("evaluations:grid", args=[evaluation.pk]), grid_post_data(evaluation, acquired=PRIOR_WITH_GAPS))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("evaluations:close", args=[evaluation.pk]),
            {"ended_on": timezone.localdate().isoformat(), "duration_hours": "3", "confirm": "on"},
        )
    assert not Attestation.objects.exists()

    # The broker is back (tasks run here again); the re-queueing job of every minute finds the row.
    celery_app.conf.task_always_eager = True
    _drop_broker_pools()
    settings.SIDE_EFFECT_REQUEUE_AFTER = 0
    # The attestation, and the counsellor's notification e-mail promised with it.
    assert side_effects_requeue() == 2

    attestation = Attestation.objects.get(evaluation=evaluation)
    assert attestation.file.size > 0
    assert SideEffect.objects.get(kind="attestation").state == SideEffectState.DONE
    # Producing the attestation told the counsellor, whose e-mail this test's transaction keeps from the queue.
    assert side_effects_requeue() == 1
    assert side_effects_requeue() == 0, "done: nothing more to queue"


@pytest.mark.usefixtures("fresh_rate_limit")
def test_the_password_reset_answers_at_once_with_the_broker_down(broker_down, client, caplog):
    UserFactory(email="camille@exemple.fr")
    started = time.monotonic()
    with caplog.at_level(logging.ERROR, logger="clea_platform.tasks_queue"):
        response = client.post(reverse("password_reset"), {"email": "camille@exemple.fr"})
    elapsed = time.monotonic() - started

    assert response.status_code == 302 and response.url == reverse("password_reset_done")
    assert elapsed < 2, f"the page waited {elapsed:.1f} s on the dead broker"
    assert any("email_send_task not queued" in r.getMessage() for r in caplog.records)
    assert mail.outbox == []


# -- Rate limits -------------------------------------------------------------------------------------------------


def test_the_public_pages_and_the_token_api_answer_with_the_cache_down(cache_down, make_member, org_a):
    _jury, _submission, certificate = certified()
    anonymous = Client(REMOTE_ADDR="203.0.113.7")
    verify = anonymous.get(reverse("certificate_verify", kwargs={"code": certificate.verification_code}))
    assert verify.status_code == 200
    assert certificate.number in verify.content.decode()
    api_verify = anonymous.get(reverse("api:certificate_verify", kwargs={"code": certificate.verification_code}))
    assert api_verify.status_code == 200 and api_verify.json()["valid"] is True
    assert anonymous.get(reverse("directory:search")).status_code == 200

    _token, key = api_token_create(
        membership=make_member(org_a), name="SI régional", expires_at=timezone.now() + datetime.timedelta(days=1)
    )
    assert Client(HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/dossiers/").status_code == 200


def test_the_verification_limit_still_holds_per_process_with_the_cache_down(cache_down):
    _jury, _submission, certificate = certified()
    client = Client(REMOTE_ADDR="203.0.113.9")
    url = reverse("certificate_verify", kwargs={"code": certificate.verification_code})
    statuses = [client.get(url).status_code for _ in range(31)]
    assert statuses == [200] * 30 + [429]


def test_the_shared_cache_is_tried_again_after_a_while(cache_down, settings, monkeypatch):
    assert ratelimit.counters() is not ratelimit._local_counters
    ratelimit.hit("ratelimit:probe:203.0.113.10", 60)
    assert ratelimit.counters() is ratelimit._local_counters
    monkeypatch.setattr(ratelimit, "_shared_down_until", time.monotonic() - 1)
    assert ratelimit.counters() is not ratelimit._local_counters


# -- Health checks ---------------------------------------------------------------------------------------------


def test_liveness_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get(reverse("healthz_live"))
    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok"}


@pytest.mark.parametrize("name", ["healthz_ready", "healthz"])
def test_readiness_stays_200_and_reports_the_broker_down(broker_down, client, name):
    started = time.monotonic()
    response = client.get(reverse(name))
    # Within a probe's own timeout (Kubernetes' default is 1 s), or the broker would be fatal after all.
    assert time.monotonic() - started < 1
    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok", "database": "ok", "broker": "down"}


def test_readiness_reports_the_broker(client):
    body = json.loads(client.get(reverse("healthz_ready")).content)
    assert body["database"] == "ok"
    assert body["broker"] == ("eager" if django_settings.CELERY_TASK_ALWAYS_EAGER else "ok")


# -- Celery settings -------------------------------------------------------------------------------------------


def test_every_routed_or_annotated_task_exists_and_pdfs_go_to_their_queue():
    celery_app.autodiscover_tasks(force=True)
    tasks = celery_app.tasks
    for name in django_settings.PDF_TASKS + django_settings.SWEEP_TASKS:
        assert name in tasks, f"{name} is in the settings but no such task is registered"
    for name in django_settings.PDF_TASKS:
        assert django_settings.CELERY_TASK_ROUTES[name] == {"queue": "pdf"}
        assert tasks[name].time_limit == django_settings.LONG_TASK_TIME_LIMIT
    assert tasks["clea_platform.mail.email_send_task"].time_limit == django_settings.CELERY_TASK_TIME_LIMIT
    assert "clea_platform.mail.email_send_task" not in django_settings.CELERY_TASK_ROUTES


def test_the_visibility_timeout_outlasts_a_retried_pdf_task():
    longest_reserved = django_settings.TASK_RETRY_BACKOFF_MAX + django_settings.LONG_TASK_TIME_LIMIT
    assert longest_reserved < django_settings.CELERY_VISIBILITY_TIMEOUT < 3600
