"""« À faire »: each role's queue shows exactly its work (its organisation, its sessions, its plans), oldest first,
each item a link to the screen where it is done, with its age; the home page shows the first few and a count, the
queue page all of them; the cost does not grow with the items."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from candidates.models import DossierEvent, add_years
from journey.selectors import (
    WORK_QUEUES,
    dossiers_opened_without_evaluator,
    work_queue,
)
from journey.templatetags.journey_tags import waiting_text
from juries.models import DecisionKind
from juries.services import decision_record, jury_session_convene, jury_session_set_seats
from organisations.demo import ACCOUNTS
from organisations.models import Membership, Role
from outbox.models import SideEffect, SideEffectState
from referrals.services import referral_decline
from scheduling.services import assignment_set
from tests.clients import page_text
from tests.evaluations.support import complete_training
from tests.factories import HabilitationFactory, MembershipFactory, OrganisationFactory
from tests.journey import DossierFactory
from tests.juries.factories import (
    certified,
    close,
    deliberating,
    make_certifpro,
    make_jury,
    open_deliberation,
    session_day,
    submit,
)
from tests.referrals.support import advisor_of, make_referral
from training.models import TrainingPlan
from training.services import training_plan_create, training_session_add

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def urls(queue) -> list[str]:
    return [item.url for item in queue.items]


def age(dossier, days: int) -> None:
    """The dossier entered its current step `days` ago (its latest event is back-dated)."""
    event = DossierEvent.objects.filter(dossier=dossier, to_state=dossier.state).order_by("-at").first()
    DossierEvent.objects.filter(pk=event.pk).update(at=timezone.now() - datetime.timedelta(days=days))


def test_every_role_has_a_queue():
    assert set(WORK_QUEUES) == set(Role.values)


@pytest.mark.parametrize("role", Role.values)
def test_every_home_page_starts_with_its_queue(role, org_a, client_for):
    if role == Role.CERTIFPRO_ADMIN:
        member = make_certifpro()
    elif role == Role.FT_ADVISOR:
        member = advisor_of()
    else:
        member = MembershipFactory(organisation=org_a, role=role)
    response = client_for(member).get(reverse("home"))
    assert response.status_code == 200
    text = page_text(response)
    assert "À faire" in text and "Rien à faire pour l'instant." in text
    assert client_for(member).get(reverse("journey:todo")).status_code == 200


def test_waiting_is_said_in_days_with_plurals():
    today = datetime.date(2026, 12, 3)
    assert waiting_text(today, today) == "depuis aujourd'hui"
    assert waiting_text(today - datetime.timedelta(days=1), today) == "depuis 1 jour"
    assert waiting_text(today - datetime.timedelta(days=12), today) == "depuis 12 jours"
    assert waiting_text(today + datetime.timedelta(days=2), today) == "le 05/12/2026"


# -- Counsellor ----------------------------------------------------------------------------------------------------


def _near_deadline(organisation):
    # Evaluated almost 5 years ago: the deadline falls in 60 days, inside the 3-month warning period.
    return DossierFactory(
        organisation=organisation,
        state="partially_validated",
        evaluated_on=add_years(TODAY(), -5) + datetime.timedelta(days=60),
    )


def counsellor_world(org, name: str = "Nadia"):
    opened = DossierFactory(organisation=org, state="opened")
    partial = DossierFactory(organisation=org, state="partially_validated")
    ready = DossierFactory(organisation=org, state="ready_for_jury")
    near = _near_deadline(org)
    DossierFactory(organisation=org, state="in_training")  # its trainer's work, not the counsellor's
    DossierFactory(organisation=org, state="prior_evaluation")  # the evaluator's
    age(opened, 10), age(partial, 20), age(ready, 5), age(near, 40)
    referral = make_referral(to=org, first_name=name)
    type(referral).objects.filter(pk=referral.pk).update(sent_at=timezone.now() - datetime.timedelta(days=3))
    return opened, partial, ready, near, referral


def test_the_counsellors_queue_holds_the_organisations_work_oldest_first(org_a, org_b):
    opened, partial, ready, near, referral = counsellor_world(org_a)
    counsellor_world(org_b)
    counsellor = opened.team.counsellor

    queue = work_queue(counsellor, limit=20)

    assert [(item.kind, item.url) for item in queue.items] == [
        ("plan_to_define", reverse("training:plan_create", args=[near.pk])),
        ("deadline", reverse("journey:dossier_detail", args=[near.pk])),
        ("plan_to_define", reverse("training:plan_create", args=[partial.pk])),
        ("dossier_without_evaluator", reverse("scheduling:assignment_create", args=[opened.pk])),
        ("dossier_to_submit", reverse("juries:submit", args=[ready.pk])),
        ("referral_to_answer", reverse("referrals:detail", args=[referral.pk])),
    ]
    assert queue.count == 6
    assert [(TODAY() - item.since).days for item in queue.items] == [40, 31, 20, 10, 5, 3]
    assert queue.items[1].action == f"Échéance des 5 ans le {near.deadline:%d/%m/%Y}"


def test_opened_without_evaluator_means_no_prior_evaluation_assigned(org_a):
    """The counsellor's item goes once the prior evaluation is assigned to someone."""
    opened = DossierFactory(organisation=org_a, state="opened")
    assigned = DossierFactory(organisation=org_a, state="opened")
    DossierFactory(organisation=org_a, state="prior_evaluation")
    counsellor = opened.team.counsellor
    assert set(dossiers_opened_without_evaluator(counsellor)) == {opened, assigned}

    assignment_set(dossier=assigned, purpose="prior_evaluation", assignee=assigned.team.evaluator, by=counsellor)

    assert list(dossiers_opened_without_evaluator(counsellor)) == [opened]


