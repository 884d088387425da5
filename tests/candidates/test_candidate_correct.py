"""Correcting a candidate's identity and contact details: the counsellor's screen, its service, its traces."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from candidates.models import Candidate, DossierEvent
from candidates.services import DossierElsewhere, candidate_correct
from organisations.models import AuditLog, Role
from tests.clients import page_text
from tests.journey import DossierFactory

pytestmark = pytest.mark.django_db


def url(dossier) -> str:
    return reverse("candidates:candidate_correct", kwargs={"pk": dossier.pk})


def posted(candidate: Candidate, **changes: str) -> dict[str, str]:
    """The form as the counsellor sends it back: every current value, some of them changed."""
    data = {
        "civility": candidate.civility,
        "last_name": candidate.last_name,
        "first_name": candidate.first_name,
        "birth_name": candidate.birth_name,
        "birth_date": f"{candidate.birth_date:%Y-%m-%d}",
        "birth_place": candidate.birth_place,
        "email": candidate.email,
        "phone": candidate.phone,
        "address": candidate.address,
        "postcode": candidate.postcode,
        "city": candidate.city,
    }
    if candidate.born_abroad:
        data["born_abroad"] = "on"
    data.update(changes)
    return data


@pytest.fixture
def dossier(org_a):
    return DossierFactory(organisation=org_a, state="opened")


def test_the_dossier_page_links_the_correction_for_counsellors_and_administrators(dossier, make_member, client_for):
    detail = reverse("journey:dossier_detail", kwargs={"pk": dossier.pk})
    for role in (Role.COUNSELLOR, Role.ORG_ADMIN):
        assert url(dossier) in page_text(client_for(make_member(dossier.organisation, role=role)).get(detail))
    assert url(dossier) not in page_text(client_for(make_member(dossier.organisation, role=Role.EVALUATOR)).get(detail))


def test_the_form_is_filled_with_the_candidate_s_details(dossier, client_for):
    page = page_text(client_for(dossier.team.counsellor).get(url(dossier)))
    candidate = dossier.candidate
    assert f'value="{candidate.last_name}"' in page
    assert f'value="{candidate.birth_date:%Y-%m-%d}"' in page
    assert "<legend>Identité</legend>" in page and "<legend>Coordonnées</legend>" in page


def test_the_counsellor_corrects_names_and_e_mail_and_the_timeline_names_the_fields_only(dossier, client_for):
    candidate = dossier.candidate
    old_name = candidate.last_name
    response = client_for(dossier.team.counsellor).post(
        url(dossier), posted(candidate, last_name="Lefèvre-Durand", email="nouvelle@exemple.fr")
    )
    assert response.status_code == 302 and response.url == reverse("journey:dossier_detail", kwargs={"pk": dossier.pk})

    candidate.refresh_from_db()
    assert (candidate.last_name, candidate.email) == ("Lefèvre-Durand", "nouvelle@exemple.fr")
    assert candidate.identity_key.startswith("lefevre durand ")  # the duplicate check finds the corrected name
    event = DossierEvent.objects.get(dossier=dossier, transition="candidate_correct")
    assert event.actor == dossier.team.counsellor.user
    assert event.note == "Identité et coordonnées du candidat corrigées (2 champs) : nom d'usage, adresse e-mail."
    assert old_name not in event.note and "nouvelle@exemple.fr" not in event.note
    audit = AuditLog.objects.get(action="candidate.correct")
    assert audit.details == {"fields": ["last_name", "email"]} and audit.organisation_id == dossier.organisation_id


def test_the_correction_shows_on_the_dossier_s_timeline(dossier, client_for):
    client = client_for(dossier.team.counsellor)
    page = page_text(client.post(url(dossier), posted(dossier.candidate, city="Lille"), follow=True))
    assert "1 champ corrigé ; la correction figure à l'historique du dossier." in page
    assert "Identité et coordonnées du candidat corrigées (1 champ) : commune." in page


def test_sending_the_form_unchanged_writes_nothing(dossier, client_for):
    client_for(dossier.team.counsellor).post(url(dossier), posted(dossier.candidate))
    assert not DossierEvent.objects.filter(transition="candidate_correct").exists()
    assert not AuditLog.objects.filter(action="candidate.correct").exists()


def test_bad_input_is_refused_in_french_on_its_field_and_kept(dossier, client_for):
    candidate = dossier.candidate
    response = client_for(dossier.team.counsellor).post(
        url(dossier), posted(candidate, last_name="", email="pas-une-adresse", phone="12", city="Tourcoing")
    )
    assert response.status_code == 200
    page = page_text(response)
    assert "Indiquez le nom d'usage." in page
    assert "Saisissez une adresse e-mail valide." in page
    assert "Saisissez un numéro de téléphone valide" in page
    assert 'aria-describedby="id_email_errors"' in page
    assert 'value="pas-une-adresse"' in page and 'value="Tourcoing"' in page  # nothing typed is lost
    candidate.refresh_from_db()
    assert candidate.city != "Tourcoing" and candidate.email != "pas-une-adresse"


def test_another_organisation_s_counsellor_gets_404(dossier, org_b, make_member, client_for):
    outsider = client_for(make_member(org_b, role=Role.COUNSELLOR))
    assert outsider.get(url(dossier)).status_code == 404
    assert outsider.post(url(dossier), posted(dossier.candidate, city="Ailleurs")).status_code == 404
    dossier.candidate.refresh_from_db()
    assert dossier.candidate.city != "Ailleurs"


@pytest.mark.parametrize("role", [Role.EVALUATOR, Role.CERTIFPRO_ADMIN, Role.TRAINER])
def test_only_counsellors_and_administrators_correct(role, dossier, make_member, client_for):
    organisation = None if role == Role.CERTIFPRO_ADMIN else dossier.organisation
    client = client_for(make_member(organisation, role=role) if organisation else make_member(role=role))
    assert client.post(url(dossier), posted(dossier.candidate, city="Ailleurs")).status_code == 403
    dossier.candidate.refresh_from_db()
    assert dossier.candidate.city != "Ailleurs"


def test_an_administrator_corrects_too(dossier, make_member, client_for):
    admin = make_member(dossier.organisation, role=Role.ORG_ADMIN)
    assert client_for(admin).post(url(dossier), posted(dossier.candidate, city="Arras")).status_code == 302
    dossier.candidate.refresh_from_db()
    assert dossier.candidate.city == "Arras"


def test_the_service_refuses_a_member_of_another_organisation(dossier, org_b, make_member):
    with pytest.raises(PermissionDenied):
        candidate_correct(
            candidate=dossier.candidate, by=make_member(org_b, role=Role.COUNSELLOR), data={"city": "Ailleurs"}
        )


def test_a_correction_cannot_make_the_candidate_someone_with_a_dossier_in_progress(dossier, org_b, client_for):
    """Correcting the name to that of a person with a dossier in progress elsewhere would be a second dossier for
    that person: refused like a new dossier, naming nothing of the other organisation, and nothing is saved."""
    elsewhere = DossierFactory(organisation=org_b, state="in_training", first_name="Inès", last_name="Moreau")
    elsewhere.candidate.birth_date = dossier.candidate.birth_date
    elsewhere.candidate.save(update_fields=["birth_date"])
    candidate = dossier.candidate
    response = client_for(dossier.team.counsellor).post(
        url(dossier), posted(candidate, first_name="Ines", last_name="MOREAU")
    )
    assert response.status_code == 200
    page = page_text(response)
    assert "déjà un parcours pour cette certification dans un autre organisme" in page
    assert org_b.name not in page and elsewhere.reference not in page
    assert 'value="MOREAU"' in page  # what the counsellor typed is kept
    candidate.refresh_from_db()
    assert candidate.last_name != "MOREAU"
    assert not DossierEvent.objects.filter(dossier=dossier, transition="candidate_correct").exists()


def same_person_in_training_elsewhere(candidate: Candidate, organisation, certification: str) -> None:
    """A dossier in training at `organisation` for the candidate's very person (names and birth date). The
    factory goes through dossier_create, which refuses a second dossier for the same certification: the
    birth date is aligned afterwards, as when two counsellors typed it differently."""
    elsewhere = DossierFactory(
        organisation=organisation,
        state="in_training",
        first_name=candidate.first_name,
        last_name=candidate.last_name,
        birth_date=candidate.birth_date - datetime.timedelta(days=1),
        certification=certification,
    )
    elsewhere.candidate.birth_date = candidate.birth_date
    elsewhere.candidate.save(update_fields=["birth_date"])


def test_the_same_person_in_training_for_another_certification_does_not_block_a_correction(dossier, org_b):
    """The rule is per certification, as for a new dossier: a CléA numérique journey elsewhere blocks nothing.
    Upper-casing the first name is a name correction (so the second-holder check runs) that keeps the person."""
    candidate = dossier.candidate
    same_person_in_training_elsewhere(candidate, org_b, certification="clea_numerique")
    corrected = candidate.first_name.upper()
    assert candidate_correct(candidate=candidate, by=dossier.team.counsellor, data={"first_name": corrected}) == [
        "first_name"
    ]
    candidate.refresh_from_db()
    assert candidate.first_name == corrected


def test_the_same_person_in_training_for_the_same_certification_blocks_the_same_correction(dossier, org_b):
    """The control of the test above: the same correction is refused when the other journey is for the same
    certification, and nothing is saved."""
    candidate = dossier.candidate
    same_person_in_training_elsewhere(candidate, org_b, certification=dossier.certification)
    corrected = candidate.first_name.upper()
    with pytest.raises(DossierElsewhere):
        candidate_correct(candidate=candidate, by=dossier.team.counsellor, data={"first_name": corrected})
    candidate.refresh_from_db()
    assert candidate.first_name != corrected
    assert not AuditLog.objects.filter(action="candidate.correct").exists()
