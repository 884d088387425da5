import datetime
import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from organisations.models import AuditLog, OrganisationKind, Role
from referrals.models import Referral
from tests.clients import page_text
from tests.directory.support import evaluator_site
from tests.factories import OrganisationFactory, SiteFactory

pytestmark = pytest.mark.django_db


def test_the_public_directory_answers_without_login(anonymous_client, communes):
    evaluator_site(communes["59512"], name="Roubaix – Gare", contact_phone="03 20 00 00 02", contact_email="r@ex.fr")
    response = anonymous_client.get(reverse("directory:search"), {"commune": "lille"})
    assert response.status_code == 200
    text = page_text(response)
    assert "1 site à moins de 20 km de Lille (59)" in text
    assert "Roubaix – Gare" in text and "03 20 00 00 02" in text and "r@ex.fr" in text
    assert "à 10,8 km" in text
    assert "Orienter une personne" not in text  # referrals are for France Travail advisors


def test_the_empty_public_page_shows_the_search_form(anonymous_client, communes):
    response = anonymous_client.get(reverse("directory:search"))
    assert response.status_code == 200
    assert 'name="commune"' in response.content.decode()
    assert "à moins de" not in page_text(response)


def test_each_result_shows_the_availability_the_organisation_declares(anonymous_client, communes):
    today = timezone.localdate()
    evaluator_site(
        communes["59350"],
        name="Avec date",
        next_slot_on=today + datetime.timedelta(days=5),
        availability_updated_at=timezone.now(),
    )
    evaluator_site(
        communes["59512"],
        name="Avec délai",
        typical_wait_days=14,
        availability_updated_at=timezone.now() - datetime.timedelta(days=90),
    )
    evaluator_site(communes["59599"], name="Date passée", next_slot_on=today - datetime.timedelta(days=2))
    text = page_text(anonymous_client.get(reverse("directory:search"), {"commune": "Lille (59)"}))
    slot = date_format(today + datetime.timedelta(days=5), "l j F Y")
    assert f"Prochaine évaluation préalable possible : {slot}" in text
    assert "Délai habituel avant l'évaluation préalable : 14 jours" in text
    assert "information ancienne, à vérifier" in text
    assert text.count("Disponibilités : contacter l'organisme.") == 1  # the past date is not offered
    assert f"Déclaré par l'organisme le {today:%d/%m/%Y}" in text


def test_an_ambiguous_commune_offers_the_choices_as_links(anonymous_client, communes):
    response = anonymous_client.get(reverse("directory:search"), {"commune": "saint denis", "radius": 50})
    text = page_text(response)
    assert "Précisez la commune" in text
    assert "commune=Saint-Denis%20%28974%29" in response.content.decode()
    assert "radius=50" in response.content.decode()


def test_an_unknown_commune_is_said_so(anonymous_client, communes):
    text = page_text(anonymous_client.get(reverse("directory:search"), {"commune": "Atlantide"}))
    assert "Aucune commune ne correspond à « Atlantide »" in text


def test_a_search_that_finds_nothing_offers_to_widen_the_radius(anonymous_client, communes):
    evaluator_site(communes["59178"], name="Douai")  # 29 km
    response = anonymous_client.get(reverse("directory:search"), {"commune": "59350", "radius": 10})
    # 59350 is Lille's INSEE code and no postcode: it designates one commune.
    text = page_text(response)
    assert "Aucun organisme évaluateur habilité à moins de 10 km." in text
    assert "Élargir à 50 km (1 site)" in text
    assert "20 km (0 site)" in text  # French: 0 is singular


def test_the_radius_links_keep_the_filters(anonymous_client, communes):
    evaluator_site(communes["59350"])
    body = anonymous_client.get(
        reverse("directory:search"), {"commune": "Lille (59)", "certification": "clea", "wheelchair": "on"}
    ).content.decode()
    assert "certification=clea&amp;wheelchair=on&amp;radius=100" in body


