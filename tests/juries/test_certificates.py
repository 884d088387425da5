"""Issuing a certificate survives a worker killed at any instant (issue 13): its row, its PDF, its fee and its
event are committed together, after the PDF is rendered and stored; nothing of it is visible before."""

import datetime
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from candidates.models import DossierEvent
from clea_platform.documents import orphan_files, orphan_files_collect
from funding.models import FeeEntry, FeeKind
from funding.references import funding_references_load
from funding.selectors import certificates_to_report
from funding.services import fee_entries_catch_up, fee_entry_record
from journey.exports import certified_candidates
from juries.models import Certificate, Decision, DecisionKind
from juries.services import certificate_generate, certificate_lookup, decision_record, decision_revoke
from juries.signals import certificate_created
from organisations.models import Membership, Role
from tests.documents import another_worker_while_rendering, sha256_of, stored_files
from tests.journey import DossierFactory
from tests.juries.factories import close, deliberating, make_certifpro, make_jury

pytestmark = pytest.mark.django_db

CERTIFICATE_TEMPLATE = "documents/certificate.html"
# Files just stored count as orphans at once (the grace period of the collector is tested in tests/test_documents.py).
NO_GRACE = datetime.timedelta(0)


@pytest.fixture(autouse=True)
def _tariffs(db) -> None:
    # Certif'Pro's tariffs, so that a certificate owes its fee (a transactional test elsewhere may flush them).
    funding_references_load()


@pytest.fixture
def dossier():
    """A dossier ready for the jury, with its organisation's team at hand (`dossier.team`)."""
    return DossierFactory(state="ready_for_jury")


@pytest.fixture
def decision(dossier) -> Decision:
    """An award of a closed session whose certificate the worker has not produced yet."""
    jury = make_jury()
    [submission] = deliberating(jury, dossier)
    decision = decision_record(submission=submission, by=jury.president, kind=DecisionKind.AWARDED)
    close(jury)
    return decision


def stored_certificates(settings) -> list[Path]:
    return stored_files("certificats")


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
        seen.append((path.exists(), sha256_of(path) if path.exists() else "", certificate.sha256))

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
    other = partial(certificate_generate, decision_id=decision.pk)
    with another_worker_while_rendering(CERTIFICATE_TEMPLATE, other) as winner:
        returned = certificate_generate(decision_id=decision.pk)
    [first] = winner
    assert returned == first == Certificate.objects.get()
    assert (returned.verification_code, returned.sha256) == (first.verification_code, first.sha256)
    assert stored_certificates(settings) == [Path(first.file.path)]
    assert sha256_of(first.file.path) == first.sha256
    assert certificate_fees() == 1 and issued_events(decision) == 1


def test_issuing_again_returns_the_certificate_stored_and_writes_nothing(decision, settings):
    first = certificate_generate(decision_id=decision.pk)
    again = certificate_generate(decision_id=decision.pk)
    assert (again.pk, again.file.name, again.sha256) == (first.pk, first.file.name, first.sha256)
    assert len(stored_certificates(settings)) == 1
    assert certificate_fees() == 1 and issued_events(decision) == 1


# -- Rows left without their PDF by the code before issue 13 -----------------------------------------------------


@pytest.fixture
def legacy(decision) -> Certificate:
    """The row as the code before issue 13 committed it, first and alone, with its announcement; the worker was
    then killed before it stored the PDF."""
    dossier, session = decision.submission.dossier, decision.submission.session
    awarded_on = timezone.localtime(decision.decided_at).date()
    with transaction.atomic():
        certificate = Certificate.objects.create(
            organisation_id=dossier.organisation_id,
            dossier=dossier,
            decision=decision,
            session=session,
            number=f"CLEA-{awarded_on:%Y}-{decision.pk:07d}",
            holder_name=f"{dossier.candidate.first_name} {dossier.candidate.last_name.upper()}",
            certification=dossier.certification,
            awarded_on=awarded_on,
        )
        certificate_created.send(sender=Certificate, certificate=certificate)
    assert not certificate.is_produced
    return certificate


@pytest.mark.usefixtures("fresh_rate_limit")
def test_a_certificate_without_its_pdf_is_unknown_at_the_public_verification_until_issued(legacy):
    code = legacy.verification_code
    page, api = reverse("certificate_verify", args=[code]), reverse("api:certificate_verify", args=[code])
    assert certificate_lookup(code) is None
    assert Client().get(page).status_code == 404
    assert Client().get(api).status_code == 404

    issued = certificate_generate(decision_id=legacy.decision_id)
    assert (issued.pk, issued.verification_code) == (legacy.pk, code)
    assert Client().get(page).status_code == 200
    assert Client().get(api).json()["number"] == legacy.number


