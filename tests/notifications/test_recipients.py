"""Each event notifies exactly the people of the kind's rule (notifications/kinds.py), and no one else: not the
person who acted, not another organisation's members, not a juror outside the session, not a former member."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from candidates.models import Dossier
from evaluations.acquisitions import dossier_outcome
from evaluations.models import Attestation, Evaluation, EvaluationKind
from evaluations.services import attestation_generate
from evaluations.signals import evaluation_closed
from juries.models import DecisionKind
from juries.services import decision_record, jury_session_convene
from notifications.kinds import KINDS, Event, Kind
from notifications.models import Notification
from notifications.services import notifications_daily, notify
from organisations.models import Membership, Role
from referrals.models import Referral
from referrals.services import referral_accept, referral_decline
from tests.factories import MembershipFactory
from tests.journey import DossierFactory
from tests.juries.factories import deliberating, jury_member, make_jury, submit
from tests.notifications.support import notification_for, recipients
from tests.referrals.support import make_referral
from training.models import TrainingPlan
from training.services import training_plan_complete, training_session_add

pytestmark = pytest.mark.django_db


def emails(*memberships: Membership) -> set[str]:
    return {m.user.email for m in memberships}


def consenting(dossier: Dossier) -> Dossier:
    """The candidate agreed at opening to hear from us by e-mail (what the opening form records)."""
    Dossier.objects.filter(pk=dossier.pk).update(notify_by_email=True, notify_by_email_at=timezone.now())
    dossier.refresh_from_db()
    return dossier


@pytest.fixture
def bystanders(org_b):
    """People who must never hear of another organisation's events: a counsellor, an evaluator, an admin."""
    return [
        MembershipFactory(organisation=org_b, role=role) for role in (Role.COUNSELLOR, Role.EVALUATOR, Role.ORG_ADMIN)
    ]


def test_a_closed_prior_evaluation_tells_the_counsellor_only(org_a, bystanders):
    dossier = DossierFactory(organisation=org_a, state="partially_validated")
    team = dossier.team
    assert recipients("evaluation_closed") == emails(team.counsellor)  # not the evaluator who closed it
    [notification] = Notification.objects.filter(kind="evaluation_closed")
    assert notification.organisation_id == org_a.pk
    assert notification.url == f"/dossiers/{dossier.pk}/"
    assert dossier.reference in notification.title


def test_an_event_announced_twice_is_told_once(org_a):
    dossier = DossierFactory(organisation=org_a, state="partially_validated")
    evaluation = Evaluation.objects.get(dossier=dossier)
    assert Notification.objects.count() == 1
    evaluation_closed.send(
        sender=Evaluation,
        evaluation=evaluation,
        dossier=dossier,
        outcome=dossier_outcome(dossier),
        by=dossier.team.evaluator,
    )
    assert Notification.objects.count() == 1


def test_the_attestation_tells_the_counsellor_and_the_candidate_who_agreed(org_a):
    dossier = consenting(DossierFactory(organisation=org_a, state="partially_validated"))
    attestation = attestation_generate(evaluation_id=Evaluation.objects.get(dossier=dossier).pk)
    assert recipients("attestation_ready") == emails(dossier.team.counsellor) | {"candidate@exemple.fr"}
    candidate_row = Notification.objects.get(kind="attestation_ready", recipient__isnull=True)
    # Their own space, never a sign-in link: a forwarded notification opens nothing by itself.
    assert candidate_row.url == "/mon-espace/" and attestation.number in candidate_row.body
    attestation_generate(evaluation_id=attestation.evaluation_id)  # the side effect run twice: told once
    assert Notification.objects.filter(kind="attestation_ready").count() == 2


def test_a_candidate_who_did_not_agree_or_has_no_address_gets_nothing(org_a):
    silent = DossierFactory(organisation=org_a, state="partially_validated")
    attestation_generate(evaluation_id=Evaluation.objects.get(dossier=silent).pk)
    no_address = consenting(DossierFactory(organisation=org_a, state="partially_validated"))
    no_address.candidate.__class__.objects.filter(pk=no_address.candidate_id).update(email="")
    attestation_generate(evaluation_id=Evaluation.objects.get(dossier=no_address).pk)
    assert not Notification.objects.filter(recipient__isnull=True).exists()
    assert Attestation.objects.count() == 2