@pytest.mark.parametrize("count", [1, 5])
def test_the_public_page_runs_a_fixed_number_of_queries(anonymous_client, communes, count, django_assert_num_queries):
    for i in range(count):
        evaluator_site(communes["59512"], name=f"Site {i}")
    # The commune (names that start with the text, then names with a word that does), the ranking, and the
    # page's sites with their organisation and habilitations, whatever the number of sites.
    with django_assert_num_queries(5):
        response = anonymous_client.get(reverse("directory:search"), {"commune": "Roubaix"})
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == count


def test_commune_suggestions_are_options_with_their_count_in_words(anonymous_client, communes):
    url = reverse("directory:commune_suggestions")
    body = html.unescape(anonymous_client.get(url, {"commune": "saint etie"}).content.decode())
    assert body.startswith('<ul data-status="3 communes proposées">')
    assert '<li role="option" data-value="Saint-Étienne (42)">Saint-Étienne – Loire (42000…)</li>' in body
    assert body.count('role="option"') == 3
    single = html.unescape(anonymous_client.get(url, {"commune": "2A004"}).content.decode())
    assert single.startswith('<ul data-status="1 commune proposée">') and single.count('role="option"') == 1
    # A code that no commune bears: no option, and words that say so (a name would get the nearest ones).
    none = html.unescape(anonymous_client.get(url, {"commune": "2A999"}).content.decode())
    assert none.startswith('<ul data-status="Aucune commune ne correspond">') and "<li" not in none
    # One character is not searched: nothing to show, nothing to say.
    assert anonymous_client.get(url, {"commune": "s"}).content.strip() == b""


def test_the_public_page_is_rate_limited_per_address_for_anonymous_visitors(
    anonymous_client, communes, make_member, client_for
):
    url = reverse("directory:search")
    statuses = [anonymous_client.get(url).status_code for _ in range(121)]
    assert statuses[:120] == [200] * 120
    assert statuses[120] == 429
    # An agency's advisors share its public address: signed in, they are not held back.
    agency = OrganisationFactory(france_travail=True)
    advisor = client_for(make_member(agency, role=Role.FT_ADVISOR))
    assert advisor.get(url, REMOTE_ADDR=anonymous_client.defaults["REMOTE_ADDR"]).status_code == 200


def test_an_advisor_can_refer_from_the_results_and_starts_from_the_agency(communes, make_member, client_for):
    agency = OrganisationFactory(france_travail=True)
    SiteFactory(organisation=agency, name="Agence", insee_code="59350", postcode="59000", city="Lille")
    site = evaluator_site(communes["59512"], name="Roubaix")
    client = client_for(make_member(agency, role=Role.FT_ADVISOR))
    response = client.get(reverse("directory:search"))
    assert response.context["commune"] == communes["59350"]  # the agency's commune, until another is typed
    body = response.content.decode()
    assert f"{reverse('referrals:create')}?site={site.pk}" in body
    assert reverse("directory:sheet_list") in body


def test_an_org_admin_declares_the_sites_availability_which_dates_it(org_a, make_member, client_for):
    site = SiteFactory(organisation=org_a)
    client = client_for(make_member(org_a, role=Role.ORG_ADMIN))
    url = reverse("organisations:site_edit", kwargs={"pk": site.pk})
    form = client.get(url).context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(next_slot_on="2030-01-15", typical_wait_days="10", is_active="on")
    response = client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors if response.context else ""
    site.refresh_from_db()
    assert site.next_slot_on == datetime.date(2030, 1, 15)
    assert site.typical_wait_days == 10
    assert timezone.now() - site.availability_updated_at < datetime.timedelta(minutes=1)
    assert AuditLog.objects.get(action="site.update").details["fields"] == [
        "availability_updated_at",
        "next_slot_on",
        "typical_wait_days",
    ]


def test_editing_something_else_keeps_the_availability_date(org_a, make_member, client_for):
    stamp = timezone.now() - datetime.timedelta(days=40)
    site = SiteFactory(organisation=org_a, typical_wait_days=7, availability_updated_at=stamp)
    client = client_for(make_member(org_a, role=Role.ORG_ADMIN))
    url = reverse("organisations:site_edit", kwargs={"pk": site.pk})
    form = client.get(url).context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(contact_name="Nouvel accueil", is_active="on")
    assert client.post(url, data).status_code == 302
    site.refresh_from_db()
    assert site.contact_name == "Nouvel accueil"
    assert site.availability_updated_at == stamp


