import datetime
import json
import os
import pathlib
import subprocess
import sys

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from candidates.models import Candidate, Dossier, DossierState, EducationLevel, Origin, RegistrationStatus
from candidates.services import TransitionRefused, dossier_open
from clea_platform.certifications import Certification
from organisations.models import AuditLog, HabilitationStatus, Role
from referrals.models import Referral, ReferralState
from referrals.services import ReferralError, referral_accept, referral_decline, referral_send, referrals_expire
from referrals.tasks import referrals_expire_task
from tests.factories import MembershipFactory
from tests.referrals.support import IDENTITY, advisor_of, directory_site_of, make_referral

pytestmark = pytest.mark.django_db


def counsellor_of(organisation):
    return MembershipFactory(organisation=organisation, role=Role.COUNSELLOR)


def backdate(referral: Referral, days: int) -> Referral:
    Referral.objects.filter(pk=referral.pk).update(sent_at=timezone.now() - datetime.timedelta(days=days))
    referral.refresh_from_db()
    return referral


def test_an_advisor_sends_a_referral_with_the_consent_text_and_the_site_is_told(
    org_a, django_capture_on_commit_callbacks
):
    site = directory_site_of(org_a, contact_email="accueil@site.example")
    advisor = advisor_of()
    with django_capture_on_commit_callbacks(execute=True):
        referral = make_referral(site=site, by=advisor)
    assert referral.state == ReferralState.SENT
    assert (referral.organisation, referral.site, referral.from_organisation) == (org_a, site, advisor.organisation)
    assert referral.advisor == advisor.user
    assert "transmette mon identité" in referral.consent_text and site.organisation.name in referral.consent_text
    assert referral.consent_at is not None
    assert AuditLog.objects.filter(action="referral.send", organisation=org_a).count() == 1
    (message,) = mail.outbox
    assert message.to == ["accueil@site.example"]
    assert f"/orientations/{referral.pk}/" in message.body
    # The e-mail leaves the personal data on the platform.
    assert IDENTITY["last_name"] not in message.body and IDENTITY["phone"] not in message.body


def test_only_an_advisor_sends_referrals(org_a):
    site = directory_site_of(org_a)
    with pytest.raises(PermissionDenied):
        referral_send(
            by=counsellor_of(org_a), site=site, certification="clea", identity=IDENTITY, consent_text="Accord"
        )


def test_a_site_whose_organisation_lost_its_habilitation_receives_no_referral(org_a):
    site = directory_site_of(org_a)
    org_a.habilitations.update(status=HabilitationStatus.SUSPENDED, status_reason="Audit")
    with pytest.raises(ReferralError, match="ne peut pas recevoir"):
        make_referral(site=site)


def test_a_referral_needs_the_job_seekers_consent(org_a):
    with pytest.raises(ReferralError, match="consentement"):
        referral_send(
            by=advisor_of(), site=directory_site_of(org_a), certification="clea", identity=IDENTITY, consent_text=" "
        )


def test_the_same_person_is_not_referred_twice_to_an_organisation_that_has_not_answered(org_a):
    site = directory_site_of(org_a)
    make_referral(site=site)
    with pytest.raises(ReferralError, match="déjà orientée"):
        make_referral(site=directory_site_of(org_a), first_name="NADIA")
    make_referral(site=site, first_name="Sarah")  # someone else


def test_accepting_opens_a_dossier_in_information_with_the_job_seekers_details(
    org_a, django_capture_on_commit_callbacks
):
    referral = make_referral(to=org_a)
    counsellor = counsellor_of(org_a)
    with django_capture_on_commit_callbacks(execute=True):
        referral = referral_accept(referral=referral, by=counsellor)
    assert referral.state == ReferralState.ACCEPTED
    assert (referral.answered_by, referral.answered_at is not None) == (counsellor.user, True)
    dossier = referral.dossier
    assert dossier.state == DossierState.INFORMATION
    assert (dossier.organisation, dossier.certification, dossier.counsellor) == (org_a, "clea", counsellor.user)
    candidate = dossier.candidate
    for name, value in IDENTITY.items():
        assert getattr(candidate, name) == value, name
    assert candidate.origin == Origin.FRANCE_TRAVAIL
    assert candidate.registration_status == RegistrationStatus.JOB_SEEKER
    assert dossier.events.filter(note__startswith="Orienté par France Travail").exists()
    assert AuditLog.objects.filter(action="referral.accept", organisation=org_a).count() == 1
    assert AuditLog.objects.filter(action="dossier.create", organisation=org_a).count() == 1
    (message,) = [m for m in mail.outbox if m.to == [referral.advisor.email]]
    assert "acceptée" in message.body and IDENTITY["last_name"] not in message.body