def test_an_evaluation_assigned_to_a_colleague_leaves_the_other_evaluators_queue(org_a):
    opened = DossierFactory(organisation=org_a, state="opened")
    evaluator, colleague = opened.team.evaluator, opened.team.final_evaluator
    start = reverse("evaluations:evaluation_start", args=[opened.pk])
    assert start in urls(work_queue(evaluator)) and start in urls(work_queue(colleague))

    assignment_set(dossier=opened, purpose="prior_evaluation", assignee=colleague, by=opened.team.counsellor)

    assert start not in urls(work_queue(evaluator))
    assert start in urls(work_queue(colleague))


def test_the_home_page_shows_the_first_items_a_count_and_a_link_to_the_whole_queue(org_a, client_for):
    opened, partial, ready, near, referral = counsellor_world(org_a)
    counsellor = opened.team.counsellor
    for _ in range(4):
        DossierFactory(organisation=org_a, state="opened")

    response = client_for(counsellor).get(reverse("home"))

    text = page_text(response)
    assert "À faire : 10 tâches" in text
    assert len(response.context["todo"].items) == 8
    assert "depuis 40 jours" in text
    assert reverse("training:plan_create", args=[near.pk]) in response.content.decode()
    assert "Voir tout (10 tâches)" in text and reverse("journey:todo") in response.content.decode()
    # The oldest come first on the page too.
    body = response.content.decode()
    assert body.index(reverse("training:plan_create", args=[near.pk])) < body.index(
        reverse("scheduling:assignment_create", args=[opened.pk])
    )


def test_the_queue_page_lists_everything_a_page_at_a_time(org_a, client_for, settings):
    first = DossierFactory(organisation=org_a, state="opened")
    others = [DossierFactory(organisation=org_a, state="opened") for _ in range(26)]
    age(first, 30)
    client = client_for(first.team.counsellor)

    page_1 = client.get(reverse("journey:todo"))
    page_2 = client.get(reverse("journey:todo"), {"page": 2})

    assert page_1.context["page"].paginator.count == 27
    assert page_1.context["page"].object_list[0].url == reverse("scheduling:assignment_create", args=[first.pk])
    assert len(page_1.context["page"].object_list) == 25
    assert len(page_2.context["page"].object_list) == 2
    shown = {item.url for page in (page_1, page_2) for item in page.context["page"].object_list}
    assert shown == {reverse("scheduling:assignment_create", args=[d.pk]) for d in [first, *others]}
    assert "27 tâches vous attendent, les plus anciennes d'abord." in page_text(page_1)


