"""The role home pages: one selector per role, each composing the panels of the apps it reads, and each role's
« À faire » (WORK_QUEUES, at the end of this module), the work waiting for the person.

A panel that reads one app comes from that app's selectors; one that reads across apps (the evaluations to start:
dossiers and their training plans) is written here, above them all. Every selector returns plain data, its
querysets already evaluated, so that the template only formats it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
    Window,
)
from django.db.models.functions import Cast, Coalesce, Concat
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from candidates.models import (
    WARNING_BEFORE_DEADLINE,
    WINDOW_STATES,
    CorrectionRequest,
    Dossier,
    DossierEvent,
    DossierState,
)
from candidates.selectors import DossierBoard, dossier_board
from candidates.services import information_idle_cutoff
from evaluations.models import Evaluation
from funding.models import CdcDeclaration, DeclarationKind, DeclarationStatus
from funding.selectors import certificates_to_report, certificates_to_withdraw
from intake.models import InterviewRequest, InterviewRequestState
from juries.models import Certificate, JurySession, SessionSeat, SessionState, Submission
from juries.selectors import conflict_count_for, deliberations_presided_by, related_count, upcoming_sessions_for
from organisations.models import (
    HABILITATION_RENEWAL_NOTICE,
    ApplicationKind,
    Habilitation,
    HabilitationApplication,
    Membership,
    Organisation,
    Role,
)
from organisations.selectors import active_member_count, active_site_count, evaluators_in_region, national_overview
from outbox.models import SideEffect, SideEffectState
from referrals.models import Referral, ReferralState
from scheduling.models import Assignment, AssignmentPurpose
from training.models import TrainingPlan, TrainingSession
from training.selectors import training_plans_in_progress

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

REFERRALS_SIZE = 5


@dataclass(frozen=True)
class CounsellorDashboard:
    board: DossierBoard


@dataclass(frozen=True)
class EvaluatorDashboard:
    pass


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
    """The dossiers per step (one query); the referrals to answer and the deadlines are in "À faire"."""
    return CounsellorDashboard(board=dossier_board(membership))


def evaluator_dashboard(membership: Membership) -> EvaluatorDashboard:
    """Nothing beyond "À faire" (evaluations to start, own drafts to close): the dossier list is one click away."""
    return EvaluatorDashboard()


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


# -- "À faire": the work waiting for this person -------------------------------------------------------------------
#
# Each role's queue is a list of sources; each source is one kind of work, read by one query (its oldest rows with
# the count of all), so that a queue costs the same whatever the number of items. The sources are merged oldest
# first.

TODO_SIZE = 8
TODO_PAGE_SIZE = 25
# Referrals answered (declined or expired) stay in the advisor's queue this long: the person is to be sent elsewhere.
REFERRAL_FOLLOW_UP = datetime.timedelta(days=30)


@dataclass(frozen=True)
class QueueItem:
    """One piece of work: what to do, on what, where it is done, and since when it waits (a day to come for a
    session or a jury: the template says "le …" rather than "depuis …")."""

    kind: str
    action: str
    subject: str
    url: str
    since: datetime.date
    detail: str = ""


@dataclass(frozen=True)
class WorkQueue:
    count: int
    # The oldest first, at most the limit asked for.
    items: list[QueueItem]


Source = Callable[[Membership, int], tuple[int, list[QueueItem]]]


def _day(moment: datetime.date | datetime.datetime | None) -> datetime.date:
    if moment is None:
        return timezone.localdate()
    if isinstance(moment, datetime.datetime):
        return timezone.localdate(moment)
    return moment


def _read(rows: QuerySet[Any], limit: int, item: Callable[[Any], QueueItem]) -> tuple[int, list[QueueItem]]:
    """A source's one query: its oldest `limit` rows (`rows` is already ordered oldest first), each carrying the
    count of all (a window over the whole selection, computed before the LIMIT). No row, no work: a count of 0.
    The rows must not repeat (no join that multiplies them), or the count would too."""
    found = list(rows.annotate(queue_total=Window(Count("pk")))[: max(limit, 1)])
    return (found[0].queue_total if found else 0), [item(row) for row in found[:limit]]


def _entered_state_at() -> Coalesce:
    """When the dossier entered its current step: its latest event into that step (a dossier predating the events,
    its last change)."""
    entered = (
        DossierEvent.objects.filter(dossier=OuterRef("pk"), to_state=OuterRef("state")).order_by("-at").values("at")
    )
    return Coalesce(Subquery(entered[:1]), F("updated_at"))


def _dossier_item(kind: str, action: StrOrPromise, url: str) -> Callable[[Dossier], QueueItem]:
    return lambda dossier: QueueItem(
        kind=kind,
        action=str(action),
        subject=str(dossier.candidate),
        detail=dossier.reference or "",
        url=url.format(pk=dossier.pk),
        since=_day(dossier.queue_since),  # type: ignore[attr-defined]  # annotated by each source's queryset
    )


def _plan_item(kind: str, action: StrOrPromise, url: str, since: str) -> Callable[[TrainingPlan], QueueItem]:
    """A trainer's plan as a queue item, waiting since its date field `since` (its start or its planned end)."""
    return lambda plan: QueueItem(
        kind=kind,
        action=str(action),
        subject=str(plan.dossier.candidate),
        detail=plan.dossier.reference or "",
        url=url.format(pk=plan.pk),
        since=getattr(plan, since),
    )


