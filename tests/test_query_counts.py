"""Every list and detail page, and every API list, runs a fixed number of queries whatever the number of rows.

One table (CASES): each case builds a page with a few rows (2), asserts its exact query count, adds rows of the
kinds the page lists or shows (5 more, or a bigger object of the same kind), and asserts the same exact count,
with the new rows on the page. The pages already held to a count in their app's tests are named in the table's
comments and not repeated. Then the pages of one object (their count pinned), and the administration's lists.

The counts are the same on SQLite and PostgreSQL: a GET opens no transaction, so neither counts a savepoint.
"""

from __future__ import annotations

import datetime
import io
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.http import HttpResponse
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from candidates.models import Candidate, Dossier
from clea_platform.certifications import Certification
from evaluations.services import evaluation_start
from funding.cdc import report_render
from funding.models import FeeEntry, quarter_of
from funding.references import funding_references_load
from funding.selectors import certificates_to_report
from funding.services import (
    PaymentInput,
    cdc_flux_generate,
    cdc_report_import,
    funding_line_transition,
    funding_line_update,
    funding_proof_add,
    payment_record,
    statement_generate,
)
from indicators.models import RegionalFunder
from juries.models import Certificate, College, DecisionKind
from juries.services import (
    certificate_generate,
    conflict_declare,
    decision_record,
    jury_session_convene,
    jury_session_set_seats,
    jury_session_start_deliberation,
)
from notifications.models import EmailMode
from notifications.services import notification_preference_set
from organisations.models import (
    ApplicationKind,
    HabilitationApplication,
    Membership,
    Organisation,
    OrganisationKind,
    Role,
    UserSession,
)
from organisations.services import api_token_create
from referentiels.models import Referentiel
from referrals.services import referral_accept
from tests.directory.support import evaluator_site, load_sample_communes, make_sheet
from tests.evaluations.support import complete_training
from tests.factories import HabilitationFactory, MembershipFactory, OrganisationFactory, SiteFactory
from tests.funding.support import batch_with_lines, draft_line, granted_line, org_admin
from tests.intake.support import counsellor_of, make_request
from tests.journey import PRIOR_WITH_GAPS, DossierFactory, evaluate, small_referentiel
from tests.juries.factories import (
    Jury,
    close,
    deliberating,
    everyone_present,
    jury_member,
    make_certifpro,
    make_jury,
    session_day,
    submit,
)
from tests.outbox.support import side_effect
from tests.referrals.support import advisor_of, make_referral
from tests.two_factor import provision_device
from training.models import TrainingPlan
from training.services import training_note_add, training_plan_create, training_session_add

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


@dataclass
class Scene:
    """A page under test: its address, who asks for it (None: an anonymous visitor), and what `grow` needs."""

    url: str
    membership: Membership | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    name: str
    # The role the page is asked for under (None: anonymous).
    role: str | None
    # Builds the page with a few rows (2 where the page lists rows).
    build: Callable[[Organisation], Scene]
    # Adds rows of the kinds the page shows (5 more); may point the scene at a bigger object of the same kind.
    grow: Callable[[Scene], None]
    # How many rows the page shows: it must go up once grown, so that the second count covers the new rows.
    shown: Callable[[HttpResponse], int]
    queries: int


def anonymous() -> Client:
    # The public pages' rate limits count per address, in a cache that may outlive the run: an address of its own.
    return Client(REMOTE_ADDR=f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}")


def page_rows(response: HttpResponse) -> int:
    return len(response.context["page"].object_list)


def links_to(name: str, **kwargs: Any) -> Callable[[HttpResponse], int]:
    """How many distinct objects the page links to through the URL `name` (its `pk`-like kwarg left free)."""
    placeholder = 987654321
    pattern = re.escape(reverse(name, kwargs={**kwargs, "pk": placeholder})).replace(str(placeholder), r"(\d+)")

    def count(response: HttpResponse) -> int:
        return len(set(re.findall(pattern, response.content.decode())))

    return count


def context_len(*keys: str) -> Callable[[HttpResponse], int]:
    return lambda response: sum(len(response.context[key]) for key in keys)


def with_attestations(factory: Callable[[], Any]) -> Any:
    """Run the on-commit work (the attestation PDFs) that the test transaction would otherwise hold back."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return factory()


# -- Dashboards --------------------------------------------------------------------------------------------------


def _trainer_plan(trainer: Membership, organisation: Organisation) -> TrainingPlan:
    dossier = DossierFactory(organisation=organisation, state="partially_validated")
    plan = training_plan_create(
        dossier=dossier,
        by=dossier.team.counsellor,
        trainer=trainer,
        planned_hours=Decimal("12"),
        starts_on=TODAY(),
        ends_on=TODAY() + datetime.timedelta(days=30),
    )
    training_session_add(plan=plan, by=trainer, date=TODAY(), duration_hours=Decimal("2"), topic="T", done=True)
    training_session_add(
        plan=plan, by=trainer, date=TODAY() + datetime.timedelta(days=3), duration_hours=Decimal("2"), topic="U"
    )
    return plan


def trainer_dashboard(org: Organisation) -> Scene:
    first = DossierFactory(organisation=org, state="in_training")
    trainer = first.team.trainer
    _trainer_plan(trainer, org)
    return Scene(reverse("home"), trainer, {"org": org})


def more_plans(scene: Scene) -> None:
    for _ in range(5):
        _trainer_plan(scene.membership, scene.data["org"])


def _seated_session(jury: Jury, *, deliberate: bool = False) -> None:
    """Another session of the jury's body, with the same two members (the employer presiding) and a dossier."""
    more = make_jury(body=jury.body)
    jury_session_set_seats(
        session=more.session,
        by=jury.admin,
        member_ids=[jury.employer.pk, jury.employee.pk],
        president_id=jury.employer.pk,
    )
    submit(more, DossierFactory(state="ready_for_jury"))
    if deliberate:
        session = session_day(jury_session_convene(session=more.session, by=jury.admin))
        jury_session_start_deliberation(session=session, by=jury.president, attendance=everyone_present(session))


