"""Recording a funder's payment against a batch, and the reconciliation of its lines with the batch's."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from funding.models import FundingLine, FundingLineEvent, LineState, MatchStatus, Payment, PaymentLine
from funding.selectors import LINE_DUE
from funding.services import (
    FundingError,
    PaymentInput,
    funding_line_transition,
    normalise_reference,
    payment_record,
    reconcile,
)
from organisations.models import AuditLog, Role
from tests.factories import MembershipFactory
from tests.funding.support import batch_with_lines, draft_line, org_admin, payment_inputs
from tests.journey import DossierFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("references")]


def _line(pk: int, reference: str, cents: int) -> FundingLine:
    return FundingLine(pk=pk, funder_reference=reference, invoiced_incl_vat_cents=cents)


# -- The reconciliation itself ---------------------------------------------------------------------------------


def test_reconciliation_sorts_payment_lines_into_matched_differences_unexpected_and_missing():
    expected = [_line(1, "FT-1", 54000), _line(2, "FT-2", 54000), _line(3, "FT-3", 12000)]
    received = [
        PaymentInput("ft 1", 54000),  # matched, written differently
        PaymentInput("FT-2", 50000),  # paid less
        PaymentInput("FT-9", 1000),  # unknown reference
    ]

    outcome = reconcile(expected=expected, received=received)

    assert [(item.funder_reference, line.pk) for item, line in outcome.matched] == [("ft 1", 1)]
    assert [(item.amount_cents, line.pk) for item, line in outcome.differences] == [(50000, 2)]
    assert outcome.unexpected == [PaymentInput("FT-9", 1000)]
    assert [line.pk for line in outcome.missing] == [3]


def test_a_reference_paid_twice_is_unexpected_the_second_time():
    outcome = reconcile(expected=[_line(1, "A", 100)], received=[PaymentInput("A", 100), PaymentInput("A", 100)])
    assert len(outcome.matched) == 1
    assert outcome.unexpected == [PaymentInput("A", 100)]


def test_a_repeated_reference_matches_the_line_with_the_same_amount_first():
    expected = [_line(1, "CPF-7", 30000), _line(2, "CPF-7", 54000)]
    outcome = reconcile(expected=expected, received=[PaymentInput("CPF-7", 54000), PaymentInput("CPF-7", 30000)])
    assert [line.pk for _item, line in outcome.matched] == [2, 1]
    assert not outcome.differences and not outcome.missing


def test_references_are_compared_without_spaces_dashes_dots_or_case():
    assert normalise_reference(" ft-59.2026 0342 ") == normalise_reference("FT_592026-0342") == "FT5920260342"


# -- Recording a payment ----------------------------------------------------------------------------------------


def test_a_payment_marks_the_lines_it_settles_paid_and_lists_what_does_not_match(org_a):
    batch = batch_with_lines(org_a, count=3)
    first, second, third = batch.lines.order_by("id")
    admin = org_admin(org_a)

    payment = payment_record(
        batch=batch,
        by=admin,
        received_on=timezone.localdate(),
        reference="VIR-2026-1",
        lines=[
            PaymentInput(first.funder_reference, first.invoiced_incl_vat_cents),
            PaymentInput(second.funder_reference, second.invoiced_incl_vat_cents - 500),
            PaymentInput("INCONNU-1", 700),
        ],
    )

    states = dict(FundingLine.objects.filter(batch=batch).values_list("pk", "state"))
    assert states == {first.pk: LineState.PAID, second.pk: LineState.PARTIALLY_PAID, third.pk: LineState.INVOICED}
    second.refresh_from_db()
    assert (second.paid_cents, second.remainder_cents) == (second.invoiced_incl_vat_cents - 500, 500)
    statuses = list(PaymentLine.objects.filter(payment=payment).values_list("status", flat=True))
    assert statuses == [MatchStatus.MATCHED, MatchStatus.AMOUNT_DIFFERENCE, MatchStatus.UNEXPECTED]
    assert payment.missing_line_ids == [third.pk]
    assert payment.total_cents == first.invoiced_incl_vat_cents + second.invoiced_incl_vat_cents - 500 + 700
    assert FundingLineEvent.objects.get(line=first, to_state=LineState.PAID).note.startswith("Paiement VIR-2026-1")


def test_a_later_payment_settles_the_missing_lines(org_a):
    batch = batch_with_lines(org_a, count=2)
    first, second = batch.lines.order_by("id")
    admin = org_admin(org_a)
    today = timezone.localdate()
    payment_record(batch=batch, by=admin, received_on=today, reference="V1", lines=payment_inputs(batch)[:1])

    later = payment_record(batch=batch, by=admin, received_on=today, reference="V2", lines=payment_inputs(batch))

    assert set(FundingLine.objects.filter(batch=batch).values_list("state", flat=True)) == {LineState.PAID}
    statuses = list(later.lines.values_list("funder_reference", "status"))
    assert statuses == [
        (first.funder_reference, MatchStatus.UNEXPECTED),
        (second.funder_reference, MatchStatus.MATCHED),
    ]
    assert later.missing_line_ids == []


def test_only_the_organisations_administrator_records_a_payment(org_a):
    batch = batch_with_lines(org_a, count=1)
    counsellor = DossierFactory(organisation=org_a).team.counsellor
    with pytest.raises(PermissionDenied):
        payment_record(
            batch=batch, by=counsellor, received_on=timezone.localdate(), reference="V", lines=payment_inputs(batch)
        )


def test_a_payment_needs_lines_and_a_reference(org_a):
    batch = batch_with_lines(org_a, count=1)
    with pytest.raises(FundingError, match="au moins une ligne"):
        payment_record(batch=batch, by=org_admin(org_a), received_on=timezone.localdate(), reference="V", lines=[])
    with pytest.raises(FundingError, match="référence du virement"):
        payment_record(
            batch=batch,
            by=org_admin(org_a),
            received_on=timezone.localdate(),
            reference=" ",
            lines=payment_inputs(batch),
        )


# -- Partial payments: the remainder is followed until paid or written off (issue 14) ------------------------------


def _pay(batch, reference: str, line: FundingLine, cents: int):
    return payment_record(
        batch=batch,
        by=org_admin(batch.organisation),
        received_on=timezone.localdate(),
        reference=reference,
        lines=[PaymentInput(line.funder_reference, cents)],
    )


def test_a_payment_below_the_amount_due_leaves_the_line_partly_paid_with_its_remainder(org_a):
    batch = batch_with_lines(org_a, count=1)
    [line] = batch.lines.all()
    due = line.invoiced_incl_vat_cents

    _pay(batch, "V1", line, due - 4000)

    line.refresh_from_db()
    assert line.state == LineState.PARTIALLY_PAID
    assert (line.paid_cents, line.remainder_cents) == (due - 4000, 4000)
    event = FundingLineEvent.objects.get(line=line, to_state=LineState.PARTIALLY_PAID)
    assert event.note.endswith("reste à percevoir 40,00\u00a0€")


def test_more_payments_are_recorded_until_the_line_is_paid_in_full(org_a):
    batch = batch_with_lines(org_a, count=1)
    [line] = batch.lines.all()
    due = line.invoiced_incl_vat_cents

    _pay(batch, "V1", line, due - 4000)
    second = _pay(batch, "V2", line, 1500)
    line.refresh_from_db()
    assert (line.state, line.remainder_cents) == (LineState.PARTIALLY_PAID, 2500)
    assert second.lines.get().expected_cents == 4000  # what remained due before this payment

    last = _pay(batch, "V3", line, 2500)

    line.refresh_from_db()
    assert (line.state, line.paid_cents, line.remainder_cents) == (LineState.PAID, due, None)
    assert last.lines.get().status == MatchStatus.MATCHED
    assert last.missing_line_ids == []


def test_what_a_line_owes_is_the_same_on_the_model_and_in_the_sql_of_the_lists(org_a):
    batch = batch_with_lines(org_a, count=3)
    paid, partly, invoiced = batch.lines.order_by("id")
    _pay(batch, "V1", paid, paid.invoiced_incl_vat_cents)
    _pay(batch, "V2", partly, partly.invoiced_incl_vat_cents - 4000)
    draft = draft_line(DossierFactory(organisation=org_a, state="partially_validated"))

    lines = FundingLine.objects.filter(pk__in=[paid.pk, partly.pk, invoiced.pk, draft.pk]).annotate(due=LINE_DUE)

    owed = {line.pk: (line.due_cents, line.due, line.remainder_cents) for line in lines}
    assert owed == {
        paid.pk: (0, 0, None),
        partly.pk: (4000, 4000, 4000),
        invoiced.pk: (invoiced.invoiced_incl_vat_cents,) * 3,
        draft.pk: (0, 0, None),
    }


def test_paying_more_than_remains_due_is_refused_and_nothing_is_recorded(org_a):
    batch = batch_with_lines(org_a, count=1)
    [line] = batch.lines.all()
    _pay(batch, "V1", line, line.invoiced_incl_vat_cents - 4000)

    with pytest.raises(FundingError, match="40,00\u00a0€ restant à percevoir") as refusal:
        _pay(batch, "V2", line, 4001)

    assert refusal.value.field == "lines"
    line.refresh_from_db()
    assert (line.state, line.remainder_cents) == (LineState.PARTIALLY_PAID, 4000)
    assert not Payment.objects.filter(reference="V2").exists()


def test_an_invoiced_line_cannot_be_overpaid_either(org_a):
    batch = batch_with_lines(org_a, count=1)
    [line] = batch.lines.all()
    with pytest.raises(FundingError, match="ne peut dépasser ce qui reste dû"):
        _pay(batch, "V1", line, line.invoiced_incl_vat_cents + 1)
    assert FundingLine.objects.get(pk=line.pk).state == LineState.INVOICED


def test_the_same_transfer_is_not_recorded_twice_on_a_batch(org_a):
    batch = batch_with_lines(org_a, count=2)
    first, second = batch.lines.order_by("id")
    _pay(batch, "VIR-2026-001", first, first.invoiced_incl_vat_cents)
    with pytest.raises(FundingError, match="déjà enregistré"):
        _pay(batch, "vir 2026 001", second, second.invoiced_incl_vat_cents)


def test_a_payment_dated_in_the_future_is_refused(org_a):
    batch = batch_with_lines(org_a, count=1)
    with pytest.raises(FundingError, match="futur") as refusal:
        payment_record(
            batch=batch,
            by=org_admin(org_a),
            received_on=timezone.localdate() + datetime.timedelta(days=1),
            reference="V1",
            lines=payment_inputs(batch),
        )
    assert refusal.value.field == "received_on"


def test_the_administrator_writes_off_a_remainder_with_a_reason_in_the_history_and_audit(org_a):
    batch = batch_with_lines(org_a, count=1)
    [line] = batch.lines.all()
    _pay(batch, "V1", line, line.invoiced_incl_vat_cents - 4000)
    line = FundingLine.objects.get(pk=line.pk)
    admin = org_admin(org_a)
    counsellor = MembershipFactory(organisation=org_a, role=Role.COUNSELLOR)
    assert "write_off" not in [action["name"] for action in line.actions_for(counsellor)]
    assert "write_off" in [action["name"] for action in line.actions_for(admin)]
    with pytest.raises(PermissionDenied):
        funding_line_transition(line=line, name="write_off", by=counsellor, note="Plafond atteint")
    with pytest.raises(FundingError, match="Indiquez pourquoi"):
        funding_line_transition(line=line, name="write_off", by=admin)

    line = funding_line_transition(line=line, name="write_off", by=admin, note="Plafond du financeur atteint")

    assert (line.state, line.written_off_cents, line.remainder_cents) == (LineState.WRITTEN_OFF, 4000, None)
    assert line.written_off_on == timezone.localdate()
    note = FundingLineEvent.objects.get(line=line, to_state=LineState.WRITTEN_OFF).note
    assert note == "Reste à percevoir de 40,00\u00a0€ abandonné. Motif : Plafond du financeur atteint"
    audit = AuditLog.objects.get(action="funding_line.write_off", object_id=str(line.pk))
    assert audit.details["written_off_cents"] == 4000
    # Settled: no more payment is taken on it.
    assert _pay(batch, "V2", line, 4000).lines.get().status == MatchStatus.UNEXPECTED


def test_only_a_partly_paid_line_can_be_written_off(org_a):
    batch = batch_with_lines(org_a, count=1)
    [line] = batch.lines.all()
    with pytest.raises(FundingError, match="payée en partie"):
        funding_line_transition(line=line, name="write_off", by=org_admin(org_a), note="Trop tard")