def _url(name: str, kwarg: str = "pk") -> str:
    """The URL `name` with "{pk}" in place of its one argument (`kwarg`), to fill in per row without a reverse()
    per row."""
    return reverse(name, kwargs={kwarg: 1}).replace("/1/", "/{pk}/")


# Evaluator ---------------------------------------------------------------------------------------------------------


def evaluations_to_start(membership: Membership, limit: int) -> tuple[int, list[QueueItem]]:
    """Opened dossiers (a prior evaluation to hold) and dossiers in training whose current plan is completed (a
    final one), in the evaluator's organisation, the longest waiting first; not those whose evaluation the
    counsellor has assigned to a colleague (they are in the colleague's queue)."""
    elsewhere = Assignment.objects.current().filter(dossier=OuterRef("pk")).exclude(assignee=membership)
    current_plan_completed_at = Subquery(
        TrainingPlan.objects.filter(dossier=OuterRef("pk")).order_by("-cycle").values("completed_at")[:1]
    )
    rows = (
        Dossier.objects.visible_to(membership)
        .annotate(current_plan_completed_at=current_plan_completed_at)
        .filter(
            Q(state=DossierState.OPENED) | Q(state=DossierState.IN_TRAINING, current_plan_completed_at__isnull=False)
        )
        .exclude(Q(state=DossierState.OPENED) & Exists(elsewhere.filter(purpose=AssignmentPurpose.PRIOR_EVALUATION)))
        .exclude(
            Q(state=DossierState.IN_TRAINING) & Exists(elsewhere.filter(purpose=AssignmentPurpose.FINAL_EVALUATION))
        )
        .annotate(
            queue_since=Case(
                When(state=DossierState.IN_TRAINING, then=F("current_plan_completed_at")),
                default=_entered_state_at(),
            )
        )
        .select_related("candidate")
        .order_by("queue_since", "id")
    )
    url = _url("evaluations:evaluation_start", "dossier_pk")

    def item(dossier: Dossier) -> QueueItem:
        prior = dossier.state == DossierState.OPENED
        action = _("Commencer l'évaluation préalable") if prior else _("Commencer l'évaluation finale")
        return _dossier_item("evaluation_to_start", action, url)(dossier)

    return _read(rows, limit, item)


def evaluation_drafts_to_close(membership: Membership, limit: int) -> tuple[int, list[QueueItem]]:
    """The evaluations this evaluator started and has not closed, the oldest first."""
    rows = (
        Evaluation.objects.visible_to(membership)
        .drafts()
        .filter(evaluator_id=membership.user_id)
        .select_related("dossier__candidate")
        .order_by("started_on", "id")
    )
    url = _url("evaluations:grid")
    return _read(
        rows,
        limit,
        lambda evaluation: QueueItem(
            kind="evaluation_to_close",
            action=_("Compléter et clôturer l'%(kind)s") % {"kind": evaluation.get_kind_display().lower()},
            subject=str(evaluation.dossier.candidate),
            detail=evaluation.dossier.reference or "",
            url=url.format(pk=evaluation.pk),
            since=evaluation.started_on,
        ),
    )


# Trainer -----------------------------------------------------------------------------------------------------------


