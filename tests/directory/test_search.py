import datetime
import math

import pytest
from django.utils import timezone

from clea_platform.certifications import Certification
from directory.selectors import (
    RADII_KM,
    bounding_box,
    directory_sites,
    fair_rank,
    haversine_km,
    sites_nearby,
)
from organisations.models import HabilitationStatus, OrganisationKind
from tests.directory.support import evaluator_site
from tests.factories import HabilitationFactory, OrganisationFactory, SiteFactory

pytestmark = pytest.mark.django_db


def search_from(commune, **kwargs):
    return sites_nearby(latitude=commune.latitude, longitude=commune.longitude, **kwargs)


def test_lille_paris_is_about_204_km_great_circle(communes):
    lille, paris = communes["59350"], communes["75056"]
    assert haversine_km(lille.latitude, lille.longitude, paris.latitude, paris.longitude) == pytest.approx(204, abs=1)
    assert haversine_km(paris.latitude, paris.longitude, lille.latitude, lille.longitude) == pytest.approx(204, abs=1)


def test_haversine_of_known_distances():
    assert haversine_km(0, 0, 0, 1) == pytest.approx(111.19, abs=0.01)  # one degree of the equator
    assert haversine_km(45, 3, 45, 3) == 0
    assert haversine_km(0, 0, 0, 180) == pytest.approx(math.pi * 6371.0088)


def test_sites_come_nearest_first_with_their_distance(communes):
    tourcoing = evaluator_site(communes["59599"], name="Tourcoing")
    marcq = evaluator_site(communes["59378"], name="Marcq")
    roubaix = evaluator_site(communes["59512"], name="Roubaix")
    lille = evaluator_site(communes["59350"], name="Lille")
    found = search_from(communes["59350"], radius_km=20)
    assert [n.site for n in found.results] == [lille, marcq, roubaix, tourcoing]
    assert [round(n.distance_km, 1) for n in found.results] == [0.0, 4.2, 10.8, 12.5]


def test_the_radius_limits_the_results_and_wider_radii_are_counted(communes):
    evaluator_site(communes["59512"], name="Roubaix")  # 10.8 km from Lille
    evaluator_site(communes["59178"], name="Douai")  # 29.3 km
    evaluator_site(communes["62041"], name="Arras")  # 42.6 km
    evaluator_site(communes["80021"], name="Amiens")  # 97.7 km
    evaluator_site(communes["75056"], name="Paris")  # 204 km: never counted

    found = search_from(communes["59350"], radius_km=10)
    assert found.results == []
    assert found.counts_by_radius == {10: 0, 20: 1, 50: 3, 100: 4}
    assert found.wider_radius == 20
    wider = search_from(communes["59350"], radius_km=found.wider_radius)
    assert [n.site.name for n in wider.results] == ["Roubaix"]
    assert [n.site.name for n in search_from(communes["59350"], radius_km=50).results] == ["Roubaix", "Douai", "Arras"]
    assert search_from(communes["59350"], radius_km=100).wider_radius is None
    assert RADII_KM == (10, 20, 50, 100)


def test_the_certification_filter_keeps_the_organisations_habilitated_for_it(communes):
    clea_only = evaluator_site(communes["59350"], certifications=(Certification.CLEA,))
    numerique = evaluator_site(communes["59512"], certifications=(Certification.CLEA, Certification.CLEA_NUMERIQUE))
    lille = communes["59350"]
    assert {n.site for n in search_from(lille).results} == {clea_only, numerique}
    assert [n.site for n in search_from(lille, certification=Certification.CLEA_NUMERIQUE).results] == [numerique]
    assert search_from(lille, certification=Certification.CLEA_MANAGEMENT).results == []
    listed = search_from(lille, certification=Certification.CLEA_NUMERIQUE).results[0]
    assert listed.certifications == ["CléA", "CléA numérique"]


def test_wheelchair_and_remote_filters(communes):
    both = evaluator_site(communes["59350"], wheelchair_accessible=True, remote_evaluation=True)
    wheelchair = evaluator_site(communes["59512"], wheelchair_accessible=True, remote_evaluation=False)
    remote = evaluator_site(communes["59599"], wheelchair_accessible=False, remote_evaluation=True)
    lille = communes["59350"]
    assert {n.site for n in search_from(lille, wheelchair_accessible=True).results} == {both, wheelchair}
    assert {n.site for n in search_from(lille, remote_evaluation=True).results} == {both, remote}
    found = search_from(lille, wheelchair_accessible=True, remote_evaluation=True).results
    assert [n.site for n in found] == [both]


@pytest.mark.parametrize(
    ("status", "from_days", "until_days"),
    [
        (HabilitationStatus.SUSPENDED, -30, 300),
        (HabilitationStatus.WITHDRAWN, -30, 300),
        (HabilitationStatus.ACTIVE, -400, -1),  # expired yesterday
        (HabilitationStatus.ACTIVE, 10, 300),  # not yet valid
    ],
    ids=["suspended", "withdrawn", "expired", "not-yet-valid"],
)
def test_a_habilitation_not_in_force_keeps_the_sites_out_of_the_directory(communes, status, from_days, until_days):
    today = timezone.localdate()
    evaluator_site(
        communes["59350"],
        habilitation_status=status,
        valid_from=today + datetime.timedelta(days=from_days),
        valid_until=today + datetime.timedelta(days=until_days),
    )
    assert search_from(communes["59350"]).results == []
    assert not directory_sites().exists()


