import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from candidates.models import Dossier, DossierState
from journey.demo import walk_dossier
from organisations.models import HabilitationStatus, Role
from referrals.models import Referral, ReferralState
from referrals.services import referral_accept, referral_decline, referrals_expire
from tests.factories import MembershipFactory, OrganisationFactory
from tests.journey import PRIOR_WITH_GAPS, small_referentiel, team_for
from tests.referrals.support import IDENTITY, advisor_of, directory_site_of, make_referral

pytestmark = pytest.mark.django_db

LIST = "/api/v1/referrals/"
CONSENT = "/api/v1/referrals/consent-text/"


def _detail(referral):
    return reverse("api:referral-detail", kwargs={"pk": referral.pk})


def _accept(referral):
    return reverse("api:referral-accept", kwargs={"pk": referral.pk})


def _decline(referral):
    return reverse("api:referral-decline", kwargs={"pk": referral.pk})


def _post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


def _payload(site, **overrides):
    return {
        "site": site.pk,
        "certification": "clea",
        "civility": "mme",
        "last_name": "Benali",
        "first_name": "Nadia",
        "birth_date": "1985-04-12",
        "phone": "06 12 34 56 78",
        "postcode": "59100",
        "city": "Roubaix",
        "education_level": "3",
        "note": "Disponible le matin.",
        "consent": True,
        **overrides,
    }


def _fields(response):
    return {error["field"]: error["message"] for error in response.json()["errors"]}


def _counsellor(organisation):
    return MembershipFactory(organisation=organisation, role=Role.COUNSELLOR)


# -- The lists --------------------------------------------------------------------------------------------------


def test_each_side_lists_its_own_referrals_and_filters_by_state(org_a, org_b, client_for):
    agency = OrganisationFactory(france_travail=True)
    alice = make_referral(to=org_a, from_agency=agency, first_name="Alice")
    make_referral(to=org_b, from_agency=agency, first_name="Bruno")
    chloe = make_referral(to=org_a, first_name="Chloé")  # from another agency
    counsellor = _counsellor(org_a)
    referral_decline(referral=chloe, by=counsellor, reason="Complet")

    advisor_side = client_for(advisor_of(agency)).get(LIST).json()
    assert {row["first_name"] for row in advisor_side["results"]} == {"Alice", "Bruno"}
    receiving_side = client_for(counsellor).get(LIST).json()
    assert {row["first_name"] for row in receiving_side["results"]} == {"Alice", "Chloé"}
    waiting = client_for(counsellor).get(LIST, {"state": "sent"}).json()
    assert [row["id"] for row in waiting["results"]] == [alice.pk]
    assert len(waiting["results"]) == 1 and "next" in waiting


def test_a_bad_state_filter_names_the_field_in_french(org_a, client_for):
    response = client_for(_counsellor(org_a)).get(LIST, {"state": "perdue"})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["field"], error["code"]) == ("state", "invalid_choice")
    assert "Sélectionnez un choix valide" in error["message"]


@pytest.mark.parametrize("role", [Role.EVALUATOR, Role.TRAINER, Role.JURY_MEMBER])
def test_roles_without_referrals_get_403(role, org_a, make_member, client_for):
    referral = make_referral(to=org_a)
    client = client_for(make_member(org_a, role=role))
    assert client.get(LIST).status_code == 403
    assert client.get(_detail(referral)).status_code == 403


@pytest.mark.parametrize("rows", [2, 5])
@pytest.mark.parametrize("role", [Role.FT_ADVISOR, Role.COUNSELLOR])
def test_the_referral_list_costs_the_same_queries_whatever_the_rows(
    rows, role, org_a, client_for, django_assert_num_queries
):
    agency = OrganisationFactory(france_travail=True)
    counsellor = _counsellor(org_a)
    for i in range(rows):
        referral = make_referral(to=org_a, from_agency=agency, first_name=f"Personne{i}")
        if i % 2:
            referral_accept(referral=referral, by=counsellor)
    client = client_for(advisor_of(agency) if role == Role.FT_ADVISOR else counsellor)
    client.get(LIST)  # warm the session
    # Session, user, membership; the count, then the page with its site, organisations, advisor and dossier.
    # No count since the cursor pagination (issue 20): one query fewer.
    with django_assert_num_queries(4):
        assert len(client.get(LIST).json()["results"]) == rows


# -- One referral -----------------------------------------------------------------------------------------------


