"""Claim batches: what they claim, their files, their immutability, their idempotence, and the worker."""

import csv
import datetime
import io
import re
import time
from decimal import Decimal
from functools import partial
from pathlib import Path

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from candidates.models import Candidate
from funding.models import BatchStatus, ClaimBatch, FundingLine, FundingLineEvent, FundingStep, LineState
from funding.money import format_euros
from funding.references import funding_references_load
from funding.services import (
    FundingError,
    batch_generate,
    batch_render,
    batch_request,
    batch_retry,
    batches_request,
    funding_line_transition,
)
from funding.tasks import batch_generate_task
from tests.documents import another_worker_while_rendering, sha256_of, stored_files
from tests.funding.support import (
    TODAY,
    batch_with_lines,
    draft_line,
    funder,
    granted_line,
    issued_batch,
    org_admin,
    xlsx_core_dates,
)
from tests.journey import DossierFactory
from tests.waiting import wait_until

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("references")]

LAST_MONTH = (TODAY() - datetime.timedelta(days=31), TODAY())


def _csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def _cents(text: str) -> int:
    return int(text.replace(",", ""))


def _mixed_batch(org) -> ClaimBatch:
    """Three lines of one funder with awkward amounts and two VAT rates (20 % and 0 %)."""
    for cents, rate in ((12345, Decimal("20")), (99999, Decimal("0")), (101, Decimal("20"))):
        granted_line(DossierFactory(organisation=org, state="partially_validated"), cents=cents, vat_rate=rate)
    return issued_batch(org)


# -- What a batch claims ------------------------------------------------------------------------------------------


def test_a_batch_claims_the_granted_lines_of_the_period_invoices_them_and_issues_its_files(org_a):
    batch = batch_with_lines(org_a, count=2)

    assert batch.status == BatchStatus.ISSUED
    assert batch.number.startswith(f"LOT-{org_a.siret}-{TODAY():%Y}-")
    lines = list(batch.lines.all())
    assert len(lines) == batch.total_lines == 2
    assert {line.state for line in lines} == {LineState.INVOICED}
    assert all(line.invoiced_cents == line.granted_cents for line in lines)
    assert batch.total_incl_vat_cents == sum(line.invoiced_incl_vat_cents for line in lines) == 2 * 54000
    assert batch.processed_lines == batch.total_lines
    for extension in ("csv", "xlsx", "pdf"):
        assert len(getattr(batch, f"{extension}_sha256")) == 64
        assert getattr(batch, f"{extension}_file").name.endswith(f"{batch.number}.{extension}")
    note = FundingLineEvent.objects.filter(line=lines[0], to_state=LineState.INVOICED).get().note
    assert batch.number in note


def test_a_batch_takes_only_its_funders_lines_whose_step_happened_in_the_period(org_a):
    closed = DossierFactory(organisation=org_a, state="partially_validated")
    claimed = granted_line(closed)
    other_funder = granted_line(closed, code="cpf")
    not_yet = granted_line(DossierFactory(organisation=org_a, state="prior_evaluation"))
    long_ago = DossierFactory(
        organisation=org_a, state="partially_validated", evaluated_on=TODAY() - datetime.timedelta(days=90)
    )
    too_old = granted_line(long_ago)
    requested = funding_line_transition(line=draft_line(closed), name="request", by=closed.team.counsellor)

    batch = issued_batch(org_a)

    assert list(batch.lines.values_list("pk", flat=True)) == [claimed.pk]
    for line in (other_funder, not_yet, too_old, requested):
        line.refresh_from_db()
        assert line.batch_id is None
        assert line.state in {LineState.GRANTED, LineState.REQUESTED}


def test_a_line_invoiced_by_hand_is_claimed_at_its_invoiced_amount(org_a):
    dossier = DossierFactory(organisation=org_a, state="partially_validated")
    line = funding_line_transition(
        line=granted_line(dossier, granted=40000), name="invoice", by=dossier.team.counsellor, invoiced_cents=30000
    )
    batch = issued_batch(org_a)
    line.refresh_from_db()
    assert line.batch == batch
    assert (batch.total_cents, batch.total_incl_vat_cents) == (30000, 36000)


def test_a_line_belongs_to_one_batch_at_most(org_a):
    first = batch_with_lines(org_a, count=1)
    with pytest.raises(FundingError, match="Aucune ligne à réclamer"):
        issued_batch(org_a)
    # Even a new batch of the same period only takes the new line.
    new = granted_line(DossierFactory(organisation=org_a, state="partially_validated"))
    second = issued_batch(org_a)
    assert list(second.lines.values_list("pk", flat=True)) == [new.pk]
    assert first.lines.count() == 1


