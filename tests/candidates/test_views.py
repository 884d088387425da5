import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from candidates.forms import CONSENT_TEXT
from candidates.models import Candidate, Dossier, DossierEvent, add_years
from clea_platform.certifications import Certification
from evaluations.models import Evaluation, EvaluationKind
from organisations.models import HabilitationStatus, Role
from tests.clients import page_text
from tests.factories import HabilitationFactory, OrganisationFactory
from tests.journey import DossierFactory, small_referentiel
from tests.spoken import spoken
from training.models import TrainingPlan

pytestmark = pytest.mark.django_db

LIST_URL = reverse("candidates:dossier_list")
CREATE_URL = reverse("candidates:dossier_create")


def detail_url(dossier: Dossier) -> str:
    return reverse("journey:dossier_detail", kwargs={"pk": dossier.pk})


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.fixture
def counsellor(org_a, make_member):
    """A counsellor of an organisation habilitated for CléA, with a current CléA référentiel."""
    HabilitationFactory(organisation=org_a, certification=Certification.CLEA)
    small_referentiel(Certification.CLEA)
    return make_member(org_a, role=Role.COUNSELLOR)


def candidate_post(**overrides) -> dict[str, str]:
    data = {
        "civility": "mme",
        "last_name": "Lefèvre",
        "first_name": "Hélène",
        "birth_name": "",
        "birth_date": "1985-04-12",
        "birth_place": "Roubaix",
        "email": "helene.lefevre@exemple.fr",
        "phone": "06 12 34 56 78",
        "address": "3 rue des Arts",
        "postcode": "59100",
        "city": "Roubaix",
        "registration_status": "job_seeker",
        "education_level": "3",
        "origin": "france_travail",
        "certification": "clea",
    }
    data.update(overrides)
    return data


# -- The list ----------------------------------------------------------------------------------------------------


def test_counsellor_sees_the_dossiers_of_the_organisation_only(counsellor, org_a, org_b, client_for):
    own = DossierFactory(organisation=org_a, last_name="Martin")
    other = DossierFactory(organisation=org_b, last_name="Durand")
    response = client_for(counsellor).get(LIST_URL)
    assert response.status_code == 200
    assert own.reference in page_text(response)
    assert other.reference not in page_text(response)
    assert "Nouveau dossier" in page_text(response)


@pytest.mark.parametrize("role", [Role.EVALUATOR, Role.ORG_ADMIN])
def test_evaluators_and_administrators_see_the_list_without_the_create_button(role, org_a, make_member, client_for):
    dossier = DossierFactory(organisation=org_a)
    response = client_for(make_member(org_a, role=role)).get(LIST_URL)
    assert response.status_code == 200
    assert dossier.reference in page_text(response)
    assert "Nouveau dossier" not in page_text(response)


def test_certifpro_sees_every_organisations_dossiers_with_their_organisation(org_a, org_b, make_member, client_for):
    first, second = DossierFactory(organisation=org_a), DossierFactory(organisation=org_b)
    response = client_for(make_member(role=Role.CERTIFPRO_ADMIN)).get(LIST_URL)
    page = page_text(response)
    assert first.reference in page and second.reference in page
    assert org_a.name in page and org_b.name in page


@pytest.mark.parametrize(
    ("role", "kind"), [(Role.TRAINER, "training"), (Role.JURY_MEMBER, "jury_body"), (Role.FT_ADVISOR, "france_travail")]
)
def test_roles_without_dossiers_are_refused_the_list(role, kind, make_member, client_for):
    organisation = OrganisationFactory(**{kind: True})
    assert client_for(make_member(organisation, role=role)).get(LIST_URL).status_code == 403


def test_the_list_filters_by_state(counsellor, org_a, client_for):
    waiting = DossierFactory(organisation=org_a, state="information")
    opened = DossierFactory(organisation=org_a, state="opened")
    page = page_text(client_for(counsellor).get(LIST_URL, {"state": "opened"}))
    assert opened.reference in page
    assert waiting.reference not in page


