"""The role home pages: one selector per role, each composing the panels of the apps it reads.

A panel that reads one app comes from that app's selectors; a panel that reads across apps (the evaluator's
worklist: dossiers and their training plans) is written here, above them all. Every selector returns plain data,
its querysets already evaluated, so that the template only formats it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import OuterRef, Q, Subquery

from candidates.models import Dossier, DossierState
from candidates.selectors import DossierBoard, dossier_board
from evaluations.models import Evaluation
from evaluations.selectors import evaluation_drafts_of
from juries.models import JurySession
from juries.selectors import conflict_count_for, deliberations_presided_by, upcoming_sessions_for
from organisations.models import Membership, Organisation, Role
from organisations.selectors import active_member_count, active_site_count, evaluators_in_region, national_overview
from referrals.models import Referral
from training.models import TrainingPlan
from training.selectors import training_plans_in_progress

REFERRALS_SIZE = 5
WAITING_SIZE = 20


@dataclass(frozen=True)
class ReferralsWaiting:
    count: int
    # The oldest first: they expire first.
    oldest: list[Referral]


@dataclass(frozen=True)
class CounsellorDashboard:
    board: DossierBoard
    incoming: ReferralsWaiting


@dataclass(frozen=True)
class EvaluatorDashboard:
    waiting: list[Dossier]
    more_waiting: bool
    drafts: list[Evaluation]


@dataclass(frozen=True)
class TrainerDashboard:
    plans: list[TrainingPlan]


@dataclass(frozen=True)
class OrgAdminDashboard:
    site_count: int
    member_count: int


@dataclass(frozen=True)
class JuryMemberDashboard:
    upcoming: list[JurySession]
    presiding: list[JurySession]
    conflict_count: int


@dataclass(frozen=True)
class FtAdvisorDashboard:
    regional_evaluators: list[Organisation]
    recent_referrals: list[Referral]


@dataclass(frozen=True)
class CertifproDashboard:
    national: dict[str, Any]


Dashboard = (
    CounsellorDashboard
    | EvaluatorDashboard
    | TrainerDashboard
    | OrgAdminDashboard
    | JuryMemberDashboard
    | FtAdvisorDashboard
    | CertifproDashboard
)


def counsellor_dashboard(membership: Membership) -> CounsellorDashboard:
    """The dossiers per step and those close to their 5-year deadline (two queries), and the France Travail
    referrals the organisation has not answered yet (a count and the oldest few: two)."""
    waiting = (
        Referral.objects.visible_to(membership).filter(organisation_id=membership.organisation_id).awaiting_answer()
    )
    return CounsellorDashboard(
        board=dossier_board(membership),
        incoming=ReferralsWaiting(
            count=waiting.count(),
            oldest=list(waiting.select_related("site", "from_organisation").order_by("sent_at", "id")[:REFERRALS_SIZE]),
        ),
    )


def dossiers_awaiting_evaluation(membership: Membership, *, limit: int = WAITING_SIZE) -> list[Dossier]:
    """Opened dossiers (a prior evaluation to hold) and dossiers in training whose current plan is completed (a
    final one), the longest waiting first; `limit + 1` rows, so that the caller knows whether more wait. One
    query: the current plan is a subquery."""
    current_plan_completed_at = Subquery(
        TrainingPlan.objects.filter(dossier=OuterRef("pk")).order_by("-cycle").values("completed_at")[:1]
    )
    return list(
        Dossier.objects.visible_to(membership)
        .annotate(current_plan_completed_at=current_plan_completed_at)
        .filter(
            Q(state=DossierState.OPENED) | Q(state=DossierState.IN_TRAINING, current_plan_completed_at__isnull=False)
        )
        .select_related("candidate")
        .order_by("updated_at", "id")[: limit + 1]
    )


def evaluator_dashboard(membership: Membership) -> EvaluatorDashboard:
    """The dossiers waiting for an evaluation, and the evaluator's own drafts. Two queries."""
    waiting = dossiers_awaiting_evaluation(membership)
    return EvaluatorDashboard(
        waiting=waiting[:WAITING_SIZE],
        more_waiting=len(waiting) > WAITING_SIZE,
        drafts=evaluation_drafts_of(membership),
    )


def trainer_dashboard(membership: Membership) -> TrainerDashboard:
    """The plans in progress with their next session and hours done. One query."""
    return TrainerDashboard(plans=training_plans_in_progress(membership))


def org_admin_dashboard(membership: Membership) -> OrgAdminDashboard:
    """Two counts: active sites, active members."""
    return OrgAdminDashboard(site_count=active_site_count(membership), member_count=active_member_count(membership))


def jury_member_dashboard(membership: Membership) -> JuryMemberDashboard:
    """The member's upcoming sessions, the deliberations they preside, their conflicts of interest on record.
    Three queries."""
    return JuryMemberDashboard(
        upcoming=upcoming_sessions_for(membership),
        presiding=deliberations_presided_by(membership),
        conflict_count=conflict_count_for(membership),
    )


def ft_advisor_dashboard(membership: Membership) -> FtAdvisorDashboard:
    """The evaluators habilitated in the agency's region (one query), and the advisor's own latest referrals with
    their dossier's step (one)."""
    recent = (
        Referral.objects.visible_to(membership)
        .filter(advisor_id=membership.user_id)
        .select_related("site", "organisation", "dossier")
        .order_by("-sent_at", "-id")[: REFERRALS_SIZE * 2]
    )
    return FtAdvisorDashboard(
        regional_evaluators=evaluators_in_region(membership.organisation.region), recent_referrals=list(recent)
    )


def certifpro_dashboard(membership: Membership) -> CertifproDashboard:
    """The national view: active organisations by kind, habilitated organisations by certification. Two
    aggregate queries."""
    return CertifproDashboard(national=national_overview())


DASHBOARDS: dict[str, Callable[[Membership], Dashboard]] = {
    Role.COUNSELLOR: counsellor_dashboard,
    Role.EVALUATOR: evaluator_dashboard,
    Role.TRAINER: trainer_dashboard,
    Role.ORG_ADMIN: org_admin_dashboard,
    Role.JURY_MEMBER: jury_member_dashboard,
    Role.FT_ADVISOR: ft_advisor_dashboard,
    Role.CERTIFPRO_ADMIN: certifpro_dashboard,
}


def dashboard_for(membership: Membership) -> Dashboard:
    """The home page's data for the membership's role."""
    return DASHBOARDS[membership.role](membership)