def _week_end(today: datetime.date) -> datetime.date:
    return today + datetime.timedelta(days=6 - today.weekday())


def training_sessions_of_the_week(membership: Membership, limit: int) -> tuple[int, list[QueueItem]]:
    """The sessions of the trainer's plans under way still to hold or to mark done: this week's, and earlier ones
    never marked done."""
    today = timezone.localdate()
    plans = TrainingPlan.objects.visible_to(membership).filter(completed_at__isnull=True)
    rows = (
        TrainingSession.objects.filter(plan__in=plans, done=False, date__lte=_week_end(today))
        .select_related("plan__dossier__candidate")
        .order_by("date", "id")
    )
    url = _url("training:plan_detail")

    def item(session: TrainingSession) -> QueueItem:
        past = session.date < today
        return QueueItem(
            kind="training_session",
            action=_("Indiquer si la séance a eu lieu") if past else _("Tenir la séance"),
            subject=str(session.plan.dossier.candidate),
            detail=session.topic,
            url=url.format(pk=session.plan_id),
            since=session.date,
        )

    return _read(rows, limit, item)


def training_plans_to_complete(membership: Membership, limit: int) -> tuple[int, list[QueueItem]]:
    """The trainer's plans whose planned end has come and that are not declared completed yet."""
    rows = (
        TrainingPlan.objects.visible_to(membership)
        .filter(completed_at__isnull=True, ends_on__lte=timezone.localdate())
        .select_related("dossier__candidate")
        .order_by("ends_on", "id")
    )
    item = _plan_item(
        "plan_to_complete", _("Déclarer la formation terminée"), _url("training:plan_complete"), "ends_on"
    )
    return _read(rows, limit, item)


def training_plans_without_sessions(membership: Membership, limit: int) -> tuple[int, list[QueueItem]]:
    """The trainer's plans under way, before their planned end, with no session ahead: the calendar to fill."""
    today = timezone.localdate()
    ahead = TrainingSession.objects.filter(plan=OuterRef("pk"), done=False, date__gte=today)
    rows = (
        TrainingPlan.objects.visible_to(membership)
        .filter(completed_at__isnull=True, ends_on__gt=today)
        .exclude(Exists(ahead))
        .select_related("dossier__candidate")
        .order_by("starts_on", "id")
    )
    item = _plan_item(
        "plan_to_schedule", _("Planifier les séances du parcours"), _url("training:plan_detail"), "starts_on"
    )
    return _read(rows, limit, item)


# Counsellor --------------------------------------------------------------------------------------------------------


def dossiers_opened_without_evaluator(membership: Membership) -> QuerySet[Dossier]:
    """Opened dossiers whose prior evaluation is assigned to nobody (scheduling's current assignment)."""
    assigned = Assignment.objects.current().filter(dossier=OuterRef("pk"), purpose=AssignmentPurpose.PRIOR_EVALUATION)
    return Dossier.objects.visible_to(membership).filter(state=DossierState.OPENED).exclude(Exists(assigned))


def dossiers_without_evaluator(membership: Membership, limit: int) -> tuple[int, list[QueueItem]]:
    rows = (
        dossiers_opened_without_evaluator(membership)
        .annotate(queue_since=_entered_state_at())
        .select_related("candidate")
        .order_by("queue_since", "id")
    )
    item = _dossier_item(
        "dossier_without_evaluator",
        _("Confier l'évaluation préalable"),
        _url("scheduling:assignment_create", "dossier_pk"),
    )
    return _read(rows, limit, item)


def partial_validations_without_plan(membership: Membership, limit: int) -> tuple[int, list[QueueItem]]:
    """Partially validated dossiers: no training under way (after a prior evaluation or a jury's deferral)."""
    rows = (
        Dossier.objects.visible_to(membership)
        .filter(state=DossierState.PARTIALLY_VALIDATED)
        .annotate(queue_since=_entered_state_at())
        .select_related("candidate")
        .order_by("queue_since", "id")
    )
    item = _dossier_item(
        "plan_to_define", _("Définir le parcours de formation"), _url("training:plan_create", "dossier_pk")
    )
    return _read(rows, limit, item)


