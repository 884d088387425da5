"""Certif'Pro's screens for personal data: only Certif'Pro reaches them (403 for every other role, like the other
national screens), the person's name travels in POST bodies, and each form reports its errors through the
summary."""

from __future__ import annotations

import datetime
import zipfile
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from candidates.models import Candidate
from organisations.models import AuditLog, Role
from privacy.retention import retention_table
from privacy.services import retention_apply
from tests.clients import page_text
from tests.factories import OrganisationFactory
from tests.juries.factories import certified
from tests.privacy.support import decline, later, staff_still_logging_in, withdrawn_dossier
from tests.referrals.support import make_referral

pytestmark = pytest.mark.django_db

BIRTH = datetime.date(1979, 11, 23)
OTHER_ROLES = [Role.COUNSELLOR, Role.EVALUATOR, Role.ORG_ADMIN, Role.TRAINER, Role.JURY_MEMBER, Role.FT_ADVISOR]


@pytest.fixture
def certifpro(make_member, client_for):
    return client_for(make_member(role=Role.CERTIFPRO_ADMIN))


@pytest.fixture
def dossier():
    return withdrawn_dossier(first_name="Hélène", last_name="Fournier-Dubois", birth_date=BIRTH)


def urls(dossier) -> list[tuple[str, str]]:
    kwargs = {"kind": "candidat", "pk": dossier.candidate_id}
    return [
        ("get", reverse("privacy:index")),
        ("post", reverse("privacy:index")),
        ("get", reverse("privacy:person", kwargs=kwargs)),
        ("post", reverse("privacy:export", kwargs=kwargs)),
        ("get", reverse("privacy:erase", kwargs=kwargs)),
        ("post", reverse("privacy:erase", kwargs=kwargs)),
    ]


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_every_other_role_gets_403_even_in_the_persons_own_organisation(role, dossier, make_member, client_for):
    client = client_for(
        make_member(
            dossier.organisation if role != Role.FT_ADVISOR else OrganisationFactory(kind="france_travail"), role=role
        )
    )
    for method, url in urls(dossier):
        data = {"name": "Fournier", "birth_date": "1979-11-23", "records": [f"candidate-{dossier.candidate_id}"]}
        assert getattr(client, method)(url, data).status_code == 403, (role, method, url)
    assert Candidate.objects.get(pk=dossier.candidate_id).anonymised_at is None
    assert not AuditLog.objects.filter(action__startswith="privacy.").exists()


def test_the_page_shows_the_retention_table(certifpro):
    page = page_text(certifpro.get(reverse("privacy:index")))
    for row in retention_table():
        assert row.label in page and row.period in page


def test_a_search_finds_the_person_by_name_without_accents_and_birth_date(certifpro, dossier):
    withdrawn_dossier(first_name="Hélène", last_name="Fournier", birth_date=BIRTH.replace(year=1980))

    response = certifpro.post(reverse("privacy:index"), {"name": "helene fournier dubois", "birth_date": "1979-11-23"})

    page = page_text(response)
    assert response.status_code == 200
    assert "<title>Données personnelles – 1 personne trouvée – CléA</title>" in page
    person_url = reverse("privacy:person", kwargs={"kind": "candidat", "pk": dossier.candidate_id})
    assert f'href="{person_url}"' in page
    assert "Hélène FOURNIER-DUBOIS" in page


def test_a_search_without_birth_date_is_refused_through_the_error_summary(certifpro):
    response = certifpro.post(reverse("privacy:index"), {"name": "Fournier"})
    page = page_text(response)
    assert response.status_code == 400
    assert "<title>Erreur – Données personnelles" in page
    assert 'href="#id_birth_date"' in page and "Indiquez la date de naissance de la personne." in page


def test_the_persons_page_lists_their_records_and_a_missing_or_unknown_one_is_404(certifpro, dossier):
    url = reverse("privacy:person", kwargs={"kind": "candidat", "pk": dossier.candidate_id})
    page = page_text(certifpro.get(url))
    assert "<title>Données d'Hélène FOURNIER-DUBOIS – CléA</title>" in page
    assert f"Personne candidate chez {dossier.organisation.name} (dossier {dossier.reference})" in page
    assert certifpro.get(reverse("privacy:person", kwargs={"kind": "candidat", "pk": 987654})).status_code == 404
    assert (
        certifpro.get(reverse("privacy:person", kwargs={"kind": "autre", "pk": dossier.candidate_id})).status_code
        == 404
    )


def test_the_export_downloads_a_zip(certifpro, dossier):
    url = reverse("privacy:export", kwargs={"kind": "candidat", "pk": dossier.candidate_id})
    response = certifpro.post(url, {"records": [f"candidate-{dossier.candidate_id}"]})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="donnees-personnelles-')
    assert "donnees.json" in zipfile.ZipFile(BytesIO(response.content)).namelist()
    assert AuditLog.objects.filter(action="privacy.export").count() == 1