def test_a_certificate_without_its_pdf_is_not_listed_to_the_jury_nor_downloadable(legacy, client_for):
    jury = legacy.session
    admin = Membership.objects.get(organisation=jury.organisation, role=Role.ORG_ADMIN)
    clients = [client_for(admin), client_for(make_certifpro())]
    session_page = reverse("juries:session_detail", args=[jury.pk])
    download = reverse("juries:certificate_download", args=[legacy.pk])
    decision_api = reverse("api:decision-detail", args=[legacy.decision_id])
    for client in clients:
        page = client.get(session_page).content.decode()
        assert "1 certificat en cours de production." in page and legacy.number not in page
        assert client.get(download).status_code == 404
        assert client.get("/api/v1/certificates/").json()["results"] == []
        assert client.get(reverse("api:certificate-download", args=[legacy.pk])).status_code == 404
        assert client.get(decision_api).json()["certificate"] is None

    certificate_generate(decision_id=legacy.decision_id)
    for client in clients:
        page = client.get(session_page).content.decode()
        assert "certificat en cours de production" not in page and legacy.number in page
        assert client.get(download).status_code == 200
        assert [c["id"] for c in client.get("/api/v1/certificates/").json()["results"]] == [legacy.pk]
        assert client.get(decision_api).json()["certificate"] == legacy.pk


def test_the_dossier_page_announces_the_certificate_only_once_its_pdf_exists(legacy, client_for, dossier):
    page = reverse("journey:dossier_detail", args=[legacy.dossier_id])
    client = client_for(dossier.team.counsellor)
    assert legacy.number not in client.get(page).content.decode()
    certificate_generate(decision_id=legacy.decision_id)
    assert f"Certificat {legacy.number} délivré" in client.get(page).content.decode()


def test_the_revocation_screen_names_no_certificate_without_its_pdf(legacy, client_for):
    client = client_for(make_certifpro())
    page = reverse("juries:decision_revoke", args=[legacy.decision_id])
    assert legacy.number not in client.get(page).content.decode()
    certificate_generate(decision_id=legacy.decision_id)
    assert legacy.number in client.get(page).content.decode()


def test_a_certificate_without_its_pdf_owes_no_fee_until_its_pdf_is_stored(legacy):
    # The old code's announcement above billed nothing, nor does the daily catch-up or a direct call.
    assert certificate_fees() == 0
    fee_entries_catch_up()
    assert fee_entry_record(kind=FeeKind.CERTIFICATE, source=legacy) is None
    assert certificate_fees() == 0

    certificate_generate(decision_id=legacy.decision_id)
    entry = FeeEntry.objects.get(kind=FeeKind.CERTIFICATE)
    assert (entry.certificate_id, entry.occurred_on) == (legacy.pk, legacy.awarded_on)
    fee_entries_catch_up()
    assert certificate_fees() == 1


def test_a_certificate_without_its_pdf_is_neither_exported_nor_reported_to_the_caisse_des_depots(legacy):
    day = legacy.awarded_on
    assert list(certified_candidates(start=day, end=day)) == []
    assert list(certificates_to_report()) == []

    certificate_generate(decision_id=legacy.decision_id)
    assert [c.pk for c in certified_candidates(start=day, end=day)] == [legacy.pk]
    assert [c.pk for c in certificates_to_report()] == [legacy.pk]


def test_a_certificate_without_its_pdf_is_completed_with_its_number_and_code(legacy, settings):
    issued = certificate_generate(decision_id=legacy.decision_id)
    assert (issued.pk, issued.number, issued.verification_code) == (legacy.pk, legacy.number, legacy.verification_code)
    assert stored_certificates(settings) == [Path(issued.file.path)]
    assert sha256_of(issued.file.path) == issued.sha256
    text = " ".join(page.extract_text() for page in PdfReader(issued.file.path).pages)
    assert legacy.verification_code in text and legacy.number in text
    assert issued_events(legacy.decision) == 1
    assert certificate_generate(decision_id=legacy.decision_id) == issued
    assert issued_events(legacy.decision) == 1


def test_a_certificate_without_its_pdf_whose_decision_is_revoked_stays_unissued(legacy):
    decision_revoke(decision=legacy.decision, by=make_certifpro(), reason="Erreur de saisie.")
    with pytest.raises(Decision.DoesNotExist):
        certificate_generate(decision_id=legacy.decision_id)
    legacy.refresh_from_db()
    assert legacy.is_revoked and not legacy.is_produced
    assert certificate_lookup(legacy.verification_code) is None