def information_reminders_due(membership: Membership, limit: int) -> tuple[int, list[QueueItem]]:
    """Information dossiers whose person took time to think, on or after the day the counsellor chose to call them
    back (a note written since clears it: candidates.services.dossier_note_add)."""
    rows = (
        Dossier.objects.visible_to(membership)
        .filter(state=DossierState.INFORMATION, reflection_reminder_on__lte=timezone.localdate())
        .select_related("candidate")
        .order_by("reflection_reminder_on", "id")
    )
    url = _url("journey:dossier_detail")
    return _read(
        rows,
        limit,
        lambda dossier: QueueItem(
            kind="information_reminder",
            action=_("Rappeler la personne : elle prenait le temps de réfléchir"),
            subject=str(dossier.candidate),
            detail=dossier.reference or "",
            url=url.format(pk=dossier.pk),
            since=dossier.reflection_reminder_on,
        ),
    )


def information_closing_soon(membership: Membership, limit: int) -> tuple[int, list[QueueItem]]:
    """Information dossiers that the daily job will close « sans suite » within INFORMATION_IDLE_WARNING_DAYS,
    waiting since they entered that period (the nearest closing first); those with a reminder due are listed
    there already."""
    warning = datetime.timedelta(days=settings.INFORMATION_IDLE_WARNING_DAYS)
    idle = datetime.timedelta(days=settings.INFORMATION_IDLE_DAYS)
    rows = (
        Dossier.objects.visible_to(membership)
        .idle_information(before=information_idle_cutoff() + warning)
        .exclude(reflection_reminder_on__lte=timezone.localdate())
        .select_related("candidate")
        .order_by("last_activity", "id")
    )
    url = _url("journey:dossier_detail")

    def item(dossier: Dossier) -> QueueItem:
        closes = dossier.last_activity + idle  # type: ignore[attr-defined]  # annotated by idle_information
        return QueueItem(
            kind="information_closing",
            action=_("Sans nouvelles : le dossier sera clos « sans suite » à partir du %(date)s")
            % {"date": f"{timezone.localdate(closes):%d/%m/%Y}"},
            subject=str(dossier.candidate),
            detail=dossier.reference or "",
            url=url.format(pk=dossier.pk),
            since=timezone.localdate(closes - warning),
        )

    return _read(rows, limit, item)


def dossiers_to_submit(membership: Membership, limit: int) -> tuple[int, list[QueueItem]]:
    """Dossiers ready for the jury and not submitted to a session yet."""
    rows = (
        Dossier.objects.visible_to(membership)
        .filter(state=DossierState.READY_FOR_JURY)
        .annotate(queue_since=_entered_state_at())
        .select_related("candidate")
        .order_by("queue_since", "id")
    )
    item = _dossier_item("dossier_to_submit", _("Soumettre au jury"), _url("juries:submit", "dossier_pk"))
    return _read(rows, limit, item)


def deadlines_within_warning(membership: Membership, limit: int) -> tuple[int, list[QueueItem]]:
    """Dossiers whose 5-year deadline falls within 3 months, waiting since they entered that period (the nearest
    deadline first)."""
    today = timezone.localdate()
    rows = (
        Dossier.objects.visible_to(membership)
        .filter(state__in=WINDOW_STATES, deadline__gte=today, deadline__lte=today + WARNING_BEFORE_DEADLINE)
        .select_related("candidate")
        .order_by("deadline", "id")
    )
    url = _url("journey:dossier_detail")
    return _read(
        rows,
        limit,
        lambda dossier: QueueItem(
            kind="deadline",
            action=_("Échéance des 5 ans le %(date)s") % {"date": f"{dossier.deadline:%d/%m/%Y}"},
            subject=str(dossier.candidate),
            detail=dossier.reference or "",
            url=url.format(pk=dossier.pk),
            since=dossier.deadline - WARNING_BEFORE_DEADLINE,
        ),
    )


def referrals_to_answer(membership: Membership, limit: int) -> tuple[int, list[QueueItem]]:
    """The France Travail referrals the organisation received and has not answered yet (a counsellor accepts them,
    the administrator may decline them)."""
    rows = (
        Referral.objects.visible_to(membership)
        .filter(organisation_id=membership.organisation_id)
        .awaiting_answer()
        .select_related("site", "from_organisation")
        .order_by("sent_at", "id")
    )
    url = _url("referrals:detail")
    return _read(
        rows,
        limit,
        lambda referral: QueueItem(
            kind="referral_to_answer",
            action=_("Répondre à l'orientation France Travail"),
            subject=f"{referral.last_name.upper()} {referral.first_name}",
            detail=_("%(agency)s, pour %(site)s, expire le %(date)s")
            % {
                "agency": referral.from_organisation.name,
                "site": referral.site.name,
                "date": f"{timezone.localdate(referral.expires_at):%d/%m/%Y}",
            },
            url=url.format(pk=referral.pk),
            since=_day(referral.sent_at),
        ),
    )