def test_a_referral_is_accepted_once_only(org_a):
    referral = make_referral(to=org_a)
    counsellor = counsellor_of(org_a)
    referral_accept(referral=referral, by=counsellor)
    stale = Referral.objects.get(pk=referral.pk)
    with pytest.raises(ReferralError, match="déjà été acceptée"):
        referral_accept(referral=stale, by=counsellor_of(org_a))
    assert Dossier.objects.count() == 1 and Candidate.objects.count() == 1


def test_a_referral_loaded_before_another_answer_is_refused(org_a):
    referral = make_referral(to=org_a)
    loaded_by_a_colleague = Referral.objects.get(pk=referral.pk)
    referral_decline(referral=referral, by=counsellor_of(org_a), reason="Complet")
    with pytest.raises(ReferralError, match="déclinée"):
        referral_accept(referral=loaded_by_a_colleague, by=counsellor_of(org_a))
    assert not Dossier.objects.exists()


def test_the_database_refuses_an_accepted_referral_without_dossier(org_a):
    referral = make_referral(to=org_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        Referral.objects.filter(pk=referral.pk).update(state=ReferralState.ACCEPTED)


def test_accepting_needs_only_what_an_advisor_can_know_and_opening_then_asks_the_rest(org_a):
    # Birth place and education level are learnt at the information interview, not by France Travail.
    referral = make_referral(to=org_a, birth_place="", education_level="")
    counsellor = counsellor_of(org_a)
    referral = referral_accept(referral=referral, by=counsellor)
    dossier = referral.dossier
    assert (dossier.state, dossier.candidate.birth_place, dossier.candidate.education_level) == ("information", "", "")
    with pytest.raises(TransitionRefused, match="lieu de naissance et le niveau de formation"):
        dossier_open(dossier=dossier, by=counsellor, consent_text="J'accepte.")
    dossier.refresh_from_db()
    assert dossier.state == "information"

    opened = dossier_open(
        dossier=dossier,
        by=counsellor,
        consent_text="J'accepte.",
        candidate_data={"birth_place": "Tunis", "education_level": EducationLevel.NONE},
    )
    assert opened.state == "opened"
    opened.candidate.refresh_from_db()
    assert (opened.candidate.birth_place, opened.candidate.education_level) == ("Tunis", "none")


def test_what_the_counsellor_knows_on_accepting_is_kept(org_a):
    referral = make_referral(to=org_a, birth_place="", education_level="")
    referral = referral_accept(
        referral=referral,
        by=counsellor_of(org_a),
        extra={"birth_place": "Tunis", "education_level": EducationLevel.NONE},
    )
    assert (referral.dossier.candidate.birth_place, referral.dossier.candidate.education_level) == ("Tunis", "none")


def test_an_organisation_administrator_does_not_accept_a_counsellor_does(org_a, make_member):
    # Accepting makes the acceptor the dossier's counsellor: the CléA journey starts with a counsellor's interview.
    referral = make_referral(to=org_a)
    with pytest.raises(PermissionDenied):
        referral_accept(referral=referral, by=make_member(org_a, role=Role.ORG_ADMIN))
    assert not Dossier.objects.exists()


def test_only_a_counsellor_of_the_receiving_organisation_accepts(org_a, org_b):
    referral = make_referral(to=org_a)
    with pytest.raises(PermissionDenied):
        referral_accept(referral=referral, by=counsellor_of(org_b))
    with pytest.raises(PermissionDenied):
        referral_accept(referral=referral, by=MembershipFactory(organisation=org_a, role=Role.EVALUATOR))
    with pytest.raises(PermissionDenied):
        referral_accept(referral=referral, by=advisor_of(referral.from_organisation))


def test_accepting_without_a_habilitation_in_force_is_refused(org_a):
    referral = make_referral(to=org_a)
    org_a.habilitations.update(status=HabilitationStatus.WITHDRAWN, status_reason="Retrait")
    with pytest.raises(ReferralError, match="plus d'habilitation"):
        referral_accept(referral=referral, by=counsellor_of(org_a))


def test_declining_needs_a_reason_which_the_advisor_reads(org_a, django_capture_on_commit_callbacks):
    referral = make_referral(to=org_a)
    with pytest.raises(ReferralError, match="motif"):
        referral_decline(referral=referral, by=counsellor_of(org_a), reason="   ")
    with django_capture_on_commit_callbacks(execute=True):
        referral = referral_decline(referral=referral, by=counsellor_of(org_a), reason="Pas de session avant mars.")
    assert (referral.state, referral.decline_reason) == (ReferralState.DECLINED, "Pas de session avant mars.")
    assert mail.outbox[-1].to == [referral.advisor.email]
    with pytest.raises(ReferralError):
        referral_accept(referral=referral, by=counsellor_of(org_a))


def test_unanswered_referrals_expire_after_the_delay(org_a, settings):
    settings.REFERRAL_EXPIRY_DAYS = 30
    young = backdate(make_referral(to=org_a, first_name="Jeune"), 29)
    old = backdate(make_referral(to=org_a, first_name="Ancienne"), 31)
    answered = backdate(make_referral(to=org_a, first_name="Répondue"), 40)
    referral_decline(referral=answered, by=counsellor_of(org_a), reason="Complet")

    assert referrals_expire() == 1
    states = dict(Referral.objects.values_list("first_name", "state"))
    assert states == {"Jeune": "sent", "Ancienne": "expired", "Répondue": "declined"}
    assert Referral.objects.get(pk=old.pk).answered_at is not None
    assert AuditLog.objects.filter(action="referral.expire").count() == 1
    assert referrals_expire() == 0  # the daily job may run twice
    assert young.expires_at.date() == (young.sent_at + datetime.timedelta(days=30)).date()


def test_the_delay_comes_from_the_settings(org_a, settings):
    settings.REFERRAL_EXPIRY_DAYS = 7
    backdate(make_referral(to=org_a), 8)
    assert referrals_expire_task.delay().get() == 1


def test_the_worker_finds_every_task_the_beat_schedule_names():
    # A fresh interpreter, as a worker starts: only autodiscovery (the apps' tasks modules) registers tasks.
    script = (
        "import json, django; django.setup()\n"
        "from django.conf import settings\n"
        "from clea_platform.celery import app\n"
        "app.loader.import_default_modules()\n"
        "print(json.dumps({e['task']: e['task'] in app.tasks for e in settings.CELERY_BEAT_SCHEDULE.values()}))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "clea_platform.settings"}
    root = pathlib.Path(__file__).resolve().parents[2]
    run = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True, check=True
    )
    registered = json.loads(run.stdout)
    assert registered["referrals.tasks.referrals_expire_task"] is True
    assert all(registered.values()), registered


def test_an_expired_referral_can_no_longer_be_accepted(org_a):
    referral = backdate(make_referral(to=org_a), 31)
    referrals_expire()
    with pytest.raises(ReferralError, match="expiré"):
        referral_accept(referral=referral, by=counsellor_of(org_a))


def test_expiry_refuses_a_referral_still_within_the_delay(org_a):
    from django_fsm import TransitionNotAllowed

    referral = make_referral(to=org_a)
    with pytest.raises(TransitionNotAllowed):
        referral.expire(now=timezone.now())


def test_who_sees_which_referrals(org_a, org_b):
    agency = advisor_of().organisation
    to_a = make_referral(to=org_a, from_agency=agency, first_name="Pour A")
    to_b = make_referral(to=org_b, first_name="Pour B")

    def visible(organisation, role):
        membership = MembershipFactory(organisation=organisation, role=role)
        return set(Referral.objects.visible_to(membership))

    assert visible(agency, Role.FT_ADVISOR) == {to_a}
    assert visible(org_a, Role.COUNSELLOR) == {to_a}
    assert visible(org_b, Role.COUNSELLOR) == {to_b}
    assert visible(org_a, Role.ORG_ADMIN) == {to_a}
    assert visible(agency, Role.ORG_ADMIN) == {to_a}
    assert visible(org_a, Role.EVALUATOR) == set()
    assert visible(org_a, Role.TRAINER) == set()
    assert Referral.objects.visible_to(None).count() == 0
    from tests.factories import OrganisationFactory

    certifpro = OrganisationFactory(certifpro=True)
    assert visible(certifpro, Role.CERTIFPRO_ADMIN) == {to_a, to_b}
    assert Certification.CLEA == to_a.certification
