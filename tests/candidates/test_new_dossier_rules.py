"""One dossier at a time per person and certification, platform-wide, and none for a certification already
held (issue 14). What another organisation is told names nothing of the organisation that holds the dossier, nor
where that journey stands: one answer, word for word, for a dossier in progress and a certificate (issue 16)."""

import datetime
import threading

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from candidates.models import Dossier, add_years
from candidates.services import (
    AlreadyCertified,
    DossierElsewhere,
    NewDossierRefusal,
    candidate_correct,
    dossier_create,
    dossier_withdraw,
    dossiers_process_deadlines,
)
from clea_platform.certifications import Certification
from juries.models import DecisionKind
from juries.services import decision_record
from referrals.services import referral_accept
from tests.journey import DossierFactory, small_referentiel, team_for
from tests.juries.factories import certified, deliberating, make_jury
from tests.referrals.support import IDENTITY, make_referral

PERSON = {"first_name": "Nadia", "last_name": "Benali", "birth_date": datetime.date(1985, 4, 12)}
API_LIST = "/api/v1/dossiers/"

pytestmark = pytest.mark.django_db


def _create(organisation, certification=Certification.CLEA, **identity) -> Dossier:
    """A new dossier for the person (PERSON unless told), opened by the organisation's counsellor."""
    return DossierFactory(organisation=organisation, certification=certification, **{**PERSON, **identity})


def _assert_names_nothing_of(text: str, dossier: Dossier) -> None:
    assert dossier.organisation.name not in text
    assert dossier.reference not in text
    assert dossier.counsellor.get_full_name() not in text
    assert f"{timezone.localtime(dossier.created_at):%d/%m/%Y}" not in text


ELSEWHERE = "Cette personne a déjà un parcours pour cette certification dans un autre organisme"


def test_another_organisation_is_refused_without_learning_who_holds_the_dossier(org_a, org_b):
    at_a = _create(org_a, state="in_training")
    with pytest.raises(DossierElsewhere) as refused:
        _create(org_b, first_name="NADIA", last_name="benali")  # the same person, typed otherwise
    assert refused.value.code == "dossier_elsewhere"
    assert refused.value.dossier is None
    assert ELSEWHERE in str(refused.value)
    assert "contactez Certif'Pro" in str(refused.value)
    _assert_names_nothing_of(str(refused.value), at_a)
    assert not Dossier.objects.filter(organisation=org_b).exists()


def test_the_api_answers_409_without_naming_the_other_organisation(org_a, org_b, client_for):
    at_a = _create(org_a)
    team_b = team_for(org_b)
    payload = {
        "certification": "clea",
        "candidate": {
            "civility": "mme",
            "last_name": "Benali",
            "first_name": "Nadia",
            "birth_date": "1985-04-12",
            "birth_place": "Roubaix",
            "registration_status": "job_seeker",
            "education_level": "3",
            "origin": "own_initiative",
        },
    }
    response = client_for(team_b.counsellor).post(API_LIST, payload, content_type="application/json")
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "dossier_elsewhere"
    _assert_names_nothing_of(response.content.decode(), at_a)


def test_the_form_page_refuses_without_naming_the_other_organisation(org_a, org_b, client_for):
    at_a = _create(org_a, state="opened")
    team_b = team_for(org_b)
    post = {
        "civility": "mme",
        "last_name": "Benali",
        "first_name": "Nadia",
        "birth_date": "12/04/1985",
        "birth_place": "Roubaix",
        "registration_status": "job_seeker",
        "education_level": "3",
        "origin": "own_initiative",
        "certification": "clea",
    }
    response = client_for(team_b.counsellor).post(reverse("candidates:dossier_create"), post)
    assert response.status_code == 200
    page = response.content.decode()
    assert ELSEWHERE in page
    _assert_names_nothing_of(page, at_a)
    assert reverse("journey:dossier_detail", kwargs={"pk": at_a.pk}) not in page


def test_accepting_a_referral_is_refused_when_another_organisation_has_a_dossier(org_a, org_b):
    at_a = _create(org_a, **{k: IDENTITY[k] for k in PERSON})
    referral = make_referral(to=org_b)
    with pytest.raises(DossierElsewhere) as refused:
        referral_accept(referral=referral, by=team_for(org_b).counsellor)
    _assert_names_nothing_of(str(refused.value), at_a)
    referral.refresh_from_db()
    assert referral.state == "sent"
    assert not Dossier.objects.filter(organisation=org_b).exists()