def test_a_new_plan_tells_its_trainer_only_and_a_completed_one_the_counsellor_and_the_prior_evaluator(org_a):
    dossier = DossierFactory(organisation=org_a, state="in_training")
    team = dossier.team
    assert recipients("training_plan_created") == emails(team.trainer)  # not the counsellor who created it
    created = Notification.objects.get(kind="training_plan_created")
    assert created.organisation_id == team.trainer.organisation_id  # the training organisation, the trainer's own
    plan = TrainingPlan.objects.get(dossier=dossier)
    training_session_add(
        plan=plan, by=team.trainer, date=timezone.localdate(), duration_hours=3, topic="Calcul", done=True
    )
    training_plan_complete(plan=plan, by=team.trainer, shortfall_reason="Objectifs atteints plus tôt.")
    assert recipients("training_plan_completed") == emails(team.counsellor, team.evaluator)


def test_a_submission_tells_the_jury_body_not_the_counsellor_who_submitted_nor_the_jurors_before_convocation(org_a):
    jury = make_jury()
    dossier = DossierFactory(organisation=org_a, state="ready_for_jury")
    submit(jury, dossier)
    assert recipients("dossier_submitted") == emails(jury.admin)
    [row] = Notification.objects.filter(kind="dossier_submitted")
    assert row.url == f"/jurys/{jury.session.pk}/"  # the jury body reads the session, not the dossier
    assert not Notification.objects.filter(kind="session_dossier_added").exists()


def test_the_convocation_tells_the_seated_jurors_only_and_a_dossier_added_later_tells_them_again(org_a):
    jury = make_jury()
    outsider = jury_member(jury.body, "employers")  # a juror of the same body, not seated in this session
    other_body = make_jury()  # another body's jurors
    submit(jury, DossierFactory(organisation=org_a, state="ready_for_jury"))
    jury.session = jury_session_convene(session=jury.session, by=jury.admin)
    seated = emails(jury.president, jury.member_membership(jury.employee))
    assert recipients("session_convened") == seated
    late = DossierFactory(organisation=org_a, state="ready_for_jury")
    submit(jury, late)
    assert recipients("session_dossier_added") == seated
    assert outsider.user.email not in recipients("session_convened") | recipients("session_dossier_added")
    assert not Notification.objects.filter(recipient__in=[other_body.president.user, other_body.admin.user]).exists()


def test_the_decision_tells_the_counsellor_the_evaluators_and_the_consenting_candidate_never_the_president(org_a):
    jury = make_jury()
    dossier = consenting(DossierFactory(organisation=org_a, state="ready_for_jury", via_training=True))
    team = dossier.team
    [submission] = deliberating(jury, dossier)
    decision_record(submission=submission, by=jury.president, kind=DecisionKind.AWARDED)
    expected = emails(team.counsellor, team.evaluator, team.final_evaluator) | {"candidate@exemple.fr"}
    assert recipients("decision_recorded") == expected


def test_the_certificate_tells_the_counsellor_and_the_consenting_candidate(org_a):
    from tests.juries.factories import certified

    jury, submission, certificate = certified(organisation=org_a)
    counsellor = submission.dossier.team.counsellor
    assert recipients("certificate_ready") == emails(counsellor)  # this candidate did not agree
    assert certificate.number in Notification.objects.get(kind="certificate_ready").title


def test_a_referral_tells_the_receiving_counsellors_then_its_answer_tells_the_advisor(org_a, org_b):
    counsellors = [MembershipFactory(organisation=org_a, role=Role.COUNSELLOR) for _ in range(2)]
    evaluator = MembershipFactory(organisation=org_a, role=Role.EVALUATOR)
    MembershipFactory(organisation=org_b, role=Role.COUNSELLOR)
    referral = make_referral(to=org_a)
    assert recipients("referral_received") == emails(*counsellors)
    assert evaluator.user.email not in recipients("referral_received")
    referral_decline(referral=referral, by=counsellors[0], reason="Pas de place avant trois mois.")
    assert recipients("referral_answered") == {referral.advisor.email}
    answered = Notification.objects.get(kind="referral_answered")
    assert answered.organisation_id == referral.from_organisation_id
    assert "Pas de place" in answered.body


