"""A withdrawal and a change to one of the dossier's funding lines, at once, on PostgreSQL: both land, neither is
aborted as a deadlock. Every audit row takes the chain's lock until the commit (organisations.AuditLog.save), so a
transaction must take its row locks before its first audit row; the withdrawal locked the lines it cancels only after
writing the dossier's audit row, while a line's own transition locks the line and then writes its audit row."""

import threading
import time

import pytest
from django.db import connection

from candidates.services import dossier_withdraw
from funding import services as funding_services
from funding.models import FundingLine, LineState
from funding.services import funding_line_transition
from organisations.services import audit_chain_verify
from tests.concurrency import in_a_thread, someone_waits_on_a_lock
from tests.funding.support import draft_line
from tests.journey import DossierFactory

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks and the chain's advisory lock are PostgreSQL's: set DATABASE_URL to a postgres:// URL (CI does)",
)


@pytest.mark.django_db(transaction=True)
def test_a_withdrawal_and_a_line_request_at_the_same_moment_both_land(references, monkeypatch):
    dossier = DossierFactory(state="partially_validated")
    counsellor = dossier.team.counsellor
    line = draft_line(dossier)
    line_locked = threading.Event()
    lock_line = funding_services._lock_line

    def lock_line_then_let_the_withdrawal_start(line: FundingLine) -> FundingLine:
        locked = lock_line(line)
        line_locked.set()
        # The line's transaction goes on to its audit row once the withdrawal waits on a lock (or after 5 s).
        deadline = time.monotonic() + 5
        while not someone_waits_on_a_lock() and time.monotonic() < deadline:
            time.sleep(0.02)
        return locked

    monkeypatch.setattr(funding_services, "_lock_line", lock_line_then_let_the_withdrawal_start)

    def request_the_line() -> None:
        funding_line_transition(line=line, name="request", by=counsellor)

    def withdraw() -> None:
        assert line_locked.wait(10)
        dossier_withdraw(dossier=dossier, by=counsellor, reason="Le candidat déménage.")

    errors: list[BaseException] = []
    threads = [in_a_thread(request_the_line, errors), in_a_thread(withdraw, errors)]
    for thread in threads:
        thread.join(30)

    assert errors == []
    dossier.refresh_from_db()
    assert dossier.state == "withdrawn"
    # Requested first, then cancelled by the withdrawal that waited for it.
    assert FundingLine.objects.get(pk=line.pk).state == LineState.CANCELLED
    assert audit_chain_verify().intact