def juror_dashboard(org: Organisation) -> Scene:
    jury = make_jury()
    submit(jury, DossierFactory(state="ready_for_jury"))
    _seated_session(jury, deliberate=True)
    return Scene(reverse("home"), jury.president, {"jury": jury})


def more_juror_sessions(scene: Scene) -> None:
    for n in range(5):
        _seated_session(scene.data["jury"], deliberate=n < 2)


def org_admin_dashboard(org: Organisation) -> Scene:
    SiteFactory.create_batch(2, organisation=org)
    admin = MembershipFactory(organisation=org, role=Role.ORG_ADMIN)
    MembershipFactory(organisation=org, role=Role.COUNSELLOR)
    return Scene(reverse("home"), admin, {"org": org})


def more_sites_and_members(scene: Scene) -> None:
    SiteFactory.create_batch(5, organisation=scene.data["org"])
    MembershipFactory.create_batch(5, organisation=scene.data["org"], role=Role.EVALUATOR)


def certifpro_dashboard(org: Organisation) -> Scene:
    HabilitationFactory(organisation=org)
    HabilitationFactory(organisation=OrganisationFactory(training=True), certification=Certification.CLEA_NUMERIQUE)
    certifpro = make_certifpro()
    return Scene(reverse("home"), certifpro)


def more_habilitations(scene: Scene) -> None:
    for certification in [*Certification.values, Certification.CLEA, Certification.CLEA]:
        HabilitationFactory(organisation=OrganisationFactory(), certification=certification)


def dashboard_counts(response: HttpResponse) -> int:
    return response.context["site_count"] + response.context["member_count"]


def national_total(response: HttpResponse) -> int:
    body = response.content.decode()
    return sum(int(n) for n in re.findall(r"<td>(\d+)</td>", body))


# -- Accounts and organisations ------------------------------------------------------------------------------------


def _token(membership: Membership, n: int) -> None:
    api_token_create(
        membership=membership, name=f"Logiciel {n}", expires_at=timezone.now() + datetime.timedelta(days=30)
    )


def token_page(org: Organisation) -> Scene:
    member = MembershipFactory(organisation=org, role=Role.COUNSELLOR)
    # A second membership of the same user, in another organisation: its tokens are listed too.
    other = MembershipFactory(user=member.user, organisation=OrganisationFactory(), role=Role.EVALUATOR)
    _token(member, 0)
    _token(other, 1)
    # Tokens are created from a session verified by a second factor: the page with its form.
    provision_device(member.user)
    return Scene(reverse("api_tokens"), member, {"memberships": [member, other]})


def more_tokens(scene: Scene) -> None:
    for n in range(5):
        _token(scene.data["memberships"][n % 2], n + 2)


def account_page(org: Organisation) -> Scene:
    member = MembershipFactory(organisation=org, role=Role.COUNSELLOR)
    for n in range(2):
        UserSession.objects.create(user=member.user, session_key=f"other-{n}")
    return Scene(reverse("account"), member, {"user": member.user})


def more_logins(scene: Scene) -> None:
    for n in range(5):
        UserSession.objects.create(user=scene.data["user"], session_key=f"more-{n}", user_agent="Firefox/128.0")


def site_list(org: Organisation) -> Scene:
    SiteFactory.create_batch(2, organisation=org)
    member = MembershipFactory(organisation=org, role=Role.COUNSELLOR)
    return Scene(reverse("organisations:site_list"), member, {"org": org})


def more_sites(scene: Scene) -> None:
    SiteFactory.create_batch(5, organisation=scene.data["org"])


def habilitation_list(org: Organisation) -> Scene:
    HabilitationFactory(organisation=org)
    HabilitationFactory(organisation=org, certification=Certification.CLEA_NUMERIQUE)
    return Scene(reverse("organisations:habilitation_list"), make_certifpro(), {"org": org})


def more_own_habilitations(scene: Scene) -> None:
    HabilitationFactory.create_batch(5, organisation=scene.data["org"])


def _application(org: Organisation) -> HabilitationApplication:
    return HabilitationApplication.objects.create(
        organisation=org,
        kind=ApplicationKind.FIRST,
        certifications=[Certification.CLEA],
        requested_from=datetime.date(2027, 1, 1),
        requested_until=datetime.date(2029, 12, 31),
    )


def application_list(org: Organisation) -> Scene:
    for _ in range(2):
        _application(org)
    return Scene(reverse("organisations:application_list"), make_certifpro(), {"org": org})


def more_applications(scene: Scene) -> None:
    for _ in range(5):
        _application(scene.data["org"])


def member_list(org: Organisation) -> Scene:
    admin = MembershipFactory(organisation=org, role=Role.ORG_ADMIN)
    MembershipFactory(organisation=org, role=Role.COUNSELLOR)
    return Scene(reverse("organisations:member_list"), admin, {"org": org})


def more_members(scene: Scene) -> None:
    for role in (Role.COUNSELLOR, Role.EVALUATOR, Role.EVALUATOR, Role.TRAINER, Role.ORG_ADMIN):
        MembershipFactory(organisation=scene.data["org"], role=role)


# -- Dossiers and referrals --------------------------------------------------------------------------------------


def failed_cycle(dossier: Dossier) -> None:
    """The trainer completes the plan, the final evaluation leaves gaps: a new training cycle opens."""
    complete_training(dossier)
    final = evaluation_start(dossier=dossier, by=dossier.team.final_evaluator, started_on=TODAY())
    evaluate(final, dossier.team.final_evaluator, set())