def correction_requests_to_answer(membership: Membership, limit: int) -> tuple[int, list[QueueItem]]:
    """« Demandes de rectification »: what candidates asked to correct in their data, from their space, not yet
    answered (the organisation's counsellors and its administrator answer them)."""
    rows = (
        CorrectionRequest.objects.visible_to(membership)
        .open()
        .select_related("candidate", "dossier")
        .order_by("created_at", "id")
    )
    url = _url("candidates:correction_request")
    return _read(
        rows,
        limit,
        lambda correction: QueueItem(
            kind="correction_request",
            action=_("Répondre à la demande de rectification"),
            subject=str(correction.candidate),
            detail=correction.dossier.reference if correction.dossier is not None else "",
            url=url.format(pk=correction.pk),
            since=_day(correction.created_at),
        ),
    )


def _interview_request_action(state: str) -> str:
    if state == InterviewRequestState.OTHER_TIME:
        return _("Proposer un autre horaire : la personne l'a demandé")
    if state == InterviewRequestState.ACCEPTED:
        return _("Recevoir la personne, puis ouvrir son dossier")
    return _("Proposer un rendez-vous à la personne venue par l'annuaire")


def interview_requests_to_handle(membership: Membership, limit: int) -> tuple[int, list[QueueItem]]:
    """« Demandes d'entretien »: people who asked the organisation for an information interview from the directory
    (their address confirmed) and wait for a proposal, for another time, or for their dossier after the meeting."""
    rows = (
        InterviewRequest.objects.visible_to(membership)
        .to_handle()
        .select_related("site")
        .annotate(queue_since=Coalesce("answered_at", "waiting_since"))
        .order_by("queue_since", "id")
    )
    url = _url("intake:detail")
    return _read(
        rows,
        limit,
        lambda request: QueueItem(
            kind="interview_request",
            action=_interview_request_action(request.state),
            subject=str(request),
            detail=_("%(certification)s, site %(site)s")
            % {"certification": request.get_certification_display(), "site": request.site.name},
            url=url.format(pk=request.pk),
            since=_day(request.queue_since),
        ),
    )


# Organisation administrator ----------------------------------------------------------------------------------------


def jury_sessions_to_convene(membership: Membership, limit: int) -> tuple[int, list[QueueItem]]:
    """A jury body's planned sessions still to convene (its administrators compose and convene them)."""
    rows = JurySession.objects.visible_to(membership).filter(state=SessionState.PLANNED, date__gte=timezone.now())
    url = _url("juries:session_detail")
    return _read(
        rows.order_by("date", "pk"),
        limit,
        lambda session: QueueItem(
            kind="session_to_convene",
            action=_("Composer et convoquer la session de jury"),
            subject=_("Jury du %(date)s") % {"date": f"{timezone.localtime(session.date):%d/%m/%Y %H:%M}"},
            url=url.format(pk=session.pk),
            since=_day(session.created_at),
        ),
    )


# Jurors ------------------------------------------------------------------------------------------------------------


def jury_sessions_to_review(membership: Membership, limit: int) -> tuple[int, list[QueueItem]]:
    """The convened sessions the juror sits on, not yet deliberating: their dossiers to read, the soonest first. On
    the session's day, its president's item is the opening of the deliberation (the attendance, then the quorum)."""
    presides = SessionSeat.objects.filter(session=OuterRef("pk"), is_president=True, member__user_id=membership.user_id)
    rows = (
        # A juror sees the sessions they sit on, no other.
        JurySession.objects.visible_to(membership)
        .filter(state=SessionState.CONVENED)
        .annotate(dossier_count=related_count(Submission, "session"), presides=Exists(presides))
        .order_by("date", "pk")
    )
    review_url, deliberate_url = _url("juries:session_detail"), _url("juries:session_deliberate")

    def item(session: Any) -> QueueItem:  # a JurySession with the annotations above
        opens = session.presides and session.has_begun()
        return QueueItem(
            kind="deliberation_to_open" if opens else "session_to_review",
            action=_("Ouvrir la délibération") if opens else _("Étudier les dossiers de la session"),
            subject=_("Jury du %(date)s") % {"date": f"{timezone.localtime(session.date):%d/%m/%Y %H:%M}"},
            detail=ngettext("%(n)s dossier", "%(n)s dossiers", session.dossier_count) % {"n": session.dossier_count},
            url=(deliberate_url if opens else review_url).format(pk=session.pk),
            since=_day(session.date),
        )

    return _read(rows, limit, item)


