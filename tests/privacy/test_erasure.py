"""Erasure on request (art. 17 GDPR): what the law lets go now is anonymised at once; what it keeps (a dossier in
progress, a certificate, a funding line unpaid or invoiced within 10 years, a referral awaiting its answer) is
refused with its reason. And the funding hold also delays the daily job."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from candidates.models import Candidate, Dossier
from candidates.services import dossier_withdraw
from funding.models import FundingLine, LineState
from funding.services import payment_record
from juries.models import DecisionKind
from juries.services import decision_record, decision_revoke
from organisations.models import AuditLog, Role
from privacy.selectors import erasure_assessment, person_key, person_records
from privacy.services import PrivacyRefusal, person_erase, retention_apply
from referrals.models import ReferralState
from tests.factories import MembershipFactory
from tests.funding.support import batch_with_lines, org_admin, payment_inputs
from tests.journey import DossierFactory
from tests.juries.factories import certified, deliberating, make_certifpro, make_jury
from tests.privacy.support import counsellor_of, decline, dossier_in_training, later, withdrawn_dossier
from tests.referrals.support import make_referral

pytestmark = pytest.mark.django_db

REASON = "Demande écrite reçue le 3 mars, identité vérifiée"


def person_of(record):
    return person_records(person_key(record))


def test_a_withdrawn_dossier_is_erased_at_once_on_request_with_an_audit_row():
    dossier = withdrawn_dossier(last_name="Garnier")
    person = person_of(dossier.candidate)
    certifpro = make_certifpro()

    result = person_erase(records=person, by=certifpro, reason=REASON)

    assert [record.pk for record in result.erased] == [dossier.candidate_id] and not result.kept
    candidate = Candidate.objects.get(pk=dossier.candidate_id)
    assert candidate.last_name == "anonymisée" and candidate.anonymised_at is not None
    row = AuditLog.objects.get(action="privacy.erase")
    assert row.actor == certifpro.user
    assert row.details["reason"] == REASON
    assert row.details["candidates"] == [dossier.candidate_id]
    assert row.details["erased"] == [f"candidate-{dossier.candidate_id}"]
    assert "Garnier" not in str(row.details) + row.object_repr
    # Erased: nobody is found under that identity any more.
    assert not person_records(person.key).records


def test_a_certificate_holder_is_kept_with_the_reason():
    _jury, _submission, certificate = certified(last_name="Petit")
    person = person_of(certificate.dossier.candidate)

    result = person_erase(records=person, by=make_certifpro(), reason=REASON)

    assert not result.erased
    [(record, reasons)] = result.kept
    assert record.pk == certificate.dossier.candidate_id
    assert reasons == [
        f"Le certificat {certificate.number} a été délivré le {certificate.awarded_on:%d/%m/%Y} : l'identité de son "
        "titulaire est conservée pour qu'il reste vérifiable (article 17.3 du RGPD)."
    ]
    assert Candidate.objects.get(pk=record.pk).last_name == "Petit"
    assert AuditLog.objects.get(action="privacy.erase_refused").details["kept"] == [f"candidate-{record.pk}"]


def test_a_dossier_in_progress_is_kept_until_the_organisation_closes_it():
    dossier = dossier_in_training()
    [assessment] = erasure_assessment(person_of(dossier.candidate))
    assert not assessment.erasable
    assert assessment.reasons[0].startswith(f"Le dossier {dossier.reference} est en cours (« En formation »)")

    dossier_withdraw(dossier=dossier, by=counsellor_of(dossier), reason="À la demande de la personne")
    [assessment] = erasure_assessment(person_of(Candidate.objects.get(pk=dossier.candidate_id)))
    assert assessment.erasable


def withdrawn_with_invoiced_line() -> tuple[Dossier, FundingLine]:
    batch = batch_with_lines(count=1)
    line = batch.lines.get()
    dossier = line.dossier
    dossier_withdraw(dossier=dossier, by=counsellor_of(dossier), reason="Reprise d'emploi")
    line.refresh_from_db()
    assert line.state == LineState.INVOICED  # an invoiced step happened: the withdrawal does not cancel it
    return Dossier.objects.get(pk=dossier.pk), line


def test_a_funding_line_awaiting_payment_keeps_the_dossier_then_ten_years_of_accounting_after_its_invoice():
    dossier, line = withdrawn_with_invoiced_line()
    person = person_of(dossier.candidate)
    [assessment] = erasure_assessment(person)
    assert "attend encore son paiement" in assessment.reasons[0]
    assert retention_apply(now=later(years=30))["closed_dossiers"] == 0  # unpaid: held

    payment_record(
        batch=line.batch,
        by=org_admin(dossier.organisation),
        received_on=timezone.localdate(),
        reference="VIR-1",
        lines=payment_inputs(line.batch),
    )
    person = person_of(Candidate.objects.get(pk=dossier.candidate_id))
    [assessment] = erasure_assessment(person)
    until = timezone.localtime(later(years=10)).date()
    assert assessment.reasons == [
        f"Le financement « Évaluation préalable, {line.funder} » du dossier {dossier.reference} a été facturé le "
        f"{line.invoiced_on:%d/%m/%Y} : pièce comptable conservée jusqu'au {until:%d/%m/%Y} (article L123-22 du Code "
        "de commerce)."
    ]
    assert not person_erase(records=person, by=make_certifpro(), reason=REASON).erased

    assert retention_apply(now=later(years=10, days=-1))["closed_dossiers"] == 0
    assert retention_apply(now=later(years=10, days=1))["closed_dossiers"] == 1
    line.refresh_from_db()
    assert line.funder_reference == "" and line.state == LineState.PAID  # amounts and states stay for the figures


def test_referrals_a_waiting_one_is_kept_a_declined_one_is_erased():
    declined = decline(make_referral(first_name="Awa", last_name="Diallo"))
    waiting = make_referral(first_name="Awa", last_name="Diallo", to=declined.organisation)
    person = person_of(waiting)
    assert {r.pk for r in person.referrals} == {waiting.pk, declined.pk}

    result = person_erase(records=person, by=make_certifpro(), reason=REASON)

    assert [r.pk for r in result.erased] == [declined.pk]
    [(kept, reasons)] = result.kept
    assert kept.pk == waiting.pk and reasons[0].startswith("L'orientation attend la réponse de l'organisme")
    declined.refresh_from_db()
    waiting.refresh_from_db()
    assert declined.last_name == "anonymisée" and declined.state == ReferralState.DECLINED
    assert waiting.last_name == "Diallo"


def test_only_the_chosen_records_are_erased_a_homonyms_stay():
    mine = withdrawn_dossier(first_name="Jean", last_name="Martin")
    homonym = withdrawn_dossier(first_name="Jean", last_name="Martin")
    person = person_of(mine.candidate)
    assert len(person.candidates) == 2

    person_erase(records=person.only([f"candidate-{mine.candidate_id}"]), by=make_certifpro(), reason=REASON)

    assert Candidate.objects.get(pk=mine.candidate_id).anonymised_at is not None
    assert Candidate.objects.get(pk=homonym.candidate_id).last_name == "Martin"


def test_a_reason_is_required_and_only_certifpro_erases():
    dossier = withdrawn_dossier()
    person = person_of(dossier.candidate)
    with pytest.raises(PrivacyRefusal):
        person_erase(records=person, by=make_certifpro(), reason="  ")
    for role in (Role.COUNSELLOR, Role.ORG_ADMIN):
        with pytest.raises(PermissionDenied):
            person_erase(
                records=person, by=MembershipFactory(organisation=dossier.organisation, role=role), reason=REASON
            )
    assert Candidate.objects.get(pk=dossier.candidate_id).anonymised_at is None
    assert not AuditLog.objects.filter(action__startswith="privacy.erase").exists()


def test_the_erasure_decides_on_what_it_locks_not_on_the_page_read_before():
    """A refusal Certif'Pro revokes between the page and the post puts the dossier back before the jury: kept."""
    jury = make_jury()
    dossier = DossierFactory(state="ready_for_jury")
    [submission] = deliberating(jury, dossier)
    decision = decision_record(
        submission=submission, by=jury.president, kind=DecisionKind.REFUSED, reason="Domaine 1 non maîtrisé"
    )
    person = person_of(Candidate.objects.get(pk=dossier.candidate_id))
    [assessment] = erasure_assessment(person)
    assert assessment.erasable  # refused by the jury: closed without a certificate

    certifpro = make_certifpro()
    decision_revoke(decision=decision, by=certifpro, reason="Erreur de saisie de la décision")
    result = person_erase(records=person, by=certifpro, reason=REASON)

    assert not result.erased
    [(_record, reasons)] = result.kept
    assert reasons[0].startswith(f"Le dossier {dossier.reference} est en cours (« Prêt pour le jury »)")
    assert Candidate.objects.get(pk=dossier.candidate_id).anonymised_at is None