def test_the_advisor_sees_the_dossiers_step_and_nothing_else_of_it(org_a, client_for):
    team = team_for(org_a)
    referral = referral_accept(referral=make_referral(to=org_a), by=team.counsellor)
    walk_dossier(referral.dossier, target="partially_validated", team=team, prior_acquired=PRIOR_WITH_GAPS)

    response = client_for(advisor_of(referral.from_organisation)).get(_detail(referral))

    assert response.status_code == 200
    body = response.json()
    assert (body["state"], body["dossier_state"], body["dossier_state_label"]) == (
        "accepted",
        "partially_validated",
        "Validation partielle",
    )
    assert body["dossier"] is None and body["dossier_reference"] is None and body["advisor_email"] is None
    assert referral.dossier.reference not in response.content.decode()
    for evaluation_word in ("Critère", "critère", "ttestation", "acquis", "2.1.3"):
        assert evaluation_word not in response.content.decode()
    # Nor through the dossier resource.
    advisor = client_for(advisor_of(referral.from_organisation))
    assert advisor.get(reverse("api:dossier-detail", kwargs={"pk": referral.dossier_id})).status_code in {403, 404}


def test_the_receiving_counsellor_gets_the_dossier_and_the_advisors_address(org_a, client_for):
    counsellor = _counsellor(org_a)
    referral = referral_accept(referral=make_referral(to=org_a), by=counsellor)

    body = client_for(counsellor).get(_detail(referral)).json()

    assert (body["dossier"], body["dossier_reference"]) == (referral.dossier_id, referral.dossier.reference)
    assert body["dossier_state"] == "information"
    assert body["advisor_email"] == referral.advisor.email
    assert (body["phone"], body["site"]["id"], body["organisation"]) == (
        IDENTITY["phone"],
        referral.site_id,
        org_a.name,
    )


def test_the_other_agency_and_the_other_evaluator_get_404(org_a, org_b, make_member, client_for):
    referral = make_referral(to=org_a)
    for outsider in (advisor_of(), make_member(org_b, role=Role.COUNSELLOR), make_member(org_b, role=Role.ORG_ADMIN)):
        assert client_for(outsider).get(_detail(referral)).status_code == 404


# -- The advisor sends ------------------------------------------------------------------------------------------


def test_the_advisor_sends_a_referral_through_the_service_and_the_site_is_told(
    org_a, client_for, django_capture_on_commit_callbacks
):
    small_referentiel()
    site = directory_site_of(org_a, name="Lille – Moulins", contact_email="accueil@site.example")
    advisor = advisor_of()
    client = client_for(advisor)

    consent = client.get(CONSENT, {"site": site.pk, "certification": "clea"})
    assert consent.status_code == 200
    assert "transmette mon identité" in consent.json()["consent_text"]
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, LIST, _payload(site))

    assert response.status_code == 201, response.content
    referral = Referral.objects.get()
    assert response.json()["id"] == referral.pk and response.json()["state"] == "sent"
    assert (referral.site, referral.organisation, referral.from_organisation) == (site, org_a, advisor.organisation)
    assert referral.consent_text == consent.json()["consent_text"] == response.json()["consent_text"]
    (message,) = mail.outbox
    assert message.to == ["accueil@site.example"]


def test_bad_referral_input_names_the_fields_in_french(org_a, client_for):
    site = directory_site_of(org_a)
    client = client_for(advisor_of())

    typed = _post(client, LIST, _payload(site, birth_date="hier", civility="sir"))
    assert typed.status_code == 400
    assert set(_fields(typed)) == {"birth_date", "civility"}

    # The screen's rules: the person's consent and a way to reach them.
    unreachable = _post(client, LIST, _payload(site, consent=False, phone="", email=""))
    assert _fields(unreachable) == {
        "consent": "Sans l'accord de la personne, l'orientation ne peut pas être envoyée.",
        "phone": "Indiquez au moins un moyen de contact : téléphone ou adresse e-mail.",
    }

    # CléA numérique: not among the site's habilitations.
    elsewhere = _post(client, LIST, _payload(site, certification="clea_numerique"))
    assert _fields(elsewhere) == {"certification": "Ce site ne prépare pas à cette certification."}

    closed = directory_site_of(org_a, is_active=False)
    for site_id in (closed.pk, 987654321):
        unknown = _post(client, LIST, {**_payload(site), "site": site_id})
        assert _fields(unknown) == {"site": "Ce site n'est pas dans l'annuaire des organismes évaluateurs."}
        assert client.get(CONSENT, {"site": site_id, "certification": "clea"}).status_code == 400
    assert not Referral.objects.exists()