def test_the_list_filters_by_certification(counsellor, org_a, client_for):
    clea = DossierFactory(organisation=org_a)
    numerique = DossierFactory(organisation=org_a, certification=Certification.CLEA_NUMERIQUE)
    page = page_text(client_for(counsellor).get(LIST_URL, {"certification": "clea_numerique"}))
    assert numerique.reference in page
    assert clea.reference not in page


@pytest.mark.parametrize("query", ["lefevre helene", "Hélène LEFÈVRE", "lefèv", "Helene"])
def test_the_search_finds_names_whatever_the_accents_case_and_order(query, counsellor, org_a, client_for):
    found = DossierFactory(organisation=org_a, last_name="Lefèvre", first_name="Hélène")
    other = DossierFactory(organisation=org_a, last_name="Martin", first_name="Paul")
    page = page_text(client_for(counsellor).get(LIST_URL, {"q": query}))
    assert found.reference in page
    assert other.reference not in page


def test_the_search_finds_a_dossier_by_its_reference(counsellor, org_a, client_for):
    found, other = DossierFactory(organisation=org_a), DossierFactory(organisation=org_a)
    page = page_text(client_for(counsellor).get(LIST_URL, {"q": found.reference.lower()}))
    assert found.reference in page
    assert other.reference not in page


def test_pagination_keeps_the_filters_in_its_links(counsellor, org_a, client_for):
    for _ in range(26):
        DossierFactory(organisation=org_a, state="information")
    DossierFactory(organisation=org_a, state="opened")
    client = client_for(counsellor)
    first = client.get(LIST_URL, {"state": "information", "q": "nom"})
    assert len(first.context["page"].object_list) == 25
    assert "?state=information&amp;q=nom&amp;page=2" in first.content.decode()
    second = client.get(LIST_URL, {"state": "information", "q": "nom", "page": 2})
    assert len(second.context["page"].object_list) == 1
    assert "?state=information&amp;q=nom&amp;page=1" in second.content.decode()


def test_an_empty_list_invites_the_counsellor_to_create_a_dossier(counsellor, client_for):
    page = page_text(client_for(counsellor).get(LIST_URL))
    assert "Aucun dossier pour le moment." in page
    assert CREATE_URL in page


def test_an_empty_filtered_list_says_nothing_matches(counsellor, org_a, client_for):
    DossierFactory(organisation=org_a)
    page = page_text(client_for(counsellor).get(LIST_URL, {"state": "ready_for_jury"}))
    assert "Aucun dossier ne correspond à ces critères." in page
    assert "Aucun dossier pour le moment." not in page


def test_the_list_shows_the_deadline_and_warns_when_it_is_close(counsellor, org_a, client_for):
    evaluated_on = add_years(timezone.localdate(), -5) + datetime.timedelta(days=40)
    dossier = DossierFactory(organisation=org_a, state="partially_validated", evaluated_on=evaluated_on)
    page = page_text(client_for(counsellor).get(LIST_URL))
    assert f"{dossier.deadline:%d/%m/%Y}" in page
    assert f"{dossier.days_left()} jours restants" in page


def test_the_list_costs_the_same_queries_for_one_or_five_dossiers(
    counsellor, org_a, client_for, django_assert_num_queries
):
    client = client_for(counsellor)
    DossierFactory(organisation=org_a, state="partially_validated")
    expected = queries_for(client, LIST_URL)
    for state in ("information", "opened", "in_training", "withdrawn"):
        DossierFactory(organisation=org_a, state=state)
    with django_assert_num_queries(expected):
        response = client.get(LIST_URL)
    assert len(response.context["page"].object_list) == 5


# -- Creating a dossier ------------------------------------------------------------------------------------------


