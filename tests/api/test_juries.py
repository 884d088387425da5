"""The jury API: sessions, their dossiers and operations, decisions and their revocation, certificates."""

import pytest
from django.urls import reverse

from candidates.models import Dossier, DossierState
from juries.models import Certificate, Decision, DecisionKind, JurySession, SessionState
from juries.services import conflict_declare, decision_record, jury_session_set_seats
from organisations.models import Role
from tests.factories import OrganisationFactory
from tests.journey import DossierFactory
from tests.juries.factories import certified, close, deliberating, make_certifpro, make_jury, session_day, submit

pytestmark = pytest.mark.django_db

SESSIONS = "/api/v1/jury-sessions/"
DECISIONS = "/api/v1/decisions/"
CERTIFICATES = "/api/v1/certificates/"


def session_url(name: str, session: JurySession) -> str:
    return reverse(f"api:jury-session-{name}", kwargs={"pk": session.pk})


def post(client, address: str, data: dict | None = None):
    return client.post(address, data or {}, content_type="application/json")


def state_of(dossier: Dossier) -> str:
    return Dossier.objects.get(pk=dossier.pk).state


@pytest.fixture
def jury():
    return make_jury()


@pytest.fixture
def ready():
    return DossierFactory(state="ready_for_jury")


# -- Sessions -----------------------------------------------------------------------------------------------------


def test_the_jury_body_lists_its_sessions_with_the_seats_president_first(client_for, jury, ready):
    submit(jury, ready)
    make_jury()  # another jury body's session
    body = client_for(jury.admin).get(SESSIONS).json()
    assert len(body["results"]) == 1
    [session] = body["results"]
    assert session["id"] == jury.session.pk
    assert session["state"] == "planned"
    assert session["state_label"] == "Planifiée"
    assert session["submission_count"] == 1
    assert [(seat["member"], seat["is_president"], seat["attendance"]) for seat in session["seats"]] == [
        (jury.employer.pk, True, ""),
        (jury.employee.pk, False, ""),
    ]
    assert session["quorum_problems"] == []
    assert session["minutes"] is None


def test_a_juror_lists_only_the_sessions_they_sit_on_and_certifpro_all(client_for, jury):
    other = make_jury()
    assert [s["id"] for s in client_for(jury.president).get(SESSIONS).json()["results"]] == [jury.session.pk]
    listed = {s["id"] for s in client_for(make_certifpro()).get(SESSIONS).json()["results"]}
    assert listed == {jury.session.pk, other.session.pk}


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.COUNSELLOR, 403),
        (Role.EVALUATOR, 403),
        (Role.TRAINER, 403),
        (Role.FT_ADVISOR, 403),
        (Role.ORG_ADMIN, 200),
        (Role.JURY_MEMBER, 200),
        (Role.CERTIFPRO_ADMIN, 200),
    ],
)
def test_the_session_list_by_role(role, status, client_for, make_member, org_a):
    organisation = None if role == Role.CERTIFPRO_ADMIN else org_a
    response = client_for(make_member(organisation, role=role)).get(SESSIONS)
    assert response.status_code == status
    if status == 403:
        assert response.json()["code"] == "permission_denied"


@pytest.mark.parametrize("rows", [2, 5])
def test_the_session_list_costs_the_same_queries_whatever_the_rows(rows, client_for, django_assert_num_queries):
    body = OrganisationFactory(jury_body=True)
    for _ in range(rows):
        jury = make_jury(body=body)
        submit(jury, DossierFactory(state="ready_for_jury"))
    client = client_for(jury.admin)
    client.get(SESSIONS)  # warm the session
    # No count since the cursor pagination (issue 20): one query fewer.
    with django_assert_num_queries(5):
        assert len(client.get(SESSIONS).json()["results"]) == rows


def test_the_session_detail_says_why_it_may_not_deliberate(client_for, jury):
    jury_session_set_seats(
        session=jury.session, by=jury.admin, member_ids=[jury.employer.pk, jury.employee.pk], president_id=None
    )
    detail = client_for(jury.admin).get(session_url("detail", jury.session)).json()
    assert detail["quorum_problems"] == ["Désignez la présidence du jury."]