def jury_decisions_to_take(membership: Membership, limit: int) -> tuple[int, list[QueueItem]]:
    """The dossiers without a decision in the deliberating sessions the juror presides."""
    presided = JurySession.objects.filter(
        state=SessionState.DELIBERATING, seats__is_president=True, seats__member__user_id=membership.user_id
    )
    rows = (
        Submission.objects.visible_to(membership)
        .filter(session__in=presided, decision__isnull=True)
        .select_related("dossier__candidate", "session")
        .order_by("session__date", "submitted_at", "id")
    )
    url = _url("juries:review")
    return _read(
        rows,
        limit,
        lambda submission: QueueItem(
            kind="decision_to_take",
            action=_("Enregistrer la décision du jury"),
            subject=str(submission.dossier.candidate),
            detail=_("Jury du %(date)s") % {"date": f"{timezone.localtime(submission.session.date):%d/%m/%Y}"},
            url=url.format(pk=submission.pk),
            since=_day(submission.session.date),
        ),
    )


def jury_sessions_to_close(membership: Membership, limit: int) -> tuple[int, list[QueueItem]]:
    """The deliberating sessions the juror presides whose every dossier has its decision: closing them produces the
    minutes and the certificates, so that until then the counsellors wait for nothing they can see."""
    presides = SessionSeat.objects.filter(session=OuterRef("pk"), is_president=True, member__user_id=membership.user_id)
    undecided = Submission.objects.filter(session=OuterRef("pk"), decision__isnull=True)
    rows = (
        # Exists, not a join on the seats: the count over the window must not repeat a session.
        JurySession.objects.visible_to(membership)
        .filter(Exists(presides), state=SessionState.DELIBERATING)
        .exclude(Exists(undecided))
        .annotate(dossier_count=related_count(Submission, "session"))
        .order_by("date", "pk")
    )
    url = _url("juries:session_detail")
    return _read(
        rows,
        limit,
        lambda session: QueueItem(
            kind="session_to_close",
            action=_("Clore la session de jury"),
            subject=_("Jury du %(date)s") % {"date": f"{timezone.localtime(session.date):%d/%m/%Y %H:%M}"},
            detail=ngettext("%(n)s dossier décidé", "%(n)s dossiers décidés", session.dossier_count)
            % {"n": session.dossier_count},
            url=url.format(pk=session.pk),
            since=_day(session.date),
        ),
    )


# France Travail advisor --------------------------------------------------------------------------------------------


def referrals_to_follow(membership: Membership, limit: int) -> tuple[int, list[QueueItem]]:
    """The advisor's own referrals still awaiting an answer, and those declined or expired lately: the person is to
    be sent elsewhere."""
    recently = timezone.now() - REFERRAL_FOLLOW_UP
    rows = (
        Referral.objects.visible_to(membership)
        .filter(advisor_id=membership.user_id)
        .filter(
            Q(state=ReferralState.SENT)
            | Q(state__in=[ReferralState.DECLINED, ReferralState.EXPIRED], answered_at__gte=recently)
        )
        .annotate(queue_since=Coalesce("answered_at", "sent_at"))
        .select_related("organisation")
        .order_by("queue_since", "id")
    )
    url = _url("referrals:detail")

    def item(referral: Referral) -> QueueItem:
        waiting = referral.state == ReferralState.SENT
        return QueueItem(
            kind="referral_waiting" if waiting else "referral_to_redirect",
            action=str(_("Attendre la réponse de l'organisme") if waiting else _("Orienter la personne ailleurs")),
            subject=f"{referral.last_name.upper()} {referral.first_name}",
            detail=f"{referral.organisation.name} – {referral.get_state_display()}",
            url=url.format(pk=referral.pk),
            since=_day(referral.queue_since),  # type: ignore[attr-defined]  # annotated above
        )

    return _read(rows, limit, item)


