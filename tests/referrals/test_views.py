import re

import pytest
from django.urls import reverse

from candidates.models import Dossier, DossierState
from journey.demo import walk_dossier
from organisations.models import Role
from referrals.models import Referral, ReferralState
from referrals.services import referral_accept
from tests.clients import page_text
from tests.factories import MembershipFactory, OrganisationFactory
from tests.journey import PRIOR_WITH_GAPS, team_for
from tests.referrals.support import IDENTITY, advisor_of, directory_site_of, make_referral

pytestmark = pytest.mark.django_db


def text_of(response) -> str:
    return page_text(response)


def referral_form_data(**overrides):
    data = {
        "civility": "mme",
        "last_name": "Benali",
        "first_name": "Nadia",
        "birth_date": "1985-04-12",
        "birth_place": "",
        "phone": "06 12 34 56 78",
        "email": "",
        "postcode": "59100",
        "city": "Roubaix",
        "education_level": "3",
        "certification": "clea",
        "note": "Disponible le matin.",
        "consent": "on",
    }
    data.update(overrides)
    return data


def test_an_advisor_refers_a_job_seeker_from_a_directory_site(org_a, client_for):
    from tests.journey import small_referentiel

    small_referentiel()
    site = directory_site_of(org_a, name="Lille – Moulins")
    advisor = advisor_of()
    client = client_for(advisor)
    url = f"{reverse('referrals:create')}?site={site.pk}"
    page = client.get(url)
    assert page.status_code == 200
    assert "Lille – Moulins" in text_of(page) and "transmette mon identité" in text_of(page)

    response = client.post(url, referral_form_data())
    referral = Referral.objects.get()
    assert response.status_code == 302 and response.url == reverse("referrals:detail", kwargs={"pk": referral.pk})
    assert (referral.site, referral.organisation, referral.from_organisation) == (site, org_a, advisor.organisation)
    assert (referral.last_name, referral.phone, referral.note) == ("Benali", "06 12 34 56 78", "Disponible le matin.")
    assert "Lille – Moulins" in referral.consent_text


def test_the_referral_form_needs_the_consent_and_a_way_to_reach_the_person(org_a, client_for):
    site = directory_site_of(org_a)
    client = client_for(advisor_of())
    url = f"{reverse('referrals:create')}?site={site.pk}"
    response = client.post(url, referral_form_data(consent="", phone="", email=""))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "consent" in errors and "phone" in errors
    assert response.context["form"].data["last_name"] == "Benali"  # the input is kept
    assert not Referral.objects.exists()


def test_only_directory_sites_can_be_chosen(org_a, client_for):
    site = directory_site_of(org_a, is_active=False)
    client = client_for(advisor_of())
    assert client.get(f"{reverse('referrals:create')}?site={site.pk}").status_code == 404
    assert client.get(f"{reverse('referrals:create')}?site=abc").status_code == 404
    assert client.get(reverse("referrals:create")).status_code == 404


def test_only_advisors_send_referrals(org_a, make_member, client_for):
    site = directory_site_of(org_a)
    client = client_for(make_member(org_a, role=Role.COUNSELLOR))
    assert client.get(f"{reverse('referrals:create')}?site={site.pk}").status_code == 403


def test_a_counsellor_accepts_and_lands_on_the_new_dossier(org_a, make_member, client_for):
    referral = make_referral(to=org_a)
    client = client_for(make_member(org_a, role=Role.COUNSELLOR))
    detail = text_of(client.get(reverse("referrals:detail", kwargs={"pk": referral.pk})))
    assert "Accepter et créer le dossier" in detail and IDENTITY["phone"] in detail
    url = reverse("referrals:accept", kwargs={"pk": referral.pk})
    response = client.post(url, {"birth_place": "Roubaix", "education_level": "3"})
    dossier = Dossier.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("journey:dossier_detail", kwargs={"pk": dossier.pk})
    assert dossier.state == DossierState.INFORMATION
    assert Referral.objects.get().state == ReferralState.ACCEPTED
    # Asked again (another tab): it says so, and no second dossier.
    again = client.post(url, {"birth_place": "Roubaix", "education_level": "3"}, follow=True)
    assert "n'attend plus de réponse" in text_of(again)
    assert Dossier.objects.count() == 1