def test_the_export_without_a_record_ticked_says_so(certifpro, dossier):
    url = reverse("privacy:export", kwargs={"kind": "candidat", "pk": dossier.candidate_id})
    response = certifpro.post(url, {})
    assert response.status_code == 400
    assert "Cochez au moins une fiche de la personne." in page_text(response)
    assert not AuditLog.objects.filter(action="privacy.export").exists()
    # A GET on the action goes back to the person's page.
    assert certifpro.get(url).status_code == 302


def test_erasing_needs_a_reason_then_anonymises_and_goes_back_to_the_search(certifpro, dossier):
    url = reverse("privacy:erase", kwargs={"kind": "candidat", "pk": dossier.candidate_id})
    page = page_text(certifpro.get(url))
    assert "Effaçable" in page

    records = [f"candidate-{dossier.candidate_id}"]
    response = certifpro.post(url, {"records": records, "reason": ""})
    assert response.status_code == 400
    assert "Indiquez le motif de l'effacement." in page_text(response)
    assert Candidate.objects.get(pk=dossier.candidate_id).anonymised_at is None

    response = certifpro.post(url, {"records": records, "reason": "Courriel du 2 mars"}, follow=True)
    assert response.redirect_chain == [(reverse("privacy:index"), 302)]
    assert "1 fiche effacée" in page_text(response)
    assert Candidate.objects.get(pk=dossier.candidate_id).anonymised_at is not None
    page = page_text(certifpro.get(reverse("journey:dossier_detail", args=[dossier.pk])))
    assert "<h1>Personne anonymisée" in page and "ont été anonymisées le" in page
    # Her names, in every form the page writes a candidate (staff names, drawn at random, may share one part).
    for name in ("FOURNIER-DUBOIS", "Fournier-Dubois", "Hélène FOURNIER", "Hélène Fournier"):
        assert name not in page
    # The person is no one any more: their page is gone.
    assert (
        certifpro.get(reverse("privacy:person", kwargs={"kind": "candidat", "pk": dossier.candidate_id})).status_code
        == 404
    )


def test_erasing_a_certificate_holder_is_refused_with_the_reason(certifpro):
    _jury, _submission, certificate = certified()
    candidate_id = certificate.dossier.candidate_id
    url = reverse("privacy:erase", kwargs={"kind": "candidat", "pk": candidate_id})
    page = page_text(certifpro.get(url))
    assert "Rien ne peut être effacé aujourd'hui" in page and 'name="reason"' not in page

    # Posted all the same (the page was open before the award, say): refused, with the reason.
    response = certifpro.post(url, {"records": [f"candidate-{candidate_id}"], "reason": "Courriel du 2 mars"})

    page = page_text(response)
    assert response.status_code == 409
    assert "Aucune des fiches choisies ne peut être effacée aujourd'hui" in page
    assert f"Le certificat {certificate.number} a été délivré le" in page
    assert Candidate.objects.get(pk=candidate_id).anonymised_at is None


def test_certifpro_finds_the_screen_in_the_menu_and_others_do_not(certifpro, dossier, make_member, client_for):
    url = reverse("privacy:index")
    assert f'href="{url}"' in page_text(certifpro.get(reverse("home")))
    counsellor = client_for(make_member(dossier.organisation, role=Role.COUNSELLOR))
    assert f'href="{url}"' not in page_text(counsellor.get(reverse("home")))


def test_the_search_costs_the_same_queries_whatever_it_finds(certifpro, dossier):
    def search() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as queries:
            response = certifpro.post(reverse("privacy:index"), {"name": "fournier", "birth_date": "1979-11-23"})
        return len(queries), page_text(response)

    one, page = search()
    assert "1 personne trouvée" in page
    withdrawn_dossier(first_name="Hélène", last_name="Fournier-Dubois", birth_date=BIRTH)  # a second record of hers
    withdrawn_dossier(first_name="Marc", last_name="Fournier", birth_date=BIRTH)
    decline(make_referral(first_name="Luc", last_name="Fournier", birth_date=BIRTH))
    three, page = search()
    assert "3 personnes trouvées" in page and "2 fiches" in page
    assert three == one


def test_nobody_enters_an_anonymised_persons_identity_again(dossier, client_for):
    staff_still_logging_in(later(years=6))
    retention_apply(now=later(years=6))
    counsellor = client_for(dossier.team.counsellor)
    url = reverse("candidates:candidate_correct", args=[dossier.pk])
    assert url not in page_text(counsellor.get(reverse("journey:dossier_detail", args=[dossier.pk])))
    response = counsellor.post(url, {"first_name": "Hélène", "last_name": "Fournier-Dubois"}, follow=True)
    assert response.redirect_chain == [(reverse("journey:dossier_detail", args=[dossier.pk]), 302)]
    assert "il n'y a plus rien à corriger" in page_text(response)
    assert Candidate.objects.get(pk=dossier.candidate_id).last_name == "anonymisée"