def test_the_advisor_dashboard_has_the_search_box_and_an_empty_state(make_member, client_for):
    agency = OrganisationFactory(kind=OrganisationKind.FRANCE_TRAVAIL)
    text = page_text(client_for(make_member(agency, role=Role.FT_ADVISOR)).get(reverse("home")))
    assert "Trouver un organisme évaluateur" in text
    assert 'action="/annuaire/"' in text
    assert "Vous n'avez encore orienté personne." in text
    assert Referral.objects.count() == 0


def test_the_three_commune_fields_are_one_combobox_that_works_as_plain_text_without_script(
    anonymous_client, communes, make_member, client_for
):
    suggestions = reverse("directory:commune_suggestions")
    advisor = client_for(make_member(OrganisationFactory(kind=OrganisationKind.FRANCE_TRAVAIL), role=Role.FT_ADVISOR))
    pages = [
        ("id_commune", anonymous_client.get(reverse("directory:search"))),
        ("dashboard-commune", advisor.get(reverse("home"))),
        ("id_commune", advisor.get(reverse("directory:sheet_list"))),
    ]
    for input_id, response in pages:
        text = response.content.decode()
        assert text.count("data-combobox=") == 1 and f'data-combobox="{suggestions}"' in text
        field = re.search(rf'<input [^>]*id="{input_id}"[^>]*>', text)[0]
        assert 'type="search"' in field and 'name="commune"' in field and 'autocomplete="off"' in field
        assert f'aria-describedby="{input_id}_helptext"' in field and f'<label for="{input_id}">' in text
        # The script gives the combobox role: without it the field is a plain input, resolved by the server.
        assert "role=" not in field and " list=" not in field and "<datalist" not in text
        listbox = f'<ul class="combobox__listbox" id="{input_id}-listbox" role="listbox"'
        assert f'{listbox} aria-label="Communes proposées" hidden></ul>' in text


def test_the_radius_shown_is_the_radius_applied(anonymous_client, communes):
    evaluator_site(communes["59512"], name="Roubaix")  # 10 km from Lille
    response = anonymous_client.get(reverse("directory:search"), {"commune": "Lille (59)"})
    assert response.context["found"].radius_km == 20
    # The select shows 20 km chosen (not its first option, 10 km, which a browser shows when none is).
    assert '<option value="20" selected>' in str(response.context["form"]["radius"])
    assert "1 site à moins de 20 km de Lille (59)" in page_text(response)


def _print_form(body: str) -> dict[str, str]:
    """The hidden fields of the search page's "print this sector" form."""
    import re

    action = reverse("directory:sheet_list")
    form = re.search(rf'<form method="post" action="{action}".*?</form>', body, re.S)
    assert form is not None
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form.group(0)))


@pytest.mark.parametrize("query", [{}, {"radius": "50", "certification": "clea", "wheelchair": "on"}])
def test_the_printed_sheet_lists_exactly_the_sites_on_screen_in_their_order(query, communes, make_member, client_for):
    from directory.models import DirectorySheet
    from directory.selectors import directory_sheet_entries

    lille = communes["59350"]
    for i in range(4):  # at the same distance: the day's fair order decides, on screen and on paper alike
        evaluator_site(lille, name=f"Lille {i}", wheelchair_accessible=i % 2 == 0)
    for code in ("59512", "59599", "59009", "59178", "62041"):  # 5 to 45 km away
        evaluator_site(communes[code], name=communes[code].name, wheelchair_accessible=True)
    client = client_for(make_member(OrganisationFactory(france_travail=True), role=Role.FT_ADVISOR))
    response = client.get(reverse("directory:search"), {"commune": "Lille (59)", **query})
    on_screen = [entry.site.pk for entry in response.context["entries"]]
    assert on_screen and len(on_screen) == len(response.context["found"].ranked)  # one page: all of them

    printed = client.post(reverse("directory:sheet_list"), _print_form(response.content.decode()))
    assert printed.status_code == 302
    sheet = DirectorySheet.objects.get()
    assert sheet.radius_km == response.context["found"].radius_km
    assert [entry.site.pk for entry in directory_sheet_entries(sheet)] == on_screen