def test_counsellor_creates_a_dossier_in_the_information_step(counsellor, client_for):
    response = client_for(counsellor).post(CREATE_URL, candidate_post())
    dossier = Dossier.objects.get()
    assert response.status_code == 302
    assert response.url == detail_url(dossier)
    assert dossier.state == "information"
    assert dossier.organisation == counsellor.organisation
    assert dossier.counsellor == counsellor.user
    candidate = dossier.candidate
    assert (candidate.last_name, candidate.first_name, candidate.postcode) == ("Lefèvre", "Hélène", "59100")
    assert candidate.birth_date == datetime.date(1985, 4, 12)


@pytest.mark.parametrize("role", [Role.EVALUATOR, Role.ORG_ADMIN, Role.TRAINER])
def test_only_counsellors_create_dossiers(role, org_a, make_member, client_for):
    client = client_for(make_member(org_a, role=role))
    assert client.get(CREATE_URL).status_code == 403
    assert client.post(CREATE_URL, candidate_post()).status_code == 403
    assert not Dossier.objects.exists()


def test_without_a_habilitation_in_force_the_page_explains_instead_of_showing_the_form(org_a, make_member, client_for):
    HabilitationFactory(
        organisation=org_a, status=HabilitationStatus.SUSPENDED, status_reason="Audit en cours", certification="clea"
    )
    response = client_for(make_member(org_a, role=Role.COUNSELLOR)).get(CREATE_URL)
    assert response.status_code == 200
    assert "aucune habilitation en cours" in page_text(response)
    assert response.context["form"] is None


def test_only_certifications_with_a_habilitation_in_force_are_offered(counsellor, client_for):
    client = client_for(counsellor)
    choices = dict(client.get(CREATE_URL).context["form"].fields["certification"].choices)
    assert set(choices) == {"clea"}
    response = client.post(CREATE_URL, candidate_post(certification="clea_numerique"))
    assert response.status_code == 200
    assert "Votre organisme n'est pas habilité pour cette certification." in page_text(response)
    assert not Dossier.objects.exists()


def test_with_several_certifications_the_counsellor_must_choose_one(counsellor, org_a, client_for):
    HabilitationFactory(organisation=org_a, certification=Certification.CLEA_NUMERIQUE)
    response = client_for(counsellor).post(CREATE_URL, candidate_post(certification=""))
    assert response.status_code == 200
    assert "Choisissez la certification visée." in page_text(response)
    assert not Dossier.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("birth_date", "2999-01-01", "La date de naissance doit être dans le passé."),
        ("birth_date", (timezone.localdate() - datetime.timedelta(days=365 * 10)).isoformat(), "entre 16 et 99 ans"),
        ("birth_date", "1900-01-01", "entre 16 et 99 ans"),
        ("birth_date", "12/13/1985", "Saisissez une date valide"),
        ("postcode", "59A00", "Le code postal doit comporter 5 chiffres."),
        ("postcode", "590", "Le code postal doit comporter 5 chiffres."),
        ("email", "helene@", "Saisissez une adresse e-mail valide."),
        ("phone", "12", "Saisissez un numéro de téléphone valide"),
        ("last_name", "", "Indiquez le nom d'usage."),
        # Blank on the model for a referral's dossier, still asked at the counsellor's own interview.
        ("birth_place", "", "Indiquez le lieu de naissance."),
        ("education_level", "", "Indiquez le niveau de formation."),
    ],
)
def test_bad_input_is_refused_in_french_and_kept(field, value, message, counsellor, client_for):
    response = client_for(counsellor).post(CREATE_URL, candidate_post(**{field: value}))
    assert response.status_code == 200
    page = page_text(response)
    assert message in page
    assert 'value="Roubaix"' in page  # what was typed is still there
    assert f'id="id_{field}_errors"' in page  # the error is tied to its field
    assert not Dossier.objects.exists()


def test_a_day_month_year_birth_date_is_understood(counsellor, client_for):
    client_for(counsellor).post(CREATE_URL, candidate_post(birth_date="12/04/1985"))
    assert Candidate.objects.get().birth_date == datetime.date(1985, 4, 12)