def dossier_in_training(org: Organisation) -> Scene:
    dossier = with_attestations(lambda: DossierFactory(organisation=org, state="in_training"))
    failed_cycle(dossier)
    url = reverse("journey:dossier_detail", kwargs={"pk": dossier.pk})
    return Scene(url, dossier.team.counsellor, {"dossier": dossier})


def more_cycles(scene: Scene) -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        for _ in range(5):
            failed_cycle(scene.data["dossier"])


def evaluations_and_plans(response: HttpResponse) -> int:
    context = response.context
    return len(context["evaluations"]) + len(context["plans"]) + len(context["attestations"])


def interview_request_list(org: Organisation) -> Scene:
    make_request(org)
    return Scene(reverse("intake:list"), counsellor_of(org), {"org": org})


def more_interview_requests(scene: Scene) -> None:
    for _ in range(5):
        make_request(scene.data["org"])


def referral_detail(org: Organisation) -> Scene:
    counsellor = MembershipFactory(organisation=org, role=Role.COUNSELLOR)
    referral = make_referral(to=org)
    referral_accept(referral=referral, by=counsellor)
    return Scene(reverse("referrals:detail", kwargs={"pk": referral.pk}), counsellor)


# -- Evaluations and training ------------------------------------------------------------------------------------


def small_summary(org: Organisation) -> Scene:
    small_referentiel(Certification.CLEA_MANAGEMENT)
    dossier = with_attestations(
        lambda: DossierFactory(
            organisation=org, certification=Certification.CLEA_MANAGEMENT, state="partially_validated"
        )
    )
    evaluation = dossier.evaluations.get()
    url = reverse("evaluations:summary", kwargs={"pk": evaluation.pk})
    return Scene(url, dossier.team.counsellor, {"org": org})


def summary_of_107_criteria(scene: Scene) -> None:
    # The national CléA référentiel (107 criteria) becomes current for CléA; CléA management keeps the small one.
    call_command("load_referentiels", stdout=io.StringIO())
    dossier = with_attestations(lambda: DossierFactory(organisation=scene.data["org"], state="partially_validated"))
    assert dossier.referentiel.criteria().count() == 107
    scene.url = reverse("evaluations:summary", kwargs={"pk": dossier.evaluations.get().pk})


def summary_subdomains(response: HttpResponse) -> int:
    return sum(len(domain.subdomains) for domain in response.context["domains"])


def _trained(org: Organisation, prior_acquired: set[str]) -> Dossier:
    dossier = with_attestations(
        lambda: DossierFactory(organisation=org, state="in_training", prior_acquired=prior_acquired)
    )
    complete_training(dossier)
    return dossier


def final_start(org: Organisation) -> Scene:
    # The default prior evaluation leaves two criteria to acquire: the final evaluation's scope.
    dossier = _trained(org, PRIOR_WITH_GAPS)
    url = reverse("evaluations:evaluation_start", kwargs={"dossier_pk": dossier.pk})
    return Scene(url, dossier.team.evaluator, {"org": org})


def final_start_on_7_criteria(scene: Scene) -> None:
    dossier = _trained(scene.data["org"], {"1.1.1", "1.1.2"})
    scene.url = reverse("evaluations:evaluation_start", kwargs={"dossier_pk": dossier.pk})


def _sessions_and_notes(plan: TrainingPlan, trainer: Membership, count: int) -> None:
    for n in range(count):
        day = TODAY() + datetime.timedelta(days=n)
        training_session_add(plan=plan, by=trainer, date=day, duration_hours=Decimal("2"), topic=f"Séance {n}")
        training_note_add(plan=plan, by=trainer, text=f"Progrès {n}")


def plan_detail(org: Organisation) -> Scene:
    dossier = DossierFactory(organisation=org, state="in_training")
    plan = TrainingPlan.objects.get(dossier=dossier)
    trainer = dossier.team.trainer
    _sessions_and_notes(plan, trainer, 2)
    url = reverse("training:plan_detail", kwargs={"pk": plan.pk})
    return Scene(url, trainer, {"plan": plan})


def more_sessions_and_notes(scene: Scene) -> None:
    _sessions_and_notes(scene.data["plan"], scene.membership, 5)


def sessions_and_notes(response: HttpResponse) -> int:
    return len(response.context["sessions"]) + len(response.context["notes"])


def certifpro_plans(org: Organisation) -> Scene:
    first = DossierFactory(organisation=org, state="in_training")
    _trainer_plan(first.team.trainer, org)
    certifpro = make_certifpro()
    return Scene(reverse("training:plan_list"), certifpro, {"org": org, "first": first})


def more_certifpro_plans(scene: Scene) -> None:
    for _ in range(5):
        _trainer_plan(scene.data["first"].team.trainer, scene.data["org"])


def plan_form(org: Organisation) -> Scene:
    dossier = DossierFactory(organisation=org, state="partially_validated")
    MembershipFactory(organisation=OrganisationFactory(training=True), role=Role.TRAINER)
    url = reverse("training:plan_create", kwargs={"dossier_pk": dossier.pk})
    return Scene(url, dossier.team.counsellor)


def more_trainers(scene: Scene) -> None:
    training = OrganisationFactory(training=True)
    MembershipFactory.create_batch(3, organisation=training, role=Role.TRAINER)
    MembershipFactory.create_batch(2, organisation=OrganisationFactory(), role=Role.TRAINER)


def trainer_choices(response: HttpResponse) -> int:
    return len(response.context["form"].fields["trainer"].choices)


# -- Juries ------------------------------------------------------------------------------------------------------