@pytest.mark.parametrize("same_organisation", [True, False])
def test_a_person_who_holds_the_certification_is_refused(same_organisation, org_b):
    _, submission, _ = certified(**PERSON)
    holder = submission.dossier
    organisation = holder.organisation if same_organisation else org_b
    with pytest.raises(NewDossierRefusal) as refused:
        dossier_create(
            membership=team_for(organisation).counsellor,
            certification=Certification.CLEA,
            candidate_data={**PERSON, "birth_place": "Lille"},
        )
    if same_organisation:
        assert isinstance(refused.value, AlreadyCertified)
        assert refused.value.code == "already_certified"
        assert "déjà titulaire de cette certification" in str(refused.value)
        assert holder.reference in str(refused.value)
        assert refused.value.dossier == holder
    else:
        # Another organisation is not told that the person holds the certificate (issue 16).
        assert isinstance(refused.value, DossierElsewhere)
        assert "titulaire" not in str(refused.value)
        assert refused.value.dossier is None
        _assert_names_nothing_of(str(refused.value), holder)


# -- One answer to another organisation, whatever the other journey (issue 16) ---------------------------------

IN_PROGRESS = {"first_name": "Nadia", "last_name": "Benali", "birth_date": datetime.date(1985, 4, 12)}
CERTIFIED = {"first_name": "Karim", "last_name": "Haddad", "birth_date": datetime.date(1979, 11, 3)}


@pytest.fixture
def two_journeys_at_a(org_a):
    """Nadia has a dossier in training at organisation A; Karim holds the certificate through A."""
    _create(org_a, state="in_training", **IN_PROGRESS)
    _, submission, _ = certified(organisation=org_a, **CERTIFIED)
    return submission.dossier.organisation


def _refused_to_create(organisation, person) -> NewDossierRefusal:
    with pytest.raises(NewDossierRefusal) as refused:
        dossier_create(
            membership=team_for(organisation).counsellor,
            certification=Certification.CLEA,
            candidate_data={**person, "birth_place": "Lille"},
        )
    return refused.value


def _refused_to_correct(organisation, person) -> NewDossierRefusal:
    own = _create(organisation, first_name="Autre", last_name="Personne", birth_date=person["birth_date"])
    with pytest.raises(NewDossierRefusal) as refused:
        candidate_correct(candidate=own.candidate, by=own.team.counsellor, data=dict(person))
    return refused.value


@pytest.mark.parametrize("refused", [_refused_to_create, _refused_to_correct], ids=["create", "correct"])
def test_another_organisation_gets_one_answer_for_a_dossier_in_progress_and_a_certificate(
    two_journeys_at_a, org_b, refused
):
    in_progress, certificate = refused(org_b, IN_PROGRESS), refused(org_b, CERTIFIED)
    assert type(in_progress) is type(certificate) is DossierElsewhere
    assert in_progress.code == certificate.code == "dossier_elsewhere"
    assert str(in_progress) == str(certificate)
    assert in_progress.dossier is certificate.dossier is None
    assert "contactez Certif'Pro" in str(in_progress)
    for dossier in Dossier.objects.filter(organisation=two_journeys_at_a):
        _assert_names_nothing_of(str(in_progress), dossier)


def test_the_api_gives_another_organisation_one_answer_for_both(two_journeys_at_a, org_b, client_for):
    client = client_for(team_for(org_b).counsellor)

    def post(person) -> dict:
        candidate = {
            "civility": "mme",
            "last_name": person["last_name"],
            "first_name": person["first_name"],
            "birth_date": person["birth_date"].isoformat(),
            "birth_place": "Roubaix",
            "registration_status": "job_seeker",
            "education_level": "3",
            "origin": "own_initiative",
        }
        response = client.post(
            API_LIST, {"certification": "clea", "candidate": candidate}, content_type="application/json"
        )
        assert response.status_code == 409, response.content
        return response.json()

    in_progress, certificate = post(IN_PROGRESS), post(CERTIFIED)
    assert in_progress == certificate
    assert in_progress["code"] == "dossier_elsewhere"
    assert not Dossier.objects.filter(organisation=org_b).exists()