def test_an_open_dossier_of_the_same_person_in_the_organisation_refuses_with_a_link(counsellor, org_a, client_for):
    existing = DossierFactory(
        organisation=org_a, last_name="LEFEVRE", first_name="helene", birth_date=datetime.date(1985, 4, 12)
    )
    client = client_for(counsellor)
    response = client.post(CREATE_URL, candidate_post())
    assert response.status_code == 200
    page = page_text(response)
    assert "déjà un dossier en cours dans votre organisme" in page
    assert detail_url(existing) in page and existing.reference in page
    assert 'value="Lefèvre"' in page
    # No confirmation lets a second one through.
    assert client.post(CREATE_URL, candidate_post(confirm_duplicate="on")).status_code == 200
    assert Dossier.objects.count() == 1


def test_an_open_dossier_in_another_organisation_refuses_without_naming_it(
    counsellor, org_b, client_for, django_capture_on_commit_callbacks
):
    elsewhere = DossierFactory(
        organisation=org_b, last_name="Lefèvre", first_name="Hélène", birth_date=datetime.date(1985, 4, 12)
    )
    client = client_for(counsellor)
    response = client.post(CREATE_URL, candidate_post())
    page = page_text(response)
    assert "Cette personne a déjà un parcours pour cette certification dans un autre organisme" in page
    assert org_b.name not in page
    assert elsewhere.reference not in page
    assert detail_url(elsewhere) not in page
    assert elsewhere.team.counsellor.user.get_full_name() not in page
    assert client.post(CREATE_URL, candidate_post(confirm_duplicate="on")).status_code == 200
    assert Dossier.objects.filter(organisation=counsellor.organisation).count() == 0


def test_a_closed_dossier_of_the_same_person_is_no_duplicate(counsellor, org_a, client_for):
    DossierFactory(
        organisation=org_a,
        last_name="Lefèvre",
        first_name="Hélène",
        birth_date=datetime.date(1985, 4, 12),
        state="withdrawn",
    )
    assert client_for(counsellor).post(CREATE_URL, candidate_post()).status_code == 302


# -- The dossier page --------------------------------------------------------------------------------------------


def test_the_dossier_page_shows_identity_step_and_timeline(counsellor, org_a, client_for):
    dossier = DossierFactory(organisation=org_a, state="opened", last_name="Lefèvre", first_name="Hélène")
    response = client_for(counsellor).get(detail_url(dossier))
    assert response.status_code == 200
    page = page_text(response)
    assert "Hélène Lefèvre" in page
    assert "Dossier ouvert" in page
    assert f"version {dossier.referentiel.version}" in page
    assert "Information vers Dossier ouvert" in spoken(page)
    assert "Consentement recueilli" in page
    assert f"par {dossier.team.counsellor.user.get_full_name()}" in page
    events = list(response.context["events"])
    assert events[0].to_state == "opened"  # newest first


def test_the_dossier_page_shows_the_deadline_with_the_days_left(counsellor, org_a, client_for):
    evaluated_on = timezone.localdate() - datetime.timedelta(days=10)
    dossier = DossierFactory(organisation=org_a, state="partially_validated", evaluated_on=evaluated_on)
    response = client_for(counsellor).get(detail_url(dossier))
    page = page_text(response)
    assert f"au plus tard le {add_years(evaluated_on, 5):%d/%m/%Y}" in page
    assert f"Il reste {dossier.days_left()} jours." in page
    assert response.context["deadline_close"] is False


def test_the_dossier_page_warns_when_the_deadline_is_under_91_days(counsellor, org_a, client_for):
    evaluated_on = add_years(timezone.localdate(), -5) + datetime.timedelta(days=90)
    dossier = DossierFactory(organisation=org_a, state="partially_validated", evaluated_on=evaluated_on)
    response = client_for(counsellor).get(detail_url(dossier))
    assert response.context["deadline_close"] is True
    assert 'class="message--warning"' in response.content.decode()