def _ready_after_cycles(cycles: int) -> Dossier:
    """A dossier that went through `cycles` failed final evaluations before the one that sends it to the jury."""
    dossier = with_attestations(lambda: DossierFactory(state="in_training"))
    with TestCase.captureOnCommitCallbacks(execute=True):
        for _ in range(cycles):
            failed_cycle(dossier)
        complete_training(dossier)
        final = evaluation_start(dossier=dossier, by=dossier.team.final_evaluator, started_on=TODAY())
        evaluate(final, dossier.team.final_evaluator)
    dossier.refresh_from_db()
    return dossier


def review(org: Organisation) -> Scene:
    jury = make_jury()
    submission = submit(jury, _ready_after_cycles(1))
    url = reverse("juries:review", kwargs={"pk": submission.pk})
    return Scene(url, jury.president, {"jury": jury})


def review_of_a_longer_dossier(scene: Scene) -> None:
    submission = submit(scene.data["jury"], _ready_after_cycles(6))
    scene.url = reverse("juries:review", kwargs={"pk": submission.pk})


def _conflicts(jury: Jury, count: int) -> None:
    for n in range(count):
        submission = submit(jury, DossierFactory(state="ready_for_jury"))
        conflict_declare(submission=submission, by=jury.president, statement=f"Lien {n}")


def my_conflicts(org: Organisation) -> Scene:
    jury = make_jury()
    _conflicts(jury, 2)
    return Scene(reverse("juries:my_conflicts"), jury.president, {"jury": jury})


def more_conflicts(scene: Scene) -> None:
    _conflicts(scene.data["jury"], 5)


def _session_with_a_dossier() -> Jury:
    jury = make_jury()
    submit(jury, DossierFactory(state="ready_for_jury"))
    return jury


def certifpro_sessions(org: Organisation) -> Scene:
    _session_with_a_dossier()
    _session_with_a_dossier()
    certifpro = make_certifpro()
    return Scene(reverse("juries:session_list"), certifpro)


def more_sessions(scene: Scene) -> None:
    for _ in range(5):
        make_jury()


def session_seats(org: Organisation) -> Scene:
    jury = make_jury()
    url = reverse("juries:session_seats", kwargs={"pk": jury.session.pk})
    return Scene(url, jury.admin, {"jury": jury})


def more_jury_members(scene: Scene) -> None:
    body = scene.data["jury"].body
    for college in (College.EMPLOYERS, College.EMPLOYEES, College.EMPLOYERS, College.EMPLOYEES, College.EMPLOYERS):
        jury_member(body, college)


def submit_form(org: Organisation) -> Scene:
    dossier = DossierFactory(organisation=org, state="ready_for_jury")
    _session_with_a_dossier()
    make_jury()
    url = reverse("juries:submit", kwargs={"dossier_pk": dossier.pk})
    return Scene(url, dossier.team.counsellor)


# -- Funding -----------------------------------------------------------------------------------------------------


def _proof(line: Any, by: Membership, n: int) -> None:
    upload = SimpleUploadedFile(f"accord-{n}.pdf", b"%PDF-1.4 accord", content_type="application/pdf")
    funding_proof_add(line=line, by=by, label=f"Accord {n}", upload=upload)


def line_detail(org: Organisation) -> Scene:
    funding_references_load()
    dossier = DossierFactory(organisation=org, state="opened")
    line = draft_line(dossier)
    counsellor = dossier.team.counsellor
    funding_line_update(line=line, by=counsellor, changes={"hours": Decimal("4")})
    for n in range(2):
        _proof(line, counsellor, n)
    url = reverse("funding:line_detail", kwargs={"pk": line.pk})
    return Scene(url, counsellor, {"line": line})


def more_events_and_proofs(scene: Scene) -> None:
    line, counsellor = scene.data["line"], scene.membership
    for n in range(5):
        funding_line_update(line=line, by=counsellor, changes={"hours": Decimal(5 + n)})
        _proof(line, counsellor, n + 2)
    funding_line_transition(line=line, name="request", by=counsellor)


def events_and_proofs(response: HttpResponse) -> int:
    return len(response.context["events"]) + len(response.context["proofs"])


def _pay(batch: Any, admin: Membership, n: int, inputs: list[PaymentInput]) -> Any:
    return payment_record(batch=batch, by=admin, received_on=TODAY(), reference=f"VIR-{n}", lines=inputs)


def batch_detail(org: Organisation) -> Scene:
    funding_references_load()
    batch = batch_with_lines(org, count=2)
    admin = org_admin(org)
    _pay(batch, admin, 0, [PaymentInput("INCONNU", 100)])
    url = reverse("funding:batch_detail", kwargs={"pk": batch.pk})
    return Scene(url, admin, {"org": org})


def a_bigger_batch(scene: Scene) -> None:
    org, admin = scene.data["org"], scene.membership
    batch = batch_with_lines(org, count=7)
    for n in range(3):
        _pay(batch, admin, n + 1, [PaymentInput(f"INCONNU-{n}", 100)])
    scene.url = reverse("funding:batch_detail", kwargs={"pk": batch.pk})


def batch_lines_and_payments(response: HttpResponse) -> int:
    return len(response.context["page"].object_list) + len(response.context["payments"])


def _payment_of(batch: Any, admin: Membership, unexpected: int) -> Any:
    """Pays the batch's lines: the first at the invoiced amount, the next 10 € short, the last one left out."""
    lines = list(batch.lines.order_by("id"))
    inputs = [PaymentInput(lines[0].funder_reference, lines[0].invoiced_incl_vat_cents)]
    inputs += [PaymentInput(line.funder_reference, line.invoiced_incl_vat_cents - 1000) for line in lines[1:-1]]
    inputs += [PaymentInput(f"INCONNU-{n}", 100) for n in range(unexpected)]
    return _pay(batch, admin, 0, inputs)