def test_accepting_someone_who_already_has_a_dossier_is_refused(org_a, make_member, client_for):
    counsellor = make_member(org_a, role=Role.COUNSELLOR)
    first = make_referral(to=org_a)
    referral_accept(referral=first, by=counsellor)
    second = make_referral(to=org_a)  # the same person, referred again after the first was accepted
    client = client_for(counsellor)
    url = reverse("referrals:accept", kwargs={"pk": second.pk})
    assert "déjà un dossier en cours dans votre organisme" in text_of(client.get(url))
    response = client.post(url, {"birth_place": "Roubaix", "education_level": "3", "confirm_duplicate": "on"})
    assert response.status_code == 200
    assert "déjà un dossier en cours dans votre organisme" in text_of(response)
    assert Dossier.objects.count() == 1
    assert Referral.objects.get(pk=second.pk).state == ReferralState.SENT


def test_a_counsellor_declines_with_a_reason_that_the_advisor_reads(org_a, make_member, client_for):
    referral = make_referral(to=org_a)
    counsellor = client_for(make_member(org_a, role=Role.COUNSELLOR))
    url = reverse("referrals:decline", kwargs={"pk": referral.pk})
    response = counsellor.post(url, {"reason": ""})
    assert response.status_code == 200 and "reason" in response.context["form"].errors
    response = counsellor.post(url, {"reason": "Pas de session avant mars : voyez le site de Lille."})
    assert response.status_code == 302
    advisor = client_for(MembershipFactory(organisation=referral.from_organisation, role=Role.FT_ADVISOR))
    text = text_of(advisor.get(reverse("referrals:detail", kwargs={"pk": referral.pk})))
    assert "Déclinée le" in text and "Pas de session avant mars : voyez le site de Lille." in text


def test_the_advisor_sees_the_dossiers_step_and_nothing_of_the_evaluation(org_a, client_for):
    team = team_for(org_a)
    referral = make_referral(to=org_a)
    referral = referral_accept(referral=referral, by=team.counsellor)
    walk_dossier(referral.dossier, target="partially_validated", team=team, prior_acquired=PRIOR_WITH_GAPS)
    advisor = client_for(advisor_of(referral.from_organisation))

    text = text_of(advisor.get(reverse("referrals:detail", kwargs={"pk": referral.pk})))
    assert "Étape du dossier :</strong> Validation partielle" in text
    assert referral.dossier.reference not in text
    assert reverse("journey:dossier_detail", kwargs={"pk": referral.dossier_id}) not in text
    for evaluation_word in ("Critère", "critère", "Attestation", "acquis", "Sous-domaine"):
        assert evaluation_word not in text
    listing = text_of(advisor.get(reverse("referrals:list")))
    assert "Validation partielle" in listing

    # The dossier itself stays closed to the agency (the role is refused before any look-up).
    response = advisor.get(reverse("journey:dossier_detail", kwargs={"pk": referral.dossier_id}))
    assert response.status_code in {403, 404}
    assert referral.dossier.candidate.birth_place not in text_of(response)


def test_the_receiving_counsellor_gets_a_link_to_the_dossier(org_a, make_member, client_for):
    counsellor = make_member(org_a, role=Role.COUNSELLOR)
    referral = referral_accept(referral=make_referral(to=org_a), by=counsellor)
    text = text_of(client_for(counsellor).get(reverse("referrals:detail", kwargs={"pk": referral.pk})))
    assert reverse("journey:dossier_detail", kwargs={"pk": referral.dossier_id}) in text


def test_an_advisor_of_another_agency_and_another_evaluator_get_404(org_a, org_b, make_member, client_for):
    referral = make_referral(to=org_a)
    url = reverse("referrals:detail", kwargs={"pk": referral.pk})
    assert client_for(advisor_of()).get(url).status_code == 404
    assert client_for(make_member(org_b, role=Role.COUNSELLOR)).get(url).status_code == 404
    assert (
        client_for(make_member(org_b, role=Role.COUNSELLOR))
        .post(reverse("referrals:accept", kwargs={"pk": referral.pk}), {"birth_place": "X", "education_level": "3"})
        .status_code
        == 404
    )
    assert not Dossier.objects.exists()