def test_another_jury_body_and_another_juror_get_404(client_for, jury):
    other = make_jury()
    for membership in (other.admin, other.president):
        client = client_for(membership)
        assert client.get(session_url("detail", jury.session)).status_code == 404
        assert client.get(session_url("submissions", jury.session)).status_code == 404
        assert post(client, session_url("convene", jury.session)).status_code == 404
    assert JurySession.objects.get(pk=jury.session.pk).state == SessionState.PLANNED


def test_the_session_dossiers_come_with_their_decision_and_conflicts(client_for, jury):
    awarded, linked = DossierFactory(state="ready_for_jury"), DossierFactory(state="ready_for_jury")
    first, second = deliberating(jury, awarded, linked)
    decision_record(submission=first, by=jury.president, kind=DecisionKind.AWARDED)
    conflict_declare(submission=second, by=jury.president, statement="J'ai formé ce candidat.")

    body = client_for(jury.admin).get(session_url("submissions", jury.session)).json()
    assert len(body["results"]) == 2
    by_dossier = {row["dossier"]["id"]: row for row in body["results"]}
    assert by_dossier[awarded.pk]["dossier"]["candidate"] == awarded.candidate.full_name
    assert by_dossier[awarded.pk]["decision"]["kind"] == "awarded"
    assert by_dossier[awarded.pk]["decision"]["decided_by"] == jury.president.user.get_full_name()
    assert by_dossier[linked.pk]["decision"] is None
    assert [c["member"] for c in by_dossier[linked.pk]["conflicts"]] == [jury.president.user.get_full_name()]


@pytest.mark.parametrize("rows", [1, 4])
def test_the_session_dossiers_cost_the_same_queries_whatever_the_rows(rows, client_for, django_assert_num_queries):
    jury = make_jury()
    submissions = deliberating(jury, *(DossierFactory(state="ready_for_jury") for _ in range(rows)))
    for submission in submissions:
        decision_record(submission=submission, by=jury.president, kind=DecisionKind.AWARDED)
    client = client_for(jury.president)
    client.get(SESSIONS)
    # No count since the cursor pagination (issue 20): one query fewer.
    with django_assert_num_queries(7):
        assert len(client.get(session_url("submissions", jury.session)).json()["results"]) == rows


# -- Operations: convene, deliberate, decide, close -------------------------------------------------------------


def test_the_jury_body_convenes_the_members(client_for, jury, ready, mailoutbox, django_capture_on_commit_callbacks):
    submit(jury, ready)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client_for(jury.admin), session_url("convene", jury.session))
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "convened"
    assert sorted(mail.to[0] for mail in mailoutbox) == sorted(m.user.email for m in jury.members)
    assert ready.reference in mailoutbox[0].body


def test_a_juror_may_not_convene_and_a_session_is_convened_once(client_for, jury):
    assert post(client_for(jury.president), session_url("convene", jury.session)).status_code == 403
    client = client_for(jury.admin)
    assert post(client, session_url("convene", jury.session)).status_code == 200
    again = post(client, session_url("convene", jury.session))
    assert again.status_code == 409
    assert again.json() == {
        "code": "jury_refused",
        "message": "Cette étape n'est pas possible pour une session « Convoquée ».",
    }


def attendance(jury, employer: str = "present", employee: str = "present") -> dict:
    return {
        "attendance": [
            {"member": jury.employer.pk, "attendance": employer},
            {"member": jury.employee.pk, "attendance": employee},
        ]
    }