def payment_detail(org: Organisation) -> Scene:
    funding_references_load()
    admin = org_admin(org)
    payment = _payment_of(batch_with_lines(org, count=3), admin, unexpected=1)
    url = reverse("funding:payment_detail", kwargs={"pk": payment.pk})
    return Scene(url, admin, {"org": org})


def a_bigger_payment(scene: Scene) -> None:
    payment = _payment_of(batch_with_lines(scene.data["org"], count=8), scene.membership, unexpected=3)
    scene.url = reverse("funding:payment_detail", kwargs={"pk": payment.pk})


def reconciled_lines(response: HttpResponse) -> int:
    return context_len("matched", "differences", "unexpected", "missing")(response)


def _statement(organisation: Organisation, days_ago: int) -> None:
    """A dossier whose prior evaluation closed `days_ago` days ago, and the statement of that quarter."""
    dossier = DossierFactory(
        organisation=organisation,
        state="partially_validated",
        evaluated_on=TODAY() - datetime.timedelta(days=days_ago),
    )
    year, quarter = quarter_of(FeeEntry.objects.get(dossier=dossier).occurred_on)
    statement_generate(organisation_id=organisation.pk, year=year, quarter=quarter)


def statement_list(org: Organisation) -> Scene:
    funding_references_load()
    _statement(org, 200)
    _statement(OrganisationFactory(), 200)
    certifpro = make_certifpro()
    return Scene(reverse("funding:statement_list"), certifpro, {"org": org})


def more_statements(scene: Scene) -> None:
    _statement(scene.data["org"], 300)
    for _ in range(4):
        _statement(OrganisationFactory(), 200)


def certifpro_fees(org: Organisation) -> Scene:
    funding_references_load()
    DossierFactory(organisation=org, state="partially_validated")
    DossierFactory(organisation=OrganisationFactory(), state="partially_validated")
    certifpro = make_certifpro()
    return Scene(reverse("funding:fee_list"), certifpro, {"org": org})


def more_fees(scene: Scene) -> None:
    for n in range(5):
        DossierFactory(organisation=scene.data["org"] if n % 2 else OrganisationFactory(), state="partially_validated")


def national(org: Organisation) -> Scene:
    funding_references_load()
    granted_line(DossierFactory(organisation=org, state="partially_validated"))
    draft_line(DossierFactory(organisation=OrganisationFactory(), state="opened"), code="cpf")
    certifpro = make_certifpro()
    return Scene(reverse("funding:national"), certifpro, {"org": org})


def more_fees_and_lines(scene: Scene) -> None:
    for code in ("france-travail", "cpf", "opco", "region", "france-travail"):
        draft_line(DossierFactory(organisation=OrganisationFactory(), state="partially_validated"), code=code)


def national_rows(response: HttpResponse) -> int:
    return context_len("fees_by_organisation", "funding")(response)


def _certificates(count: int) -> None:
    jury = make_jury()
    submissions = deliberating(jury, *(DossierFactory(state="ready_for_jury") for _ in range(count)))
    decisions = [decision_record(submission=s, by=jury.president, kind=DecisionKind.AWARDED) for s in submissions]
    close(jury)
    for decision in decisions:
        certificate_generate(decision_id=decision.pk)


def cdc_list(org: Organisation) -> Scene:
    funding_references_load()
    _certificates(2)
    certifpro = make_certifpro()
    return Scene(reverse("funding:cdc_list"), certifpro)


def cdc_pending_len(response: HttpResponse) -> int:
    pending = response.context["pending"]
    return len(pending.ready) + len(pending.incomplete)


def more_certificates(scene: Scene) -> None:
    _certificates(5)


# -- Directory ---------------------------------------------------------------------------------------------------


def _agency_advisor() -> Membership:
    agency = OrganisationFactory(kind=OrganisationKind.FRANCE_TRAVAIL)
    SiteFactory(organisation=agency, insee_code="59350", city="Lille", postcode="59000")
    return advisor_of(agency)


def advisor_search(org: Organisation) -> Scene:
    communes = load_sample_communes()
    for n in range(2):
        evaluator_site(communes["59512"], name=f"Site {n}")
    advisor = _agency_advisor()
    return Scene(reverse("directory:search"), advisor, {"communes": communes})


def more_directory_sites(scene: Scene) -> None:
    for n in range(5):
        evaluator_site(scene.data["communes"]["59599"], name=f"Autre site {n}")


def search_entries(response: HttpResponse) -> int:
    return len(response.context["entries"])


# -- Operations --------------------------------------------------------------------------------------------------


def certifpro_side_effects(org: Organisation) -> Scene:
    for n in range(2):
        side_effect(org, label=f"Courriel {n}")
    return Scene(reverse("outbox:side_effect_list"), make_certifpro(), {"org": org})


def more_side_effects(scene: Scene) -> None:
    # Other organisations' (their names shown), and a national one.
    for n in range(4):
        side_effect(OrganisationFactory(), label=f"Autre courriel {n}")
    side_effect(None, label="Relevé national")


# -- API lists ---------------------------------------------------------------------------------------------------


def _documents(org: Organisation, count: int) -> None:
    for _ in range(count):
        with_attestations(lambda: DossierFactory(organisation=org, state="partially_validated"))


def api_documents(org: Organisation) -> Scene:
    _documents(org, 2)
    counsellor = Membership.objects.get(organisation=org, role=Role.COUNSELLOR)
    return Scene("/api/v1/documents/", counsellor, {"org": org})


def more_documents(scene: Scene) -> None:
    _documents(scene.data["org"], 5)


def api_count(response: HttpResponse) -> int:
    return len(response.json()["results"])