def test_the_bulk_generation_makes_one_batch_per_funder(org_a, django_capture_on_commit_callbacks):
    dossier = DossierFactory(organisation=org_a, state="partially_validated")
    granted_line(dossier)
    granted_line(dossier, code="cpf")
    with django_capture_on_commit_callbacks(execute=True):
        batches = batches_request(
            organisation=org_a, period_start=LAST_MONTH[0], period_end=LAST_MONTH[1], by=org_admin(org_a)
        )
    assert sorted(batch.funder.code for batch in batches) == ["cpf", "france-travail"]
    assert set(ClaimBatch.objects.values_list("status", flat=True)) == {BatchStatus.ISSUED}


def test_one_batch_at_a_time_is_produced_for_a_funder(org_a, django_capture_on_commit_callbacks):
    granted_line(DossierFactory(organisation=org_a, state="partially_validated"))
    with django_capture_on_commit_callbacks(execute=False) as queued:
        batch_request(
            organisation=org_a,
            funder=funder(),
            period_start=LAST_MONTH[0],
            period_end=LAST_MONTH[1],
            by=org_admin(org_a),
        )
    assert len(queued) == 1
    with pytest.raises(FundingError, match="déjà en cours de production"):
        batch_request(
            organisation=org_a,
            funder=funder(),
            period_start=LAST_MONTH[0],
            period_end=LAST_MONTH[1],
            by=org_admin(org_a),
        )


def test_a_counsellor_may_not_request_a_batch(org_a):
    from django.core.exceptions import PermissionDenied

    dossier = DossierFactory(organisation=org_a, state="partially_validated")
    granted_line(dossier)
    with pytest.raises(PermissionDenied):
        batch_request(
            organisation=org_a,
            funder=funder(),
            period_start=LAST_MONTH[0],
            period_end=LAST_MONTH[1],
            by=dossier.team.counsellor,
        )


# -- Files: deterministic, adding up ----------------------------------------------------------------------------


def test_regenerating_an_issued_batch_gives_the_same_files_byte_for_byte(org_a):
    batch = batch_with_lines(org_a, count=2)
    stored = {ext: getattr(batch, f"{ext}_file").read() for ext in ("csv", "xlsx", "pdf")}
    time.sleep(1.1)  # ZIP entries and openpyxl's "modified" would carry the clock's second

    again = batch_render(batch)

    for extension in ("csv", "xlsx", "pdf"):
        assert getattr(again, extension) == stored[extension], extension
        assert again.sha256(extension) == getattr(batch, f"{extension}_sha256")


def test_the_files_carry_no_timestamp_but_the_batch_issue_date(org_a):
    batch = batch_with_lines(org_a, count=1)
    stamp = f"{batch.issued_on:%Y-%m-%d}T00:00:00Z".encode()
    core = xlsx_core_dates(batch.xlsx_file.read())
    assert core.count(stamp) == 2  # created and modified
    assert not re.search(rb"\d{2}:\d{2}", batch.csv_file.read())


def test_a_name_a_spreadsheet_would_run_as_a_formula_is_written_as_text(org_a):
    dossier = DossierFactory(organisation=org_a, state="partially_validated")
    Candidate.objects.filter(pk=dossier.candidate_id).update(last_name="=1+1")
    granted_line(dossier, cents=12345, vat_rate=Decimal("20"))
    batch = issued_batch(org_a)

    header, line = _csv_rows(batch.csv_file.read())[:2]
    assert line[header.index("Personne candidate")].startswith("'=1+1 ")
    cell = load_workbook(io.BytesIO(batch.xlsx_file.read())).active.cell(2, header.index("Personne candidate") + 1)
    assert cell.data_type == "s" and cell.value.startswith("'=1+1 ")


def test_amounts_add_up_in_the_csv(org_a):
    batch = _mixed_batch(org_a)
    rows = _csv_rows(batch.csv_file.read())
    header, lines, total = rows[0], rows[1:-1], rows[-1]
    ht, vat, ttc = header.index("Montant HT"), header.index("TVA"), header.index("Montant TTC")

    assert len(lines) == 3 and total[2] == "TOTAL"
    for column in (ht, vat, ttc):
        assert sum(_cents(row[column]) for row in lines) == _cents(total[column])
    assert _cents(total[ht]) == batch.total_cents == 12345 + 99999 + 101
    assert _cents(total[ttc]) == batch.total_incl_vat_cents == 14814 + 99999 + 121
    assert all(_cents(row[ht]) + _cents(row[vat]) == _cents(row[ttc]) for row in lines)


def test_amounts_add_up_in_the_xlsx_read_back_with_openpyxl(org_a):
    batch = _mixed_batch(org_a)
    sheet = load_workbook(io.BytesIO(batch.xlsx_file.read())).active
    rows = list(sheet.iter_rows(values_only=True))
    header, lines, total = rows[0], rows[1:-1], rows[-1]
    ttc, ht = header.index("Montant TTC"), header.index("Montant HT")

    def cents(value) -> int:
        return round(Decimal(str(value)) * 100)

    assert sum(cents(row[ttc]) for row in lines) == cents(total[ttc]) == batch.total_incl_vat_cents
    assert sum(cents(row[ht]) for row in lines) == cents(total[ht]) == batch.total_cents
    assert sheet.cell(row=2, column=ttc + 1).number_format.endswith('"€"')