def test_the_same_person_awaiting_an_answer_is_refused_with_409(org_a, client_for):
    site = directory_site_of(org_a)
    client = client_for(advisor_of())
    assert _post(client, LIST, _payload(site)).status_code == 201

    again = _post(client, LIST, _payload(site))

    assert again.status_code == 409
    assert again.json()["code"] == "referral_refused"
    assert again.json()["message"].startswith("Cette personne est déjà orientée vers cet organisme")
    assert Referral.objects.count() == 1


@pytest.mark.parametrize("role", [Role.COUNSELLOR, Role.EVALUATOR, Role.ORG_ADMIN, Role.JURY_MEMBER])
def test_only_an_advisor_sends_referrals(role, org_a, make_member, client_for):
    site = directory_site_of(org_a)
    client = client_for(make_member(org_a, role=role))
    assert _post(client, LIST, _payload(site)).status_code == 403
    assert client.get(CONSENT, {"site": site.pk, "certification": "clea"}).status_code == 403
    assert not Referral.objects.exists()


# -- The receiving organisation answers -------------------------------------------------------------------------


def test_the_counsellor_accepts_and_the_dossier_opens_at_the_information_step(
    org_a, client_for, django_capture_on_commit_callbacks
):
    referral = make_referral(to=org_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client_for(_counsellor(org_a)), _accept(referral))

    assert response.status_code == 200, response.content
    dossier = Dossier.objects.get()
    assert (dossier.state, dossier.candidate.birth_place) == (DossierState.INFORMATION, IDENTITY["birth_place"])
    body = response.json()
    assert (body["state"], body["dossier"], body["dossier_reference"]) == ("accepted", dossier.pk, dossier.reference)
    assert mail.outbox[-1].to == [referral.advisor.email]


def test_accepting_needs_nothing_the_advisor_left_out_and_checks_what_is_given(org_a, client_for):
    referral = make_referral(to=org_a, birth_place="", education_level="")
    client = client_for(_counsellor(org_a))

    bad = _post(client, _accept(referral), {"birth_place": "Tourcoing", "education_level": "bac"})
    assert bad.status_code == 400 and set(_fields(bad)) == {"education_level"}

    accepted = _post(client, _accept(referral))
    assert accepted.status_code == 200, accepted.content
    candidate = Dossier.objects.get().candidate
    assert (candidate.birth_place, candidate.education_level) == ("", "")


def test_the_open_step_asks_what_the_referral_left_out(org_a, client_for):
    counsellor = _counsellor(org_a)
    referral = referral_accept(referral=make_referral(to=org_a, birth_place="", education_level=""), by=counsellor)
    client = client_for(counsellor)
    url = reverse("api:dossier-transitions", kwargs={"pk": referral.dossier_id})
    offered = {t["name"]: t["arguments"] for t in client.get(url).json()}
    assert offered["open"] == ["consent", "notify_by_email", "birth_place", "education_level"]

    refused = _post(client, url, {"name": "open", "consent": True})
    assert refused.status_code == 409
    assert "lieu de naissance et le niveau de formation" in refused.json()["message"]
    opened = _post(client, url, {"name": "open", "consent": True, "birth_place": "Tourcoing", "education_level": "4"})
    assert opened.status_code == 200, opened.content
    assert (opened.json()["state"], opened.json()["candidate"]["birth_place"]) == ("opened", "Tourcoing")


def test_accepting_someone_who_already_has_a_dossier_is_refused_with_409(org_a, client_for):
    counsellor = _counsellor(org_a)
    referral_accept(referral=make_referral(to=org_a), by=counsellor)
    second = make_referral(to=org_a)  # the same person, referred again
    client = client_for(counsellor)

    unconfirmed = _post(client, _accept(second))
    assert unconfirmed.status_code == 409
    assert unconfirmed.json()["code"] == "dossier_already_open"
    assert _post(client, _accept(second), {"confirm_duplicate": True}).status_code == 409
    assert Dossier.objects.count() == 1


