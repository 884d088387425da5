"""The paritary jury screens: submission of a dossier, sessions and their composition, the jurors' review of a
dossier, the president's decisions, Certif'Pro's revocation and export, and the generated documents.

Every read starts from a scoped queryset (`visible_to`): a session, a submitted dossier or a document of another
organisation answers 404 exactly like a missing one. The jury rules (parity, quorum, conflicts of interest, who
decides) live in juries/services.py; the views ask the same questions first only to refuse with 403 before
reading any input, and to offer each role the actions it may take.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from candidates.models import Dossier, DossierState
from candidates.services import DossierConflict, TransitionRefused
from clea_platform.actions import post_only
from clea_platform.downloads import file_response
from clea_platform.tenancy import membership_required
from evaluations.acquisitions import dossier_outcome
from evaluations.models import Attestation, Evaluation
from juries.forms import (
    DECISION_FILTERS,
    AttendanceForm,
    ConflictForm,
    DecisionForm,
    RevokeForm,
    SeatsForm,
    SessionDossiersFilter,
    SessionForm,
    SubmitForm,
)
from juries.models import (
    EDITABLE_STATES,
    PENDING,
    REVOKED,
    SESSION_ROLES,
    Certificate,
    ConflictDeclaration,
    Decision,
    DecisionKind,
    JuryMember,
    JurySession,
    SessionMinutes,
    SessionSeat,
    SessionState,
    Submission,
)
from juries.selectors import DecisionTally, decision_tally, related_count, session_rows
from juries.services import (
    JuryError,
    conflict_declare,
    decision_record,
    decision_revoke,
    dossier_submit_to_jury,
    jury_session_close,
    jury_session_convene,
    jury_session_create,
    jury_session_set_seats,
    jury_session_start_deliberation,
)
from juries.templatetags.juries_tags import decision_badge_html
from organisations.models import Membership, OrganisationKind, Role
from outbox.selectors import documents_regeneration
from outbox.services import REGENERATE_ROLES
from training.models import TrainingPlan

ADMIN_ROLES = (Role.ORG_ADMIN, Role.CERTIFPRO_ADMIN)
# Who reads a submitted dossier's review page: the jurors of its session, and Certif'Pro.
REVIEW_ROLES = (Role.JURY_MEMBER, Role.CERTIFPRO_ADMIN)
PAGE_SIZE = 25
# A session's dossiers a page at a time: a session holds up to about 200 (bench/README.md, issue 22).
SESSION_PAGE_SIZE = 50


class CountedPaginator(Paginator):
    """A paginator given the count its page already knows (a session's tally), rather than counting again."""

    def __init__(self, object_list: Any, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self.known_count = count

    @cached_property
    def count(self) -> int:
        return self.known_count


def session_back_query(request: HttpRequest) -> str:
    """The search, decision bucket and page of the session page the reader came from (carried in the query string
    of the review page and of its decision form), validated, as a query string. A page number past the last one
    is harmless: the session page shows its last page."""
    search, bucket = SessionDossiersFilter(request.GET).cleaned()
    page = request.GET.get("page", "")
    page = page if page.isascii() and page.isdigit() and len(page) <= 5 and int(page) > 1 else ""
    return urlencode({k: v for k, v in {"q": search, "decision": bucket, "page": page}.items() if v})


def url_pattern(name: str) -> Callable[[int], str]:
    """`reverse(name, args=[pk])` for many pks at the cost of one: a page of 200 rows spent more on resolving its
    links than on reading them."""
    marker = "2147483647"  # a pk no row reaches, as it appears in the path
    path = reverse(name, args=[int(marker)])
    head, _sep, tail = path.partition(marker)
    return lambda pk: f"{head}{pk}{tail}"


# -- Access helpers -------------------------------------------------------------------------------------------


def _visible_session(request: HttpRequest, pk: int) -> JurySession:
    sessions = JurySession.objects.visible_to(request.membership).select_related("organisation")
    return get_object_or_404(sessions, pk=pk)


def _visible_submission(request: HttpRequest, pk: int) -> Submission:
    submissions = Submission.objects.visible_to(request.membership).select_related(
        "session__organisation", "dossier__candidate", "dossier__referentiel", "decision__decided_by"
    )
    return get_object_or_404(submissions, pk=pk)


# -- 1. The counsellor submits a dossier ------------------------------------------------------------------------


@membership_required(Role.COUNSELLOR)
def submit(request: HttpRequest, dossier_pk: int) -> HttpResponse:
    membership: Membership = request.membership
    dossier = get_object_or_404(
        Dossier.objects.visible_to(membership).select_related("candidate", "organisation"), pk=dossier_pk
    )
    sessions = list(
        JurySession.objects.open_for_submission(region=dossier.organisation.region)
        .filter(certification=dossier.certification)
        .select_related("organisation")
        .annotate(submitted=related_count(Submission, "session"))
        .order_by("date", "pk")
    )
    for session in sessions:
        session.room = max(session.capacity - session.submitted, 0)
    form = SubmitForm(request.POST if request.method == "POST" else None, sessions=sessions)
    if request.method == "POST" and form.is_valid():
        session = form.cleaned_data["session"]
        try:
            dossier_submit_to_jury(dossier=dossier, session=session, by=membership, request=request)
        except (JuryError, TransitionRefused, DossierConflict) as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("Le dossier %(ref)s est soumis au jury du %(date)s.")
                % {"ref": dossier.reference, "date": f"{timezone.localtime(session.date):%d/%m/%Y}"},
            )
            return redirect("journey:dossier_detail", pk=dossier.pk)
    pending = (
        dossier.submissions.filter(decision__isnull=True).select_related("session").first()
        if dossier.state == DossierState.SUBMITTED_TO_JURY
        else None
    )
    return render(
        request,
        "juries/submit.html",
        {
            "dossier": dossier,
            "sessions": sessions,
            "form": form,
            "ready": dossier.state == DossierState.READY_FOR_JURY,
            "pending": pending,
        },
    )


# -- 2. Sessions ----------------------------------------------------------------------------------------------


@membership_required(*SESSION_ROLES)
def session_list(request: HttpRequest) -> HttpResponse:
    membership: Membership = request.membership
    sessions = (
        JurySession.objects.visible_to(membership)
        .select_related("organisation")
        .annotate(
            submission_count=related_count(Submission, "session"), seat_count=related_count(SessionSeat, "session")
        )
        .order_by("-date", "-pk")
    )
    if membership.role == Role.JURY_MEMBER:
        presides = SessionSeat.objects.filter(
            session=OuterRef("pk"), is_president=True, member__user_id=membership.user_id
        )
        sessions = sessions.annotate(presides=Exists(presides))
    page = Paginator(sessions, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "juries/session_list.html",
        {
            "page": page,
            "is_juror": membership.role == Role.JURY_MEMBER,
            "can_create": _may_create_sessions(membership),
            "can_export": membership.is_certifpro,
            "show_body": membership.is_certifpro,
        },
    )


def _may_create_sessions(membership: Membership) -> bool:
    return membership.is_certifpro or (
        membership.role == Role.ORG_ADMIN and membership.organisation.kind == OrganisationKind.JURY_BODY
    )


@membership_required(*ADMIN_ROLES)
def session_create(request: HttpRequest) -> HttpResponse:
    membership: Membership = request.membership
    if not _may_create_sessions(membership):
        raise PermissionDenied
    pick_body = membership.is_certifpro
    initial = {"certification": "clea", "capacity": 30}
    if not pick_body:
        initial["region"] = membership.organisation.region
    form = SessionForm(request.POST if request.method == "POST" else None, pick_body=pick_body, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            session = jury_session_create(
                by=membership,
                organisation_id=data["organisation"].pk if pick_body else membership.organisation_id,
                region=data["region"],
                date=data["date"],
                place="" if data["is_online"] else data["place"].strip(),
                is_online=data["is_online"],
                capacity=data["capacity"],
                certification=data["certification"],
                request=request,
            )
        except JuryError as exc:
            messages.error(request, str(exc))
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(
                request,
                _("La session du %(date)s est créée : choisissez maintenant les membres du jury.")
                % {"date": f"{timezone.localtime(session.date):%d/%m/%Y}"},
            )
            return redirect("juries:session_seats", pk=session.pk)
    return render(request, "juries/session_form.html", {"form": form})


@membership_required(*SESSION_ROLES)
def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A session: its composition, its dossiers a page at a time (searched by name or reference and filtered by
    decision, with the count of each decision on top so that none is out of sight), its conflicts and documents.
    The rows are plain values (`session_rows`): a session of 200 dossiers built 1,200 model instances."""
    membership: Membership = request.membership
    session = get_object_or_404(
        JurySession.objects.visible_to(membership)
        .select_related("organisation")
        .prefetch_related(Prefetch("seats", queryset=SessionSeat.objects.president_first())),
        pk=pk,
    )
    seats = list(session.seats.all())
    submissions = Submission.objects.of_session(session, membership)
    filters = SessionDossiersFilter(request.GET)
    search, bucket = filters.cleaned()
    tally = decision_tally(submissions)
    # The links' counts are those of what they show: within the search while there is one (one more grouped
    # query, only then). The pager takes its count from them rather than counting again.
    found = submissions.matching(search) if search else submissions
    shown = decision_tally(found) if search else tally
    page = CountedPaginator(
        session_rows(found.with_decision(bucket)),
        SESSION_PAGE_SIZE,
        count=shown.counts.get(bucket, 0) if bucket else shown.total,
    ).get_page(request.GET.get("page"))
    my_seat = next((s for s in seats if s.member.user_id == membership.user_id), None)
    if membership.role != Role.JURY_MEMBER:
        my_seat = None
    is_admin = session.managed_by(membership)
    presides = my_seat is not None and my_seat.is_president
    # The conflicts of the whole session, not only of the page: few, and the president's matter on every page.
    conflicts = list(
        ConflictDeclaration.objects.filter(submission__in=submissions.values("pk"))
        .select_related("seat__member__user", "submission__dossier")
        .order_by("submission__submitted_at", "submission_id", "pk")
    )
    my_conflicts = {c.submission_id for c in conflicts if my_seat is not None and c.seat_id == my_seat.pk}
    president = session.president
    president_conflicts = [c for c in conflicts if president is not None and c.seat_id == president.pk]
    # The dossiers another present member decides in the president's place (`JurySession.may_decide`).
    for_another = {c.submission_id for c in president_conflicts} if my_seat and not presides else set()
    state = session.state
    minutes = SessionMinutes.objects.filter(session=session).first() if state == SessionState.CLOSED else None
    certificates = (
        session_certificates(membership, submissions) if state == SessionState.CLOSED and tally.awarded else []
    )
    documents_regeneration(membership, [*filter(None, [minutes])])
    decides_now = presides and state == SessionState.DELIBERATING
    stands_in = state == SessionState.DELIBERATING and my_seat is not None and my_seat.present
    can_review = membership.role in REVIEW_ROLES
    can_revoke = membership.is_certifpro
    review, revoke = url_pattern("juries:review"), url_pattern("juries:decision_revoke")
    # The rows' words, translated once for the page rather than once per row.
    examine, examine_and_decide = _("Examiner"), _("Examiner et décider")
    domains = _("Domaines à acquérir : %(domains)s")
    query = urlencode({k: v for k, v in {"q": search, "decision": bucket}.items() if v})
    # The review page keeps the search, the bucket and the page for its way back (a decision leads to the pending
    # dossiers of the search instead: after_decision_url).
    kept = {"q": search, "decision": bucket, "page": page.number if page.number > 1 else ""}
    back_query = urlencode({k: v for k, v in kept.items() if v})
    back = f"?{back_query}" if back_query else ""
    rows = list(page.object_list)  # iterated as a list: a Page indexes its rows one call at a time
    for row in rows:
        row["review_url"] = review(row["pk"]) + back
        row["revoke_url"] = revoke(row["decision__pk"]) if row["decision__pk"] else ""
        row["name"] = f"{row['dossier__candidate__first_name']} {row['dossier__candidate__last_name']}"
        row["my_conflict"] = row["pk"] in my_conflicts
        row["decided"] = row["decision__pk"] is not None
        row["badge"] = decision_badge_html(row["decision__kind"] or "", revoked=row["decision__revoked_at"] is not None)
        row["decide"] = (
            not row["decided"] and not row["my_conflict"] and (decides_now or (stands_in and row["pk"] in for_another))
        )
        row["action"] = examine_and_decide if row["decide"] else examine
        missing = row["decision__missing_domains"]
        row["domains"] = domains % {"domains": ", ".join(missing)} if missing else ""
        row["revocable"] = can_revoke and row["decided"] and row["decision__revoked_at"] is None
    return render(
        request,
        "juries/session_detail.html",
        {
            "session": session,
            "events": session.events.select_related("actor"),
            "seats": seats,
            "page": page,
            "rows": rows,
            "filters": filters,
            "search": search,
            "bucket": bucket,
            "buckets": decision_buckets(shown, search=search, selected=bucket),
            "query": query,
            "dossier_count": tally.total,
            "room_left": max(session.capacity - tally.total, 0),
            "quorum_problems": session.pending_quorum_problems(),
            "conflicts": conflicts,
            "president": president,
            "president_conflicts": president_conflicts if state in EDITABLE_STATES else [],
            "my_seat": my_seat,
            "is_admin": is_admin,
            "presides": presides,
            "decides_now": decides_now,
            "can_review": can_review,
            "can_revoke": can_revoke,
            "can_edit_seats": is_admin and state in EDITABLE_STATES,
            "can_convene": is_admin and state == SessionState.PLANNED,
            "can_deliberate": (is_admin or presides) and session.awaits_deliberation,
            "can_close": (is_admin or presides) and state == SessionState.DELIBERATING,
            "undecided_count": tally.pending,
            "minutes": minutes,
            "certificates": certificates,
            "awaiting_certificates": tally.awarded - len(certificates),
        },
    )


def session_certificates(membership: Membership, submissions: QuerySet[Submission]) -> list[Any]:
    """The produced certificates of the awards in force among the submissions, in the session's order, each with
    its download `url`. Plain rows (a closed session of 200 dossiers lists up to 200), except for a reader who
    may have them produced again: Certif'Pro and an organisation's administrator get the documents themselves,
    with their `regeneration`."""
    certificates = (
        Certificate.objects.produced()
        .filter(
            decision__submission__in=submissions.values("pk"),
            decision__kind=DecisionKind.AWARDED,
            decision__revoked_at__isnull=True,
        )
        .order_by("decision__submission__submitted_at", "decision__submission_id")
    )
    download = url_pattern("juries:certificate_download")
    rows: list[Any] = list(certificates.values("pk", "number", "holder_name", "revoked_at"))
    label = _("Certificat %(number)s – %(name)s")  # translated once, not once per certificate
    for row in rows:
        row["url"], row["is_revoked"] = download(row["pk"]), row["revoked_at"] is not None
        row["label"] = label % {"number": row["number"], "name": row["holder_name"]}
    if membership.role not in REGENERATE_ROLES or not rows:
        return rows
    # Those the reader may have produced again (documents_regeneration decides), as documents.
    pks = [row["pk"] for row in rows]
    if not membership.is_certifpro:
        pks = list(Certificate.objects.visible_to(membership).filter(pk__in=pks).values_list("pk", flat=True))
    fields = ("pk", "number", "holder_name", "revoked_at")
    documents = {c.pk: c for c in Certificate.objects.filter(pk__in=pks).only(*fields)}
    documents_regeneration(membership, documents.values())
    for document in documents.values():
        document.url = download(document.pk)  # type: ignore[attr-defined]
        document.label = label % {"number": document.number, "name": document.holder_name}  # type: ignore[attr-defined]
    return [documents.get(row["pk"], row) for row in rows]


def decision_buckets(tally: DecisionTally, *, search: str, selected: str) -> list[dict[str, Any]]:
    """The links above a session's dossiers: every dossier, then each bucket that holds some (and the selected
    one, even empty, so that the page says which is shown), with its count within the search and the query
    string that shows it (the search kept)."""
    labels = {
        "": _("Tous"),
        PENDING: _("En attente de décision"),
        **dict(DecisionKind.choices),
        REVOKED: _("Décisions révoquées"),
    }
    counts = {"": tally.total, **tally.counts}
    buckets = []
    for key in DECISION_FILTERS:
        if key and key != selected and not counts.get(key):
            continue
        query = {k: v for k, v in {"q": search, "decision": key}.items() if v}
        buckets.append({"key": key, "label": labels[key], "count": counts.get(key, 0), "query": urlencode(query)})
    return buckets


@membership_required(*ADMIN_ROLES)
def session_seats(request: HttpRequest, pk: int) -> HttpResponse:
    membership: Membership = request.membership
    session = _visible_session(request, pk)
    if not session.managed_by(membership):
        raise PermissionDenied
    if session.state not in EDITABLE_STATES:
        messages.info(request, _("La composition ne change plus une fois la délibération ouverte."))
        return redirect("juries:session_detail", pk=session.pk)
    pool = list(
        JuryMember.objects.filter(organisation_id=session.organisation_id, is_active=True)
        .select_related("user")
        .order_by("college", "user__last_name", "user__first_name")
    )
    seats = list(session.seats.all())
    initial = {
        "members": [seat.member_id for seat in seats],
        "president": next((seat.member_id for seat in seats if seat.is_president), ""),
    }
    form = SeatsForm(request.POST if request.method == "POST" else None, pool=pool, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            jury_session_set_seats(
                session=session,
                by=membership,
                member_ids=data["members"],
                president_id=data["president"],
                request=request,
            )
        except JuryError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("La composition du jury est enregistrée."))
            return redirect("juries:session_detail", pk=session.pk)
    return render(request, "juries/session_seats.html", {"session": session, "form": form, "rows": form.rows()})


@post_only("juries:session_detail")
@membership_required(*ADMIN_ROLES)
def session_convene(request: HttpRequest, pk: int) -> HttpResponse:
    session = _visible_session(request, pk)
    try:
        session = jury_session_convene(session=session, by=request.membership, request=request)
    except JuryError as exc:
        messages.error(request, str(exc))
    else:
        count = session.seats.count()
        messages.success(
            request,
            ngettext(
                "La convocation est envoyée au membre du jury.",
                "Les convocations sont envoyées aux %(n)s membres du jury.",
                count,
            )
            % {"n": count},
        )
    return redirect("juries:session_detail", pk=session.pk)


@membership_required(*SESSION_ROLES)
def session_deliberate(request: HttpRequest, pk: int) -> HttpResponse:
    """The step "Ouvrir la délibération": the attendance of each member convened, then the opening. A refusal
    (before the session's day, no quorum among those present) is shown above the form, the choices kept."""
    membership: Membership = request.membership
    session = _visible_session(request, pk)
    if not (session.managed_by(membership) or session.presided_by(membership)):
        raise PermissionDenied
    if not session.awaits_deliberation:
        messages.info(request, _("La délibération ne s'ouvre que pour une session convoquée."))
        return redirect("juries:session_detail", pk=session.pk)
    seats = list(session.seats.president_first())
    form = AttendanceForm(request.POST if request.method == "POST" else None, seats=seats)
    refusal = None
    if request.method == "POST" and form.is_valid():
        try:
            jury_session_start_deliberation(session=session, by=membership, attendance=form.attendance, request=request)
        except JuryError as exc:
            refusal = str(exc)
        else:
            messages.success(request, _("La délibération est ouverte : la présidence enregistre les décisions."))
            return redirect("juries:session_detail", pk=session.pk)
    return render(
        request,
        "juries/session_deliberate.html",
        {"session": session, "form": form, "refusal": refusal, "too_early": not session.has_begun()},
    )


@post_only("juries:session_detail")
@membership_required(*SESSION_ROLES)
def session_close(request: HttpRequest, pk: int) -> HttpResponse:
    session = _visible_session(request, pk)
    try:
        jury_session_close(session=session, by=request.membership, request=request)
    except JuryError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("La session est close. Le procès-verbal et les certificats sont en cours de production."),
        )
    return redirect("juries:session_detail", pk=session.pk)


# -- 3 and 4. The jurors' review of a dossier and the president's decision --------------------------------------


def _review_context(
    request: HttpRequest,
    submission: Submission,
    *,
    conflict_form: ConflictForm | None = None,
    decision_form: DecisionForm | None = None,
) -> dict[str, Any]:
    """Only what a decision needs: identity, certification, the result grid, evaluations, training, attestations."""
    membership: Membership = request.membership
    dossier, session = submission.dossier, submission.session
    outcome = dossier_outcome(dossier)
    evaluations = (
        Evaluation.objects.visible_to(membership)
        .closed()
        .filter(dossier=dossier)
        .select_related("organisation")
        .order_by("started_on", "id")
    )
    plans = (
        TrainingPlan.objects.visible_to(membership)
        .filter(dossier=dossier)
        .with_progress()
        .select_related("organisation")
        .order_by("cycle")
    )
    attestations = Attestation.objects.visible_to(membership).filter(dossier=dossier).order_by("version")
    seat = SessionSeat.objects.of(session.pk, membership)
    my_conflict = (
        ConflictDeclaration.objects.filter(seat=seat, submission=submission).first() if seat is not None else None
    )
    decision = submission.recorded_decision
    can_decide = (
        session.state == SessionState.DELIBERATING and decision is None and session.may_decide(seat, submission)
    )
    domains = [(domain.code, f"{domain.code} – {domain.title}") for domain in outcome.domains]
    return {
        "submission": submission,
        "back_query": session_back_query(request),
        "dossier": dossier,
        "candidate": dossier.candidate,
        "session": session,
        "outcome": outcome,
        "evaluations": evaluations,
        "plans": plans,
        "attestations": attestations,
        "seat": seat,
        "my_conflict": my_conflict,
        "decision": decision,
        "can_decide": can_decide,
        "can_declare": seat is not None and my_conflict is None and session.state != SessionState.CLOSED,
        "can_revoke": membership.is_certifpro and decision is not None and not decision.is_revoked,
        "conflict_form": conflict_form or ConflictForm(),
        "decision_form": decision_form or (DecisionForm(domains=domains) if can_decide else None),
    }


@membership_required()
def review(request: HttpRequest, pk: int) -> HttpResponse:
    submission = _visible_submission(request, pk)
    # The evaluator organisation and the jury body's administrators see the submission elsewhere; this page is
    # the jurors' (and Certif'Pro's) reading of the dossier.
    if request.membership.role not in REVIEW_ROLES:
        raise PermissionDenied
    return render(request, "juries/review.html", _review_context(request, submission))


@post_only("juries:review")
@membership_required()
def conflict_declare_view(request: HttpRequest, pk: int) -> HttpResponse:
    submission = _visible_submission(request, pk)
    if SessionSeat.objects.of(submission.session_id, request.membership) is None:
        raise PermissionDenied
    form = ConflictForm(request.POST)
    if form.is_valid():
        try:
            conflict_declare(
                submission=submission, by=request.membership, statement=form.cleaned_data["statement"], request=request
            )
        except JuryError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request, _("Votre lien avec ce dossier est enregistré : vous ne participez pas à sa décision.")
            )
            return redirect("juries:review", pk=submission.pk)
    return render(request, "juries/review.html", _review_context(request, submission, conflict_form=form))


