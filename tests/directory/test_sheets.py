import io
from functools import partial
from pathlib import Path

import pytest
from django.urls import reverse
from pypdf import PdfReader

from clea_platform.pdf import sha256_hex
from directory.models import DirectorySheet, SheetScope, SheetStatus
from directory.services import directory_sheet_generate, directory_sheet_request
from organisations.models import OrganisationKind, Role
from tests.directory.support import evaluator_site, load_sample_communes, make_sheet
from tests.documents import another_worker_while_rendering, sha256_of, stored_files
from tests.factories import MembershipFactory, OrganisationFactory
from tests.waiting import wait_until


def pdf_text(sheet: DirectorySheet) -> str:
    with sheet.file.open("rb") as handle:
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(handle.read())).pages)


def advisor():
    return MembershipFactory(organisation=OrganisationFactory(france_travail=True), role=Role.FT_ADVISOR)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_renders_the_departement_sheet_with_every_evaluator_and_its_contacts(celery_worker, client_for):
    communes = load_sample_communes()
    evaluator_site(communes["59512"], name="Roubaix – Gare", contact_phone="03 20 00 00 02", typical_wait_days=12)
    evaluator_site(communes["59350"], name="Lille – Moulins", contact_email="clea@lille.example")
    evaluator_site(communes["62041"], name="Arras – Citadelle")  # Pas-de-Calais: not on the Nord's sheet
    client = client_for(advisor())

    response = client.post(reverse("directory:sheet_list"), {"scope": "departement", "departement": "59"})
    sheet = DirectorySheet.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("directory:sheet_detail", kwargs={"pk": sheet.pk})

    wait_until(lambda: DirectorySheet.objects.get(pk=sheet.pk).status == SheetStatus.READY, timeout=30)
    sheet.refresh_from_db()
    assert sheet.site_count == 2
    assert sheet.place_label == "Nord (59)"
    with sheet.file.open("rb") as handle:
        assert sha256_hex(handle.read()) == sheet.sha256
    text = pdf_text(sheet)
    assert "Nord (59)" in text
    assert "Roubaix – Gare" in text and "03 20 00 00 02" in text and "12 jours" in text
    assert "Lille – Moulins" in text and "clea@lille.example" in text
    assert "Arras" not in text
    assert "GeoNames" in text

    status = client.get(reverse("directory:sheet_detail", kwargs={"pk": sheet.pk}), HTTP_HX_REQUEST="true")
    assert "hx-trigger" not in status.content.decode()  # polling stops once ready
    download = client.get(reverse("directory:sheet_download", kwargs={"pk": sheet.pk}))
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content).startswith(b"%PDF")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_radius_sheet_lists_the_sites_with_their_distance(celery_worker):
    communes = load_sample_communes()
    evaluator_site(communes["59512"], name="Roubaix – Gare")
    evaluator_site(communes["59178"], name="Douai – Centre")  # 29 km: beyond 20 km
    membership = advisor()
    sheet, created = directory_sheet_request(
        by=membership, scope=SheetScope.RADIUS, commune=communes["59350"], radius_km=20
    )
    assert created
    wait_until(lambda: DirectorySheet.objects.get(pk=sheet.pk).status == SheetStatus.READY, timeout=30)
    sheet.refresh_from_db()
    text = pdf_text(sheet)
    assert "à moins de 20 km de Lille (59)" in text
    assert "Roubaix – Gare" in text and "10,8 km" in text
    assert "Douai" not in text


@pytest.mark.django_db
def test_the_same_sheet_asked_twice_the_same_day_is_prepared_once(django_capture_on_commit_callbacks):
    communes = load_sample_communes()
    membership = advisor()
    colleague = MembershipFactory(organisation=membership.organisation, role=Role.FT_ADVISOR)
    with django_capture_on_commit_callbacks() as queued:
        first, created = directory_sheet_request(by=membership, scope=SheetScope.DEPARTEMENT, departement="59")
        again, created_again = directory_sheet_request(by=colleague, scope=SheetScope.DEPARTEMENT, departement="59")
        other, _ = directory_sheet_request(
            by=membership, scope=SheetScope.DEPARTEMENT, departement="59", certification="clea"
        )
        radius, _ = directory_sheet_request(
            by=membership, scope=SheetScope.RADIUS, commune=communes["59350"], radius_km=20
        )
    assert (created, created_again) == (True, False)
    assert again == first
    assert len({first.pk, other.pk, radius.pk}) == 3
    assert len(queued) == 3


@pytest.mark.django_db
def test_two_workers_on_one_sheet_store_one_file():
    """The other worker finishes the sheet while this one renders; this one then finds it ready under the lock and
    stores nothing."""
    load_sample_communes()
    sheet = make_sheet(OrganisationFactory(france_travail=True))
    other = partial(directory_sheet_generate, sheet_id=sheet.pk)
    with another_worker_while_rendering("documents/directory_sheet.html", other) as winner:
        returned = directory_sheet_generate(sheet_id=sheet.pk)
    [first] = winner
    assert returned == first and (returned.file.name, returned.sha256) == (first.file.name, first.sha256)
    assert stored_files("directory_sheets") == [Path(first.file.path)]
    assert sha256_of(first.file.path) == first.sha256


@pytest.mark.django_db
def test_rendering_again_keeps_the_document(django_capture_on_commit_callbacks):
    load_sample_communes()
    membership = advisor()
    with django_capture_on_commit_callbacks(execute=True):
        sheet, _ = directory_sheet_request(by=membership, scope=SheetScope.DEPARTEMENT, departement="59")
    sheet.refresh_from_db()
    assert sheet.status == SheetStatus.READY
    again = directory_sheet_generate(sheet_id=sheet.pk)
    assert (again.sha256, again.file.name, again.generated_at) == (sheet.sha256, sheet.file.name, sheet.generated_at)