def test_the_sending_agencys_administrator_cannot_answer(org_a, client_for):
    referral = make_referral(to=org_a)
    admin = client_for(MembershipFactory(organisation=referral.from_organisation, role=Role.ORG_ADMIN))
    assert admin.get(reverse("referrals:detail", kwargs={"pk": referral.pk})).status_code == 200
    assert admin.get(reverse("referrals:decline", kwargs={"pk": referral.pk})).status_code == 404


def test_roles_without_referrals_get_403(org_a, make_member, client_for):
    for role in (Role.EVALUATOR, Role.TRAINER, Role.JURY_MEMBER):
        assert client_for(make_member(org_a, role=role)).get(reverse("referrals:list")).status_code == 403


def test_each_side_lists_its_own_referrals(org_a, org_b, make_member, client_for):
    agency = OrganisationFactory(france_travail=True)
    mine = make_referral(to=org_a, from_agency=agency, first_name="Alice")
    make_referral(to=org_b, from_agency=agency, first_name="Bruno")
    make_referral(to=org_a, first_name="Chloé")  # from another agency
    advisor_page = client_for(advisor_of(agency)).get(reverse("referrals:list"))
    assert {r.first_name for r in advisor_page.context["page"]} == {"Alice", "Bruno"}
    counsellor_page = client_for(make_member(org_a, role=Role.COUNSELLOR)).get(reverse("referrals:list"))
    assert {r.first_name for r in counsellor_page.context["page"]} == {"Alice", "Chloé"}
    filtered = client_for(make_member(org_a, role=Role.COUNSELLOR)).get(reverse("referrals:list"), {"state": "sent"})
    assert len(filtered.context["page"].object_list) == 2
    assert mine in counsellor_page.context["page"].object_list


@pytest.mark.parametrize("count", [1, 5])
@pytest.mark.parametrize("role", [Role.FT_ADVISOR, Role.COUNSELLOR])
def test_the_list_runs_a_fixed_number_of_queries(org_a, client_for, count, role, django_assert_num_queries):
    agency = OrganisationFactory(france_travail=True)
    counsellor = MembershipFactory(organisation=org_a, role=Role.COUNSELLOR)
    for i in range(count):
        referral = make_referral(to=org_a, from_agency=agency, first_name=f"Personne{i}")
        if i % 2:
            referral_accept(referral=referral, by=counsellor)
    member = advisor_of(agency) if role == Role.FT_ADVISOR else counsellor
    client = client_for(member)
    client.get(reverse("referrals:list"))
    # Session, user, memberships, the header's unread notifications; count, page.
    with django_assert_num_queries(6):
        response = client.get(reverse("referrals:list"))
    assert len(response.context["page"].object_list) == count


@pytest.mark.parametrize("count", [1, 5])
def test_the_dashboards_run_a_fixed_number_of_queries(org_a, client_for, count, django_assert_num_queries):
    agency = OrganisationFactory(france_travail=True)
    advisor = advisor_of(agency)
    counsellor = MembershipFactory(organisation=org_a, role=Role.COUNSELLOR)
    for i in range(count):
        make_referral(to=org_a, by=advisor, first_name=f"Personne{i}")
    # Session, user, memberships, the header's unread notifications; then the advisor's referrals (and the
    # regional evaluators) and "À faire" (one query), or the counsellor's dossier counts and "À faire" (nine kinds of
    # work, one query each: after the candidates' correction requests, the information reminders due, the information
    # dossiers closing soon and the interview requests from the directory).
    expected = {Role.FT_ADVISOR: 7, Role.COUNSELLOR: 14}
    for member in (advisor, counsellor):
        client = client_for(member)
        client.get(reverse("home"))
        with django_assert_num_queries(expected[member.role]):
            response = client.get(reverse("home"))
        # The advisor's "À faire" follows the referrals, and the table of the latest lists them again.
        assert len(re.findall(r"Personne\d", text_of(response))) == count * (2 if member == advisor else 1)


def test_the_counsellor_dashboard_lists_the_referrals_awaiting_an_answer(org_a, make_member, client_for):
    make_referral(to=org_a, first_name="Alice")
    make_referral(to=org_a, first_name="Bruno")
    text = text_of(client_for(make_member(org_a, role=Role.COUNSELLOR)).get(reverse("home")))
    assert "À faire : 2 tâches" in text
    assert text.count("Répondre à l'orientation France Travail") == 2
    assert "BENALI Alice" in text and "BENALI Bruno" in text
    assert "Aucun dossier pour le moment." in text  # the existing blocks are still there