def test_amounts_add_up_in_the_pdf_summary(org_a):
    batch = _mixed_batch(org_a)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(batch.pdf_file.read())).pages)
    text = text.replace("\u00a0", " ").replace("\u202f", " ")

    def shown(cents: int) -> str:
        return format_euros(cents).replace("\u00a0", " ")

    lines = list(batch.lines.all())
    for line in lines:
        assert shown(line.invoiced_incl_vat_cents) in text
    assert sum(line.invoiced_incl_vat_cents for line in lines) == batch.total_incl_vat_cents
    assert shown(batch.total_incl_vat_cents) in text
    assert shown(batch.total_cents) in text
    assert batch.number in text and f"{batch.issued_on:%d/%m/%Y}" in text


# -- Immutability and idempotence -------------------------------------------------------------------------------


def test_an_issued_batch_is_immutable(org_a):
    batch = batch_with_lines(org_a, count=1)
    batch.total_cents = 1
    with pytest.raises(PermissionError):
        batch.save()
    with pytest.raises(PermissionError):
        ClaimBatch.objects.get(pk=batch.pk).delete()
    fresh = ClaimBatch.objects.get(pk=batch.pk)
    assert fresh.total_cents == 45000


def test_running_the_task_again_changes_nothing(org_a):
    batch = batch_with_lines(org_a, count=2)
    events = FundingLineEvent.objects.count()

    batch_generate_task.delay(batch.pk)
    again = batch_generate(batch_id=batch.pk)

    assert (again.csv_sha256, again.xlsx_sha256, again.pdf_sha256) == (
        batch.csv_sha256,
        batch.xlsx_sha256,
        batch.pdf_sha256,
    )
    assert again.csv_file.name == batch.csv_file.name
    assert FundingLineEvent.objects.count() == events
    assert ClaimBatch.objects.count() == 1


def test_two_workers_on_one_batch_store_one_set_of_files(org_a):
    """The other worker issues the batch while this one renders; this one then finds it issued under the lock and
    stores nothing."""
    for _ in range(2):
        granted_line(DossierFactory(organisation=org_a, state="partially_validated"))
    batch = batch_request(
        organisation=org_a, funder=funder(), period_start=LAST_MONTH[0], period_end=LAST_MONTH[1], by=org_admin(org_a)
    )  # its task is queued on a commit that never comes here
    other = partial(batch_generate, batch_id=batch.pk)
    with another_worker_while_rendering("documents/funding_batch.html", other) as winner:
        returned = batch_generate(batch_id=batch.pk)
    [first] = winner
    files = (first.csv_file, first.xlsx_file, first.pdf_file)
    assert returned == first and returned.status == BatchStatus.ISSUED
    assert [f.name for f in (returned.csv_file, returned.xlsx_file, returned.pdf_file)] == [f.name for f in files]
    assert stored_files("financements/lots") == sorted(Path(f.path) for f in files)
    assert [sha256_of(f.path) for f in files] == [first.csv_sha256, first.xlsx_sha256, first.pdf_sha256]


def test_a_batch_whose_lines_vanished_fails_with_its_reason_and_can_be_retried(
    org_a, django_capture_on_commit_callbacks
):
    dossier = DossierFactory(organisation=org_a, state="partially_validated")
    line = granted_line(dossier)
    admin = org_admin(org_a)
    with django_capture_on_commit_callbacks(execute=False):
        batch = batch_request(
            organisation=org_a, funder=funder(), period_start=LAST_MONTH[0], period_end=LAST_MONTH[1], by=admin
        )
    funding_line_transition(line=line, name="cancel", by=dossier.team.counsellor, note="Doublon")

    with pytest.raises(FundingError):
        batch_generate(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.FAILED and "vide" in batch.error

    granted_line(dossier)
    with django_capture_on_commit_callbacks(execute=True):
        batch_retry(batch=batch, by=admin)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.ISSUED and batch.total_lines == 1


# -- The real worker --------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_a_worker_produces_the_batch_and_records_its_progress(org_a, celery_worker):
    funding_references_load()
    # Everything acquired at the prior evaluation: no attestation for the worker to produce meanwhile.
    for _ in range(2):
        granted_line(DossierFactory(organisation=org_a, state="ready_for_jury"), step=FundingStep.PRIOR_EVALUATION)

    batch = batch_request(
        organisation=org_a,
        funder=funder(),
        period_start=LAST_MONTH[0],
        period_end=LAST_MONTH[1],
        by=org_admin(org_a),
    )

    wait_until(lambda: ClaimBatch.objects.get(pk=batch.pk).status == BatchStatus.ISSUED, timeout=30)
    batch.refresh_from_db()
    assert (batch.total_lines, batch.processed_lines) == (2, 2)
    assert batch_render(batch).sha256("csv") == batch.csv_sha256
    assert set(FundingLine.objects.values_list("state", flat=True)) == {LineState.INVOICED}
    assert batch.issued_on == timezone.localdate()
