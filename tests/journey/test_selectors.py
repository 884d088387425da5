"""The role dashboards' selectors, called directly: each reads only what its membership may see (two
organisations at least), in a fixed number of queries."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from candidates.models import add_years
from funding.selectors import dossier_funding
from journey.selectors import (
    DASHBOARDS,
    EvaluatorDashboard,
    OrgAdminDashboard,
    certifpro_dashboard,
    counsellor_dashboard,
    dashboard_for,
    ft_advisor_dashboard,
    jury_member_dashboard,
    org_admin_dashboard,
    trainer_dashboard,
)
from juries.services import conflict_declare
from organisations.models import Organisation, OrganisationKind, Region, Role
from referrals.services import referral_accept
from tests.factories import HabilitationFactory, MembershipFactory, OrganisationFactory, SiteFactory
from tests.funding.support import draft_line
from tests.journey import DossierFactory
from tests.juries.factories import deliberating, make_certifpro, make_jury, submit
from tests.referrals.support import advisor_of, make_referral
from training.services import training_plan_create

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def test_every_role_has_a_dashboard():
    assert set(DASHBOARDS) == set(Role.values)


def test_dashboard_for_picks_the_selector_of_the_membership_role(org_a, make_member):
    assert isinstance(dashboard_for(make_member(org_a, role=Role.ORG_ADMIN)), OrgAdminDashboard)
    assert isinstance(dashboard_for(make_member(org_a, role=Role.EVALUATOR)), EvaluatorDashboard)


# -- Counsellor ----------------------------------------------------------------------------------------------------


def _near_deadline(organisation):
    # Evaluated almost 5 years ago: the deadline falls within the warning period.
    return DossierFactory(
        organisation=organisation,
        state="partially_validated",
        evaluated_on=add_years(TODAY(), -5) + datetime.timedelta(days=60),
    )


def test_the_counsellor_counts_only_the_organisations_dossiers(org_a, org_b, django_assert_num_queries):
    mine = [DossierFactory(organisation=org_a), DossierFactory(organisation=org_a), _near_deadline(org_a)]
    DossierFactory(organisation=org_b, state="opened")
    _near_deadline(org_b)
    counsellor = mine[0].team.counsellor
    referral_accept(referral=make_referral(to=org_a, first_name="Déjà"), by=counsellor)

    with django_assert_num_queries(1):
        board = counsellor_dashboard(counsellor)

    # The accepted referral opened a dossier of org_a in the first step.
    assert board.board["total"] == 4
    assert [(line["state"], line["count"]) for line in board.board["by_state"]] == [
        ("information", 3),
        ("partially_validated", 1),
    ]


# The evaluator's dossiers waiting and drafts are their "À faire" (tests/journey/test_queues.py).


# -- Trainer -------------------------------------------------------------------------------------------------------


def _plan(trainer, organisation, *, ends_in_days):
    dossier = DossierFactory(organisation=organisation, state="partially_validated")
    return training_plan_create(
        dossier=dossier,
        by=dossier.team.counsellor,
        trainer=trainer,
        planned_hours=Decimal("12"),
        starts_on=TODAY(),
        ends_on=TODAY() + datetime.timedelta(days=ends_in_days),
    )


def test_the_trainer_sees_only_the_plans_delivered_under_this_membership(org_a, org_b, django_assert_num_queries):
    trainer = MembershipFactory(organisation=OrganisationFactory(training=True), role=Role.TRAINER)
    # The same person trains for a second organisation: those plans belong to the other membership.
    elsewhere = MembershipFactory(user=trainer.user, organisation=OrganisationFactory(training=True), role=Role.TRAINER)
    later = _plan(trainer, org_a, ends_in_days=60)
    sooner = _plan(trainer, org_b, ends_in_days=30)
    _plan(elsewhere, org_a, ends_in_days=10)
    _plan(MembershipFactory(organisation=trainer.organisation, role=Role.TRAINER), org_a, ends_in_days=5)

    with django_assert_num_queries(1):
        board = trainer_dashboard(trainer)

    assert board.plans == [sooner, later]
    assert board.plans[0].hours_done == 0 and board.plans[0].next_session is None


# -- Organisation administrator ------------------------------------------------------------------------------------


def test_the_org_admin_counts_the_organisations_active_sites_and_members(org_a, org_b, django_assert_num_queries):
    SiteFactory.create_batch(2, organisation=org_a)
    SiteFactory(organisation=org_a, is_active=False)
    SiteFactory.create_batch(3, organisation=org_b)
    admin = MembershipFactory(organisation=org_a, role=Role.ORG_ADMIN)
    MembershipFactory(organisation=org_a, role=Role.COUNSELLOR)
    MembershipFactory(organisation=org_a, role=Role.EVALUATOR, is_active=False)
    MembershipFactory.create_batch(3, organisation=org_b, role=Role.COUNSELLOR)

    with django_assert_num_queries(2):
        board = org_admin_dashboard(admin)

    assert (board.site_count, board.member_count) == (2, 2)


# -- Jury member ---------------------------------------------------------------------------------------------------


def test_the_juror_sees_only_the_sessions_they_sit_on_and_their_own_conflicts(django_assert_num_queries):
    jury = make_jury()
    submit(jury, DossierFactory(state="ready_for_jury"))
    later = make_jury(body=jury.body, days_ahead=20)  # the same body, but the president has no seat on it
    presided = make_jury(body=jury.body, days_ahead=5)
    [conflicted] = deliberating(presided, DossierFactory(state="ready_for_jury"))
    conflict_declare(submission=conflicted, by=presided.president, statement="Ancien collègue")
    other_body = make_jury()
    deliberating(other_body, DossierFactory(state="ready_for_jury"))

    with django_assert_num_queries(3):
        board = jury_member_dashboard(jury.president)

    assert later.session not in board.upcoming
    assert board.upcoming == [jury.session]
    assert board.upcoming[0].dossier_count == 1
    assert board.presiding == []
    assert board.conflict_count == 0

    board = jury_member_dashboard(presided.president)
    assert board.upcoming == []
    assert board.presiding == [presided.session]
    assert board.presiding[0].dossier_count == 1
    assert board.conflict_count == 1


# -- France Travail advisor ----------------------------------------------------------------------------------------


def test_the_advisor_sees_own_referrals_and_the_regions_evaluators(org_a, org_b, django_assert_num_queries):
    elsewhere = OrganisationFactory(region=Region.BRETAGNE)
    HabilitationFactory(organisation=elsewhere)
    advisor = advisor_of()
    colleague = MembershipFactory(organisation=advisor.organisation, role=Role.FT_ADVISOR)
    first = make_referral(to=org_a, by=advisor, first_name="Alice")
    second = make_referral(to=org_b, by=advisor, first_name="Bruno")
    make_referral(to=org_a, by=colleague, first_name="Chloé")
    make_referral(to=org_a, first_name="Denis")  # another agency's advisor

    with django_assert_num_queries(2):
        board = ft_advisor_dashboard(advisor)

    assert board.recent_referrals == [second, first]
    assert set(board.regional_evaluators) >= {org_a, org_b}
    assert elsewhere not in board.regional_evaluators
    assert all(org.kind == OrganisationKind.EVALUATOR for org in board.regional_evaluators)


# -- Certif'Pro ----------------------------------------------------------------------------------------------------


def test_certifpro_counts_every_organisation(org_a, org_b, django_assert_num_queries):
    HabilitationFactory(organisation=org_a)
    certifpro = make_certifpro()
    evaluators = Organisation.objects.filter(kind=OrganisationKind.EVALUATOR, is_active=True)

    with django_assert_num_queries(2):
        board = certifpro_dashboard(certifpro)

    by_kind = {str(label): n for label, n in board.national["organisations"]}
    assert by_kind[str(OrganisationKind.EVALUATOR.label)] == evaluators.count() >= 2
    assert sum(n for _label, n in board.national["habilitations"]) >= 1


# -- The dossier page's funding section ----------------------------------------------------------------------------


def test_the_dossiers_funding_is_read_by_its_organisation_only(org_a, org_b, make_member, django_assert_num_queries):
    dossier = DossierFactory(organisation=org_a, state="opened")
    line = draft_line(dossier)
    counsellor = dossier.team.counsellor

    with django_assert_num_queries(1):
        funding = dossier_funding(counsellor, dossier)

    assert [item for item, _actions in funding.lines] == [line]
    assert funding.lines[0][1]  # a counsellor may act on a draft line
    assert funding.can_create
    assert dossier_funding(make_member(org_b, role=Role.COUNSELLOR), dossier).lines == []
    assert dossier_funding(dossier.team.evaluator, dossier) is None
    certifpro = dossier_funding(make_certifpro(), dossier)
    assert [item for item, actions in certifpro.lines if not actions] == [line]
    assert not certifpro.can_create