def test_a_habilitation_valid_until_today_still_counts(communes):
    today = timezone.localdate()
    site = evaluator_site(communes["59350"], valid_until=today)
    assert [n.site for n in search_from(communes["59350"]).results] == [site]


def test_inactive_sites_inactive_organisations_and_other_kinds_are_not_listed(communes):
    lille = communes["59350"]
    evaluator_site(lille, is_active=False)
    closed = evaluator_site(lille)
    closed.organisation.is_active = False
    closed.organisation.save()
    training = OrganisationFactory(kind=OrganisationKind.TRAINING)
    HabilitationFactory(organisation=training)  # wrongly recorded: the kind still rules it out
    SiteFactory(organisation=training)
    assert search_from(lille).results == []


def test_sites_at_the_same_distance_take_turns_first_from_day_to_day(communes):
    lille = communes["59350"]
    first = evaluator_site(lille, name="Premier")
    second = evaluator_site(lille, name="Second")
    third = evaluator_site(lille, name="Troisième")
    start = timezone.localdate()
    leaders = {search_from(lille, day=start + datetime.timedelta(days=d)).results[0].site for d in range(30)}
    assert leaders == {first, second, third}


def test_the_order_of_ties_is_stable_within_a_day_and_follows_the_fair_rank(communes):
    lille = communes["59350"]
    sites = [evaluator_site(lille, name=f"Site {i}") for i in range(4)]
    day = timezone.localdate() + datetime.timedelta(days=3)
    orders = {tuple(n.site.pk for n in search_from(lille, day=day).results) for _ in range(3)}
    assert len(orders) == 1
    assert list(orders.pop()) == sorted((s.pk for s in sites), key=lambda pk: fair_rank(pk, day))


def test_ties_never_pass_a_nearer_site(communes):
    lille = communes["59350"]
    near = evaluator_site(lille, name="Près")
    far = [evaluator_site(communes["59512"], name=f"Roubaix {i}") for i in range(3)]
    for d in range(10):
        found = search_from(lille, day=timezone.localdate() + datetime.timedelta(days=d)).results
        assert found[0].site == near
        assert {n.site for n in found[1:]} == set(far)


@pytest.mark.parametrize(
    ("latitude", "longitude"), [(50.63, 3.06), (-20.88, 55.45), (64.0, 10.0), (-13.28, -176.17), (0.0, 179.95)]
)
def test_the_bounding_box_holds_the_whole_circle(latitude, longitude):
    box = bounding_box(latitude, longitude, 100)
    for bearing in range(0, 360, 15):
        # The point 99.9 km away in that direction (spherical destination formula).
        d, theta = 99.9 / 6371.0088, math.radians(bearing)
        phi1, lambda1 = math.radians(latitude), math.radians(longitude)
        phi2 = math.asin(math.sin(phi1) * math.cos(d) + math.cos(phi1) * math.sin(d) * math.cos(theta))
        lambda2 = lambda1 + math.atan2(
            math.sin(theta) * math.sin(d) * math.cos(phi1), math.cos(d) - math.sin(phi1) * math.sin(phi2)
        )
        lat, lon = math.degrees(phi2), (math.degrees(lambda2) + 540) % 360 - 180
        assert box.min_lat <= lat <= box.max_lat
        if box.crosses_antimeridian:
            assert lon >= box.min_lon or lon <= box.max_lon
        else:
            assert box.min_lon <= lon <= box.max_lon


def test_a_site_across_the_antimeridian_is_found(db):
    # Wallis-et-Futuna and Fiji sit around ±180°: 11 km apart across the line.
    site = evaluator_site(latitude=-13.3, longitude=-179.95, name="Est", city="Mata-Utu", insee_code="98613")
    found = sites_nearby(latitude=-13.3, longitude=179.95, radius_km=20)
    assert [n.site for n in found.results] == [site]
    assert found.results[0].distance_km == pytest.approx(10.8, abs=0.2)


@pytest.mark.parametrize("count", [1, 5])
def test_the_search_takes_three_queries_whatever_the_number_of_sites(communes, count, django_assert_num_queries):
    for i in range(count):
        evaluator_site(communes["59512"], name=f"Site {i}")
    # The ranking reads ids and points; the sites then come with their organisation and habilitations.
    with django_assert_num_queries(1):
        found = search_from(communes["59350"], radius_km=20)
    with django_assert_num_queries(2):
        assert len(found.results) == count
        assert all(n.certifications == ["CléA"] for n in found.results)


def test_a_page_of_results_loads_only_its_sites(communes, django_assert_num_queries):
    sites = [evaluator_site(communes["59512"], name=f"Site {i}") for i in range(5)]
    found = search_from(communes["59350"], radius_km=20)
    with django_assert_num_queries(2):
        page = found.entries(found.ranked[1:3])
    assert [n.site.pk for n in page] == [pk for pk, _ in found.ranked[1:3]]
    assert {n.site for n in found.results} == set(sites)
    assert found.entries([]) == []
