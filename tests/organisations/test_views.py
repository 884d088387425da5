import pytest
from django.urls import reverse

from organisations.models import AuditLog, Role
from tests.clients import page_text
from tests.factories import SiteFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.COUNSELLOR, "Aucun dossier pour le moment."),
        (Role.EVALUATOR, "Rien à faire pour l'instant."),
        (Role.TRAINER, "Aucun parcours de formation ne vous est confié."),
        (Role.ORG_ADMIN, "Aucun site actif"),
        (Role.JURY_MEMBER, "Aucune convocation à une session de jury pour le moment."),
        (Role.FT_ADVISOR, "Aucun organisme évaluateur n'a d'habilitation en cours"),
        (Role.CERTIFPRO_ADMIN, "Vue nationale"),
    ],
)
def test_each_role_has_a_dashboard_with_its_empty_state(role, expected, make_member, client_for):
    from organisations.models import ROLES_BY_KIND, OrganisationKind
    from tests.factories import OrganisationFactory

    kind = next(k for k in OrganisationKind if role in ROLES_BY_KIND[k])
    organisation = OrganisationFactory(kind=kind)
    response = client_for(make_member(organisation, role=role)).get(reverse("home"))
    assert response.status_code == 200
    assert expected in page_text(response)


def test_a_user_without_membership_is_told_so(client):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    response = client.get(reverse("home"))
    assert response.status_code == 403
    assert "rattaché à aucune organisation" in response.content.decode()


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get(reverse("organisations:site_list"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_switching_to_another_membership_of_ones_own(org_a, org_b, make_member, client_for):
    first = make_member(org_a, role=Role.COUNSELLOR)
    second = make_member(org_b, role=Role.ORG_ADMIN, email="autre@exemple.fr")
    second.user = first.user
    second.save()
    client = client_for(first)
    response = client.post(reverse("organisations:switch"), {"membership": second.pk, "next": "/"})
    assert response.status_code == 302
    assert client.get(reverse("home")).context["current_membership"] == second
    assert AuditLog.objects.filter(action="membership.switch", organisation=org_b).count() == 1


def test_switching_to_someone_elses_membership_is_404(org_a, org_b, make_member, client_for):
    mine = make_member(org_a)
    theirs = make_member(org_b)
    client = client_for(mine)
    assert client.post(reverse("organisations:switch"), {"membership": theirs.pk}).status_code == 404
    assert client.post(reverse("organisations:switch"), {"membership": "abc"}).status_code == 404
    assert client.get(reverse("home")).context["current_membership"] == mine


def test_switch_refuses_an_external_redirect(org_a, make_member, client_for):
    mine = make_member(org_a)
    response = client_for(mine).post(
        reverse("organisations:switch"), {"membership": mine.pk, "next": "https://evil.example/"}
    )
    assert response.url == reverse("home")


def test_site_list_shows_only_the_organisations_sites(org_a, org_b, make_member, client_for, django_assert_num_queries):
    SiteFactory.create_batch(3, organisation=org_a, name="Site de A")
    SiteFactory(organisation=org_b, name="Site de B")
    client = client_for(make_member(org_a))
    # session, user, memberships, unread notifications, count, page of sites: constant whatever the number of sites.
    with django_assert_num_queries(6):
        response = client.get(reverse("organisations:site_list"))
    body = response.content.decode()
    assert body.count("Site de A") == 3
    assert "Site de B" not in body


def test_certifpro_sees_every_site(org_a, org_b, make_member, client_for):
    SiteFactory(organisation=org_a, name="Site de A")
    SiteFactory(organisation=org_b, name="Site de B")
    body = client_for(make_member(role=Role.CERTIFPRO_ADMIN)).get(reverse("organisations:site_list")).content.decode()
    assert "Site de A" in body and "Site de B" in body


def test_org_admin_edits_a_site_and_the_change_is_audited(org_a, make_member, client_for):
    site = SiteFactory(organisation=org_a, contact_phone="", wheelchair_accessible=False)
    client = client_for(make_member(org_a, role=Role.ORG_ADMIN))
    data = {
        "name": site.name,
        "address": site.address,
        "postcode": site.postcode,
        "city": site.city,
        "insee_code": site.insee_code,
        "latitude": site.latitude,
        "longitude": site.longitude,
        "is_active": "on",
        "contact_phone": "03 20 12 34 56",
        "wheelchair_accessible": "on",
    }
    response = client.post(reverse("organisations:site_edit", args=[site.pk]), data)
    assert response.status_code == 302
    site.refresh_from_db()
    assert (site.contact_phone, site.wheelchair_accessible) == ("03 20 12 34 56", True)
    entry = AuditLog.objects.get(action="site.update")
    assert entry.details["fields"] == ["contact_phone", "wheelchair_accessible"]
    assert entry.organisation == org_a


def test_bad_site_input_keeps_the_data_and_explains_in_french(org_a, make_member, client_for):
    site = SiteFactory(organisation=org_a, postcode="59000")
    client = client_for(make_member(org_a, role=Role.ORG_ADMIN))
    response = client.post(
        reverse("organisations:site_edit", args=[site.pk]),
        {
            "name": "Nouveau nom",
            "address": "x",
            "postcode": "5900",
            "city": "Lille",
            "insee_code": "59350",
            "latitude": "50.6",
            "longitude": "3.0",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Le code postal doit comporter 5 chiffres." in body
    assert 'value="Nouveau nom"' in body
    site.refresh_from_db()
    assert site.postcode == "59000"


def test_a_counsellor_cannot_edit_sites(org_a, make_member, client_for):
    site = SiteFactory(organisation=org_a)
    client = client_for(make_member(org_a, role=Role.COUNSELLOR))
    assert client.get(reverse("organisations:site_edit", args=[site.pk])).status_code == 403


def test_members_page_is_for_administrators(org_a, make_member, client_for):
    make_member(org_a, role=Role.COUNSELLOR, email="collegue@exemple.fr")
    admin = client_for(make_member(org_a, role=Role.ORG_ADMIN))
    assert "collegue@exemple.fr" in admin.get(reverse("organisations:member_list")).content.decode()
    counsellor = client_for(make_member(org_a, role=Role.COUNSELLOR))
    assert counsellor.get(reverse("organisations:member_list")).status_code == 403


def test_a_field_error_is_announced_with_its_input(org_a, make_member, client_for):
    site = SiteFactory(organisation=org_a)
    client = client_for(make_member(org_a, role=Role.ORG_ADMIN))
    response = client.post(reverse("organisations:site_edit", args=[site.pk]), {"name": "", "postcode": "5900"})
    body = response.content.decode()
    assert 'id="id_postcode_errors"' in body
    assert 'aria-describedby="id_postcode_errors"' in body
    assert 'aria-invalid="true"' in body