def _referentiels(count: int) -> None:
    for n in range(count):
        Referentiel.objects.create(
            certification=Certification.values[n % len(Certification.values)],
            version=f"v{Referentiel.objects.count()}",
            title=f"Référentiel {n}",
        )


def more_referentiels(scene: Scene) -> None:
    _referentiels(5)


def api_referentiels(org: Organisation) -> Scene:
    _referentiels(2)
    member = MembershipFactory(organisation=org, role=Role.TRAINER)
    return Scene("/api/v1/referentiels/", member)


def api_nearby(org: Organisation) -> Scene:
    communes = load_sample_communes()
    for n in range(2):
        evaluator_site(communes["59512"], name=f"Site {n}")
    return Scene("/api/v1/evaluators/nearby?commune=59350&radius=20", None, {"communes": communes})


def nearby_count(response: HttpResponse) -> int:
    return len(response.json()["results"])


# -- Pages of one object, with nothing of a variable length ------------------------------------------------------


def referral_detail_for_the_advisor(org: Organisation) -> Scene:
    advisor = advisor_of()
    referral = make_referral(to=org, by=advisor)
    referral_accept(referral=referral, by=MembershipFactory(organisation=org, role=Role.COUNSELLOR))
    return Scene(reverse("referrals:detail", kwargs={"pk": referral.pk}), advisor)


def sheet_detail(org: Organisation) -> Scene:
    advisor = advisor_of()
    sheet = make_sheet(advisor.organisation)
    return Scene(reverse("directory:sheet_detail", kwargs={"pk": sheet.pk}), advisor)


def certificate_verification(org: Organisation) -> Scene:
    _certificates(1)
    code = Certificate.objects.get().verification_code
    return Scene(reverse("certificate_verify", kwargs={"code": code}))


# -- The table ---------------------------------------------------------------------------------------------------

# Each count is the four queries of a signed-in page (session, user, memberships, and the header's count of unread
# notifications), then the page's own.
CASES = [
    # -- Dashboards (the counsellor's, the evaluator's and the advisor's are counted in their apps' tests, and every
    # role's "À faire" in tests/journey/test_queues.py). Each starts with "À faire": one query per kind of work.
    # The plans in progress, with their hours done and next session; sessions of the week, plans to complete, to
    # schedule.
    Case("home-trainer", Role.TRAINER, trainer_dashboard, more_plans, links_to("training:plan_detail"), 8),
    # Upcoming sessions, sessions in deliberation presided, the count of conflicts of interest; decisions to take,
    # sessions to close, sessions to review.
    Case("home-juror", Role.JURY_MEMBER, juror_dashboard, more_juror_sessions, links_to("juries:session_detail"), 10),
    # Two counts: active sites, members; referrals to answer, sessions to convene, correction requests to answer,
    # interview requests to handle, own habilitations ending.
    Case("home-org-admin", Role.ORG_ADMIN, org_admin_dashboard, more_sites_and_members, dashboard_counts, 11),
    # Two aggregates: organisations by kind, habilitated organisations by certification; certificates to declare,
    # documents and e-mails failed, habilitation applications to instruct, habilitations to renew.
    Case("home-certifpro", Role.CERTIFPRO_ADMIN, certifpro_dashboard, more_habilitations, national_total, 10),
    # -- Accounts and organisations.
    # The memberships a token may act under (read by the select, then by its check), the tokens.
    Case("api-tokens", Role.COUNSELLOR, token_page, more_tokens, context_len("tokens"), 7),
    # The second factor (none here), the sessions.
    Case("account", Role.COUNSELLOR, account_page, more_logins, context_len("sessions"), 6),
    # Count, page. (tests/organisations counts this page too, but with one number of sites.)
    Case("site-list", Role.COUNSELLOR, site_list, more_sites, page_rows, 6),
    Case("member-list", Role.ORG_ADMIN, member_list, more_members, page_rows, 6),
    # Count, page (with each organisation and renewal), applications awaiting.
    Case("habilitation-list", Role.CERTIFPRO_ADMIN, habilitation_list, more_own_habilitations, page_rows, 7),
    # Count, page (with each organisation).
    Case("application-list", Role.CERTIFPRO_ADMIN, application_list, more_applications, page_rows, 6),
    # Count, page (the requests with their site).
    Case("interview-request-list", Role.COUNSELLOR, interview_request_list, more_interview_requests, page_rows, 6),
    # -- Dossiers (the list, and the detail's events and funding lines, are counted in tests/candidates and
    # tests/funding). The dossier, its events, evaluations, attestations, training plans and funding lines, its
    # assignments and appointments, the person's open correction requests.
    Case("dossier-detail-cycles", Role.COUNSELLOR, dossier_in_training, more_cycles, evaluations_and_plans, 13),
    # -- Evaluations and training (the grid is counted in tests/evaluations, the trainer's plan list in
    # tests/training). The evaluation, earlier and own acquisitions, the référentiel's three levels, the attestation.
    Case("evaluation-summary", Role.COUNSELLOR, small_summary, summary_of_107_criteria, summary_subdomains, 11),
    # The dossier, the référentiel's three levels, jury deferrals, acquisitions, the current plan, its assignment,
    # the header's unread notifications.
    Case("evaluation-start", Role.EVALUATOR, final_start, final_start_on_7_criteria, context_len("scope"), 12),
    # The plan, its sessions, its trainer, the target criteria, the notes with their authors.
    Case("plan-detail", Role.TRAINER, plan_detail, more_sessions_and_notes, sessions_and_notes, 9),
    Case("plan-list-certifpro", Role.CERTIFPRO_ADMIN, certifpro_plans, more_certifpro_plans, page_rows, 6),
    # The dossier, its outcome (référentiel, deferrals, acquisitions), the trainers that may be named.
    Case("plan-create-form", Role.COUNSELLOR, plan_form, more_trainers, trainer_choices, 11),
    # -- Juries (the session list for jurors and administrators, and the session page, are counted in
    # tests/juries). The submission, the outcome (4), the seat, the conflict, evaluations, plans, attestations.
    Case("jury-review", Role.JURY_MEMBER, review, review_of_a_longer_dossier, evaluations_and_plans, 15),
    Case("my-conflicts", Role.JURY_MEMBER, my_conflicts, more_conflicts, page_rows, 6),
    Case("session-list-certifpro", Role.CERTIFPRO_ADMIN, certifpro_sessions, more_sessions, page_rows, 6),
    # The session, the body's members, the seats.
    Case("session-seats", Role.ORG_ADMIN, session_seats, more_jury_members, context_len("rows"), 7),
    # The dossier, the sessions open in its region with their number of dossiers.
    Case("submit-form", Role.COUNSELLOR, submit_form, more_sessions, context_len("sessions"), 6),
    # -- Funding (the line, claim, batch and payment lists and the organisation's fees are counted in
    # tests/funding). The line, its proofs, its events.
    Case("line-detail", Role.COUNSELLOR, line_detail, more_events_and_proofs, events_and_proofs, 7),
    # The batch, the count and page of its lines, its payments; whether the administrator may have it rendered
    # again (its organisation's) and its earlier versions; what the funder still owes on it.
    Case("batch-detail", Role.ORG_ADMIN, batch_detail, a_bigger_batch, batch_lines_and_payments, 11),
    # The payment, its lines, the batch's lines it left out.
    Case("payment-detail", Role.ORG_ADMIN, payment_detail, a_bigger_payment, reconciled_lines, 7),
    # Count, page, the page's statements' earlier versions.
    Case("statement-list", Role.CERTIFPRO_ADMIN, statement_list, more_statements, page_rows, 7),
    # Count, totals, the organisations of the filter, page.
    Case("fee-list-certifpro", Role.CERTIFPRO_ADMIN, certifpro_fees, more_fees, page_rows, 8),
    # Fees by organisation, by kind, in total; lines by funder; certificates to report and overdue; the filter.
    Case("national", Role.CERTIFPRO_ADMIN, national, more_fees_and_lines, national_rows, 11),
    # The certificates' ids for the form, count, page.
    Case("cdc-list", Role.CERTIFPRO_ADMIN, cdc_list, more_certificates, cdc_pending_len, 10),
    # -- Directory (the public search and the sheets are counted in tests/directory). The agency's site and
    # commune, the commune searched (2), the ranking, the page's sites with their habilitations.
    Case("directory-search-advisor", Role.FT_ADVISOR, advisor_search, more_directory_sites, search_entries, 10),
    # -- Operations. The counts by state (one aggregate), count, page with the organisations.
    Case("side-effects-certifpro", Role.CERTIFPRO_ADMIN, certifpro_side_effects, more_side_effects, page_rows, 7),
    # -- API lists (dossiers and evaluations are counted in tests/api). A page, without a count since the cursor
    # pagination (issue 20).
    Case("api-documents", Role.COUNSELLOR, api_documents, more_documents, api_count, 4),
    Case("api-referentiels", Role.TRAINER, api_referentiels, more_referentiels, api_count, 4),
    # Public, no session: the commune, the ranking, the sites with their habilitations.
    Case("api-evaluators-nearby", None, api_nearby, more_directory_sites, nearby_count, 4),
]


