"""The data set's second phase (bench/national_extras.py): appointments, assignments, attestations, minutes, claim
batches, payments, notifications and side effects, derived from the dossiers in the database. PostgreSQL only
(set-based SQL): run with DATABASE_URL pointing at a PostgreSQL server."""

from __future__ import annotations

import datetime
import io
from collections import Counter

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count, F, Q, Sum

from bench.national_dataset import DatasetRefused, run
from candidates.models import Dossier, DossierEvent
from evaluations.models import Attestation, Evaluation, EvaluationStatus
from funding.models import ClaimBatch, FundingLine, LineState, MatchStatus, Payment, PaymentLine
from juries.models import Certificate, Decision, JurySession, SessionMinutes
from notifications.models import EmailDelivery, Notification
from organisations.models import Membership
from outbox.models import SideEffect, SideEffectState
from scheduling.models import (
    APPOINTMENT_ROLE,
    ASSIGNMENT_ROLE,
    Appointment,
    AppointmentState,
    Assignment,
)
from tests.bench.test_national_dataset import TODAY, communes, generate  # noqa: F401 - communes is a fixture

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the extras are PostgreSQL SQL"),
    pytest.mark.django_db,
]
NOW = datetime.datetime.combine(TODAY, datetime.time(0), tzinfo=datetime.UTC)


def extras(*extra: str) -> str:
    out = io.StringIO()
    run(["--extras-only", "--today", TODAY.isoformat(), "--seed", "7", *extra], stdout=out)
    return out.getvalue()


@pytest.fixture
def dataset(communes):  # noqa: F811 - the fixture imported above
    generate(150, 7, "--no-extras")


def test_appointments_follow_the_evaluations_and_the_opening(dataset):
    extras()
    evaluations = Evaluation.objects.exclude(status=EvaluationStatus.ABANDONED)
    kept = Appointment.objects.exclude(state=AppointmentState.MISSED)
    # One appointment per evaluation (the one that happened, or the rebooked one), one information interview per
    # dossier with a counsellor.
    assert kept.filter(purpose__in=["prior_evaluation", "final_evaluation"]).count() == evaluations.count()
    assert kept.filter(purpose="information").count() == Dossier.objects.exclude(counsellor=None).count()
    for appointment in Appointment.objects.select_related("with_membership", "site", "dossier"):
        # The person met holds the purpose's role in the dossier's organisation; the site is the organisation's.
        assert appointment.with_membership.role == APPOINTMENT_ROLE[appointment.purpose]
        assert appointment.with_membership.organisation_id == appointment.organisation_id
        assert appointment.dossier.organisation_id == appointment.organisation_id
        assert appointment.site is None or appointment.site.organisation_id == appointment.organisation_id
        assert appointment.booked_at < appointment.starts_at < appointment.ends_at
        assert appointment.booked_at >= appointment.dossier.created_at
        if appointment.state == AppointmentState.PLANNED:
            assert appointment.starts_at >= NOW
        else:
            assert appointment.starts_at < NOW
    missed = Appointment.objects.filter(state=AppointmentState.MISSED)
    assert missed.exists()
    assert Appointment.objects.filter(rebooked_from__in=missed).count() == missed.count()
    # Each done or missed appointment wrote its timeline event, as record_event does.
    events = Counter(DossierEvent.objects.filter(transition__startswith="appointment_").values_list("transition"))
    assert events[("appointment_mark_done",)] == Appointment.objects.filter(state=AppointmentState.DONE).count()
    assert events[("appointment_mark_missed",)] == missed.count()


def test_assignments_name_the_evaluator_and_the_trainer(dataset):
    extras()
    assert Assignment.objects.exists()
    for assignment in Assignment.objects.select_related("assignee"):
        assert assignment.assignee.role == ASSIGNMENT_ROLE[assignment.purpose]
    # Every evaluation's evaluator was assigned its step in the dossier.
    for evaluation in Evaluation.objects.all():
        purpose = f"{evaluation.kind}_evaluation"
        assert Assignment.objects.filter(
            dossier_id=evaluation.dossier_id, purpose=purpose, assignee__user_id=evaluation.evaluator_id
        ).exists()
    assert Assignment.objects.filter(purpose="training").exists()