# -- Evaluator -----------------------------------------------------------------------------------------------------


def test_the_evaluators_queue_holds_the_evaluations_to_start_and_only_own_drafts(org_a, org_b):
    opened = DossierFactory(organisation=org_a, state="opened")
    trained = DossierFactory(organisation=org_a, state="in_training")
    complete_training(trained)
    DossierFactory(organisation=org_a, state="in_training")  # its plan runs: nothing to evaluate yet
    draft = DossierFactory(organisation=org_a, state="prior_evaluation").evaluations.get()
    other_org = DossierFactory(organisation=org_b, state="opened")
    age(opened, 3)
    evaluator = opened.team.evaluator

    queue = work_queue(evaluator)

    assert [item.url for item in queue.items] == [
        reverse("evaluations:evaluation_start", args=[opened.pk]),
        reverse("evaluations:evaluation_start", args=[trained.pk]),
        reverse("evaluations:grid", args=[draft.pk]),
    ]
    assert [item.action for item in queue.items] == [
        "Commencer l'évaluation préalable",
        "Commencer l'évaluation finale",
        "Compléter et clôturer l'évaluation préalable",
    ]
    # A colleague has the same evaluations to start, not this evaluator's draft; org_b's evaluator, org_b's.
    assert reverse("evaluations:grid", args=[draft.pk]) not in urls(work_queue(opened.team.final_evaluator))
    assert urls(work_queue(other_org.team.evaluator)) == [reverse("evaluations:evaluation_start", args=[other_org.pk])]


# -- Trainer -------------------------------------------------------------------------------------------------------


def _plan(trainer, org, *, ends_in: int) -> TrainingPlan:
    dossier = DossierFactory(organisation=org, state="partially_validated")
    return training_plan_create(
        dossier=dossier,
        by=dossier.team.counsellor,
        trainer=trainer,
        planned_hours=Decimal("12"),
        starts_on=TODAY(),
        ends_on=TODAY() + datetime.timedelta(days=ends_in),
    )


def test_the_trainers_queue_holds_sessions_of_the_week_plans_to_schedule_and_to_complete(org_a, org_b):
    trainer = MembershipFactory(organisation=OrganisationFactory(training=True), role=Role.TRAINER)
    colleague = MembershipFactory(organisation=trainer.organisation, role=Role.TRAINER)
    running = _plan(trainer, org_a, ends_in=60)
    ended = _plan(trainer, org_b, ends_in=30)
    empty = _plan(trainer, org_a, ends_in=60)
    TrainingPlan.objects.filter(pk=ended.pk).update(
        starts_on=TODAY() - datetime.timedelta(days=40), ends_on=TODAY() - datetime.timedelta(days=2)
    )
    TrainingPlan.objects.filter(pk=empty.pk).update(starts_on=TODAY() - datetime.timedelta(days=5))
    session = training_session_add(plan=running, by=trainer, date=TODAY(), duration_hours=Decimal("2"), topic="Calcul")
    training_session_add(
        plan=running,
        by=trainer,
        date=TODAY() + datetime.timedelta(days=8),
        duration_hours=Decimal("2"),
        topic="Plus tard",
    )
    training_session_add(plan=running, by=trainer, date=TODAY(), duration_hours=Decimal("2"), topic="Fait", done=True)
    _plan(colleague, org_a, ends_in=60)  # the colleague's plan: not this trainer's work

    queue = work_queue(trainer, limit=20)

    assert [(item.kind, item.url) for item in queue.items] == [
        ("plan_to_schedule", reverse("training:plan_detail", args=[empty.pk])),
        ("plan_to_complete", reverse("training:plan_complete", args=[ended.pk])),
        ("training_session", reverse("training:plan_detail", args=[running.pk])),
    ]
    assert queue.items[2].detail == session.topic


# -- Organisation administrator ------------------------------------------------------------------------------------