def test_the_president_opens_the_deliberation_with_the_attendance_and_another_juror_may_not(client_for, jury):
    post(client_for(jury.admin), session_url("convene", jury.session))
    jury.session = session_day(jury.session)
    employee = client_for(jury.member_membership(jury.employee))
    assert post(employee, session_url("deliberate", jury.session), attendance(jury)).status_code == 403
    response = post(client_for(jury.president), session_url("deliberate", jury.session), attendance(jury))
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "deliberating"
    assert [(seat["member"], seat["attendance"], seat["attendance_label"]) for seat in response.json()["seats"]] == [
        (jury.employer.pk, "present", "Présence"),
        (jury.employee.pk, "present", "Présence"),
    ]


def test_the_deliberation_does_not_open_before_the_session_day(client_for, jury):
    post(client_for(jury.admin), session_url("convene", jury.session))
    response = post(client_for(jury.president), session_url("deliberate", jury.session), attendance(jury))
    assert response.status_code == 409
    assert response.json()["message"].startswith("La délibération ne peut pas s'ouvrir avant le jour de la session")


def test_the_attendance_is_required_to_open_the_deliberation(client_for, jury):
    post(client_for(jury.admin), session_url("convene", jury.session))
    jury.session = session_day(jury.session)
    response = post(client_for(jury.president), session_url("deliberate", jury.session))
    assert response.status_code == 400
    assert "attendance" in response.content.decode()


def test_the_quorum_problems_are_the_409_explanation(client_for, jury):
    post(client_for(jury.admin), session_url("convene", jury.session))
    jury.session = session_day(jury.session)
    body = attendance(jury, employee="excused")
    response = post(client_for(jury.president), session_url("deliberate", jury.session), body)
    assert response.status_code == 409
    assert response.json()["code"] == "jury_refused"
    assert response.json()["message"] == "Aucun membre du collège salariés n'est présent."


def _decide(client, session: JurySession, **data):
    return post(client, session_url("decisions", session), data)


def test_the_president_records_an_award_and_the_dossier_is_certified(client_for, jury, ready):
    [submission] = deliberating(jury, ready)
    response = _decide(client_for(jury.president), jury.session, submission=submission.pk, kind="awarded")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["submission"], body["dossier"], body["kind"]) == (submission.pk, ready.pk, "awarded")
    assert body["kind_label"] == "Certification délivrée"
    assert body["certificate"] is None
    assert state_of(ready) == DossierState.CERTIFIED


def test_a_deferral_names_the_domains_to_acquire_again(client_for, jury, ready):
    [submission] = deliberating(jury, ready)
    response = _decide(
        client_for(jury.president),
        jury.session,
        submission=submission.pk,
        kind="deferred",
        reason="Calcul à consolider",
        missing_domains=["2"],
    )
    assert response.status_code == 201, response.content
    assert response.json()["missing_domains"] == ["2"]
    assert state_of(ready) == DossierState.PARTIALLY_VALIDATED


def test_an_award_naming_domains_is_refused_on_the_domains(client_for, jury, ready):
    [submission] = deliberating(jury, ready)
    response = _decide(
        client_for(jury.president), jury.session, submission=submission.pk, kind="awarded", missing_domains=["2"]
    )
    assert response.status_code == 400
    assert "Une certification délivrée ne laisse aucun domaine à acquérir" in response.content.decode()
    assert "missing_domains" in response.content.decode()
    assert not Decision.objects.exists()


def test_only_a_member_of_the_session_decides(client_for, make_member, org_a, jury, ready):
    [submission] = deliberating(jury, ready)
    employee = client_for(jury.member_membership(jury.employee))
    for client in (client_for(jury.admin), client_for(make_certifpro()), employee):
        assert _decide(client, jury.session, submission=submission.pk, kind="awarded").status_code == 403
    # A counsellor does not even see the session.
    counsellor = client_for(make_member(org_a, role=Role.COUNSELLOR))
    assert _decide(counsellor, jury.session, submission=submission.pk, kind="awarded").status_code == 403
    assert not Decision.objects.exists()