def test_an_accepted_referral_tells_the_advisor_not_the_counsellor_who_accepted(org_a):
    counsellor = MembershipFactory(organisation=org_a, role=Role.COUNSELLOR)
    referral = make_referral(to=org_a)
    referral_accept(referral=referral, by=counsellor)
    assert recipients("referral_answered") == {referral.advisor.email}
    assert "acceptée" in Notification.objects.get(kind="referral_answered").title


def test_a_former_member_hears_nothing(org_a):
    dossier = DossierFactory(organisation=org_a, state="prior_evaluation")
    Membership.objects.filter(pk=dossier.team.counsellor.pk).update(is_active=False)
    evaluation = Evaluation.objects.get(dossier=dossier, kind=EvaluationKind.PRIOR)
    from journey.demo import evaluation_fill_and_close
    from tests.journey import PRIOR_WITH_GAPS

    evaluation_fill_and_close(evaluation, dossier.team.evaluator, PRIOR_WITH_GAPS, timezone.localdate())
    assert not Notification.objects.filter(kind="evaluation_closed").exists()


def test_deadlines_are_told_three_months_then_one_month_ahead_once_each(org_a):
    dossier = DossierFactory(organisation=org_a, state="partially_validated")
    counsellor = dossier.team.counsellor
    deadline = dossier.deadline
    assert notifications_daily(today=deadline - datetime.timedelta(days=100)) == 0
    assert notifications_daily(today=deadline - datetime.timedelta(days=90)) == 1
    assert notifications_daily(today=deadline - datetime.timedelta(days=89)) == 0  # the next day: nothing more
    assert notifications_daily(today=deadline - datetime.timedelta(days=30)) == 1
    assert notifications_daily(today=deadline - datetime.timedelta(days=29)) == 0
    assert recipients("deadline_3_months") == recipients("deadline_1_month") == emails(counsellor)


def test_a_referral_about_to_expire_tells_the_receiving_counsellors_once(org_a, settings):
    counsellor = MembershipFactory(organisation=org_a, role=Role.COUNSELLOR)
    fresh = make_referral(to=org_a)
    expiring = make_referral(to=org_a, first_name="Léa")
    Referral.objects.filter(pk=expiring.pk).update(
        sent_at=timezone.now() - datetime.timedelta(days=settings.REFERRAL_EXPIRY_DAYS - 2)
    )
    assert notifications_daily() == 1
    assert notifications_daily() == 0
    [row] = Notification.objects.filter(kind="referral_expiring")
    assert row.recipient_id == counsellor.user_id and row.url == f"/orientations/{expiring.pk}/"
    assert not Notification.objects.filter(kind="referral_expiring", url=f"/orientations/{fresh.pk}/").exists()


def test_a_rule_naming_someone_with_an_organisation_they_do_not_belong_to_is_not_followed(org_a, org_b, monkeypatch):
    """The safety net under every rule: a person is told only as a member of the organisation named with them."""
    insider = MembershipFactory(organisation=org_a, role=Role.COUNSELLOR)
    outsider = MembershipFactory(organisation=org_b, role=Role.COUNSELLOR)
    named = [(insider.user_id, org_a.pk), (outsider.user_id, org_a.pk)]
    monkeypatch.setitem(KINDS, "test", Kind("Essai", (lambda event: named,)))
    notify(Event(kind="test", key="k", organisation_id=org_a.pk, title="Essai"))
    assert recipients("test") == emails(insider)


def test_notifications_are_forgotten_after_their_retention(org_a, settings):
    member = MembershipFactory(organisation=org_a, role=Role.COUNSELLOR)
    old, recent = notification_for(member), notification_for(member)
    Notification.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=settings.NOTIFICATION_RETENTION_DAYS + 1)
    )
    notifications_daily()
    assert list(Notification.objects.all()) == [recent]
