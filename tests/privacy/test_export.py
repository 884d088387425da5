"""The subject-access export (art. 15 GDPR): a ZIP of everything the platform holds about the chosen records
(identity, dossiers, evaluations, training, jury, funding, referrals, audit rows, document files), nothing of
anyone else's, and an audit row that names the records by id, never the person."""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import zipfile

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from credentials.models import IssuedCredential
from evaluations.models import Attestation
from funding.services import funding_proof_add
from organisations.models import AuditLog, Role
from privacy.exports import DATA_FILE, SUMMARY_FILE
from privacy.selectors import person_key, person_records, persons_search
from privacy.services import person_erase, person_export
from referrals.services import referral_accept
from tests.factories import MembershipFactory
from tests.funding.support import draft_line
from tests.juries.factories import certified, make_certifpro
from tests.privacy.support import COMMENT, NOTE, decline, dossier_in_training, withdrawn_dossier
from tests.referrals.support import IDENTITY, make_referral

pytestmark = pytest.mark.django_db

PROOF = b"%PDF-1.4 accord de prise en charge de Mme Benali"


def unzip(content: bytes) -> tuple[dict, dict[str, bytes]]:
    archive = zipfile.ZipFile(io.BytesIO(content))
    files = {name: archive.read(name) for name in archive.namelist()}
    return json.loads(files[DATA_FILE]), files


@pytest.fixture
def nadia():
    """Nadia Benali: referred by France Travail, accepted (her dossier, now in training, with an attestation, a
    comment, a progress note, a funding line and its proof), and declined by another organisation before."""
    declined = decline(make_referral())
    referral = make_referral()
    counsellor = MembershipFactory(organisation=referral.organisation, role=Role.COUNSELLOR)
    referral = referral_accept(referral=referral, by=counsellor, extra={"birth_place": "Roubaix"})
    # Another certification: one dossier in progress per person and certification.
    dossier = dossier_in_training(
        first_name=IDENTITY["first_name"], last_name=IDENTITY["last_name"], certification="clea_numerique"
    )
    line = draft_line(dossier)
    upload = SimpleUploadedFile("accord.pdf", PROOF, content_type="application/pdf")
    funding_proof_add(line=line, by=dossier.team.counsellor, label="Accord", upload=upload)
    return {"dossier": dossier, "referral": referral, "declined": declined}


def test_the_archive_holds_every_part_of_the_persons_journey(nadia):
    dossier = nadia["dossier"]
    person = person_records(person_key(dossier.candidate))
    content = person_export(records=person, by=make_certifpro())
    data, files = unzip(content)

    identities = [sheet["identité"] for sheet in data["fiches"]]
    assert {(i["prénom"], i["nom d'usage"], i["date de naissance"]) for i in identities} == {
        ("Nadia", "Benali", "1985-04-12")
    }
    assert len(identities) == 2  # the dossier opened from the referral, and the one in training
    [in_training] = [d for sheet in data["fiches"] for d in sheet["dossiers"] if d["référence"] == dossier.reference]
    assert in_training["étape"] == "En formation"
    [prior] = in_training["évaluations"]
    assert prior["type"] == "Évaluation préalable" and prior["critères"][0]["commentaire"] == COMMENT
    assert in_training["parcours de formation"][0]["notes de progression"][0]["note"] == NOTE
    [funding] = in_training["financements"]
    assert funding["financeur"] == "France Travail" and funding["montant demandé TTC (euros)"] == "540.00"
    [attestation] = in_training["attestations de validation partielle"]
    stored = Attestation.objects.get(dossier=dossier)
    assert hashlib.sha256(files[attestation["fichier"]]).hexdigest() == stored.sha256
    assert files[funding["justificatifs"][0]["fichier"]] == PROOF
    states = sorted(r["état"] for r in data["orientations France Travail"])
    assert states == ["Acceptée", "Déclinée"]
    actions = {row["action"] for row in data["journal d'audit"]}
    assert {"dossier.create", "dossier.start_training", "funding_proof.add", "referral.accept"} <= actions, actions
    assert "Nadia" in files[SUMMARY_FILE].decode() and '<html lang="fr">' in files[SUMMARY_FILE].decode()


def test_nothing_of_another_person_or_of_an_unticked_homonym_is_in_it(nadia):
    # Not a name Faker gives the staff accounts (their names are in the export: who did what).
    other = dossier_in_training(first_name="Paul", last_name="Ailleurs-Autrepersonne")
    homonym = dossier_in_training(first_name="Nadia", last_name="Benali", certification="clea_management")
    person = person_records(person_key(nadia["dossier"].candidate))
    assert homonym.candidate_id in {c.pk for c in person.candidates}  # same names, same birth date
    chosen = person.only(f"candidate-{c.pk}" for c in person.candidates if c.pk != homonym.candidate_id)

    data, files = unzip(person_export(records=chosen, by=make_certifpro()))

    text = json.dumps(data, ensure_ascii=False)
    assert "Ailleurs-Autrepersonne" not in text and other.reference not in text
    assert homonym.reference not in text
    assert not any(other.reference in name or homonym.reference in name for name in files)


def test_the_certificate_and_the_jurys_decision_are_in_it():
    _jury, _submission, certificate = certified(first_name="Camille", last_name="Roux")
    data, files = unzip(
        person_export(records=person_records(person_key(certificate.dossier.candidate)), by=make_certifpro())
    )
    [dossier] = data["fiches"][0]["dossiers"]
    assert dossier["certificat"]["numéro national"] == certificate.number
    assert hashlib.sha256(files[dossier["certificat"]["fichier"]]).hexdigest() == certificate.sha256
    assert dossier["jurys"][0]["décision"] == "Certification délivrée"
    credential = IssuedCredential.objects.get(certificate=certificate)
    assert dossier["certificat"]["certificat numérique"]["certificat signé (JWT)"] == credential.token


def test_each_export_writes_an_audit_row_with_the_records_ids_and_not_the_name(nadia):
    certifpro = make_certifpro()
    person = person_records(person_key(nadia["dossier"].candidate))
    person_export(records=person, by=certifpro)

    row = AuditLog.objects.get(action="privacy.export")
    assert row.actor == certifpro.user and row.organisation_id == certifpro.organisation_id
    assert sorted(row.details["candidates"]) == sorted(c.pk for c in person.candidates)
    assert row.details["referrals"] == [nadia["declined"].pk]
    assert row.details["files"] == 2
    assert "Benali" not in json.dumps(row.details) + row.object_repr
    # The next export lists this one among the audit rows about the person.
    data, _files = unzip(person_export(records=person, by=certifpro))
    assert "privacy.export" in {r["action"] for r in data["journal d'audit"]}


def test_only_certifpro_exports(nadia):
    dossier = nadia["dossier"]
    person = person_records(person_key(dossier.candidate))
    for role in (Role.COUNSELLOR, Role.ORG_ADMIN):
        with pytest.raises(PermissionDenied):
            person_export(records=person, by=MembershipFactory(organisation=dossier.organisation, role=role))
    assert not AuditLog.objects.filter(action="privacy.export").exists()


def test_an_erased_person_is_not_found_any_more():
    dossier = withdrawn_dossier(first_name="Zoé", last_name="Blanc", birth_date=datetime.date(1990, 2, 3))
    key = person_key(dossier.candidate)
    person_erase(records=person_records(key), by=make_certifpro(), reason="Demande du 3 mars")
    assert not person_records(key).records
    assert not persons_search(name="Zoé Blanc", birth_date=datetime.date(1990, 2, 3))
    assert not persons_search(name="anonymisée", birth_date=datetime.date(1990, 1, 1))