@pytest.mark.parametrize("person", [IN_PROGRESS, CERTIFIED], ids=["in_progress", "certified"])
def test_the_organisation_itself_still_gets_the_reference_and_the_link(two_journeys_at_a, person, client_for):
    organisation = two_journeys_at_a
    own = Dossier.objects.get(organisation=organisation, candidate__last_name=person["last_name"])
    refusal = _refused_to_create(organisation, person)
    assert refusal.dossier == own
    assert own.reference in str(refusal)
    post = {
        "civility": "mme",
        "last_name": person["last_name"],
        "first_name": person["first_name"],
        "birth_date": f"{person['birth_date']:%d/%m/%Y}",
        "birth_place": "Roubaix",
        "registration_status": "job_seeker",
        "education_level": "3",
        "origin": "own_initiative",
        "certification": "clea",
    }
    page = client_for(team_for(organisation).counsellor).post(reverse("candidates:dossier_create"), post)
    assert reverse("journey:dossier_detail", kwargs={"pk": own.pk}) in page.content.decode()
    assert own.reference in page.content.decode()


def test_a_holder_of_clea_may_start_clea_numerique(org_b):
    certified(**PERSON)
    dossier = _create(org_b, certification=Certification.CLEA_NUMERIQUE)
    assert dossier.certification == Certification.CLEA_NUMERIQUE


def test_a_new_attempt_after_a_withdrawn_dossier_is_allowed(org_a, org_b):
    earlier = _create(org_a, state="opened")
    dossier_withdraw(dossier=earlier, by=earlier.team.counsellor, reason="Déménagement")
    assert _create(org_b).organisation == org_b


def test_a_new_attempt_after_a_refusal_by_the_jury_is_allowed(org_b):
    jury = make_jury()
    earlier = DossierFactory(state="ready_for_jury", **PERSON)
    [submission] = deliberating(jury, earlier)
    decision_record(submission=submission, by=jury.president, kind=DecisionKind.REFUSED, reason="Non acquis.")
    assert _create(org_b).organisation == org_b


def test_a_new_attempt_after_the_5_year_deadline_is_allowed(org_a):
    # Past the 5 years a new prior evaluation is required: a new dossier (domain brief, journey step 3).
    today = timezone.localdate()
    earlier = _create(org_a, state="partially_validated", evaluated_on=add_years(today, -5) - datetime.timedelta(1))
    dossiers_process_deadlines(today=today)
    earlier.refresh_from_db()
    assert earlier.state == "expired"
    assert _create(org_a).organisation == org_a


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite (the embedded mode) runs one writing transaction at a time"
)
@pytest.mark.django_db(transaction=True)
def test_two_organisations_opening_the_same_person_at_once_make_one_dossier(org_a, org_b):
    """Organisation A's transaction has created the dossier but not committed when B asks: B must wait for A's
    answer and be refused, not pass the check on a database that does not show A's row yet."""
    small_referentiel()
    counsellors = {org_a: team_for(org_a).counsellor, org_b: team_for(org_b).counsellor}
    b_done, outcome = threading.Event(), {}

    def open_for(organisation) -> None:
        try:
            dossier_create(
                membership=counsellors[organisation],
                certification=Certification.CLEA,
                candidate_data={**PERSON, "birth_place": "Lille"},
            )
            outcome[organisation.pk] = "created"
        except NewDossierRefusal:
            outcome[organisation.pk] = "refused"
        finally:
            b_done.set()
            connection.close()

    a_created = threading.Event()

    def a_slow_commit() -> None:
        try:
            with transaction.atomic():
                dossier_create(
                    membership=counsellors[org_a],
                    certification=Certification.CLEA,
                    candidate_data={**PERSON, "birth_place": "Lille"},
                )
                a_created.set()
                b_done.wait(2)  # without serialisation B finishes meanwhile; with it, B waits for this commit
            outcome[org_a.pk] = "created"
        except Exception as exc:  # shown by the final assertion
            outcome[org_a.pk] = repr(exc)
            a_created.set()
        finally:
            connection.close()

    first = threading.Thread(target=a_slow_commit)
    first.start()
    assert a_created.wait(10)
    second = threading.Thread(target=open_for, args=(org_b,))
    second.start()
    first.join(15)
    second.join(15)
    assert outcome == {org_a.pk: "created", org_b.pk: "refused"}
    assert Dossier.objects.filter(candidate__last_name="Benali").count() == 1
