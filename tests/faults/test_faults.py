"""Nothing the platform promises is lost (issue 13): real Celery workers on the test database and a private Redis,
killed and restarted by tests/faults/harness.py. PostgreSQL and REDIS_URL only (skipped in the embedded mode)."""

from __future__ import annotations

import pytest

from evaluations.models import Attestation
from tests.faults.harness import (
    Outcome,
    close_while_broker_down,
    jury_kills,
    prefork_kills,
    redis_restart,
)

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

# Seconds a scenario may wait for its documents before it fails with what is still pending (the work itself
# takes 3 to 30 s here).
TIMEOUT = 120


def assert_nothing_lost(outcome: Outcome, promised: int) -> None:
    """Every promise has its one document, whole, and no file lies about: after the orphan collector, which
    removes the files of runs killed between their file and their commit (counted before it in `outcome.tally`)."""
    before, after = outcome.tally, outcome.collected
    assert after.promised == promised
    assert after.states == {"done": promised}, after.states_text()
    assert (after.produced, after.lost, after.duplicate_rows) == (promised, 0, 0)
    assert after.rows_without_file == 0
    assert (after.orphan_files, after.duplicate_files) == (0, 0), f"before the collector: {before}"
    # Every extra file a kill left was an orphan, and only the collector's: the documents were whole before it.
    assert (before.lost, before.rows_without_file) == (0, 0)
    assert before.orphan_files == outcome.orphans_collected


def test_attestations_survive_kill_9_of_the_prefork_children_rendering_them(cluster):
    outcome = prefork_kills(cluster, attestations=90, kills=20, between=1, timeout=TIMEOUT)

    assert outcome.kills == 20
    assert outcome.pending_after_last_kill > 0, "the batch ran out before the last kill: make it larger"
    # The kills landed in runs: each interrupted run counted its attempt and came back through the broker alone.
    assert outcome.tally.interrupted >= 10
    assert outcome.requeued == 0
    assert_nothing_lost(outcome, 90)


def test_a_batch_queued_when_redis_restarts_without_persistence_is_produced_once_the_requeueing_job_runs(cluster):
    outcome = redis_restart(cluster, attestations=30, requeue_every=1, timeout=TIMEOUT)

    assert outcome.extra["queued_at_restart"] > 0
    assert outcome.extra["queued_after_restart"] == 0, "the restart lost every message"
    assert outcome.requeued > 0
    assert_nothing_lost(outcome, 30)


def test_an_evaluation_closed_while_the_broker_is_down_gets_its_attestation_from_a_worker_once_it_is_back(cluster):
    outcome = close_while_broker_down(cluster, requeue_every=1, timeout=TIMEOUT)

    assert outcome.extra["redirects_to_grid"], outcome.extra["status_code"]
    assert outcome.extra["evaluation_closed"]
    assert not outcome.extra["produced_while_down"]
    assert outcome.requeued >= 1
    assert_nothing_lost(outcome, 1)
    attestation = Attestation.objects.get(evaluation_id=outcome.extra["evaluation_id"])
    assert attestation.file.size > 0


def test_every_certificate_of_a_session_killed_while_producing_has_its_pdf_its_verification_and_its_fee(cluster):
    outcome = jury_kills(cluster, certificates=20, kills=10, between=0, timeout=TIMEOUT)

    assert outcome.kills == 10
    assert outcome.pending_after_last_kill > 0, "the session's documents were done before the last kill"
    assert outcome.tally.interrupted >= 5
    assert_nothing_lost(outcome, 21)
    extra = outcome.extra
    assert (extra["certificates"], extra["certificates_with_pdf"], extra["minutes"]) == (20, 20, 1)
    assert extra["verified"] == 20
    # Looked at right after each kill and at the end: a certificate without its PDF neither verifies nor is billed.
    assert (extra["verified_without_pdf"], extra["billed_without_pdf"]) == (0, 0), extra
    assert extra["fees"] == extra["fees_of_certificates_with_pdf"] == 20