@post_only("juries:review")
@membership_required()
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    submission = _visible_submission(request, pk)
    # Who may decide is the service's rule (the president, or another member when the president is linked to
    # the dossier); outside the session's seats there is nothing to ask.
    if SessionSeat.objects.of(submission.session_id, request.membership) is None:
        raise PermissionDenied
    domains = [
        (code, f"{code} – {title}")
        for code, title in submission.dossier.referentiel.domains.order_by("position", "code").values_list(
            "code", "title"
        )
    ]
    form = DecisionForm(request.POST, domains=domains)
    if form.is_valid():
        data = form.cleaned_data
        try:
            decision = decision_record(
                submission=submission,
                by=request.membership,
                kind=data["kind"],
                reason=data["reason"],
                missing_domains=data["missing_domains"],
                request=request,
            )
        except (JuryError, TransitionRefused, DossierConflict) as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("Décision enregistrée pour %(name)s : %(kind)s.")
                % {"name": submission.dossier.candidate.full_name, "kind": decision.get_kind_display()},
            )
            return redirect(after_decision_url(request, submission))
    context = _review_context(request, submission, decision_form=form)
    return render(request, "juries/review.html", context)


def after_decision_url(request: HttpRequest, submission: Submission) -> str:
    """Where a decision leads: the session's dossiers still awaiting theirs, within the search the decider came
    with while some match it; the whole session once none is left. A paged session's first page may hold only
    decided dossiers: the pending bucket shows the next one first (issue 22's review)."""
    address = reverse("juries:session_detail", args=[submission.session_id])
    search, _bucket = SessionDossiersFilter(request.GET).cleaned()
    pending = Submission.objects.of_session(submission.session, request.membership).with_decision(PENDING)
    if search and pending.matching(search).exists():
        return f"{address}?{urlencode({'q': search, 'decision': PENDING})}"
    if pending.exists():
        return f"{address}?{urlencode({'decision': PENDING})}"
    return address