def _client(scene: Scene, client_for: Callable[[Membership], Client]) -> Client:
    return client_for(scene.membership) if scene.membership is not None else anonymous()


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_the_page_costs_the_same_queries_with_more_rows(case: Case, org_a, client_for, django_assert_num_queries):
    scene = case.build(org_a)
    assert (scene.membership.role if scene.membership else None) == case.role
    client = _client(scene, client_for)
    client.get(scene.url)  # the session's first request
    with django_assert_num_queries(case.queries):
        response = client.get(scene.url)
    assert response.status_code == 200
    few = case.shown(response)

    case.grow(scene)
    with django_assert_num_queries(case.queries):
        response = client.get(scene.url)
    assert response.status_code == 200
    assert case.shown(response) > few


@dataclass(frozen=True)
class OneObjectPage:
    """A page of one object with nothing of a variable length on it: its count is pinned as it is."""

    name: str
    role: str | None
    build: Callable[[Organisation], Scene]
    queries: int


ONE_OBJECT_PAGES = [
    # The referral with its site, organisations, advisor and dossier, and its history in one more query (the
    # receiver and the sending agency).
    OneObjectPage("referral-detail-receiver", Role.COUNSELLOR, referral_detail, 6),
    OneObjectPage("referral-detail-sender", Role.FT_ADVISOR, referral_detail_for_the_advisor, 6),
    OneObjectPage("sheet-detail", Role.FT_ADVISOR, sheet_detail, 5),
    # Public: the certificate by its code, nothing else (no session is read).
    OneObjectPage("certificate-verify", None, certificate_verification, 1),
]


@pytest.mark.parametrize("page", ONE_OBJECT_PAGES, ids=lambda page: page.name)
def test_the_page_of_one_object_costs_a_fixed_number_of_queries(
    page: OneObjectPage, org_a, client_for, django_assert_num_queries
):
    scene = page.build(org_a)
    assert (scene.membership.role if scene.membership else None) == page.role
    client = _client(scene, client_for)
    client.get(scene.url)
    with django_assert_num_queries(page.queries):
        assert client.get(scene.url).status_code == 200


# -- The administration's lists ----------------------------------------------------------------------------------