def test_the_advisor_dashboard_lists_the_advisors_own_referrals(client_for):
    advisor = advisor_of()
    colleague = MembershipFactory(organisation=advisor.organisation, role=Role.FT_ADVISOR)
    make_referral(by=advisor, first_name="Alice")
    make_referral(by=colleague, first_name="Bruno")
    text = text_of(client_for(advisor).get(reverse("home")))
    assert "BENALI Alice" in text and "Bruno" not in text
    assert "Envoyée, en attente de réponse" in text


def test_the_receiving_administrator_is_told_who_accepts_and_may_decline(org_a, make_member, client_for):
    referral = make_referral(to=org_a)
    admin = client_for(make_member(org_a, role=Role.ORG_ADMIN))
    detail = text_of(admin.get(reverse("referrals:detail", kwargs={"pk": referral.pk})))
    assert "Une conseillère ou un conseiller de votre organisme accepte l'orientation" in detail
    assert reverse("referrals:decline", kwargs={"pk": referral.pk}) in detail
    assert reverse("referrals:accept", kwargs={"pk": referral.pk}) not in detail
    listing = text_of(admin.get(reverse("referrals:list")))
    assert "Une conseillère ou un conseiller de votre organisme accepte" in listing
    # The accept URL, followed anyway, leads back to the referral with the same sentence, and opens nothing.
    response = admin.post(reverse("referrals:accept", kwargs={"pk": referral.pk}), follow=True)
    assert response.redirect_chain[-1][0] == reverse("referrals:detail", kwargs={"pk": referral.pk})
    assert "suit le dossier créé" in text_of(response)
    assert not Dossier.objects.exists()


def test_another_organisations_administrator_gets_404_on_accept(org_a, org_b, make_member, client_for):
    referral = make_referral(to=org_a)
    admin = client_for(make_member(org_b, role=Role.ORG_ADMIN))
    assert admin.get(reverse("referrals:accept", kwargs={"pk": referral.pk})).status_code == 404


def test_a_counsellor_accepts_without_birth_place_or_education_level_and_gives_them_when_opening(
    org_a, make_member, client_for
):
    referral = make_referral(to=org_a, birth_place="", education_level="")
    client = client_for(make_member(org_a, role=Role.COUNSELLOR))
    page = client.get(reverse("referrals:accept", kwargs={"pk": referral.pk}))
    assert not page.context["form"].fields["birth_place"].required
    response = client.post(reverse("referrals:accept", kwargs={"pk": referral.pk}), {})
    dossier = Dossier.objects.get()
    assert response.status_code == 302 and dossier.state == DossierState.INFORMATION
    assert "lieu à compléter à l'ouverture du dossier" in text_of(client.get(response.url))

    url = reverse("candidates:dossier_open", kwargs={"pk": dossier.pk})
    form_page = text_of(client.get(url))
    assert 'name="birth_place"' in form_page and 'name="education_level"' in form_page
    refused = client.post(url, {"consent": "on"})
    assert refused.status_code == 200
    assert set(refused.context["form"].errors) == {"birth_place", "education_level"}
    assert refused.context["form"].data["consent"] == "on"  # nothing typed is lost
    opened = client.post(url, {"consent": "on", "birth_place": "Tunis", "education_level": "none"})
    assert opened.status_code == 302
    dossier.refresh_from_db()
    assert dossier.state == DossierState.OPENED
    assert (dossier.candidate.birth_place, dossier.candidate.education_level) == ("Tunis", "none")


def test_opening_a_dossier_whose_candidate_is_complete_asks_only_the_consent(org_a, make_member, client_for):
    counsellor = make_member(org_a, role=Role.COUNSELLOR)
    referral = referral_accept(referral=make_referral(to=org_a), by=counsellor)
    page = client_for(counsellor).get(reverse("candidates:dossier_open", kwargs={"pk": referral.dossier_id}))
    # The consent, and the candidate's optional consent to e-mails (notifications).
    assert set(page.context["form"].fields) == {"consent", "notify_by_email"}