def test_batches_total_their_lines_and_payments_their_lines(dataset):
    extras()
    batched = FundingLine.objects.filter(state__in=[LineState.INVOICED, LineState.PAID])
    assert batched.exists()
    assert not batched.filter(batch=None).exists()
    assert not FundingLine.objects.exclude(state__in=[LineState.INVOICED, LineState.PAID]).exclude(batch=None).exists()
    for batch in ClaimBatch.objects.annotate(
        n=Count("lines"), ht=Sum("lines__invoiced_cents"), ttc=Sum("lines__invoiced_incl_vat_cents")
    ):
        assert (batch.total_lines, batch.total_cents, batch.total_incl_vat_cents) == (batch.n, batch.ht, batch.ttc)
        assert batch.is_issued and batch.number.startswith(f"LOT-{batch.organisation.siret}-")
        assert not batch.lines.exclude(organisation_id=batch.organisation_id, funder_id=batch.funder_id).exists()
        assert not batch.lines.filter(invoiced_on__gt=batch.issued_on).exists()
    assert Payment.objects.exists()
    for payment in Payment.objects.annotate(paid=Sum("lines__amount_cents")):
        assert payment.total_cents == payment.paid
        assert payment.batch.organisation_id == payment.organisation_id
        # The unpaid lines of the batch are the missing ones.
        unpaid = payment.batch.lines.filter(state=LineState.INVOICED).values_list("id", flat=True)
        assert sorted(payment.missing_line_ids) == sorted(unpaid)
    # Each paid line is one matched payment line, paid on its payment's date.
    paid = FundingLine.objects.filter(state=LineState.PAID)
    assert PaymentLine.objects.count() == paid.count()
    assert not PaymentLine.objects.exclude(status=MatchStatus.MATCHED).exists()
    assert not PaymentLine.objects.exclude(funding_line__paid_on=F("payment__received_on")).exists()
    assert not PaymentLine.objects.exclude(amount_cents=F("funding_line__paid_cents")).exists()


def test_notifications_go_to_members_of_their_organisation_and_never_to_the_actor(dataset):
    extras()
    since = NOW - datetime.timedelta(days=settings.NOTIFICATION_RETENTION_DAYS)
    kinds = Counter(Notification.objects.values_list("kind", flat=True))
    for kind in ("assignment", "appointment_booked", "evaluation_closed", "decision_recorded", "certificate_ready"):
        assert kinds[kind], kind
    members = set(Membership.objects.filter(is_active=True).values_list("user_id", "organisation_id"))
    for notification in Notification.objects.all():
        assert (notification.recipient_id, notification.organisation_id) in members
        assert since <= notification.created_at <= NOW
        assert notification.read_at is None or notification.read_at > notification.created_at
    # The jury's president who recorded a decision is not told of it; the dossier's counsellor is.
    for decision in Decision.objects.filter(decided_at__gte=since).select_related("submission__dossier"):
        told = set(
            Notification.objects.filter(event_key=f"decision_recorded:{decision.pk}").values_list(
                "recipient_id", flat=True
            )
        )
        assert decision.decided_by_id not in told
        assert decision.submission.dossier.counsellor_id in told
    # The jury body's administrators hear of a submission with a link to the session, not to the dossier.
    submitted = Notification.objects.filter(kind="dossier_submitted")
    assert submitted.exists()
    assert not submitted.exclude(url__contains="/").exists()
    for notification in submitted[:20]:
        session = JurySession.objects.get(submissions__pk=int(notification.event_key.split(":")[1]))
        assert notification.organisation_id == session.organisation_id


def test_side_effects_are_done_and_promised_by_their_events(dataset):
    extras()
    effects = SideEffect.objects.all()
    assert effects.exists()
    assert not effects.exclude(state=SideEffectState.DONE).exists()
    kinds = Counter(effects.values_list("kind", flat=True))
    since = NOW - datetime.timedelta(days=settings.SIDE_EFFECT_RETENTION_DAYS)
    assert not effects.filter(created_at__lt=since).exists()
    # One e-mail per immediate notification within the retention, and none for the others.
    emailed = Notification.objects.filter(email_delivery=EmailDelivery.IMMEDIATE, created_at__gte=since)
    assert kinds["notification_email"] == emailed.count()
    assert kinds["certificate"] == Certificate.objects.filter(decision__decided_at__gte=since).count()
    for effect in effects.filter(kind="certificate"):
        assert Certificate.objects.filter(decision_id=effect.arguments["decision_id"]).exists()
    assert kinds["batch"] == ClaimBatch.objects.filter(created_at__gte=since).count()


def test_attestations_and_minutes(dataset):
    extras()
    with_gaps = Evaluation.objects.filter(status=EvaluationStatus.CLOSED).filter(~Q(outcome__all_validated=True))
    assert Attestation.objects.count() == with_gaps.count() > 0
    for dossier_id, versions in Counter(Attestation.objects.values_list("dossier_id", flat=True)).items():
        numbers = list(Attestation.objects.filter(dossier_id=dossier_id).order_by("version").values_list("version"))
        assert numbers == [(v,) for v in range(1, versions + 1)]
    assert SessionMinutes.objects.count() == JurySession.objects.filter(state="closed").count()


def test_extras_refuse_a_second_run_and_force_gives_the_same_rows(dataset):
    extras()
    first = {
        "appointments": sorted(Appointment.objects.values_list("dossier_id", "purpose", "state", "starts_at")),
        "notifications": sorted(Notification.objects.values_list("event_key", "recipient_id", "read_at")),
        "batches": sorted(ClaimBatch.objects.values_list("number", "total_cents")),
        "events": DossierEvent.objects.count(),
    }
    with pytest.raises(DatasetRefused):
        extras()
    extras("--force")
    assert first == {
        "appointments": sorted(Appointment.objects.values_list("dossier_id", "purpose", "state", "starts_at")),
        "notifications": sorted(Notification.objects.values_list("event_key", "recipient_id", "read_at")),
        "batches": sorted(ClaimBatch.objects.values_list("number", "total_cents")),
        "events": DossierEvent.objects.count(),
    }
