import datetime
import html
import io
import re
from collections.abc import Iterator

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from openpyxl import load_workbook

from candidates.models import Dossier, DossierState
from clea_platform.certifications import Certification
from journey.forms import previous_month
from juries.models import (
    Certificate,
    College,
    ConflictDeclaration,
    Decision,
    DecisionKind,
    JurySession,
    SessionSeat,
    SessionState,
)
from juries.services import (
    conflict_declare,
    decision_record,
    jury_session_convene,
    jury_session_set_seats,
    minutes_generate,
)
from organisations.models import Region, Role
from tests.clients import page_text, verified_login
from tests.factories import MembershipFactory, OrganisationFactory
from tests.journey import DossierFactory, SharedDossier
from tests.juries.factories import (
    certified,
    close,
    deliberating,
    jury_member,
    make_certifpro,
    make_jury,
    session_day,
    submit,
)
from tests.shared import shared_rows

pytestmark = pytest.mark.django_db


EXPORT_URL = reverse_lazy("journey:certified_export")


def url(name: str, **kwargs) -> str:
    return reverse(f"juries:{name}", kwargs=kwargs)


def queries_for(client, address: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(address).status_code == 200
    return len(captured)


def fresh(dossier: Dossier) -> Dossier:
    return Dossier.objects.get(pk=dossier.pk)


@pytest.fixture
def jury():
    return make_jury()


@pytest.fixture(scope="module")
def shared_ready(django_db_setup, django_db_blocker) -> Iterator[SharedDossier]:
    """The ready dossier 30 tests submit, decide on or read, walked once for the module (tests/shared.py): what a
    test does with it (a submission, a decision) is rolled back before the next test."""
    with shared_rows(django_db_blocker):
        yield SharedDossier.of(DossierFactory(state="ready_for_jury"))


@pytest.fixture
def ready(shared_ready: SharedDossier) -> Dossier:
    return shared_ready.read()


# -- 1. Submission by the counsellor -------------------------------------------------------------------------


def test_the_dossier_page_of_a_ready_dossier_offers_the_submission(client_for, ready):
    response = client_for(ready.team.counsellor).get(reverse("journey:dossier_detail", kwargs={"pk": ready.pk}))
    assert response.status_code == 200
    assert url("submit", dossier_pk=ready.pk) in response.content.decode()


def test_the_counsellor_sees_the_open_sessions_of_the_region_and_certification(client_for, ready, jury):
    full = make_jury(capacity=1)
    submit(full, DossierFactory(state="ready_for_jury"))
    elsewhere = make_jury(region=Region.BRETAGNE)
    past = make_jury(days_ahead=-2)
    other_certification = make_jury()
    other_certification.session.certification = Certification.CLEA_NUMERIQUE
    other_certification.session.save(update_fields=["certification"])
    response = client_for(ready.team.counsellor).get(url("submit", dossier_pk=ready.pk))
    assert response.status_code == 200
    page = page_text(response)
    assert f'value="{jury.session.pk}"' in page
    assert "30 places" in page
    assert f'value="{full.session.pk}" id="session-{full.session.pk}" disabled' in page
    assert "Complète" in page
    for hidden in (elsewhere, past, other_certification):
        assert f'value="{hidden.session.pk}"' not in page


def test_the_counsellor_submits_the_dossier_and_returns_to_it(client_for, ready, jury):
    response = client_for(ready.team.counsellor).post(
        url("submit", dossier_pk=ready.pk), {"session": jury.session.pk}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("journey:dossier_detail", kwargs={"pk": ready.pk})
    assert "est soumis au jury du" in page_text(response)
    dossier = fresh(ready)
    assert dossier.state == DossierState.SUBMITTED_TO_JURY
    assert dossier.submissions.get().session == jury.session


def test_a_refused_submission_is_explained_and_keeps_the_choice(client_for, ready):
    full = make_jury(capacity=1)
    submit(full, DossierFactory(state="ready_for_jury"))
    response = client_for(ready.team.counsellor).post(url("submit", dossier_pk=ready.pk), {"session": full.session.pk})
    assert response.status_code == 200
    page = page_text(response)
    assert "Cette session est complète" in page
    assert f'value="{full.session.pk}" id="session-{full.session.pk}" checked' in page
    assert fresh(ready).state == DossierState.READY_FOR_JURY


def test_a_submission_without_a_session_asks_for_one(client_for, ready, jury):
    response = client_for(ready.team.counsellor).post(url("submit", dossier_pk=ready.pk), {})
    assert response.status_code == 200
    assert "Choisissez une session." in page_text(response)
    assert fresh(ready).state == DossierState.READY_FOR_JURY


def test_a_dossier_not_ready_cannot_be_submitted(client_for, jury):
    dossier = DossierFactory(state="opened")
    response = client_for(dossier.team.counsellor).get(url("submit", dossier_pk=dossier.pk))
    assert response.status_code == 200
    assert "seul un dossier prêt pour le jury" in page_text(response)
    assert 'name="session"' not in response.content.decode()


def test_an_evaluator_may_not_submit(client_for, ready, jury):
    response = client_for(ready.team.evaluator).post(url("submit", dossier_pk=ready.pk), {"session": jury.session.pk})
    assert response.status_code == 403
    assert fresh(ready).state == DossierState.READY_FOR_JURY


def test_a_counsellor_of_another_organisation_gets_404(client_for, make_member, org_a, ready, jury):
    response = client_for(make_member(org_a, role=Role.COUNSELLOR)).get(url("submit", dossier_pk=ready.pk))
    assert response.status_code == 404


# -- 2. Sessions: list, creation, page, composition, steps ---------------------------------------------------


def test_the_jury_body_lists_its_own_sessions_only(client_for, jury):
    other = make_jury()
    response = client_for(jury.admin).get(url("session_list"))
    assert response.status_code == 200
    page = response.content.decode()
    assert url("session_detail", pk=jury.session.pk) in page
    assert url("session_detail", pk=other.session.pk) not in page
    assert url("session_create") in page


def test_a_jury_member_lists_the_sessions_they_sit_on(client_for, jury):
    same_body_without_them = make_jury(body=jury.body)
    response = client_for(jury.president).get(url("session_list"))
    page = page_text(response)
    assert "Mes sessions de jury" in page
    assert url("session_detail", pk=jury.session.pk) in page
    assert "Vous présidez" in page
    assert url("session_detail", pk=same_body_without_them.session.pk) not in page
    assert url("session_create") not in page
    assert url("my_conflicts") in page


def test_certifpro_lists_every_session_and_may_export(client_for, jury):
    other = make_jury()
    page = client_for(make_certifpro()).get(url("session_list")).content.decode()
    assert url("session_detail", pk=jury.session.pk) in page
    assert url("session_detail", pk=other.session.pk) in page
    assert str(EXPORT_URL) in page


def test_a_counsellor_has_no_session_list(client_for, ready):
    assert client_for(ready.team.counsellor).get(url("session_list")).status_code == 403


def test_the_session_list_takes_as_many_queries_for_one_session_as_for_five(client_for):
    jury = make_jury()
    submit(jury, DossierFactory(state="ready_for_jury"))
    juror = client_for(jury.president)
    admin = client_for(jury.admin)
    one = (queries_for(juror, url("session_list")), queries_for(admin, url("session_list")))
    for _ in range(4):
        more = make_jury(body=jury.body)
        jury_session_set_seats(
            session=more.session, by=jury.admin, member_ids=[jury.employer.pk, jury.employee.pk], president_id=None
        )
        submit(more, DossierFactory(state="ready_for_jury"))
    assert JurySession.objects.filter(seats__member=jury.employer).count() == 5
    assert (queries_for(juror, url("session_list")), queries_for(admin, url("session_list"))) == one


def test_the_jury_body_creates_a_session(client_for, jury):
    when = timezone.localtime() + datetime.timedelta(days=30)
    response = client_for(jury.admin).post(
        url("session_create"),
        {
            "region": Region.HAUTS_DE_FRANCE,
            "certification": Certification.CLEA,
            "date": when.strftime("%Y-%m-%dT%H:%M"),
            "place": "Transitions Pro, 10 rue de Lille, salle 2",
            "capacity": "12",
        },
    )
    session = JurySession.objects.exclude(pk=jury.session.pk).get()
    assert response.status_code == 302
    assert response["Location"] == url("session_seats", pk=session.pk)
    assert session.organisation == jury.body
    assert session.capacity == 12
    assert session.state == SessionState.PLANNED


def test_a_session_needs_a_place_unless_online_and_a_future_date(client_for, jury):
    past = timezone.localtime() - datetime.timedelta(days=1)
    response = client_for(jury.admin).post(
        url("session_create"),
        {"region": "32", "certification": "clea", "date": past.strftime("%Y-%m-%dT%H:%M"), "capacity": "10"},
    )
    assert response.status_code == 200
    page = page_text(response)
    assert "Indiquez le lieu, ou cochez « à distance »." in page
    assert "La session doit avoir lieu dans le futur." in page
    assert JurySession.objects.count() == 1


def test_certifpro_creates_a_session_for_a_jury_body(client_for, jury):
    when = timezone.localtime() + datetime.timedelta(days=20)
    response = client_for(make_certifpro()).post(
        url("session_create"),
        {
            "organisation": jury.body.pk,
            "region": "32",
            "certification": "clea",
            "date": when.strftime("%Y-%m-%dT%H:%M"),
            "is_online": "on",
            "capacity": "20",
        },
    )
    assert response.status_code == 302
    session = JurySession.objects.exclude(pk=jury.session.pk).get()
    assert session.organisation == jury.body
    assert session.is_online


def test_only_jury_bodies_and_certifpro_create_sessions(client_for, make_member, org_a, jury):
    assert client_for(make_member(org_a, role=Role.ORG_ADMIN)).get(url("session_create")).status_code == 403
    assert client_for(jury.president).get(url("session_create")).status_code == 403
    assert client_for(jury.admin).get(url("session_create")).status_code == 200


def test_the_session_page_shows_the_composition_quorum_and_dossiers(client_for, jury, ready):
    submit(jury, ready)
    jury_session_set_seats(
        session=jury.session, by=jury.admin, member_ids=[jury.employer.pk, jury.employee.pk], president_id=None
    )
    response = client_for(jury.admin).get(url("session_detail", pk=jury.session.pk))
    assert response.status_code == 200
    page = page_text(response)
    assert jury.employer.user.get_full_name() in page
    assert "Collège employeurs" in page and "Collège salariés" in page
    assert "Désignez la présidence du jury." in page
    assert ready.candidate.full_name in page
    assert "1 dossier soumis sur 30 possibles" in page
    assert "29 places restantes" in page
    assert url("session_convene", pk=jury.session.pk) in page
    assert url("session_seats", pk=jury.session.pk) in page
    # The organiser reads the list; the jurors examine the dossiers.
    assert url("review", pk=ready.submissions.get().pk) not in page


def test_a_juror_sees_the_dossiers_to_examine_but_not_the_organiser_actions(client_for, jury, ready):
    submission = submit(jury, ready)
    page = page_text(client_for(jury.member_membership(jury.employee)).get(url("session_detail", pk=jury.session.pk)))
    assert url("review", pk=submission.pk) in page
    assert url("session_convene", pk=jury.session.pk) not in page
    assert url("session_seats", pk=jury.session.pk) not in page


def test_a_juror_of_another_session_gets_404_on_the_session(client_for, jury):
    other = make_jury()
    assert client_for(other.president).get(url("session_detail", pk=jury.session.pk)).status_code == 404


def test_the_session_page_takes_as_many_queries_for_one_dossier_as_for_five(client_for):
    jury = make_jury()
    submissions = deliberating(jury, DossierFactory(state="ready_for_jury"))
    decision_record(submission=submissions[0], by=jury.president, kind=DecisionKind.AWARDED)
    address = url("session_detail", pk=jury.session.pk)
    clients = [client_for(jury.president), client_for(jury.admin), client_for(make_certifpro())]
    one = [queries_for(client, address) for client in clients]

    bigger = make_jury()
    submissions = deliberating(bigger, *(DossierFactory(state="ready_for_jury") for _ in range(5)))
    decision_record(submission=submissions[0], by=bigger.president, kind=DecisionKind.AWARDED)
    address = url("session_detail", pk=bigger.session.pk)
    clients = [client_for(bigger.president), client_for(bigger.admin), clients[2]]
    assert [queries_for(client, address) for client in clients] == one


def test_the_session_page_counts_every_decision_and_filters_and_searches_its_dossiers(client_for, monkeypatch):
    # Issue 22: a session of 200 dossiers is shown a page at a time; the counts on top leave none out of sight.
    monkeypatch.setattr("juries.views.SESSION_PAGE_SIZE", 2)
    jury = make_jury()
    dossiers = [DossierFactory(state="ready_for_jury") for _ in range(3)]
    submissions = deliberating(jury, *dossiers)
    decision_record(
        submission=submissions[0], by=jury.president, kind=DecisionKind.REFUSED, reason="Dossier incomplet."
    )
    client = client_for(jury.president)
    address = url("session_detail", pk=jury.session.pk)

    first = client.get(address).content.decode()
    assert "Dossiers de la session, par décision : Tous (3) En attente de décision (2)" in page_text_of(first)
    assert "Refus (1)" in page_text_of(first) and "Ajournement (" not in page_text_of(first)
    assert "Page 1 sur 2" in page_text_of(first)
    assert url("review", pk=submissions[0].pk) in first and url("review", pk=submissions[2].pk) not in first
    second = client.get(address, {"page": 2}).content.decode()
    assert url("review", pk=submissions[2].pk) in second

    pending = client.get(address, {"decision": "pending"}).content.decode()
    assert url("review", pk=submissions[0].pk) not in pending
    assert "2 dossiers correspondent." in page_text_of(pending)
    # Only the president's undecided rows offer the decision.
    assert page_text_of(pending).count("Examiner et décider") == 2

    target = dossiers[2]
    name = f"{target.candidate.first_name} {target.candidate.last_name}"
    found = client.get(address, {"q": name}).content.decode()
    assert url("review", pk=submissions[2].pk) in found
    assert url("review", pk=submissions[0].pk) not in found and url("review", pk=submissions[1].pk) not in found
    # The counts are those of the search, as the links that keep it show, and the page says so.
    assert (
        f"Dossiers qui correspondent à « {name} », par décision : Tous (1) En attente de décision (1) Nom ou"
        in page_text_of(found)
    )
    by_reference = client.get(address, {"q": target.reference, "decision": "refused"}).content.decode()
    assert "Aucun dossier de la session ne correspond." in page_text_of(by_reference)


def page_text_of(content: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", content)).split())


def test_the_session_page_takes_as_many_queries_filtered_searched_or_paged(client_for, monkeypatch):
    monkeypatch.setattr("juries.views.SESSION_PAGE_SIZE", 2)
    jury = make_jury()
    submissions = deliberating(jury, *(DossierFactory(state="ready_for_jury") for _ in range(3)))
    decision_record(submission=submissions[0], by=jury.president, kind=DecisionKind.AWARDED)
    address = url("session_detail", pk=jury.session.pk)
    client = client_for(jury.president)
    plain = queries_for(client, address)
    assert queries_for(client, address + "?page=2") == plain
    assert queries_for(client, address + "?decision=pending") == plain
    # A search counts its own buckets: one more grouped query, whatever it finds.
    assert queries_for(client, address + "?decision=pending&q=a") == plain + 1
    # One that finds nothing reads no row: the count it knows spares the rows' query.
    assert queries_for(client, address + "?q=zzz") == plain


def test_the_pager_counts_nothing_again(client_for, monkeypatch):
    # The tally gives the paginator its count (finding 4): no SELECT COUNT on the page.
    monkeypatch.setattr("juries.views.SESSION_PAGE_SIZE", 2)
    jury = make_jury()
    deliberating(jury, *(DossierFactory(state="ready_for_jury") for _ in range(3)))
    client = client_for(jury.president)
    with CaptureQueriesContext(connection) as captured:
        page = client.get(url("session_detail", pk=jury.session.pk), {"q": "Nom", "page": 2})
    assert "Page 2 sur 2" in page_text_of(page.content.decode())
    counted = [q["sql"] for q in captured if q["sql"].startswith("SELECT COUNT(*)") and "juries_submission" in q["sql"]]
    assert not counted


def test_after_a_decision_the_president_lands_on_the_pending_dossiers_within_the_search(client_for, monkeypatch):
    # A paged session's first page may hold only decided dossiers: the decision leads to those still waiting.
    monkeypatch.setattr("juries.views.SESSION_PAGE_SIZE", 1)
    jury = make_jury()
    lea, helene, paul = (
        DossierFactory(state="ready_for_jury", first_name=first, last_name=last)
        for first, last in [("Léa", "Martin"), ("Hélène", "Martin"), ("Paul", "Durand")]
    )
    submissions = deliberating(jury, lea, helene, paul)
    client = client_for(jury.president)
    address = url("session_detail", pk=jury.session.pk)
    # The row's link carries the search to the review page, whose way back and decision form keep it.
    listed = client.get(address, {"q": "martin"}).content.decode()
    review_address = url("review", pk=submissions[0].pk) + "?q=martin"
    assert f'href="{review_address.replace("&", "&amp;")}"' in listed
    review = client.get(review_address).content.decode()
    assert f'action="{url("decide", pk=submissions[0].pk)}?q=martin"' in review
    assert f'href="{address}?q=martin"' in review

    decided = client.post(url("decide", pk=submissions[0].pk) + "?q=martin", {"decision-kind": "awarded"})
    assert decided["Location"] == f"{address}?q=martin&decision=pending"
    landed = client.get(decided["Location"]).content.decode()
    assert [pk for pk in (s.pk for s in submissions) if url("review", pk=pk) in landed] == [submissions[1].pk]
    # No dossier of the search waits any more: the others that do.
    decided = client.post(url("decide", pk=submissions[1].pk) + "?q=martin", {"decision-kind": "awarded"})
    assert decided["Location"] == f"{address}?decision=pending"
    assert url("review", pk=submissions[2].pk) in client.get(decided["Location"]).content.decode()
    decided = client.post(url("decide", pk=submissions[2].pk), {"decision-kind": "awarded"})
    assert decided["Location"] == address


def test_the_session_search_ignores_accents_and_case(client_for):
    jury = make_jury()
    lea, helene = (
        DossierFactory(state="ready_for_jury", first_name=first, last_name=last)
        for first, last in [("Léa", "Lefèvre"), ("Hélène", "Dupont-Aubé")]
    )
    submissions = deliberating(jury, lea, helene)
    client = client_for(jury.president)
    address = url("session_detail", pk=jury.session.pk)
    for text, found, not_found in [
        ("lea lefevre", submissions[0], submissions[1]),
        ("HELENE", submissions[1], submissions[0]),
        ("aube", submissions[1], submissions[0]),
        ("Léa", submissions[0], submissions[1]),
    ]:
        page = client.get(address, {"q": text}).content.decode()
        assert url("review", pk=found.pk) in page, text
        assert url("review", pk=not_found.pk) not in page, text


def test_a_search_too_long_is_explained_and_keeps_the_decision_filter(client_for, monkeypatch):
    jury = make_jury()
    submissions = deliberating(jury, *(DossierFactory(state="ready_for_jury") for _ in range(2)))
    decision_record(submission=submissions[0], by=jury.president, kind=DecisionKind.AWARDED)
    page = client_for(jury.president).get(
        url("session_detail", pk=jury.session.pk), {"q": "x" * 101, "decision": "pending"}
    )
    content = page.content.decode()
    assert "La recherche est trop longue : 100 caractères au plus." in page_text_of(content)
    assert '<a href="?decision=pending" aria-current="true">' in content
    assert url("review", pk=submissions[1].pk) in content and url("review", pk=submissions[0].pk) not in content


def test_a_forged_decision_filter_shows_every_dossier_without_an_error(client_for):
    jury = make_jury()
    [submission] = deliberating(jury, DossierFactory(state="ready_for_jury"))
    content = client_for(jury.president).get(url("session_detail", pk=jury.session.pk), {"decision": "forged"})
    content = content.content.decode()
    assert "error-summary" not in content and 'aria-invalid="true"' not in content
    assert url("review", pk=submission.pk) in content


def test_the_selected_decision_filter_is_marked_even_when_empty(client_for):
    jury = make_jury()
    [submission] = deliberating(jury, DossierFactory(state="ready_for_jury"))
    content = client_for(jury.president).get(url("session_detail", pk=jury.session.pk), {"decision": "deferred"})
    content = content.content.decode()
    assert '<a href="?decision=deferred" aria-current="true">Ajournement (0)</a>' in content
    assert '<a href="?decision=refused"' not in content  # the other empty buckets stay out of the way
    assert '<div class="empty-state" role="status"><p>Aucun dossier de la session ne correspond.' in content
    assert 'type="search" name="q"' in content and 'aria-labelledby="buckets-title"' in content
    assert url("review", pk=submission.pk) not in content


def test_a_juror_who_does_not_preside_reads_the_paged_session_counted_once(client_for, monkeypatch):
    monkeypatch.setattr("juries.views.SESSION_PAGE_SIZE", 2)
    jury = make_jury()
    submissions = deliberating(jury, *(DossierFactory(state="ready_for_jury") for _ in range(3)))
    decision_record(submission=submissions[0], by=jury.president, kind=DecisionKind.REFUSED, reason="Incomplet.")
    client = client_for(jury.member_membership(jury.employee))
    address = url("session_detail", pk=jury.session.pk)
    text = page_text_of(client.get(address).content.decode())
    assert "Tous (3) En attente de décision (2) Refus (1)" in text and "Page 1 sur 2" in text
    assert "Examiner et décider" not in text and text.count("Examiner –") == 2
    pending = client.get(address, {"decision": "pending"}).content.decode()
    assert url("review", pk=submissions[0].pk) not in pending and url("review", pk=submissions[2].pk) in pending
    assert "2 dossiers correspondent." in page_text_of(pending)


def test_the_evaluator_organisation_of_a_submitted_dossier_neither_counts_nor_finds_the_session(client_for):
    # Its administrator sees the submission on the dossier, never the jury body's session: nothing to count.
    jury = make_jury()
    [submission] = deliberating(jury, DossierFactory(state="ready_for_jury"))
    evaluator_admin = MembershipFactory(organisation=submission.dossier.organisation, role=Role.ORG_ADMIN)
    client = client_for(evaluator_admin)
    address = url("session_detail", pk=jury.session.pk)
    assert client.get(address).status_code == 404
    assert client.get(address, {"q": submission.dossier.reference, "decision": "pending"}).status_code == 404


def test_the_jury_body_composes_the_jury(client_for, jury):
    second_employer = jury_member(jury.body, College.EMPLOYERS)
    second_employee = jury_member(jury.body, College.EMPLOYEES)
    client = client_for(jury.admin)
    page = page_text(client.get(url("session_seats", pk=jury.session.pk)))
    assert second_employer.user.get_full_name() in page
    members = [jury.employer.pk, jury.employee.pk, second_employer.pk, second_employee.pk]
    response = client.post(
        url("session_seats", pk=jury.session.pk),
        {"members": members, "president": second_employee.pk},
    )
    assert response.status_code == 302
    seats = {seat.member_id: seat for seat in SessionSeat.objects.filter(session=jury.session)}
    assert set(seats) == set(members)
    # Who attends is not known yet: it is recorded on the day, when the deliberation opens.
    assert {seat.attendance for seat in seats.values()} == {""}
    assert 'name="present"' not in page
    assert seats[second_employee.pk].is_president
    assert not seats[jury.employer.pk].is_president


def test_a_president_who_is_not_convened_is_refused_and_the_choice_kept(client_for, jury):
    outsider = jury_member(jury.body, College.EMPLOYERS)
    response = client_for(jury.admin).post(
        url("session_seats", pk=jury.session.pk),
        {"members": [jury.employer.pk], "president": outsider.pk},
    )
    assert response.status_code == 200
    page = page_text(response)
    assert "La présidence revient à l'un des membres convoqués." in page
    assert f'name="president" value="{outsider.pk}" id="president-{outsider.pk}" checked' in page
    assert f'name="members" value="{jury.employer.pk}" id="members-{jury.employer.pk}" checked' in page
    assert f'name="members" value="{jury.employee.pk}" id="members-{jury.employee.pk}">' in page
    assert SessionSeat.objects.get(session=jury.session, member=jury.employer).is_president


def test_jurors_do_not_compose_the_jury(client_for, jury):
    assert client_for(jury.president).get(url("session_seats", pk=jury.session.pk)).status_code == 403


def test_the_composition_is_fixed_once_the_deliberation_opens(client_for, jury):
    deliberating(jury)
    response = client_for(jury.admin).get(url("session_seats", pk=jury.session.pk), follow=True)
    assert "La composition ne change plus" in page_text(response)


def test_the_jury_body_convenes_the_members(client_for, jury, ready, mailoutbox, django_capture_on_commit_callbacks):
    submit(jury, ready)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(jury.admin).post(url("session_convene", pk=jury.session.pk), follow=True)
    assert "Les convocations sont envoyées aux 2 membres du jury." in page_text(response)
    assert JurySession.objects.get(pk=jury.session.pk).state == SessionState.CONVENED
    assert len(mailoutbox) == 2
    assert ready.reference in mailoutbox[0].body


def test_a_juror_may_not_convene(client_for, jury):
    assert client_for(jury.president).post(url("session_convene", pk=jury.session.pk)).status_code == 403
    # A GET (a reloaded page, a pasted link) goes back to the session, which was not convened.
    response = client_for(jury.admin).get(url("session_convene", pk=jury.session.pk))
    assert response.status_code == 302 and response.url == url("session_detail", pk=jury.session.pk)
    assert JurySession.objects.get(pk=jury.session.pk).state == SessionState.PLANNED


def attendance_data(**by_member) -> dict[str, str]:
    return {f"member_{member.pk}": status for member, status in by_member.items()}


def present(*members, **others) -> dict[str, str]:
    return {f"member_{member.pk}": "present" for member in members} | {
        f"member_{pk}": status for pk, status in others.items()
    }


def test_opening_before_the_session_day_is_refused_and_the_attendance_kept(client_for, jury):
    jury_session_convene(session=jury.session, by=jury.admin)
    address = url("session_deliberate", pk=jury.session.pk)
    client = client_for(jury.president)
    day = f"{timezone.localtime(jury.session.date):%d/%m/%Y}"
    assert "La délibération ne peut pas s'ouvrir avant le jour de la session" in page_text(client.get(address))
    response = client.post(address, {f"member_{jury.employer.pk}": "present", f"member_{jury.employee.pk}": "excused"})
    assert response.status_code == 200
    page = page_text(response)
    assert "La délibération n'est pas ouverte" in page
    assert f"La délibération ne peut pas s'ouvrir avant le jour de la session, le {day}." in page
    assert re.search(rf'name="member_{jury.employee.pk}" value="excused"[^>]* checked', page)
    assert JurySession.objects.get(pk=jury.session.pk).state == SessionState.CONVENED


def test_the_quorum_problems_are_the_error_when_opening_the_deliberation(client_for, jury):
    # Both colleges are convened, but the employees' member is absent on the day.
    jury.session = session_day(jury_session_convene(session=jury.session, by=jury.admin))
    response = client_for(jury.president).post(
        url("session_deliberate", pk=jury.session.pk),
        {f"member_{jury.employer.pk}": "present", f"member_{jury.employee.pk}": "absent"},
    )
    assert response.status_code == 200
    assert "Aucun membre du collège salariés n'est présent." in page_text(response)
    assert JurySession.objects.get(pk=jury.session.pk).state == SessionState.CONVENED
    assert set(SessionSeat.objects.filter(session=jury.session).values_list("attendance", flat=True)) == {""}


def test_each_member_attendance_is_required_on_its_field(client_for, jury):
    jury.session = session_day(jury_session_convene(session=jury.session, by=jury.admin))
    response = client_for(jury.president).post(
        url("session_deliberate", pk=jury.session.pk), {f"member_{jury.employer.pk}": "present"}
    )
    page = response.content.decode()
    name = html.escape(jury.employee.user.get_full_name())
    assert f"Indiquez pour {name} : présence, absence ou absence excusée." in html.unescape(page)
    assert (
        f'aria-describedby="id_member_{jury.employee.pk}_errors' in page
        or f"id_member_{jury.employee.pk}_errors" in page
    )
    assert re.search(rf'name="member_{jury.employer.pk}" value="present"[^>]* checked', page)
    assert JurySession.objects.get(pk=jury.session.pk).state == SessionState.CONVENED


def test_the_president_opens_the_deliberation_and_another_juror_may_not(client_for, jury):
    jury.session = session_day(jury_session_convene(session=jury.session, by=jury.admin))
    address = url("session_deliberate", pk=jury.session.pk)
    data = {f"member_{jury.employer.pk}": "present", f"member_{jury.employee.pk}": "present"}
    assert client_for(jury.member_membership(jury.employee)).post(address, data).status_code == 403
    assert client_for(jury.member_membership(jury.employee)).get(address).status_code == 403
    response = client_for(jury.president).post(address, data, follow=True)
    page = page_text(response)
    assert "La délibération est ouverte" in page
    # The session page shows who was there.
    assert 'badge--success">Présence</span>' in page and "Relevée à l'ouverture" not in page


def test_closing_produces_the_documents_offered_on_the_session_page(
    client_for, jury, ready, django_capture_on_commit_callbacks
):
    [submission] = deliberating(jury, ready)
    client = client_for(jury.president)
    refused = client.post(url("session_close", pk=jury.session.pk), follow=True)
    assert "Chaque dossier doit avoir sa décision avant la clôture." in page_text(refused)
    decision_record(submission=submission, by=jury.president, kind=DecisionKind.AWARDED)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("session_close", pk=jury.session.pk))
    page = page_text(client.get(response["Location"]))
    assert "La session est close" in page
    certificate = Certificate.objects.get(dossier=ready)
    assert url("minutes_download", pk=jury.session.pk) in page
    assert url("certificate_download", pk=certificate.pk) in page
    minutes = client.get(url("minutes_download", pk=jury.session.pk))
    assert minutes.status_code == 200
    assert minutes["Content-Type"] == "application/pdf"
    assert "attachment" in minutes["Content-Disposition"]
    assert b"".join(minutes.streaming_content).startswith(b"%PDF")
    for who in (jury.admin, ready.team.counsellor, make_certifpro()):
        download = client_for(who).get(url("certificate_download", pk=certificate.pk))
        assert download.status_code == 200
        assert f'filename="{certificate.filename}"' in download["Content-Disposition"]


def test_documents_still_in_production_are_announced(client_for, jury, ready):
    [submission] = deliberating(jury, ready)
    decision_record(submission=submission, by=jury.president, kind=DecisionKind.AWARDED)
    close(jury)
    page = page_text(client_for(jury.admin).get(url("session_detail", pk=jury.session.pk)))
    assert "Procès-verbal : en cours de production" in page
    assert "1 certificat en cours de production." in page
    assert client_for(jury.admin).get(url("minutes_download", pk=jury.session.pk)).status_code == 404


def test_a_juror_of_another_session_cannot_download_its_documents(client_for):
    jury, submission, certificate = certified()
    minutes_generate(session_id=jury.session.pk)
    other = make_jury()
    stranger = client_for(other.president)
    assert stranger.get(url("minutes_download", pk=jury.session.pk)).status_code == 404
    assert stranger.get(url("certificate_download", pk=certificate.pk)).status_code == 404
    assert client_for(jury.president).get(url("certificate_download", pk=certificate.pk)).status_code == 200


# -- 3. The jurors' review ------------------------------------------------------------------------------------


@pytest.fixture
def trained(django_capture_on_commit_callbacks):
    """A dossier ready after training and a final evaluation, with its attestation produced."""
    with django_capture_on_commit_callbacks(execute=True):
        return DossierFactory(state="ready_for_jury", via_training=True)


def test_a_juror_reads_only_what_the_decision_needs(client_for, jury, trained):
    submission = submit(jury, trained)
    response = client_for(jury.member_membership(jury.employee)).get(url("review", pk=submission.pk))
    assert response.status_code == 200
    page = page_text(response)
    candidate = trained.candidate
    assert candidate.full_name in page
    assert f"{candidate.birth_date:%d/%m/%Y}" in page
    assert "Communication en français" in page and "Calcul" in page
    assert "Domaine validé" in page
    assert "3 sur 4" in page or "4 sur 4" in page
    assert "Évaluation préalable" in page and "Évaluation finale" in page
    assert trained.organisation.name in page
    plan = trained.training_plans.get()
    assert plan.organisation.name in page
    assert "Parcours 1" in page
    attestation = trained.attestations.get()
    assert reverse("evaluations:attestation_download", kwargs={"pk": attestation.pk}) in page
    # No contact data, no timeline, no editing.
    assert candidate.email not in page
    assert candidate.birth_place not in page
    assert "Historique" not in page
    assert f'href="{reverse("journey:dossier_detail", kwargs={"pk": trained.pk})}"' not in page
    assert f'href="{reverse("evaluations:grid", kwargs={"pk": trained.evaluations.first().pk})}"' not in page


def test_a_juror_downloads_the_attestations_of_their_session(client_for, jury, trained):
    submit(jury, trained)
    attestation = trained.attestations.get()
    address = reverse("evaluations:attestation_download", kwargs={"pk": attestation.pk})
    assert client_for(jury.president).get(address).status_code == 200
    assert client_for(make_jury().president).get(address).status_code == 404


def test_a_juror_of_another_session_gets_404_on_a_review_page(client_for, jury, ready):
    submission = submit(jury, ready)
    assert client_for(make_jury().president).get(url("review", pk=submission.pk)).status_code == 404


def test_a_juror_cannot_open_the_dossier_page(client_for, jury, ready):
    submit(jury, ready)
    response = client_for(jury.president).get(reverse("journey:dossier_detail", kwargs={"pk": ready.pk}))
    assert response.status_code == 403


def test_the_evaluator_organisation_and_the_organiser_do_not_read_the_review(client_for, jury, ready):
    submission = submit(jury, ready)
    assert client_for(ready.team.counsellor).get(url("review", pk=submission.pk)).status_code == 403
    assert client_for(jury.admin).get(url("review", pk=submission.pk)).status_code == 403
    assert client_for(make_certifpro()).get(url("review", pk=submission.pk)).status_code == 200


def test_a_juror_declares_a_conflict_and_is_then_told_they_are_excluded(client_for, jury, ready):
    submission = submit(jury, ready)
    juror = jury.member_membership(jury.employee)
    client = client_for(juror)
    empty = client.post(url("conflict_declare", pk=submission.pk), {"conflict-statement": "  "})
    assert empty.status_code == 200
    assert "Décrivez le lien qui vous lie à ce dossier." in page_text(empty)
    assert not ConflictDeclaration.objects.exists()
    response = client.post(
        url("conflict_declare", pk=submission.pk), {"conflict-statement": "J'ai formé cette candidate."}, follow=True
    )
    assert response.redirect_chain[-1][0] == url("review", pk=submission.pk)
    page = page_text(response)
    assert "Vous ne prenez pas part à la décision sur ce dossier." in page
    declaration = ConflictDeclaration.objects.get()
    assert declaration.seat.member == jury.employee
    assert declaration.statement == "J'ai formé cette candidate."
    conflicts = page_text(client.get(url("my_conflicts")))
    assert ready.candidate.full_name in conflicts
    assert "J'ai formé cette candidate." in conflicts


def test_a_detected_conflict_is_shown_to_the_member(client_for, jury, ready):
    MembershipFactory(user=jury.employee.user, organisation=ready.organisation, role=Role.EVALUATOR)
    submission = submit(jury, ready)
    page = page_text(client_for(jury.member_membership(jury.employee)).get(url("review", pk=submission.pk)))
    assert "Vous ne prenez pas part à la décision sur ce dossier." in page
    assert "La plateforme a détecté un lien" in page


def test_only_seated_jurors_declare_conflicts(client_for, jury, ready):
    submission = submit(jury, ready)
    address = url("conflict_declare", pk=submission.pk)
    assert client_for(make_certifpro()).post(address, {"conflict-statement": "Lien"}).status_code == 403
    assert client_for(make_jury().president).post(address, {"conflict-statement": "Lien"}).status_code == 404


def test_my_conflicts_lists_only_mine(client_for, jury, ready):
    submission = submit(jury, ready)
    conflict_declare(submission=submission, by=jury.president, statement="Ancien collègue de la candidate.")
    mine = page_text(client_for(jury.member_membership(jury.employee)).get(url("my_conflicts")))
    assert "Aucun conflit d'intérêts" in mine
    theirs = page_text(client_for(jury.president).get(url("my_conflicts")))
    assert "Ancien collègue de la candidate." in theirs
    assert client_for(jury.admin).get(url("my_conflicts")).status_code == 403


# -- 4. The president's decision -----------------------------------------------------------------------------


def test_the_decision_form_appears_for_the_president_during_the_deliberation_only(client_for, jury, ready):
    submission = submit(jury, ready)
    president = client_for(jury.president)
    assert 'name="decision-kind"' not in president.get(url("review", pk=submission.pk)).content.decode()
    jury.session = session_day(jury_session_convene(session=jury.session, by=jury.admin))
    president.post(url("session_deliberate", pk=jury.session.pk), present(jury.employer, jury.employee))
    assert 'name="decision-kind"' in president.get(url("review", pk=submission.pk)).content.decode()
    juror_page = client_for(jury.member_membership(jury.employee)).get(url("review", pk=submission.pk))
    assert 'name="decision-kind"' not in juror_page.content.decode()


def test_the_president_awards_the_certification_through_the_view(client_for, jury, ready):
    [submission] = deliberating(jury, ready)
    response = client_for(jury.president).post(url("decide", pk=submission.pk), {"decision-kind": "awarded"})
    assert response.status_code == 302
    assert response["Location"] == url("session_detail", pk=jury.session.pk)
    assert Decision.objects.get(submission=submission).kind == DecisionKind.AWARDED
    assert fresh(ready).state == DossierState.CERTIFIED


def test_a_deferral_without_domains_is_refused_and_the_input_kept(client_for, jury, ready):
    [submission] = deliberating(jury, ready)
    response = client_for(jury.president).post(
        url("decide", pk=submission.pk), {"decision-kind": "deferred", "decision-reason": "Calcul fragile."}
    )
    assert response.status_code == 200
    page = page_text(response)
    assert "Un ajournement indique au moins un domaine à acquérir." in page
    assert "Calcul fragile." in page
    assert re.search(r'<input type="radio" name="decision-kind" value="deferred"[^>]* checked', page)
    assert not Decision.objects.exists()


def test_an_award_with_domains_is_refused_on_the_domains_and_the_input_kept(client_for, jury, ready):
    [submission] = deliberating(jury, ready)
    response = client_for(jury.president).post(
        url("decide", pk=submission.pk), {"decision-kind": "awarded", "decision-missing_domains": ["2"]}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Une certification délivrée ne laisse aucun domaine à acquérir : décochez les domaines." in page
    assert 'id="id_decision-missing_domains_errors"' in page
    assert re.search(r'<input type="checkbox" name="decision-missing_domains" value="2"[^>]* checked', page)
    assert not Decision.objects.exists()


def test_the_decision_form_marks_the_domains_for_the_script_that_shows_them_for_a_deferral(client_for, jury, ready):
    [submission] = deliberating(jury, ready)
    page = client_for(jury.president).get(url("review", pk=submission.pk)).content.decode()
    # Without the script every field shows; with it, the domains only for a deferral (tests/browser/test_jury.py).
    assert re.search(r'<div data-decision-domains="deferred">\s*<div class="field">\s*<fieldset>', page)
    assert "<script" in page and 'src="/static/js/decision_form.js"' in page
    assert "hidden" not in page.split("data-decision-domains", 1)[1].split("</fieldset>", 1)[0]


def test_the_president_defers_on_named_domains(client_for, jury, ready):
    [submission] = deliberating(jury, ready)
    client_for(jury.president).post(
        url("decide", pk=submission.pk),
        {"decision-kind": "deferred", "decision-reason": "Calcul fragile.", "decision-missing_domains": ["2"]},
    )
    decision = Decision.objects.get(submission=submission)
    assert decision.missing_domains == ["2"]
    assert fresh(ready).state == DossierState.PARTIALLY_VALIDATED


def test_a_president_in_conflict_gets_the_reason_instead_of_a_decision(client_for, jury, ready):
    [submission] = deliberating(jury, ready)
    conflict_declare(submission=submission, by=jury.president, statement="Lien familial.")
    client = client_for(jury.president)
    assert 'name="decision-kind"' not in client.get(url("review", pk=submission.pk)).content.decode()
    response = client.post(url("decide", pk=submission.pk), {"decision-kind": "awarded"})
    assert response.status_code == 200
    assert "vous ne pouvez pas en décider" in page_text(response)
    assert not Decision.objects.exists()
    # The other member present, with no link to the dossier, records it instead.
    other = client_for(jury.member_membership(jury.employee))
    assert 'name="decision-kind"' in other.get(url("review", pk=submission.pk)).content.decode()
    # Their session page says so on the row, and the president's no longer offers it as the next step.
    review = url("review", pk=submission.pk)
    mine = other.get(url("session_detail", pk=jury.session.pk)).content.decode()
    assert f'<a class="button button--small" href="{review}">Examiner et décider' in mine
    presides = client.get(url("session_detail", pk=jury.session.pk)).content.decode()
    assert f'<a class="button button--small button--secondary" href="{review}">Examiner<' in presides


def test_the_president_s_conflicts_link_to_the_dossiers_another_member_decides(client_for, jury, ready):
    submission = submit(jury, ready)
    conflict_declare(submission=submission, by=jury.president, statement="Lien familial.")
    page = client_for(jury.member_membership(jury.employee)).get(url("session_detail", pk=jury.session.pk))
    warning = page.content.decode().split("La personne qui préside a un lien")[1].split("</div>")[0]
    assert f'<a href="{url("review", pk=submission.pk)}">{ready.reference}</a>' in warning


def test_only_the_president_decides(client_for, jury, ready):
    [submission] = deliberating(jury, ready)
    address = url("decide", pk=submission.pk)
    for who in (jury.member_membership(jury.employee), jury.admin, make_certifpro(), ready.team.counsellor):
        assert client_for(who).post(address, {"decision-kind": "awarded"}).status_code == 403
    assert client_for(make_jury().president).post(address, {"decision-kind": "awarded"}).status_code == 404
    assert not Decision.objects.exists()


# -- 5. Certif'Pro: revocation and export --------------------------------------------------------------------


def test_certifpro_revokes_a_decision_through_the_view(client_for):
    jury, submission, certificate = certified()
    client = client_for(make_certifpro())
    address = url("decision_revoke", pk=submission.decision.pk)
    form = client.get(address)
    assert form.status_code == 200
    assert certificate.number in page_text(form)
    missing = client.post(address, {"reason": ""})
    assert "Indiquez le motif de la révocation." in page_text(missing)
    response = client.post(address, {"reason": "Évaluation non conforme."}, follow=True)
    assert response.redirect_chain[-1][0] == url("review", pk=submission.pk)
    assert "La décision est révoquée" in page_text(response)
    certificate.refresh_from_db()
    assert certificate.is_revoked
    assert fresh(submission.dossier).state == DossierState.READY_FOR_JURY


def test_no_one_but_certifpro_revokes(client_for):
    jury, submission, _certificate = certified()
    address = url("decision_revoke", pk=submission.decision.pk)
    for who in (jury.president, jury.admin, submission.dossier.team.counsellor):
        assert client_for(who).get(address).status_code == 403
        assert client_for(who).post(address, {"reason": "Non"}).status_code == 403
    assert Decision.objects.get(pk=submission.decision.pk).revoked_at is None


@pytest.fixture(scope="module")
def awarded_certificate_pk(django_db_setup, django_db_blocker) -> Iterator[int]:
    """A certificate awarded by a closed session, its PDF produced, once for the export tests (tests/shared.py)."""
    with shared_rows(django_db_blocker):
        _jury, _submission, certificate = certified()
        yield certificate.pk


@pytest.fixture
def awarded_certificate(awarded_certificate_pk: int) -> Certificate:
    return Certificate.objects.get(pk=awarded_certificate_pk)


def export_query(certificate: Certificate, fmt: str) -> dict[str, str]:
    return {"start": f"{certificate.awarded_on:%Y-%m-%d}", "end": f"{certificate.awarded_on:%Y-%m-%d}", "format": fmt}


def test_certifpro_exports_the_certified_as_csv(client_for, awarded_certificate):
    response = client_for(make_certifpro()).get(EXPORT_URL, export_query(awarded_certificate, "csv"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    day = f"{awarded_certificate.awarded_on:%Y-%m-%d}"
    assert response["Content-Disposition"] == f'attachment; filename="certifies-clea-{day}-au-{day}.csv"'
    content = response.content.decode("utf-8-sig")
    assert content.splitlines()[0].startswith("Numéro de certificat;Code de vérification")
    assert awarded_certificate.number in content


def test_certifpro_exports_the_certified_as_xlsx(client_for, awarded_certificate):
    response = client_for(make_certifpro()).get(EXPORT_URL, export_query(awarded_certificate, "xlsx"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"].endswith('.xlsx"')
    assert response.content.startswith(b"PK")


def test_the_certified_xlsx_has_a_frozen_filterable_header_and_runs_no_formula(client_for, awarded_certificate):
    candidate = awarded_certificate.dossier.candidate
    candidate.last_name = '=HYPERLINK("http://example.org","Voir")'
    candidate.save(update_fields=["last_name"])
    response = client_for(make_certifpro()).get(EXPORT_URL, export_query(awarded_certificate, "xlsx"))
    sheet = load_workbook(io.BytesIO(response.content))["Certifiés"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, sheet.max_column).column_letter}2"
    row = dict(zip([cell.value for cell in sheet[1]], sheet[2], strict=True))
    assert row["Nom d'usage"].data_type == "s"
    assert row["Nom d'usage"].value == "'" + candidate.last_name
    assert row["Date de délivrance"].is_date


def test_the_export_form_offers_the_previous_calendar_month(client_for):
    today = timezone.localdate()
    end = today.replace(day=1) - datetime.timedelta(days=1)
    page = page_text(client_for(make_certifpro()).get(EXPORT_URL))
    assert f'name="start" value="{end:%Y-%m-01}"' in page
    assert f'name="end" value="{end:%Y-%m-%d}"' in page


def test_previous_month_runs_from_its_first_to_its_last_day():
    assert previous_month(datetime.date(2026, 3, 15)) == (datetime.date(2026, 2, 1), datetime.date(2026, 2, 28))
    assert previous_month(datetime.date(2026, 1, 1)) == (datetime.date(2025, 12, 1), datetime.date(2025, 12, 31))


def test_the_export_period_is_checked(client_for):
    client = client_for(make_certifpro())
    form = client.get(EXPORT_URL)
    assert form.status_code == 200
    assert "Indiquez" not in page_text(form)
    missing = client.get(EXPORT_URL, {"format": "csv"})
    assert missing.status_code == 400
    assert "Indiquez le début de la période." in page_text(missing)
    assert "Indiquez la fin de la période." in page_text(missing)
    reversed_period = client.get(EXPORT_URL, {"start": "2026-03-31", "end": "2026-03-01", "format": "csv"})
    assert reversed_period.status_code == 400
    assert "La fin de la période précède son début." in page_text(reversed_period)


def test_only_certifpro_exports(client_for, jury, ready):
    for who in (jury.admin, jury.president, ready.team.counsellor):
        assert client_for(who).get(EXPORT_URL, {"start": "2026-01-01", "end": "2026-12-31"}).status_code == 403


# -- 6. The jury member's dashboard --------------------------------------------------------------------------


def test_the_dashboard_lists_upcoming_sessions_and_presided_deliberations(client_for, jury, ready):
    submit(jury, ready)
    upcoming = make_jury(body=jury.body, days_ahead=20)
    jury_session_set_seats(
        session=upcoming.session, by=jury.admin, member_ids=[jury.employer.pk, jury.employee.pk], president_id=None
    )
    page = page_text(client_for(jury.president).get(reverse("home")))
    assert "Mes prochaines sessions de jury" in page
    assert url("session_detail", pk=jury.session.pk) in page
    assert url("session_detail", pk=upcoming.session.pk) in page
    assert url("my_conflicts") in page
    assert "Délibérations que vous présidez" not in page
    jury.session = session_day(jury_session_convene(session=jury.session, by=jury.admin))
    client_for(jury.president).post(
        url("session_deliberate", pk=jury.session.pk), present(jury.employer, jury.employee)
    )
    page = page_text(client_for(jury.president).get(reverse("home")))
    assert "Délibérations que vous présidez" in page
    assert "1 dossier" in page


def test_the_dashboard_of_a_member_without_sessions_says_so(client_for):
    body = OrganisationFactory(jury_body=True)
    member = MembershipFactory(organisation=body, role=Role.JURY_MEMBER)
    page = page_text(client_for(member).get(reverse("home")))
    assert "Aucune convocation à une session de jury pour le moment." in page


# -- 8. Administration ---------------------------------------------------------------------------------------


def test_the_admin_lists_and_shows_the_jury_records(client):
    jury, submission, certificate = certified()
    minutes_generate(session_id=jury.session.pk)
    conflict_declare(submission=submission, by=jury.president, statement="Lien")
    from tests.factories import UserFactory

    admin_user = UserFactory(is_staff=True, is_superuser=True)
    verified_login(client, admin_user)
    for model in (
        "jurymember",
        "jurysession",
        "submission",
        "decision",
        "certificate",
        "sessionminutes",
        "conflictdeclaration",
    ):
        assert client.get(reverse(f"admin:juries_{model}_changelist")).status_code == 200
    session_page = client.get(reverse("admin:juries_jurysession_change", args=[jury.session.pk]))
    assert session_page.status_code == 200
    decision_page = page_text(client.get(reverse("admin:juries_decision_change", args=[submission.decision.pk])))
    assert url("decision_revoke", pk=submission.decision.pk) in decision_page
    assert client.get(reverse("admin:juries_decision_add")).status_code == 403
    found = client.get(reverse("admin:juries_certificate_changelist"), {"q": certificate.verification_code})
    assert certificate.number in page_text(found)


def test_the_review_page_leads_back_to_the_page_of_the_session_it_was_opened_from(client_for, monkeypatch):
    # The way back kept the search and the bucket but not the page: a juror on page 3 of 4 came back to page 1.
    monkeypatch.setattr("juries.views.SESSION_PAGE_SIZE", 1)
    jury = make_jury()
    submissions = deliberating(jury, *(DossierFactory(state="ready_for_jury") for _ in range(3)))
    client = client_for(jury.president)
    address = url("session_detail", pk=jury.session.pk)
    listed = client.get(address, {"page": 2, "decision": "pending"}).content.decode()
    review_address = url("review", pk=submissions[1].pk) + "?decision=pending&page=2"
    assert f'href="{review_address.replace("&", "&amp;")}"' in listed
    review = client.get(review_address).content.decode()
    assert f'href="{address}?decision=pending&amp;page=2"' in review
    assert f'action="{url("decide", pk=submissions[1].pk)}?decision=pending&amp;page=2"' in review
    # The first page needs no number; a forged one is dropped rather than carried.
    first = client.get(address).content.decode()
    assert f'href="{url("review", pk=submissions[0].pk)}"' in first
    for forged in ("0", "1", "-2", "abc", "2.5"):
        page = client.get(url("review", pk=submissions[1].pk), {"page": forged}).content.decode()
        assert f'href="{address}"' in page