@pytest.mark.django_db
def test_a_failed_sheet_asked_again_is_queued_again(django_capture_on_commit_callbacks):
    load_sample_communes()
    membership = advisor()
    sheet = make_sheet(membership.organisation, status=SheetStatus.FAILED, params_key="dep:59|cert:all|pmr:0|remote:0")
    with django_capture_on_commit_callbacks() as queued:
        again, created = directory_sheet_request(by=membership, scope=SheetScope.DEPARTEMENT, departement="59")
    assert (again.pk, created, len(queued)) == (sheet.pk, False, 1)
    assert DirectorySheet.objects.get(pk=sheet.pk).status == SheetStatus.PENDING


@pytest.mark.django_db
def test_the_status_page_polls_while_the_sheet_is_prepared(client_for):
    membership = advisor()
    sheet = make_sheet(membership.organisation)
    client = client_for(membership)
    url = reverse("directory:sheet_detail", kwargs={"pk": sheet.pk})
    fragment = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 2000ms"' in fragment and "<html" not in fragment
    assert "en préparation" in client.get(url).content.decode()
    download = client.get(reverse("directory:sheet_download", kwargs={"pk": sheet.pk}))
    assert download.status_code == 302 and download.url == url


@pytest.mark.django_db
def test_a_radius_sheet_needs_a_clear_commune(client_for):
    load_sample_communes()
    client = client_for(advisor())
    response = client.post(reverse("directory:sheet_list"), {"scope": "radius", "commune": "saint denis", "radius": 20})
    assert response.status_code == 200
    assert "Précisez la commune" in response.content.decode()
    assert "Saint-Denis (974)" in response.content.decode()
    assert not DirectorySheet.objects.exists()


@pytest.mark.django_db
def test_the_form_starts_from_the_agencys_place_and_a_search_becomes_a_radius_sheet(client_for):
    from tests.factories import SiteFactory

    load_sample_communes()
    membership = advisor()
    SiteFactory(organisation=membership.organisation, insee_code="59512", city="Roubaix", postcode="59100")
    client = client_for(membership)
    form = client.get(reverse("directory:sheet_list")).context["form"]
    assert form.initial["departement"] == "59" and form.initial["commune"] == "Roubaix (59)"
    form = client.get(reverse("directory:sheet_list"), {"commune": "Lille (59)", "radius": "50"}).context["form"]
    assert (form.initial["scope"], form.initial["commune"], form.initial["radius"]) == ("radius", "Lille (59)", 50)
    # A search link without a radius searched the default one: the sheet starts from it too.
    form = client.get(reverse("directory:sheet_list"), {"commune": "Lille (59)"}).context["form"]
    assert form.initial["radius"] == 20 and '<option value="20" selected>' in str(form["radius"])


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 5])
def test_the_sheet_list_runs_a_fixed_number_of_queries(client_for, count, django_assert_num_queries):
    membership = advisor()
    for i in range(count):
        make_sheet(membership.organisation, params_key=f"dep:{i}")
    client = client_for(membership)
    client.get(reverse("directory:sheet_list"))  # warm the session
    with django_assert_num_queries(8):  # with the header's count of unread notifications
        response = client.get(reverse("directory:sheet_list"))
    assert len(response.context["page"].object_list) == count


@pytest.mark.django_db
def test_sheets_are_for_advisors_and_certifpro(client, org_a, make_member, client_for):
    url = reverse("directory:sheet_list")
    assert client.get(url).status_code == 302  # to the login page
    assert client_for(make_member(org_a, role=Role.COUNSELLOR)).get(url).status_code == 403
    assert client_for(make_member(role=Role.CERTIFPRO_ADMIN)).get(url).status_code == 200
    assert org_a.kind == OrganisationKind.EVALUATOR


@pytest.mark.django_db
def test_the_status_polling_stops_after_its_limit_with_a_refresh_link(client_for):
    membership = advisor()
    sheet = make_sheet(membership.organisation)
    client = client_for(membership)
    url = reverse("directory:sheet_detail", kwargs={"pk": sheet.pk})

    polling = client.get(f"{url}?poll=59", HTTP_HX_REQUEST="true").content.decode()
    assert f'hx-get="{url}?poll=60"' in polling
    assert "<a " not in polling  # nothing focusable in a box that is replaced every 2 s

    stopped = client.get(f"{url}?poll=60", HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in stopped and "hx-get" not in stopped
    assert f'<a href="{url}">Rafraîchir</a>' in stopped
    # The page opened again polls again.
    assert f'hx-get="{url}?poll=1"' in client.get(url).content.decode()


@pytest.mark.django_db
def test_the_polled_status_announces_the_ready_sheet_through_the_live_region(client_for):
    membership = advisor()
    sheet = make_sheet(membership.organisation, status=SheetStatus.READY, site_count=3)
    client = client_for(membership)
    url = reverse("directory:sheet_detail", kwargs={"pk": sheet.pk})

    fragment = client.get(f"{url}?poll=4", HTTP_HX_REQUEST="true").content.decode()
    assert '<div id="live-status" hx-swap-oob="innerHTML"><p>La fiche est prête : 3 sites.</p></div>' in fragment
    assert "data-poll" in fragment and "hx-trigger" not in fragment
    page = client.get(url).content.decode()
    assert "hx-swap-oob" not in page  # the full page's own region stays empty: nothing changed under the reader
    assert '<div id="live-status" class="visually-hidden" role="status" aria-live="polite" aria-atomic="true">' in page