def test_a_decision_with_bad_input_names_the_fields(client_for, jury, ready):
    [submission] = deliberating(jury, ready)
    client = client_for(jury.president)
    response = _decide(client, jury.session, kind="maybe", missing_domains="2")
    assert response.status_code == 400
    errors = {error["field"]: error["message"] for error in response.json()["errors"]}
    assert set(errors) == {"submission", "kind", "missing_domains"}
    assert errors["submission"] == "Ce champ est obligatoire."
    assert "n'est pas un choix valide" in errors["kind"]

    elsewhere = submit(make_jury(), DossierFactory(state="ready_for_jury"))
    response = _decide(client, jury.session, submission=elsewhere.pk, kind="awarded")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "field": "submission",
            "code": "does_not_exist",
            "message": "Aucun dossier de cette session ne porte cet identifiant.",
        }
    ]
    assert state_of(ready) == DossierState.SUBMITTED_TO_JURY


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"kind": "refused"}, "reason", "Motivez la décision."),
        (
            {"kind": "deferred", "reason": "Calcul", "missing_domains": ["9"]},
            "missing_domains",
            "Indiquez les domaines",
        ),
    ],
)
def test_a_decision_without_its_reason_or_with_unknown_domains_is_a_400_on_the_field(
    data, field, message, client_for, jury, ready
):
    """Input the jury's rules refuse is a 400 on its field (issue 20), not a 409: nothing is in conflict."""
    [submission] = deliberating(jury, ready)
    response = _decide(client_for(jury.president), jury.session, submission=submission.pk, **data)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["field"], error["code"]) == (field, "jury_refused")
    assert message in error["message"]
    assert state_of(ready) == DossierState.SUBMITTED_TO_JURY


def test_a_decision_is_taken_during_the_deliberation_and_once(client_for, jury, ready):
    submission = submit(jury, ready)
    client = client_for(jury.president)
    early = _decide(client, jury.session, submission=submission.pk, kind="awarded")
    assert early.status_code == 409
    assert early.json()["message"] == "Les décisions se prennent pendant la délibération."
    post(client_for(jury.admin), session_url("convene", jury.session))
    jury.session = session_day(jury.session)
    post(client, session_url("deliberate", jury.session), attendance(jury))
    assert _decide(client, jury.session, submission=submission.pk, kind="awarded").status_code == 201
    again = _decide(client, jury.session, submission=submission.pk, kind="refused", reason="Non")
    assert again.status_code == 409
    assert again.json()["message"] == "Une décision est déjà enregistrée pour ce dossier."


def test_a_president_linked_to_the_dossier_gives_way_to_another_member(client_for, jury, ready):
    [submission] = deliberating(jury, ready)
    conflict_declare(submission=submission, by=jury.president, statement="J'ai formé ce candidat.")
    refused = _decide(client_for(jury.president), jury.session, submission=submission.pk, kind="awarded")
    assert refused.status_code == 409
    assert "lien avec ce dossier" in refused.json()["message"]
    employee = client_for(jury.member_membership(jury.employee))
    assert _decide(employee, jury.session, submission=submission.pk, kind="awarded").status_code == 201


def test_closing_produces_the_minutes_and_the_certificates(client_for, jury, ready, django_capture_on_commit_callbacks):
    [submission] = deliberating(jury, ready)
    client = client_for(jury.president)
    assert client.get(session_url("minutes", jury.session)).status_code == 404
    undecided = post(client, session_url("close", jury.session))
    assert undecided.status_code == 409
    assert undecided.json()["message"] == "Chaque dossier doit avoir sa décision avant la clôture."

    _decide(client, jury.session, submission=submission.pk, kind="awarded")
    employee = client_for(jury.member_membership(jury.employee))
    assert post(employee, session_url("close", jury.session)).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        closed = post(client, session_url("close", jury.session))
    assert closed.status_code == 200, closed.content
    assert closed.json()["state"] == "closed"

    detail = client.get(session_url("detail", jury.session)).json()
    assert detail["minutes"]["number"].startswith("PV-")
    minutes = client.get(session_url("minutes", jury.session))
    assert minutes["Content-Type"] == "application/pdf"
    assert b"".join(minutes.streaming_content).startswith(b"%PDF")
    certificate = Certificate.objects.get(dossier=ready)
    assert client.get(DECISIONS).json()["results"][0]["certificate"] == certificate.pk


