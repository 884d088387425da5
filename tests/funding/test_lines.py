"""A funding line's lifecycle: draft → requested → granted or refused → invoiced → paid, cancellable before
invoicing, each step in its history; and the rules that guard it."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from candidates.services import dossier_withdraw
from funding.models import FundingLine, FundingLineEvent, FundingStep, LineState
from funding.services import FundingError, funding_line_create, funding_line_transition, funding_line_update
from organisations.models import AuditLog, Role
from tests.factories import MembershipFactory
from tests.funding.support import draft_line, funder, granted_line
from tests.journey import DossierFactory, evaluate
from training.models import TrainingPlan
from training.services import training_plan_complete, training_session_add

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("references")]


def _states(line: FundingLine) -> list[tuple[str, str]]:
    return list(FundingLineEvent.objects.filter(line=line).order_by("at", "id").values_list("from_state", "to_state"))


# -- Creation and the draft -------------------------------------------------------------------------------------


def test_a_counsellor_creates_a_draft_line_with_its_amounts_in_cents_and_vat():
    dossier = DossierFactory(state="opened")

    line = draft_line(dossier, cents=123450, vat_rate=Decimal("20"))

    assert line.state == LineState.DRAFT
    assert line.organisation_id == dossier.organisation_id
    assert (line.requested_cents, line.requested_incl_vat_cents) == (123450, 148140)
    assert _states(line) == [("", LineState.DRAFT)]
    assert AuditLog.objects.filter(action="funding_line.create", object_id=str(line.pk)).exists()


def test_a_training_organisation_exempt_of_vat_records_a_rate_of_zero():
    line = draft_line(DossierFactory(state="opened"), step=FundingStep.TRAINING, cents=175000, vat_rate=Decimal("0"))
    assert line.requested_incl_vat_cents == 175000


def test_vat_is_rounded_half_up_to_the_cent():
    line = draft_line(DossierFactory(state="opened"), cents=1, vat_rate=Decimal("5.5"))
    assert line.requested_incl_vat_cents == 1  # 0.055 cent rounds to 0
    line = draft_line(DossierFactory(state="opened"), cents=10, vat_rate=Decimal("5.5"))
    assert line.requested_incl_vat_cents == 11  # 0.55 cent rounds up


def test_a_draft_can_be_edited_and_a_requested_line_cannot():
    dossier = DossierFactory(state="opened")
    line = draft_line(dossier, cents=45000)

    line = funding_line_update(line=line, by=dossier.team.counsellor, changes={"requested_cents": 50000})
    assert (line.requested_cents, line.requested_incl_vat_cents) == (50000, 60000)

    line = funding_line_transition(line=line, name="request", by=dossier.team.counsellor)
    with pytest.raises(FundingError, match="brouillon"):
        funding_line_update(line=line, by=dossier.team.counsellor, changes={"requested_cents": 1})


def test_no_line_is_added_to_a_withdrawn_dossier():
    dossier = DossierFactory(state="withdrawn")
    with pytest.raises(FundingError, match="clos"):
        draft_line(dossier)


def test_an_evaluator_or_another_organisations_counsellor_may_not_create_a_line(org_b):
    dossier = DossierFactory(state="opened")
    for membership in (dossier.team.evaluator, MembershipFactory(organisation=org_b, role=Role.COUNSELLOR)):
        with pytest.raises(PermissionDenied):
            funding_line_create(
                dossier=dossier,
                by=membership,
                step=FundingStep.PRIOR_EVALUATION,
                funder=funder(),
                requested_cents=1000,
            )


# -- Each transition -------------------------------------------------------------------------------------------


def test_request_then_grant_records_the_amount_granted_and_the_funders_reference():
    dossier = DossierFactory(state="opened")
    line = draft_line(dossier, cents=45000)

    line = funding_line_transition(line=line, name="request", by=dossier.team.counsellor)
    assert line.state == LineState.REQUESTED
    line = funding_line_transition(
        line=line, name="grant", by=dossier.team.counsellor, granted_cents=40000, funder_reference="FT-2026-1"
    )

    assert line.state == LineState.GRANTED
    assert (line.granted_cents, line.granted_incl_vat_cents) == (40000, 48000)
    assert line.funder_reference == "FT-2026-1"
    assert line.granted_on == timezone.localdate()
    assert _states(line) == [("", "draft"), ("draft", "requested"), ("requested", "granted")]


def test_a_grant_needs_the_funders_reference():
    dossier = DossierFactory(state="opened")
    line = funding_line_transition(line=draft_line(dossier), name="request", by=dossier.team.counsellor)
    with pytest.raises(FundingError, match="référence du financeur"):
        funding_line_transition(line=line, name="grant", by=dossier.team.counsellor, granted_cents=40000)
    line.refresh_from_db()
    assert line.state == LineState.REQUESTED


def test_refusal_records_the_funders_reason_and_closes_the_line():
    dossier = DossierFactory(state="opened")
    line = funding_line_transition(line=draft_line(dossier), name="request", by=dossier.team.counsellor)

    with pytest.raises(FundingError, match="motif"):
        funding_line_transition(line=line, name="refuse", by=dossier.team.counsellor)
    line = funding_line_transition(line=line, name="refuse", by=dossier.team.counsellor, note="Hors plafond")

    assert line.state == LineState.REFUSED
    assert FundingLineEvent.objects.get(line=line, to_state=LineState.REFUSED).note == "Hors plafond"
    assert line.actions_for(dossier.team.counsellor) == []


def test_a_line_cannot_be_invoiced_before_its_prior_evaluation_is_closed():
    dossier = DossierFactory(state="prior_evaluation")
    line = granted_line(dossier)

    assert "invoice" not in [action["name"] for action in line.actions_for(dossier.team.counsellor)]
    with pytest.raises(FundingError, match="évaluation préalable clôturée"):
        funding_line_transition(line=line, name="invoice", by=dossier.team.counsellor)

    evaluate(dossier.evaluations.get(), dossier.team.evaluator)
    line = FundingLine.objects.get(pk=line.pk)
    line = funding_line_transition(line=line, name="invoice", by=dossier.team.counsellor, invoiced_cents=40000)
    assert line.state == LineState.INVOICED
    assert line.service_date == timezone.localdate()


def test_a_training_line_waits_for_the_training_plan_to_be_completed():
    dossier = DossierFactory(state="in_training")
    line = granted_line(dossier, step=FundingStep.TRAINING, code="region", cents=175000, vat_rate=Decimal("0"))
    with pytest.raises(FundingError, match="formation terminée"):
        funding_line_transition(line=line, name="invoice", by=dossier.team.counsellor)

    plan = TrainingPlan.objects.get(dossier=dossier)
    training_session_add(
        plan=plan,
        by=dossier.team.trainer,
        date=timezone.localdate(),
        duration_hours=Decimal("3"),
        topic="Proportionnalité",
        done=True,
    )
    training_plan_complete(plan=plan, by=dossier.team.trainer, shortfall_reason="Objectifs atteints.")

    line = funding_line_transition(line=FundingLine.objects.get(pk=line.pk), name="invoice", by=dossier.team.counsellor)
    assert (line.state, line.invoiced_cents, line.invoiced_incl_vat_cents) == (LineState.INVOICED, 175000, 175000)


def test_a_final_evaluation_line_waits_for_the_final_evaluation_to_be_closed():
    dossier = DossierFactory(state="final_evaluation")
    line = granted_line(dossier, step=FundingStep.FINAL_EVALUATION)
    with pytest.raises(FundingError, match="évaluation finale clôturée"):
        funding_line_transition(line=line, name="invoice", by=dossier.team.counsellor)

    evaluate(dossier.evaluations.get(kind="final"), dossier.team.final_evaluator)
    line = funding_line_transition(line=FundingLine.objects.get(pk=line.pk), name="invoice", by=dossier.team.counsellor)
    assert line.state == LineState.INVOICED


def test_the_amount_invoiced_cannot_exceed_the_amount_granted():
    dossier = DossierFactory(state="partially_validated")
    line = granted_line(dossier, granted=40000)

    with pytest.raises(FundingError, match="dépasser le montant accordé"):
        funding_line_transition(line=line, name="invoice", by=dossier.team.counsellor, invoiced_cents=40001)
    line = funding_line_transition(line=line, name="invoice", by=dossier.team.counsellor, invoiced_cents=35000)
    assert (line.invoiced_cents, line.invoiced_incl_vat_cents) == (35000, 42000)


def test_the_database_refuses_an_invoiced_amount_above_the_grant_too():
    dossier = DossierFactory(state="partially_validated")
    line = granted_line(dossier, granted=40000)
    with pytest.raises(IntegrityError), transaction.atomic():
        FundingLine.objects.filter(pk=line.pk).update(invoiced_cents=40001)


def test_a_line_is_cancellable_before_invoicing_and_not_after():
    dossier = DossierFactory(state="partially_validated")
    for line in (
        draft_line(dossier),
        funding_line_transition(line=draft_line(dossier), name="request", by=dossier.team.counsellor),
        granted_line(dossier),
    ):
        cancelled = funding_line_transition(line=line, name="cancel", by=dossier.team.counsellor, note="Doublon")
        assert cancelled.state == LineState.CANCELLED

    invoiced = funding_line_transition(line=granted_line(dossier), name="invoice", by=dossier.team.counsellor)
    assert "cancel" not in [action["name"] for action in invoiced.actions_for(dossier.team.counsellor)]
    with pytest.raises(FundingError, match="facturée ne peut plus être annulée"):
        funding_line_transition(line=invoiced, name="cancel", by=dossier.team.counsellor, note="Trop tard")


def test_payment_is_not_a_screen_transition():
    dossier = DossierFactory(state="partially_validated")
    line = funding_line_transition(line=granted_line(dossier), name="invoice", by=dossier.team.counsellor)
    with pytest.raises(FundingError, match="inconnu"):
        funding_line_transition(line=line, name="pay", by=dossier.team.counsellor)


def test_a_stale_line_is_refused_rather_than_overwritten():
    dossier = DossierFactory(state="opened")
    line = draft_line(dossier)
    stale = FundingLine.objects.get(pk=line.pk)
    funding_line_transition(line=line, name="request", by=dossier.team.counsellor)
    with pytest.raises(FundingError, match="changé entre-temps"):
        funding_line_transition(line=stale, name="cancel", by=dossier.team.counsellor, note="Erreur")


def test_the_actions_offered_are_what_the_state_machine_allows_now():
    dossier = DossierFactory(state="partially_validated")
    counsellor = dossier.team.counsellor
    line = draft_line(dossier)
    assert [a["name"] for a in line.actions_for(counsellor)] == ["request", "cancel"]
    line = funding_line_transition(line=line, name="request", by=counsellor)
    assert [a["name"] for a in line.actions_for(counsellor)] == ["grant", "refuse", "cancel"]
    line = funding_line_transition(line=line, name="grant", by=counsellor, granted_cents=100, funder_reference="R")
    assert [a["name"] for a in FundingLine.objects.get(pk=line.pk).actions_for(counsellor)] == ["invoice", "cancel"]
    assert FundingLine.objects.get(pk=line.pk).actions_for(dossier.team.evaluator) == []


# -- A withdrawn dossier stops its open lines -------------------------------------------------------------------


def test_withdrawing_the_dossier_cancels_the_lines_not_yet_invoiced_with_a_history_entry():
    dossier = DossierFactory(state="partially_validated")
    counsellor = dossier.team.counsellor
    draft = draft_line(dossier)
    requested = funding_line_transition(line=draft_line(dossier), name="request", by=counsellor)
    granted = granted_line(dossier)
    invoiced = funding_line_transition(line=granted_line(dossier), name="invoice", by=counsellor)
    refused = funding_line_transition(
        line=funding_line_transition(line=draft_line(dossier), name="request", by=counsellor),
        name="refuse",
        by=counsellor,
        note="Non éligible",
    )

    dossier_withdraw(dossier=dossier, by=counsellor, reason="Le candidat déménage.")

    states = {line.pk: line.state for line in FundingLine.objects.filter(dossier=dossier)}
    assert {states[draft.pk], states[requested.pk], states[granted.pk]} == {LineState.CANCELLED}
    assert states[invoiced.pk] == LineState.INVOICED
    assert states[refused.pk] == LineState.REFUSED
    event = FundingLineEvent.objects.get(line=granted, to_state=LineState.CANCELLED)
    assert event.note == "Dossier abandonné : Le candidat déménage."
    assert event.actor == counsellor.user


def test_service_dates_are_those_of_the_step(org_a):
    ten_days_ago = timezone.localdate() - datetime.timedelta(days=10)
    dossier = DossierFactory(organisation=org_a, state="partially_validated", evaluated_on=ten_days_ago)
    line = funding_line_transition(line=granted_line(dossier), name="invoice", by=dossier.team.counsellor)
    assert line.service_date == ten_days_ago


# -- A grant beyond the request, or dated in the future, needs a reason (issue 14) ------------------------------


def _requested(dossier, cents: int = 45000) -> FundingLine:
    return funding_line_transition(line=draft_line(dossier, cents=cents), name="request", by=dossier.team.counsellor)


def test_granting_more_than_requested_is_refused_without_a_reason():
    dossier = DossierFactory(state="opened")
    line = _requested(dossier, cents=45000)

    with pytest.raises(FundingError, match="dépasse le montant demandé") as refusal:
        funding_line_transition(
            line=line, name="grant", by=dossier.team.counsellor, granted_cents=45001, funder_reference="FT-1"
        )

    assert refusal.value.field == "granted_cents"
    assert FundingLine.objects.get(pk=line.pk).state == LineState.REQUESTED


def test_a_grant_dated_in_the_future_is_refused_without_a_reason():
    dossier = DossierFactory(state="opened")
    line = _requested(dossier)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)

    with pytest.raises(FundingError, match="dans le futur") as refusal:
        funding_line_transition(
            line=line,
            name="grant",
            by=dossier.team.counsellor,
            granted_cents=45000,
            funder_reference="FT-1",
            granted_on=tomorrow,
        )

    assert refusal.value.field == "granted_on"
    assert FundingLine.objects.get(pk=line.pk).state == LineState.REQUESTED


def test_an_override_reason_lets_the_grant_through_and_stays_in_the_lines_history_and_audit():
    dossier = DossierFactory(state="opened")
    line = _requested(dossier, cents=45000)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)

    line = funding_line_transition(
        line=line,
        name="grant",
        by=dossier.team.counsellor,
        granted_cents=50000,
        funder_reference="FT-1",
        granted_on=tomorrow,
        override_reason="Avenant n° 2 de la convention, signé pour le 1er du mois.",
    )

    assert (line.state, line.granted_cents, line.granted_on) == (LineState.GRANTED, 50000, tomorrow)
    note = FundingLineEvent.objects.get(line=line, to_state=LineState.GRANTED).note
    assert "500,00\u00a0€ HT pour 450,00\u00a0€ HT demandés" in note
    assert f"accord daté du {tomorrow:%d/%m/%Y}" in note
    assert note.endswith("Motif : Avenant n° 2 de la convention, signé pour le 1er du mois.")
    audit = AuditLog.objects.get(action="funding_line.grant", object_id=str(line.pk))
    assert audit.details["override"] == ["granted_cents", "granted_on"]
    assert audit.details["override_reason"].startswith("Avenant n° 2")


def test_an_ordinary_grant_needs_no_reason_and_records_none():
    dossier = DossierFactory(state="opened")
    line = _requested(dossier, cents=45000)
    line = funding_line_transition(
        line=line, name="grant", by=dossier.team.counsellor, granted_cents=45000, funder_reference="FT-1"
    )
    assert FundingLineEvent.objects.get(line=line, to_state=LineState.GRANTED).note == ""


# -- Dates and amounts of an invoice (issue 14, the same kind of rule) -------------------------------------------


def test_an_invoice_dated_in_the_future_or_before_the_step_is_refused_on_its_date():
    ten_days_ago = timezone.localdate() - datetime.timedelta(days=10)
    dossier = DossierFactory(state="partially_validated", evaluated_on=ten_days_ago)
    line = granted_line(dossier)
    counsellor = dossier.team.counsellor

    with pytest.raises(FundingError, match="futur") as future:
        funding_line_transition(
            line=line, name="invoice", by=counsellor, invoiced_on=timezone.localdate() + datetime.timedelta(days=1)
        )
    with pytest.raises(FundingError, match=f"précéder la réalisation de l'étape, le {ten_days_ago:%d/%m/%Y}") as early:
        funding_line_transition(
            line=line, name="invoice", by=counsellor, invoiced_on=ten_days_ago - datetime.timedelta(days=1)
        )

    assert (future.value.field, early.value.field) == ("invoiced_on", "invoiced_on")
    line = funding_line_transition(line=line, name="invoice", by=counsellor, invoiced_on=ten_days_ago)
    assert (line.state, line.invoiced_on) == (LineState.INVOICED, ten_days_ago)


def test_the_database_refuses_a_partly_paid_line_paid_in_full():
    dossier = DossierFactory(state="partially_validated")
    line = funding_line_transition(line=granted_line(dossier), name="invoice", by=dossier.team.counsellor)
    with pytest.raises(IntegrityError), transaction.atomic():
        FundingLine.objects.filter(pk=line.pk).update(
            state=LineState.PARTIALLY_PAID, paid_cents=line.invoiced_incl_vat_cents
        )
