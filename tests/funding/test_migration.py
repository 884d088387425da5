"""Partial payments (issue 14): a line paid less than invoiced before them was marked paid and its remainder
forgotten; the migration makes it partly paid, its remainder followed, and says so in its history."""

import pytest
from django.utils import timezone

from funding.models import Funder, FundingLine, FundingLineEvent, LineState
from funding.references import funding_references_load
from funding.services import PaymentInput, payment_record
from tests.funding.support import batch_with_lines, org_admin
from tests.migrations_support import migrated_to

BEFORE_PARTIAL_PAYMENTS = [("funding", "0001_initial")]


@pytest.mark.django_db(transaction=True)
def test_lines_paid_less_than_invoiced_become_partly_paid_and_the_others_stay_paid():
    funding_references_load()
    short, full = batch_with_lines(count=2).lines.order_by("id")

    with migrated_to(BEFORE_PARTIAL_PAYMENTS) as old_apps:
        OldLine = old_apps.get_model("funding", "FundingLine")
        OldLine.objects.filter(pk=short.pk).update(state="paid", paid_cents=short.invoiced_incl_vat_cents - 4000)
        OldLine.objects.filter(pk=full.pk).update(state="paid", paid_cents=full.invoiced_incl_vat_cents)

    short, full = FundingLine.objects.get(pk=short.pk), FundingLine.objects.get(pk=full.pk)
    assert (short.state, short.remainder_cents) == (LineState.PARTIALLY_PAID, 4000)
    assert full.state == LineState.PAID
    event = FundingLineEvent.objects.get(line=short, to_state=LineState.PARTIALLY_PAID)
    assert event.note == "Paiement incomplet repris : reste à percevoir 40,00\u00a0€"  # as format_euros writes it
    assert not FundingLineEvent.objects.filter(line=full, to_state=LineState.PARTIALLY_PAID).exists()


@pytest.mark.django_db(transaction=True)
def test_going_back_makes_the_lines_paid_again_and_removes_only_the_history_lines_the_migration_wrote():
    funding_references_load()
    batch = batch_with_lines(count=2)
    recovered, paid_on_the_platform = batch.lines.order_by("id")
    with migrated_to(BEFORE_PARTIAL_PAYMENTS) as old_apps:
        old_apps.get_model("funding", "FundingLine").objects.filter(pk=recovered.pk).update(
            state="paid", paid_cents=recovered.invoiced_incl_vat_cents - 4000
        )
    # After the migration, a payment short of the amount due, recorded on the platform: its history line is a
    # real payment's, and stays.
    payment_record(
        batch=batch,
        by=org_admin(batch.organisation),
        received_on=timezone.localdate(),
        reference="VIR-1",
        lines=[PaymentInput(paid_on_the_platform.funder_reference, paid_on_the_platform.invoiced_incl_vat_cents - 100)],
    )
    assert FundingLineEvent.objects.filter(line=recovered, note__startswith="Paiement incomplet repris").exists()

    with migrated_to(BEFORE_PARTIAL_PAYMENTS) as old_apps:
        OldLine = old_apps.get_model("funding", "FundingLine")
        OldEvent = old_apps.get_model("funding", "FundingLineEvent")
        states = dict(OldLine.objects.filter(batch_id=batch.pk).values_list("pk", "state"))
        recovered_notes = OldEvent.objects.filter(note__startswith="Paiement incomplet repris")
        payment_events = OldEvent.objects.filter(line_id=paid_on_the_platform.pk, to_state="partially_paid")

        assert states == {recovered.pk: "paid", paid_on_the_platform.pk: "paid"}
        assert not recovered_notes.exists()
        assert payment_events.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_self_funding_funder_loses_its_middle_dot_and_the_other_funders_keep_their_names():
    """Issue 15: the name the platform loaded, "Candidat·e (autofinancement)", read "point" by screen readers."""
    funding_references_load()

    with migrated_to([("funding", "0002_partial_payments")]) as old_apps:
        OldFunder = old_apps.get_model("funding", "Funder")
        OldFunder.objects.filter(code="candidat").update(name="Candidat·e (autofinancement)")
        names = dict(OldFunder.objects.exclude(code="candidat").values_list("code", "name"))

    assert Funder.objects.get(code="candidat").name == "Autofinancement"
    assert dict(Funder.objects.exclude(code="candidat").values_list("code", "name")) == names