@membership_required(Role.JURY_MEMBER)
def my_conflicts(request: HttpRequest) -> HttpResponse:
    membership: Membership = request.membership
    conflicts = (
        ConflictDeclaration.objects.filter(seat__member__in=JuryMember.objects.visible_to(membership))
        .select_related("seat__session", "submission__dossier__candidate")
        .order_by("-declared_at", "-id")
    )
    page = Paginator(conflicts, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "juries/my_conflicts.html", {"page": page})


# -- 5. Certif'Pro: revocation and export -------------------------------------------------------------------------


@membership_required()
def decision_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership: Membership = request.membership
    decisions = Decision.objects.filter(submission__in=Submission.objects.visible_to(membership)).select_related(
        "submission__dossier__candidate", "submission__session", "decided_by"
    )
    decision = get_object_or_404(decisions, pk=pk)
    if not membership.is_certifpro:
        raise PermissionDenied
    if decision.is_revoked:
        messages.info(request, _("Cette décision est déjà révoquée."))
        return redirect("juries:review", pk=decision.submission_id)
    form = RevokeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            decision_revoke(decision=decision, by=membership, reason=form.cleaned_data["reason"], request=request)
        except (JuryError, TransitionRefused, DossierConflict) as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("La décision est révoquée : le dossier %(ref)s peut être présenté à nouveau au jury.")
                % {"ref": decision.submission.dossier.reference},
            )
            return redirect("juries:review", pk=decision.submission_id)
    # Only an issued certificate (its PDF stored) is public, hence announced as about to be marked revoked.
    certificate = Certificate.objects.produced().filter(decision=decision).first()
    return render(
        request,
        "juries/decision_revoke.html",
        {"decision": decision, "submission": decision.submission, "certificate": certificate, "form": form},
    )


# -- Documents ------------------------------------------------------------------------------------------------


@membership_required(*SESSION_ROLES)
def minutes_download(request: HttpRequest, pk: int) -> FileResponse:
    """The minutes of a closed session (`pk` is the session's), for whoever may see the session."""
    minutes = get_object_or_404(SessionMinutes.objects.visible_to(request.membership), session_id=pk)
    return file_response(minutes.file, minutes.filename)


@membership_required()
def certificate_download(request: HttpRequest, pk: int) -> FileResponse:
    certificate = get_object_or_404(Certificate.objects.downloadable_by(request.membership), pk=pk)
    return file_response(certificate.file, certificate.filename)