def test_a_referral_already_answered_or_expired_is_refused_with_409(org_a, client_for):
    counsellor = _counsellor(org_a)
    client = client_for(counsellor)
    accepted = referral_accept(referral=make_referral(to=org_a, first_name="Alice"), by=counsellor)
    expired = make_referral(to=org_a, first_name="Bruno")
    Referral.objects.filter(pk=expired.pk).update(sent_at=timezone.now() - datetime.timedelta(days=31))
    referrals_expire()

    # The service's refusal, in its words: the dossier this referral opened is no duplicate to confirm.
    for url in (_accept(accepted), _decline(accepted)):
        response = _post(client, url, {"reason": "Complet"})
        assert response.status_code == 409
        assert response.json() == {
            "code": "referral_refused",
            "message": "Cette orientation a déjà été acceptée : le dossier est ouvert.",
        }
    assert _post(client, _accept(expired)).json() == {
        "code": "referral_refused",
        "message": "Cette orientation a expiré sans réponse : elle ne peut plus être traitée.",
    }
    assert Dossier.objects.count() == 1


def test_accepting_without_a_habilitation_in_force_is_refused_by_the_service_with_409(org_a, client_for):
    referral = make_referral(to=org_a)
    org_a.habilitations.update(status=HabilitationStatus.WITHDRAWN, status_reason="Retrait")

    response = _post(client_for(_counsellor(org_a)), _accept(referral))

    assert response.status_code == 409
    assert "plus d'habilitation en cours" in response.json()["message"]
    assert not Dossier.objects.exists()


def test_the_counsellor_declines_with_a_reason_that_the_advisor_reads(org_a, client_for):
    referral = make_referral(to=org_a)
    client = client_for(_counsellor(org_a))

    # The screen's form, and its words, for a missing or a blank reason.
    assert _fields(_post(client, _decline(referral))) == {"reason": "Indiquez le motif du refus."}
    assert _fields(_post(client, _decline(referral), {"reason": "   "})) == {"reason": "Indiquez le motif du refus."}
    response = _post(client, _decline(referral), {"reason": "Pas de session avant mars."})

    assert response.status_code == 200
    assert (response.json()["state"], response.json()["decline_reason"]) == ("declined", "Pas de session avant mars.")
    advisor = client_for(MembershipFactory(organisation=referral.from_organisation, role=Role.FT_ADVISOR))
    assert advisor.get(_detail(referral)).json()["decline_reason"] == "Pas de session avant mars."


def test_a_body_that_is_not_an_object_is_refused_with_400(org_a, client_for):
    referral = make_referral(to=org_a)

    response = _post(client_for(_counsellor(org_a)), _decline(referral), ["Complet"])

    assert response.status_code == 400
    assert _fields(response) == {"non_field_errors": "Le corps de la requête doit être un objet JSON."}
    referral.refresh_from_db()
    assert referral.state == ReferralState.SENT


def test_the_receiving_organisations_administrator_may_decline_but_not_accept(org_a, make_member, client_for):
    referral = make_referral(to=org_a)
    admin = client_for(make_member(org_a, role=Role.ORG_ADMIN))

    assert _post(admin, _accept(referral)).status_code == 403
    assert _post(admin, _decline(referral), {"reason": "Complet"}).status_code == 200


# Answering: the receiving organisation's counsellor (and its administrator, to decline). The sending agency's
# administrator sees the referral yet answers 404 for it, as on screen.
@pytest.mark.parametrize(
    ("who", "accept", "decline"),
    [
        ("advisor", 403, 403),
        ("agency_admin", 403, 404),
        ("evaluator", 403, 403),
        ("trainer", 403, 403),
        ("jury_member", 403, 403),
        ("other_counsellor", 404, 404),
    ],
)
def test_who_answers_a_referral(who, accept, decline, org_a, org_b, make_member, client_for):
    referral = make_referral(to=org_a)
    member = {
        "advisor": lambda: MembershipFactory(organisation=referral.from_organisation, role=Role.FT_ADVISOR),
        "agency_admin": lambda: MembershipFactory(organisation=referral.from_organisation, role=Role.ORG_ADMIN),
        "evaluator": lambda: make_member(org_a, role=Role.EVALUATOR),
        "trainer": lambda: make_member(org_a, role=Role.TRAINER),
        "jury_member": lambda: make_member(org_a, role=Role.JURY_MEMBER),
        "other_counsellor": lambda: make_member(org_b, role=Role.COUNSELLOR),
    }[who]()
    client = client_for(member)

    assert _post(client, _accept(referral)).status_code == accept
    assert _post(client, _decline(referral), {"reason": "Complet"}).status_code == decline
    referral.refresh_from_db()
    assert referral.state == ReferralState.SENT