def test_the_administrators_queue_holds_the_referrals_to_answer(org_a, org_b):
    admin = MembershipFactory(organisation=org_a, role=Role.ORG_ADMIN)
    waiting = make_referral(to=org_a, first_name="Alice")
    answered = make_referral(to=org_a, first_name="Bruno")
    referral_decline(referral=answered, by=admin, reason="Complet.")
    make_referral(to=org_b)

    assert urls(work_queue(admin)) == [reverse("referrals:detail", args=[waiting.pk])]


def test_the_jury_bodys_administrator_convenes_its_planned_sessions(org_a):
    jury = make_jury()
    other = make_jury()
    queue = work_queue(jury.admin)
    assert urls(queue) == [reverse("juries:session_detail", args=[jury.session.pk])]
    jury_session_convene(session=jury.session, by=jury.admin)
    assert work_queue(jury.admin).items == []
    assert urls(work_queue(other.admin)) == [reverse("juries:session_detail", args=[other.session.pk])]


# -- Jurors --------------------------------------------------------------------------------------------------------


def test_jurors_review_their_convened_sessions_and_the_president_takes_the_decisions():
    jury = make_jury()
    dossier = DossierFactory(state="ready_for_jury")
    submit(jury, dossier)
    stranger = make_jury()  # another body's session, convened: none of these jurors sit on it
    jury_session_convene(session=stranger.session, by=stranger.admin)
    employee = jury.employee.user.memberships.get(role=Role.JURY_MEMBER)

    assert work_queue(employee).items == []  # planned, not convened yet
    jury.session = jury_session_convene(session=jury.session, by=jury.admin)
    for member in (employee, jury.president):
        queue = work_queue(member)
        assert [(item.kind, item.url) for item in queue.items] == [
            ("session_to_review", reverse("juries:session_detail", args=[jury.session.pk]))
        ]
        assert queue.items[0].detail == "1 dossier"

    # A second session of the same body, seating the same two members, deliberating today.
    later = make_jury(body=jury.body)
    jury_session_set_seats(
        session=later.session,
        by=jury.admin,
        member_ids=[jury.employer.pk, jury.employee.pk],
        president_id=jury.employer.pk,
    )
    later.president = jury.president
    [submission] = deliberating(later, DossierFactory(state="ready_for_jury"))

    president = [(item.kind, item.url) for item in work_queue(jury.president).items]
    assert ("decision_to_take", reverse("juries:review", args=[submission.pk])) in president
    assert "decision_to_take" not in {item.kind for item in work_queue(employee).items}


def test_on_the_sessions_day_its_president_opens_the_deliberation():
    jury = make_jury()
    submit(jury, DossierFactory(state="ready_for_jury"))
    jury.session = jury_session_convene(session=jury.session, by=jury.admin)
    employee = jury.employee.user.memberships.get(role=Role.JURY_MEMBER)

    def items(member: Membership) -> list[tuple[str, str]]:
        return [(item.kind, item.url) for item in work_queue(member).items]

    review = ("session_to_review", reverse("juries:session_detail", args=[jury.session.pk]))
    assert items(jury.president) == [review]  # ten days ahead: the dossiers to read
    jury.session = session_day(jury.session)
    assert items(jury.president) == [
        ("deliberation_to_open", reverse("juries:session_deliberate", args=[jury.session.pk]))
    ]
    assert items(employee) == [review]  # the other jurors still read; the president opens
    open_deliberation(jury)
    assert "deliberation_to_open" not in {kind for kind, _ in items(jury.president)}


def test_the_president_closes_the_session_once_every_dossier_is_decided():
    jury = make_jury()
    first, second = deliberating(jury, DossierFactory(state="ready_for_jury"), DossierFactory(state="ready_for_jury"))
    employee = jury.employee.user.memberships.get(role=Role.JURY_MEMBER)
    session_url = reverse("juries:session_detail", args=[jury.session.pk])

    def to_close(member: Membership) -> list[tuple[str, str]]:
        return [(item.url, item.detail) for item in work_queue(member).items if item.kind == "session_to_close"]

    decision_record(submission=first, by=jury.president, kind=DecisionKind.AWARDED)
    assert to_close(jury.president) == []  # one dossier still waits for its decision
    decision_record(submission=second, by=jury.president, kind=DecisionKind.AWARDED)
    assert to_close(jury.president) == [(session_url, "2 dossiers décidés")]
    assert work_queue(jury.president).count == 1
    assert to_close(employee) == []  # the president closes, not every juror
    close(jury)
    assert to_close(jury.president) == []