def test_the_minutes_are_not_there_before_the_close(client_for, jury):
    response = client_for(jury.admin).get(session_url("minutes", jury.session))
    assert response.status_code == 404
    assert response.json()["message"] == "Le procès-verbal de cette session n'est pas encore produit."


# -- Decisions ------------------------------------------------------------------------------------------------


def _refused(jury, dossier):
    [submission] = deliberating(jury, dossier)
    return decision_record(submission=submission, by=jury.president, kind=DecisionKind.REFUSED, reason="Motif")


def test_the_evaluator_organisation_reads_the_decisions_on_its_dossiers(client_for, org_a, org_b, jury):
    mine = DossierFactory(organisation=org_a, state="ready_for_jury")
    theirs = DossierFactory(organisation=org_b, state="ready_for_jury")
    first, second = deliberating(jury, mine, theirs)
    decision = decision_record(submission=first, by=jury.president, kind=DecisionKind.REFUSED, reason="Motif")
    decision_record(submission=second, by=jury.president, kind=DecisionKind.AWARDED)

    client = client_for(mine.team.counsellor)
    body = client.get(DECISIONS).json()
    assert [(d["id"], d["dossier_reference"], d["reason"]) for d in body["results"]] == [
        (decision.pk, mine.reference, "Motif")
    ]
    other = Decision.objects.exclude(pk=decision.pk).get()
    assert client.get(reverse("api:decision-detail", kwargs={"pk": other.pk})).status_code == 404
    # The jury sees both, and filters by session or dossier.
    president = client_for(jury.president)
    assert len(president.get(DECISIONS, {"session": jury.session.pk}).json()["results"]) == 2
    assert len(president.get(DECISIONS, {"session": make_jury().session.pk}).json()["results"]) == 0
    assert [d["id"] for d in president.get(DECISIONS, {"dossier": mine.pk}).json()["results"]] == [decision.pk]


def test_a_bad_decision_filter_names_the_field(client_for, jury):
    response = client_for(jury.president).get(DECISIONS, {"session": "demain"})
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["session"]


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.COUNSELLOR, 200),
        (Role.EVALUATOR, 200),
        (Role.ORG_ADMIN, 200),
        (Role.JURY_MEMBER, 200),
        (Role.CERTIFPRO_ADMIN, 200),
        (Role.TRAINER, 403),
        (Role.FT_ADVISOR, 403),
    ],
)
def test_the_decision_list_by_role(role, status, client_for, make_member, org_a):
    organisation = None if role == Role.CERTIFPRO_ADMIN else org_a
    assert client_for(make_member(organisation, role=role)).get(DECISIONS).status_code == status


@pytest.mark.parametrize("rows", [2, 5])
def test_the_decision_list_costs_the_same_queries_whatever_the_rows(rows, client_for, django_assert_num_queries):
    jury = make_jury()
    submissions = deliberating(jury, *(DossierFactory(state="ready_for_jury") for _ in range(rows)))
    for submission in submissions:
        decision_record(submission=submission, by=jury.president, kind=DecisionKind.AWARDED)
    close(jury)
    client = client_for(jury.president)
    client.get(DECISIONS)
    # No count since the cursor pagination (issue 20): one query fewer.
    with django_assert_num_queries(4):
        assert len(client.get(DECISIONS).json()["results"]) == rows