# Certif'Pro --------------------------------------------------------------------------------------------------------


def _aggregate_item(
    kind: str, count: int, oldest: Any, action: str, url: str, subject: str = ""
) -> tuple[int, list[QueueItem]]:
    """National volumes come as one item each (how many, since the oldest), not a line per row."""
    if not count:
        return 0, []
    return count, [QueueItem(kind=kind, action=action, subject=subject, url=url, since=_day(oldest))]


def certificates_to_declare(membership: Membership, limit: int) -> tuple[int, list[QueueItem]]:
    """The certificates the next flux to the Caisse des Dépôts is waiting for (within 3 months of their award): those
    not declared yet, whose holder may still need completing, those the Caisse rejected, to correct, and the revoked
    ones to declare withdrawn. One query."""
    to_report = Q(pk__in=certificates_to_report().order_by().values("pk"))
    rejected = Q(
        pk__in=CdcDeclaration.objects.filter(kind=DeclarationKind.AWARD, status=DeclarationStatus.REJECTED).values(
            "certificate_id"
        )
    )
    found = (
        Certificate.objects.filter(to_report | Q(pk__in=certificates_to_withdraw().order_by().values("pk")))
        .order_by()
        .aggregate(
            n=Count("pk"),
            oldest=Min("awarded_on", filter=to_report),
            rejected=Count("pk", filter=to_report & rejected),
        )
    )
    n = found["n"]
    action = ngettext(
        "Déclarer %(n)s certificat à la Caisse des Dépôts",
        "Déclarer %(n)s certificats à la Caisse des Dépôts",
        n,
    ) % {"n": n}
    if found["rejected"]:
        action += ngettext(
            " (dont %(r)s rejeté, à corriger)",
            " (dont %(r)s rejetés, à corriger)",
            found["rejected"],
        ) % {"r": found["rejected"]}
    return _aggregate_item("certificates_to_declare", n, found["oldest"], action, reverse("funding:cdc_list"))


def side_effects_failed(membership: Membership, limit: int) -> tuple[int, list[QueueItem]]:
    """Documents and e-mails that failed for good: an operator retries them."""
    found = (
        SideEffect.objects.visible_to(membership)
        .filter(state=SideEffectState.FAILED)
        .order_by()
        .aggregate(n=Count("pk"), oldest=Min("created_at"))
    )
    n = found["n"]
    return _aggregate_item(
        "side_effects_failed",
        n,
        found["oldest"],
        ngettext("Relancer %(n)s document ou courriel en échec", "Relancer %(n)s documents ou courriels en échec", n)
        % {"n": n},
        f"{reverse('outbox:side_effect_list')}?state={SideEffectState.FAILED}",
    )


def habilitations_to_renew(membership: Membership, limit: int) -> tuple[int, list[QueueItem]]:
    """Habilitations in force that end within 3 months and are not renewed yet: renew them or let them lapse."""
    found = (
        Habilitation.objects.visible_to(membership)
        .expiring()
        .order_by()
        .aggregate(n=Count("pk"), oldest=Min("valid_until"))
    )
    n = found["n"]
    return _aggregate_item(
        "habilitations_to_renew",
        n,
        found["oldest"] - HABILITATION_RENEWAL_NOTICE if found["oldest"] else None,
        ngettext(
            "Renouveler %(n)s habilitation qui prend fin dans les 3 mois",
            "Renouveler %(n)s habilitations qui prennent fin dans les 3 mois",
            n,
        )
        % {"n": n},
        f"{reverse('organisations:habilitation_list')}?expiring=on",
    )


def habilitation_applications_to_instruct(membership: Membership, limit: int) -> tuple[int, list[QueueItem]]:
    """Applications for a habilitation awaiting Certif'Pro's decision."""
    found = (
        HabilitationApplication.objects.visible_to(membership)
        .submitted()
        .order_by()
        .aggregate(n=Count("pk"), oldest=Min("submitted_at"))
    )
    n = found["n"]
    return _aggregate_item(
        "habilitation_applications",
        n,
        found["oldest"],
        ngettext("Instruire %(n)s demande d'habilitation", "Instruire %(n)s demandes d'habilitation", n) % {"n": n},
        f"{reverse('organisations:application_list')}?state=submitted",
    )