def test_the_dossier_page_links_evaluations_attestations_and_training_plans(
    counsellor, org_a, client_for, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        dossier = DossierFactory(organisation=org_a, state="in_training")
    prior = Evaluation.objects.get(dossier=dossier, kind=EvaluationKind.PRIOR)
    plan = TrainingPlan.objects.get(dossier=dossier)
    attestation = dossier.attestations.get()
    page = page_text(client_for(counsellor).get(detail_url(dossier)))
    assert reverse("evaluations:grid", kwargs={"pk": prior.pk}) in page
    assert reverse("evaluations:summary", kwargs={"pk": prior.pk}) in page
    assert reverse("evaluations:attestation_download", kwargs={"pk": attestation.pk}) in page
    assert reverse("training:plan_detail", kwargs={"pk": plan.pk}) in page
    assert prior.evaluator.get_full_name() in page
    assert plan.trainer.get_full_name() in page


def test_evaluator_is_offered_to_start_the_prior_evaluation_of_an_opened_dossier(org_a, client_for):
    dossier = DossierFactory(organisation=org_a, state="opened")
    start = reverse("evaluations:evaluation_start", kwargs={"dossier_pk": dossier.pk})
    evaluator_page = page_text(client_for(dossier.team.evaluator).get(detail_url(dossier)))
    assert "Commencer l'évaluation préalable" in evaluator_page
    assert start in evaluator_page
    assert "Clore le dossier (abandon)" not in evaluator_page

    counsellor_page = page_text(client_for(dossier.team.counsellor).get(detail_url(dossier)))
    assert "Commencer l'évaluation préalable" not in counsellor_page
    assert start not in counsellor_page
    assert reverse("candidates:dossier_withdraw", kwargs={"pk": dossier.pk}) in counsellor_page


def test_counsellor_is_offered_to_open_a_dossier_in_the_information_step(org_a, client_for):
    dossier = DossierFactory(organisation=org_a, state="information")
    page = page_text(client_for(dossier.team.counsellor).get(detail_url(dossier)))
    assert "Ouvrir le dossier" in page
    assert reverse("candidates:dossier_open", kwargs={"pk": dossier.pk}) in page
    evaluator_page = page_text(client_for(dossier.team.evaluator).get(detail_url(dossier)))
    assert reverse("candidates:dossier_open", kwargs={"pk": dossier.pk}) not in evaluator_page
    # Who acts next, even when it is not the reader: the dossier's counsellor.
    assert "Ouverture du dossier, après l'entretien d'information" in evaluator_page
    assert f"{dossier.counsellor.get_full_name()} (accompagnement)" in evaluator_page
    assert "(vous)" not in evaluator_page and "(vous)" in page


def test_counsellor_is_offered_to_define_the_training_of_a_partially_validated_dossier(org_a, client_for):
    dossier = DossierFactory(organisation=org_a, state="partially_validated")
    page = page_text(client_for(dossier.team.counsellor).get(detail_url(dossier)))
    assert "Définir le parcours de formation" in page
    assert reverse("training:plan_create", kwargs={"dossier_pk": dossier.pk}) in page
    evaluator_page = page_text(client_for(dossier.team.evaluator).get(detail_url(dossier)))
    assert "Définir le parcours de formation" not in evaluator_page
    assert "Définition du parcours de formation" in evaluator_page
    assert f"{dossier.counsellor.get_full_name()} (accompagnement)" in evaluator_page


def test_evaluator_is_told_why_the_prior_evaluation_cannot_start_without_a_habilitation(org_a, client_for):
    dossier = DossierFactory(organisation=org_a, state="opened")
    org_a.habilitations.filter(certification=dossier.certification).update(
        status=HabilitationStatus.WITHDRAWN, status_reason="Audit de conformité"
    )
    response = client_for(dossier.team.evaluator).get(detail_url(dossier))
    assert response.context["actions"] == []
    assert "L'organisme n'a pas d'habilitation en cours pour cette certification." in page_text(response)


def test_evaluator_is_told_the_training_must_be_completed_first(org_a, client_for):
    dossier = DossierFactory(organisation=org_a, state="in_training")
    page = page_text(client_for(dossier.team.evaluator).get(detail_url(dossier)))
    assert "Commencer l'évaluation finale" not in page
    plan = dossier.training_plans.get()
    assert f"Formation (parcours 1, fin prévue le {plan.ends_on:%d/%m/%Y}), puis la déclaration de sa fin" in page
    assert f"{plan.trainer.get_full_name()} (formation), {plan.organisation.name}" in page


def test_org_admin_may_close_a_dossier_but_certifpro_only_looks(org_a, make_member, client_for):
    dossier = DossierFactory(organisation=org_a, state="opened")
    withdraw = reverse("candidates:dossier_withdraw", kwargs={"pk": dossier.pk})
    assert withdraw in page_text(client_for(make_member(org_a, role=Role.ORG_ADMIN)).get(detail_url(dossier)))
    certifpro_page = page_text(client_for(make_member(role=Role.CERTIFPRO_ADMIN)).get(detail_url(dossier)))
    assert withdraw not in certifpro_page
    assert "Certif'Pro consulte les dossiers sans intervenir" in certifpro_page


def test_a_closed_dossier_offers_nothing_and_says_so(org_a, client_for):
    dossier = DossierFactory(organisation=org_a, state="withdrawn")
    response = client_for(dossier.team.counsellor).get(detail_url(dossier))
    assert response.context["actions"] == []
    assert "Aucune : ce dossier est clos, plus aucune étape n'est possible." in page_text(response)
    assert dossier.withdrawal_reason in page_text(response)


def test_a_trainer_may_not_open_the_dossier_page(org_a, make_member, client_for):
    dossier = DossierFactory(organisation=org_a)
    assert client_for(make_member(org_a, role=Role.TRAINER)).get(detail_url(dossier)).status_code == 403


def test_the_dossier_page_queries_do_not_grow_with_its_history(
    org_a, client_for, django_capture_on_commit_callbacks, django_assert_num_queries
):
    with django_capture_on_commit_callbacks(execute=True):
        dossier = DossierFactory(organisation=org_a, state="in_training")
    client = client_for(dossier.team.counsellor)
    expected = queries_for(client, detail_url(dossier))
    # 12 with the assignments and the appointments (scheduling/selectors.py: one query each), 13 with the person's
    # correction requests still open.
    assert expected <= 13
    DossierEvent.objects.bulk_create(
        DossierEvent(dossier=dossier, actor=dossier.team.evaluator.user, note=f"Note {i}") for i in range(5)
    )
    with django_assert_num_queries(expected):
        client.get(detail_url(dossier))


# -- Opening -----------------------------------------------------------------------------------------------------


def test_counsellor_opens_a_dossier_with_the_candidates_consent(org_a, client_for):
    dossier = DossierFactory(organisation=org_a)
    url = reverse("candidates:dossier_open", kwargs={"pk": dossier.pk})
    client = client_for(dossier.team.counsellor)
    page = page_text(client.get(url))
    assert CONSENT_TEXT[:60] in page
    assert "Le candidat a donné son accord" in page
    response = client.post(url, {"consent": "on"})
    assert response.status_code == 302
    assert response.url == detail_url(dossier)
    dossier.refresh_from_db()
    assert dossier.state == "opened"
    assert dossier.consent_text == CONSENT_TEXT
    assert dossier.consent_at is not None
    assert (dossier.notify_by_email, dossier.notify_by_email_at) == (False, None)  # e-mails: off unless asked


def test_the_candidate_agrees_at_opening_to_hear_by_email_and_the_date_is_kept(org_a, client_for):
    dossier = DossierFactory(organisation=org_a)
    url = reverse("candidates:dossier_open", kwargs={"pk": dossier.pk})
    client = client_for(dossier.team.counsellor)
    assert "Le candidat accepte d'être prévenu par courriel" in page_text(client.get(url))
    client.post(url, {"consent": "on", "notify_by_email": "on"})
    dossier.refresh_from_db()
    assert dossier.state == "opened"
    assert dossier.notify_by_email and dossier.notify_by_email_at == dossier.consent_at


def test_the_consent_checkbox_is_required(org_a, client_for):
    dossier = DossierFactory(organisation=org_a)
    url = reverse("candidates:dossier_open", kwargs={"pk": dossier.pk})
    response = client_for(dossier.team.counsellor).post(url, {})
    assert response.status_code == 200
    assert "qu'avec l'accord du candidat" in page_text(response)
    dossier.refresh_from_db()
    assert dossier.state == "information"
    assert dossier.consent_at is None


@pytest.mark.parametrize("role", [Role.EVALUATOR, Role.ORG_ADMIN])
def test_only_a_counsellor_opens_a_dossier(role, org_a, make_member, client_for):
    dossier = DossierFactory(organisation=org_a)
    url = reverse("candidates:dossier_open", kwargs={"pk": dossier.pk})
    assert client_for(make_member(org_a, role=role)).post(url, {"consent": "on"}).status_code == 403
    dossier.refresh_from_db()
    assert dossier.state == "information"


def test_opening_an_already_opened_dossier_goes_back_to_it(org_a, client_for):
    dossier = DossierFactory(organisation=org_a, state="opened")
    url = reverse("candidates:dossier_open", kwargs={"pk": dossier.pk})
    response = client_for(dossier.team.counsellor).post(url, {"consent": "on"}, follow=True)
    assert response.redirect_chain[-1][0] == detail_url(dossier)
    assert "il n'y a plus d'accord à recueillir" in page_text(response)
    assert dossier.events.filter(transition="open").count() == 1


# -- Withdrawal --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.COUNSELLOR, Role.ORG_ADMIN])
def test_counsellor_or_administrator_closes_a_dossier_with_a_reason(role, org_a, make_member, client_for):
    dossier = DossierFactory(organisation=org_a, state="opened")
    member = dossier.team.counsellor if role == Role.COUNSELLOR else make_member(org_a, role=role)
    url = reverse("candidates:dossier_withdraw", kwargs={"pk": dossier.pk})
    response = client_for(member).post(url, {"reason": "Reprise d'emploi"})
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.state == "withdrawn"
    assert dossier.withdrawal_reason == "Reprise d'emploi"
    event = dossier.events.get(transition="withdraw")
    assert (event.actor, event.note) == (member.user, "Reprise d'emploi")


def test_the_withdrawal_reason_is_required(org_a, client_for):
    dossier = DossierFactory(organisation=org_a, state="opened")
    url = reverse("candidates:dossier_withdraw", kwargs={"pk": dossier.pk})
    response = client_for(dossier.team.counsellor).post(url, {"reason": "   "})
    assert response.status_code == 200
    assert "Indiquez le motif de l'abandon." in page_text(response)
    dossier.refresh_from_db()
    assert dossier.state == "opened"


def test_an_evaluator_may_not_close_a_dossier(org_a, client_for):
    dossier = DossierFactory(organisation=org_a, state="opened")
    url = reverse("candidates:dossier_withdraw", kwargs={"pk": dossier.pk})
    assert client_for(dossier.team.evaluator).post(url, {"reason": "Non"}).status_code == 403
    dossier.refresh_from_db()
    assert dossier.state == "opened"


def test_closing_a_closed_dossier_goes_back_to_it(org_a, client_for):
    dossier = DossierFactory(organisation=org_a, state="withdrawn")
    url = reverse("candidates:dossier_withdraw", kwargs={"pk": dossier.pk})
    response = client_for(dossier.team.counsellor).post(url, {"reason": "Encore"})
    assert response.status_code == 302
    assert dossier.events.filter(transition="withdraw").count() == 1


# -- The counsellor's dashboard ----------------------------------------------------------------------------------


def test_the_counsellors_dashboard_counts_dossiers_per_step_with_links(counsellor, org_a, org_b, client_for):
    DossierFactory(organisation=org_a, state="information")
    DossierFactory(organisation=org_a, state="information")
    DossierFactory(organisation=org_a, state="opened")
    DossierFactory(organisation=org_b, state="opened")
    response = client_for(counsellor).get(reverse("home"))
    board = {line["state"]: line["count"] for line in response.context["board"]["by_state"]}
    assert board == {"information": 2, "opened": 1}
    assert f"{LIST_URL}?state=information" in response.content.decode()


def test_the_counsellors_dashboard_lists_the_deadlines_within_91_days(counsellor, org_a, client_for):
    soon = DossierFactory(
        organisation=org_a,
        state="partially_validated",
        evaluated_on=add_years(timezone.localdate(), -5) + datetime.timedelta(days=60),
    )
    DossierFactory(organisation=org_a, state="partially_validated")
    page = page_text(client_for(counsellor).get(reverse("home")))
    # In "À faire": the one deadline within 91 days (both dossiers also wait for their training plan).
    assert page.count("Échéance des 5 ans le") == 1
    assert f"Échéance des 5 ans le {soon.deadline:%d/%m/%Y}" in page


def test_the_counsellors_dashboard_costs_the_same_for_one_or_five_dossiers(
    counsellor, org_a, client_for, django_assert_num_queries
):
    client = client_for(counsellor)
    DossierFactory(organisation=org_a)
    expected = queries_for(client, reverse("home"))
    for state in ("opened", "partially_validated", "in_training", "withdrawn"):
        DossierFactory(organisation=org_a, state=state)
    with django_assert_num_queries(expected):
        client.get(reverse("home"))


def test_an_empty_dashboard_offers_to_create_a_dossier(counsellor, client_for):
    page = page_text(client_for(counsellor).get(reverse("home")))
    assert "Aucun dossier pour le moment." in page
    assert CREATE_URL in page


@pytest.mark.parametrize("query", ["cleanum", "CLEANUM-20", "-0"])
def test_the_search_finds_references_by_their_prefix_or_digits(query, counsellor, org_a, client_for):
    # A query with neither digits nor the certifications' prefix is a name (issue 22: the OR with the reference
    # read every dossier of the organisation); a reference's prefix or digits still search the references.
    numerique = DossierFactory(organisation=org_a, certification=Certification.CLEA_NUMERIQUE)
    clea = DossierFactory(organisation=org_a)
    page = page_text(client_for(counsellor).get(LIST_URL, {"q": query}))
    assert numerique.reference in page
    assert (clea.reference in page) is (query == "-0")


def test_a_search_without_digits_or_prefix_reads_names_only(counsellor, org_a, client_for):
    numerique = DossierFactory(organisation=org_a, certification=Certification.CLEA_NUMERIQUE, last_name="Numa")
    other = DossierFactory(organisation=org_a, certification=Certification.CLEA_NUMERIQUE, last_name="Martin")
    page = page_text(client_for(counsellor).get(LIST_URL, {"q": "num"}))
    assert numerique.reference in page
    assert other.reference not in page  # "num" is in its reference (CLEANUM-…), not in its name


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("clea", True),
        ("CLEANUM-2", True),
        ("cleamgt", True),
        ("-0", True),
        ("2024", True),
        ("Cleary", False),
        ("num", False),
        ("Martin", False),
    ],
)
def test_what_looks_like_a_reference(query, expected):
    from candidates.forms import looks_like_reference

    assert looks_like_reference(query) is expected