def test_certifpro_revokes_a_decision_and_its_certificate(client_for):
    jury, submission, certificate = certified()
    decision = submission.decision
    response = post(
        client_for(make_certifpro()),
        reverse("api:decision-revoke", kwargs={"pk": decision.pk}),
        {"reason": "Fraude à l'évaluation"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["revoked_at"] is not None
    assert response.json()["revocation_reason"] == "Fraude à l'évaluation"
    certificate.refresh_from_db()
    assert certificate.is_revoked
    assert state_of(submission.dossier) == DossierState.READY_FOR_JURY


def test_only_certifpro_revokes_with_a_reason_and_once(client_for, jury, ready):
    decision = _refused(jury, ready)
    address = reverse("api:decision-revoke", kwargs={"pk": decision.pk})
    for membership in (ready.team.counsellor, jury.president):
        assert post(client_for(membership), address, {"reason": "Non"}).status_code == 403
    certifpro = client_for(make_certifpro())
    blank = post(certifpro, address, {"reason": " "})
    assert blank.status_code == 400
    assert blank.json()["errors"][0]["field"] == "reason"
    assert post(certifpro, address, {"reason": "Erreur de saisie"}).status_code == 200
    again = post(certifpro, address, {"reason": "Encore"})
    assert again.status_code == 409
    assert again.json()["message"] == "Cette décision est déjà révoquée."


def test_a_decision_of_another_organisation_cannot_be_revoked_by_its_neighbour(client_for, make_member, org_a, jury):
    decision = _refused(jury, DossierFactory(state="ready_for_jury"))
    response = post(
        client_for(make_member(org_a, role=Role.COUNSELLOR)),
        reverse("api:decision-revoke", kwargs={"pk": decision.pk}),
        {"reason": "x"},
    )
    assert response.status_code == 404
    assert not Decision.objects.get(pk=decision.pk).is_revoked


# -- Certificates ---------------------------------------------------------------------------------------------


def test_the_evaluator_organisation_lists_and_downloads_its_certificates(
    settings, client_for, make_member, org_a, org_b
):
    # The public address the platform is served at (SITE_URL), whatever address the API was called at.
    settings.SITE_URL = "https://clea.example.fr"
    _jury, submission, certificate = certified(organisation=org_a)
    certified(organisation=org_b)
    client = client_for(submission.dossier.team.counsellor)
    [listed] = client.get(CERTIFICATES).json()["results"]
    assert listed["id"] == certificate.pk
    assert listed["number"] == certificate.number
    assert listed["verification_url"] == f"https://clea.example.fr/verifier/{certificate.verification_code}/"
    download = client.get(reverse("api:certificate-download", kwargs={"pk": certificate.pk}))
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content).startswith(b"%PDF")

    outsider = client_for(make_member(org_b, role=Role.COUNSELLOR))
    assert certificate.pk not in [c["id"] for c in outsider.get(CERTIFICATES).json()["results"]]
    assert outsider.get(reverse("api:certificate-detail", kwargs={"pk": certificate.pk})).status_code == 404
    assert outsider.get(reverse("api:certificate-download", kwargs={"pk": certificate.pk})).status_code == 404


def test_the_jury_body_and_the_jurors_see_the_certificates_of_their_sessions(client_for):
    jury, _submission, certificate = certified()
    _other_jury, _other, elsewhere = certified()
    for membership in (jury.admin, jury.member_membership(jury.employee)):
        assert [c["id"] for c in client_for(membership).get(CERTIFICATES).json()["results"]] == [certificate.pk]
    listed = {c["id"] for c in client_for(make_certifpro()).get(CERTIFICATES).json()["results"]}
    assert listed == {certificate.pk, elsewhere.pk}


def test_a_trainer_sees_no_certificate(client_for, make_member, org_a):
    certified(organisation=org_a)
    assert len(client_for(make_member(org_a, role=Role.TRAINER)).get(CERTIFICATES).json()["results"]) == 0


@pytest.mark.parametrize("rows", [2, 5])
def test_the_certificate_list_costs_the_same_queries_whatever_the_rows(
    rows, client_for, org_a, django_assert_num_queries
):
    for _ in range(rows):
        _jury, submission, _certificate = certified(organisation=org_a)
    client = client_for(submission.dossier.team.counsellor)
    client.get(CERTIFICATES)
    # No count since the cursor pagination (issue 20): one query fewer.
    with django_assert_num_queries(4):
        assert len(client.get(CERTIFICATES).json()["results"]) == rows