def own_habilitations_expiring(membership: Membership, limit: int) -> tuple[int, list[QueueItem]]:
    """The organisation's habilitations ending within 3 months without a renewal nor a renewal application awaiting
    Certif'Pro: apply for it in time."""
    # The application's JSON list of codes, matched as text (SQLite has no JSON containment; quoted, one code
    # never matches another): the same test as the applications' certification filter.
    awaiting = (
        HabilitationApplication.objects.submitted()
        .filter(organisation_id=OuterRef("organisation_id"), kind=ApplicationKind.RENEWAL)
        .annotate(certifications_text=Cast("certifications", TextField()))
        .filter(certifications_text__contains=Concat(Value('"'), OuterRef("certification"), Value('"')))
    )
    rows = (
        Habilitation.objects.visible_to(membership).expiring().exclude(Exists(awaiting)).order_by("valid_until", "pk")
    )
    url = _url("organisations:habilitation_detail")

    def item(habilitation: Habilitation) -> QueueItem:
        return QueueItem(
            kind="habilitation_expiring",
            action=_("Demander le renouvellement de l'habilitation"),
            subject=str(habilitation.get_certification_display()),
            detail=_("prend fin le %(date)s") % {"date": f"{habilitation.valid_until:%d/%m/%Y}"},
            url=url.format(pk=habilitation.pk),
            since=habilitation.valid_until - HABILITATION_RENEWAL_NOTICE,
        )

    return _read(rows, limit, item)


WORK_QUEUES: dict[str, list[Source]] = {
    Role.COUNSELLOR: [
        referrals_to_answer,
        dossiers_without_evaluator,
        partial_validations_without_plan,
        dossiers_to_submit,
        deadlines_within_warning,
        correction_requests_to_answer,
        information_reminders_due,
        information_closing_soon,
        interview_requests_to_handle,
    ],
    Role.EVALUATOR: [evaluations_to_start, evaluation_drafts_to_close],
    Role.TRAINER: [training_sessions_of_the_week, training_plans_to_complete, training_plans_without_sessions],
    Role.ORG_ADMIN: [
        referrals_to_answer,
        jury_sessions_to_convene,
        correction_requests_to_answer,
        interview_requests_to_handle,
        own_habilitations_expiring,
    ],
    Role.JURY_MEMBER: [jury_decisions_to_take, jury_sessions_to_close, jury_sessions_to_review],
    Role.FT_ADVISOR: [referrals_to_follow],
    Role.CERTIFPRO_ADMIN: [
        certificates_to_declare,
        side_effects_failed,
        habilitation_applications_to_instruct,
        habilitations_to_renew,
    ],
}


def work_queue(membership: Membership, *, limit: int = TODO_SIZE) -> WorkQueue:
    """The work waiting for this membership, oldest first: its role's sources merged, `limit` items at most (the
    oldest `limit` of all are among the oldest `limit` of each). One query per source, whatever the items."""
    count, items = 0, []
    for source in WORK_QUEUES[membership.role]:
        n, rows = source(membership, limit)
        count += n
        items.extend(rows)
    items.sort(key=lambda item: item.since)  # stable: a source's own order breaks the ties
    return WorkQueue(count=count, items=items[:limit])


class WorkQueuePages(Sequence[QueueItem]):
    """The whole queue for a Paginator: its length is the count, a page reads the oldest items up to its end.
    `upto` (the end of the page asked for) lets one reading serve both the count and the page."""

    def __init__(self, membership: Membership, *, upto: int) -> None:
        self.membership = membership
        self.queue = work_queue(membership, limit=upto)
        self.upto = upto

    def __len__(self) -> int:
        return self.queue.count

    @overload
    def __getitem__(self, index: int) -> QueueItem: ...
    @overload
    def __getitem__(self, index: slice) -> list[QueueItem]: ...
    def __getitem__(self, index: int | slice) -> QueueItem | list[QueueItem]:
        end = (index + 1) if isinstance(index, int) else (index.stop or len(self))
        if end > self.upto:
            self.queue, self.upto = work_queue(self.membership, limit=end), end
        return self.queue.items[index]