# -- France Travail advisor ----------------------------------------------------------------------------------------


def test_the_advisor_follows_own_referrals_waiting_or_to_send_elsewhere(org_a):
    advisor = advisor_of()
    colleague = MembershipFactory(organisation=advisor.organisation, role=Role.FT_ADVISOR)
    waiting = make_referral(to=org_a, by=advisor, first_name="Alice")
    declined = make_referral(to=org_a, by=advisor, first_name="Bruno")
    referral_decline(
        referral=declined, by=MembershipFactory(organisation=org_a, role=Role.ORG_ADMIN), reason="Complet."
    )
    type(waiting).objects.filter(pk=waiting.pk).update(sent_at=timezone.now() - datetime.timedelta(days=2))
    make_referral(to=org_a, by=colleague, first_name="Chloé")

    queue = work_queue(advisor)

    assert [(item.kind, item.url) for item in queue.items] == [
        ("referral_waiting", reverse("referrals:detail", args=[waiting.pk])),
        ("referral_to_redirect", reverse("referrals:detail", args=[declined.pk])),
    ]


# -- Certif'Pro ----------------------------------------------------------------------------------------------------


def test_certifpro_declares_the_certificates_issued(org_a):
    _jury, _submission, certificate = certified()
    [item] = work_queue(make_certifpro()).items
    assert (item.kind, item.url) == ("certificates_to_declare", reverse("funding:cdc_list"))
    assert item.action == "Déclarer 1 certificat à la Caisse des Dépôts"
    assert item.since == certificate.awarded_on


def test_certifpro_acts_on_failed_side_effects_and_habilitations_ending(org_a):
    certifpro = make_certifpro()
    assert work_queue(certifpro).items == []
    HabilitationFactory(organisation=org_a, valid_until=TODAY() + datetime.timedelta(days=30))
    HabilitationFactory(organisation=org_a, valid_until=TODAY() + datetime.timedelta(days=400))
    SideEffect.objects.create(organisation=org_a, kind="email", key="k1", state=SideEffectState.FAILED)

    queue = work_queue(certifpro)

    assert {item.kind: item.action for item in queue.items} == {
        "habilitations_to_renew": "Renouveler 1 habilitation qui prend fin dans les 3 mois",
        "side_effects_failed": "Relancer 1 document ou courriel en échec",
    }


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_home_page_and_the_queue_page_cost_the_same_with_more_items(org_a, client_for):
    opened, *_ = counsellor_world(org_a)
    client = client_for(opened.team.counsellor)
    client.get(reverse("home"))
    home, page = _queries(client, reverse("home")), _queries(client, reverse("journey:todo"))
    for name in ("Alice", "Bruno", "Chloé"):
        counsellor_world(org_a, name)
    assert work_queue(opened.team.counsellor, limit=100).count == 24
    assert _queries(client, reverse("home")) == home
    assert _queries(client, reverse("journey:todo")) == page
    # Session, user, memberships, the header's unread notifications, the dossiers per step, then one query per kind
    # of work.
    assert home == 3 + 1 + 1 + len(WORK_QUEUES[Role.COUNSELLOR])


def test_a_queue_reads_one_query_per_kind_of_work(org_a, django_assert_num_queries):
    opened, *_ = counsellor_world(org_a)
    with django_assert_num_queries(len(WORK_QUEUES[Role.COUNSELLOR])):
        assert work_queue(opened.team.counsellor).count == 6


def test_every_demo_account_has_work_waiting(settings):
    settings.DEBUG, settings.EMBEDDED = True, True
    call_command("seed_demo", verbosity=0, stdout=io.StringIO(), without_communes=True)
    empty = [
        (account.email, membership.role)
        for account in ACCOUNTS
        for membership in Membership.objects.filter(user__email=account.email)
        if not work_queue(membership).count
    ]
    assert empty == []