def _pix_import(org) -> None:
    from evaluations.services import pix_import_create, pix_mapping_load_provisional
    from tests.evaluations.support import line, pix_file

    pix_mapping_load_provisional()  # a transactional test elsewhere may have flushed the migration's rows
    evaluator = MembershipFactory(organisation=org, role=Role.EVALUATOR)
    pix_import_create(content=pix_file(line("1", "Paul", "Roux", "12/04/1985")), filename="pix.csv", by=evaluator)


def _admin_world() -> None:
    """At least one row (most often two) of every model the administration lists, through the services."""
    org = OrganisationFactory()
    funding_references_load()
    with TestCase.captureOnCommitCallbacks(execute=True):
        _certificates(2)
        _statement(org, 200)
        batch_detail(org)
        plan_detail(org)
        line_detail(org)
        payment_detail(org)
        _conflicts(make_jury(), 2)
        make_sheet(org)
        make_referral(to=org)
        _referentiels(1)
    Group.objects.create(name=f"Groupe {org.pk}")
    RegionalFunder.objects.create(organisation=OrganisationFactory(kind=OrganisationKind.FUNDER))
    _pix_import(org)
    certifpro = make_certifpro()
    # A flux to the Caisse des Dépôts, its declarations and a report.
    declared = certificates_to_report().first()
    Candidate.objects.filter(dossiers__certificate=declared).update(sex="F", birth_insee_code="59350")
    flux = cdc_flux_generate(by=certifpro)
    cdc_report_import(
        upload=SimpleUploadedFile("cr.xml", report_render(flux.flux_id, [(declared.number, True, "")])), by=certifpro
    )
    # A login, and a failed one: the lockout's access log and attempts.
    member = MembershipFactory(organisation=org)
    notification_preference_set(user=member.user, email_mode=EmailMode.DIGEST)
    anonymous().force_login(member.user)
    anonymous().post(reverse("login"), {"username": member.user.email, "password": "pas le bon mot de passe"})


# Queries of each changelist (a superuser without membership): the session, the user, their memberships, the
# count and the unfiltered count, the page, then whatever its filters and date hierarchy read. Each new admin
# gets its line here.
ADMIN_LISTS = {
    "auth.group": 6,
    "axes.accessattempt": 9,
    "axes.accesslog": 9,
    "axes.accessfailurelog": 9,
    "organisations.organisation": 6,
    "organisations.site": 6,
    "organisations.habilitation": 6,
    "organisations.user": 7,
    "organisations.membership": 6,
    "organisations.auditlog": 9,
    "candidates.candidate": 6,
    "candidates.dossier": 8,
    "referrals.referral": 6,
    "directory.commune": 7,
    "directory.directorysheet": 6,
    "referentiels.referentiel": 6,
    "referentiels.domain": 7,
    "referentiels.subdomain": 8,
    "referentiels.criterion": 7,
    "evaluations.evaluation": 8,
    "evaluations.attestation": 8,
    "evaluations.pixmappingversion": 6,
    "evaluations.piximport": 6,
    "training.trainingplan": 9,
    "juries.jurymember": 7,
    "juries.jurysession": 8,
    "juries.submission": 6,
    "juries.decision": 6,
    "juries.certificate": 8,
    "juries.sessionminutes": 6,
    "juries.conflictdeclaration": 6,
    "funding.funder": 6,
    "funding.tariff": 6,
    "funding.fundingline": 7,
    "funding.claimbatch": 7,
    "funding.payment": 6,
    "funding.feeentry": 6,
    "funding.statement": 6,
    "funding.certificatereport": 6,
    "funding.cdcsettings": 7,
    "funding.cdcflux": 6,
    "funding.cdcdeclaration": 6,
    "funding.cdcreportimport": 6,
    "outbox.sideeffect": 6,
    "notifications.notification": 7,
    "notifications.notificationpreference": 6,
    "indicators.regionalfunder": 6,
}
# Reference data that the world does not add to: their count is pinned, without growth to show.
ADMIN_REFERENCE_DATA = {
    "referentiels.domain",
    "referentiels.subdomain",
    "referentiels.criterion",
    "funding.funder",
    "funding.tariff",
    "funding.cdcsettings",
    "directory.commune",
    "evaluations.pixmappingversion",
}
# Stays empty: django-axes writes it only with AXES_ENABLE_ACCESS_FAILURE_LOG, which the platform leaves off.
# funding.certificatereport: the marks made by hand before the flux to the Caisse des Dépôts existed; read, never
# written any more.
ADMIN_EMPTY = {"axes.accessfailurelog", "funding.certificatereport"}


def test_every_administration_list_costs_the_same_queries_with_more_rows(admin_client):
    load_sample_communes()
    _admin_world()
    lists = {f"{model._meta.app_label}.{model._meta.model_name}": model for model in admin.site._registry}
    assert set(lists) == set(ADMIN_LISTS), "give each administration list its query count in ADMIN_LISTS"

    def measure() -> tuple[dict[str, int], dict[str, int]]:
        queries, rows = {}, {}
        for key, model in lists.items():
            url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
            with CaptureQueriesContext(connection) as captured:
                response = admin_client.get(url)
            assert response.status_code == 200, url
            queries[key], rows[key] = len(captured), response.context["cl"].result_count
        return queries, rows

    admin_client.get(reverse("admin:index"))
    few_queries, few = measure()
    # A second world doubles every list that can grow: a query per row would show as surely as with a third,
    # and each world renders a few dozen PDFs.
    _admin_world()
    many_queries, many = measure()

    assert few_queries == ADMIN_LISTS
    assert many_queries == ADMIN_LISTS
    assert {key for key in lists if few[key] == 0} == ADMIN_EMPTY
    assert {key for key in lists if key not in ADMIN_REFERENCE_DATA | ADMIN_EMPTY and many[key] <= few[key]} == set()
