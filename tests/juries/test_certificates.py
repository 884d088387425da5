"""Issuing a certificate survives a worker killed at any instant (issue 13): its row, its PDF, its fee and its
event are committed together, after the PDF is rendered and stored; nothing of it is visible before."""

import datetime
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.test.signals import template_rendered

from candidates.models import DossierEvent
from clea_platform.documents import orphan_files, orphan_files_collect
from funding.models import FeeEntry, FeeKind
from funding.references import funding_references_load
from juries.models import Certificate, Decision, DecisionKind
from juries.services import certificate_generate, certificate_lookup, decision_record
from juries.signals import certificate_created
from tests.journey import DossierFactory
from tests.juries.factories import close, deliberating, make_jury

pytestmark = pytest.mark.django_db

CERTIFICATE_TEMPLATE = "documents/certificate.html"
# Files just stored count as orphans at once (the grace period of the collector is tested in tests/test_documents.py).
NO_GRACE = datetime.timedelta(0)


@pytest.fixture(autouse=True)
def _tariffs(db) -> None:
    # Certif'Pro's tariffs, so that a certificate owes its fee (a transactional test elsewhere may flush them).
    funding_references_load()


@pytest.fixture
def decision() -> Decision:
    """An award of a closed session whose certificate the worker has not produced yet."""
    jury = make_jury()
    [submission] = deliberating(jury, DossierFactory(state="ready_for_jury"))
    decision = decision_record(submission=submission, by=jury.president, kind=DecisionKind.AWARDED)
    close(jury)
    return decision


def stored_certificates(settings) -> list[Path]:
    return sorted(p for p in (Path(settings.MEDIA_ROOT) / "certificats").rglob("*") if p.is_file())


def issued_events(decision: Decision) -> int:
    return DossierEvent.objects.filter(
        dossier_id=decision.submission.dossier_id, note__startswith="Certificat "
    ).count()


def certificate_fees() -> int:
    return FeeEntry.objects.filter(kind=FeeKind.CERTIFICATE).count()


@contextmanager
def receiving(signal: Any, receiver: Callable[..., None]) -> Iterator[None]:
    signal.connect(receiver, dispatch_uid="tests.juries.test_certificates")
    try:
        yield
    finally:
        signal.disconnect(dispatch_uid="tests.juries.test_certificates")


def test_the_certificate_is_announced_with_its_pdf_already_stored(decision, settings):
    seen: list[tuple[bool, str, str]] = []

    def check(sender: Any, *, certificate: Certificate, **kwargs: Any) -> None:
        path = Path(certificate.file.path)
        content = path.read_bytes() if path.exists() else b""
        seen.append((path.exists(), hashlib.sha256(content).hexdigest(), certificate.sha256))

    with receiving(certificate_created, check):
        certificate = certificate_generate(decision_id=decision.pk)
    [(exists, on_disk, recorded)] = seen
    assert exists and on_disk == recorded == certificate.sha256
    assert certificate_fees() == 1 and issued_events(decision) == 1


def test_a_failure_before_the_commit_leaves_no_certificate_no_fee_and_no_event_only_a_file_to_collect(
    decision, settings
):
    def crash(sender: Any, **kwargs: Any) -> None:
        raise RuntimeError("worker killed")  # after the fee receiver, before the commit

    with receiving(certificate_created, crash), pytest.raises(RuntimeError):
        certificate_generate(decision_id=decision.pk)
    assert not Certificate.objects.exists()
    assert certificate_fees() == 0 and issued_events(decision) == 0
    [left] = stored_certificates(settings)
    # The next run issues it; the file the failed run left is an orphan, and only it is collected.
    certificate = certificate_generate(decision_id=decision.pk)
    assert certificate_lookup(certificate.verification_code) == certificate
    assert certificate_fees() == 1 and issued_events(decision) == 1
    assert [orphan.name for orphan in orphan_files_collect(grace=NO_GRACE)] == [
        str(left.relative_to(settings.MEDIA_ROOT))
    ]
    assert stored_certificates(settings) == [Path(certificate.file.path)]
    assert orphan_files(grace=NO_GRACE) == []


def test_a_concurrent_duplicate_returns_the_first_certificate_and_removes_only_its_own_file(decision, settings):
    """Another worker issues the certificate while this one renders (the render is outside any transaction)."""
    winner: list[Certificate] = []

    def other_worker_first(sender: Any, *, template: Any, **kwargs: Any) -> None:
        if template.name == CERTIFICATE_TEMPLATE and not winner:
            winner.append(Certificate(pk=0))  # re-entry guard: the other worker renders the same template
            winner[0] = certificate_generate(decision_id=decision.pk)

    with receiving(template_rendered, other_worker_first):
        returned = certificate_generate(decision_id=decision.pk)
    [first] = winner
    assert returned == first == Certificate.objects.get()
    assert (returned.verification_code, returned.sha256) == (first.verification_code, first.sha256)
    assert stored_certificates(settings) == [Path(first.file.path)]
    assert hashlib.sha256(Path(first.file.path).read_bytes()).hexdigest() == first.sha256
    assert certificate_fees() == 1 and issued_events(decision) == 1


def test_issuing_again_returns_the_certificate_stored_and_writes_nothing(decision, settings):
    first = certificate_generate(decision_id=decision.pk)
    again = certificate_generate(decision_id=decision.pk)
    assert (again.pk, again.file.name, again.sha256) == (first.pk, first.file.name, first.sha256)
    assert len(stored_certificates(settings)) == 1
    assert certificate_fees() == 1 and issued_events(decision) == 1
