"""`manage.py anonymise` (privacy.services.retention_apply): each category of the retention table at its
deadline and not a day before, what the statistics and the public verification keep, and a second run that
changes nothing."""

from __future__ import annotations

import datetime
import io

import pytest
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from candidates.models import Candidate, Dossier, DossierEvent
from candidates.services import dossier_withdraw
from clea_platform.celery import app as celery_app
from clea_platform.documents import orphan_files, orphan_files_collect
from evaluations.models import Attestation, CriterionResult, Evaluation
from funding.models import FundingProof
from funding.services import funding_proof_add
from juries.services import certificate_lookup, decision_revoke
from organisations.models import ApiToken, AuditLog, Role
from organisations.services import api_token_create, api_token_revoke
from outbox.models import DocumentVersion, SideEffect
from outbox.services import document_regenerate, email_add
from privacy.services import retention_apply, retention_due
from privacy.tasks import retention_apply_task
from referrals.models import Referral, ReferralEvent, ReferralState
from tests.admin_forms import admin_form_data
from tests.clients import page_text, verified_login
from tests.factories import MembershipFactory, UserFactory
from tests.funding.support import draft_line
from tests.juries.factories import certified, make_certifpro
from tests.privacy.support import (
    COMMENT,
    CONTEXT,
    NOTE,
    WITHDRAWAL_REASON,
    counsellor_of,
    decline,
    dossier_in_training,
    later,
    staff_still_logging_in,
    withdrawn_dossier,
)
from tests.referrals.support import make_referral
from training.models import ProgressNote, TrainingPlan

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limit")]


def nothing_due() -> dict[str, int]:
    return dict.fromkeys(retention_due(), 0)


def statistics(dossier: Dossier) -> dict:
    """What the national figures read of a dossier: its state, certification, organisation and region, the dates
    of its steps, its evaluations' outcomes."""
    dossier = Dossier.objects.select_related("organisation").get(pk=dossier.pk)
    return {
        "state": dossier.state,
        "certification": dossier.certification,
        "organisation": dossier.organisation_id,
        "region": dossier.organisation.region,
        "steps": list(DossierEvent.objects.filter(dossier=dossier).order_by("at", "pk").values_list("to_state", "at")),
        "window": (dossier.window_starts_on, dossier.deadline),
        "outcomes": list(Evaluation.objects.filter(dossier=dossier).values_list("kind", "outcome", "ended_on")),
        "results": list(
            CriterionResult.objects.filter(evaluation__dossier=dossier).order_by("pk").values_list("result", flat=True)
        ),
        "training": list(TrainingPlan.objects.filter(dossier=dossier).values_list("planned_hours", "starts_on")),
    }


def test_a_withdrawn_dossier_is_anonymised_five_years_after_its_closing_and_not_a_day_before():
    dossier = withdrawn_dossier(first_name="Léa", last_name="Martin", birth_date=datetime.date(1984, 7, 9))
    candidate_id = dossier.candidate_id

    assert retention_apply(now=later(years=5, days=-1))["closed_dossiers"] == 0
    assert Candidate.objects.get(pk=candidate_id).last_name == "Martin"

    assert retention_apply(now=later(years=5, days=1))["closed_dossiers"] == 1
    candidate = Candidate.objects.get(pk=candidate_id)
    assert (candidate.first_name, candidate.last_name) == ("Personne", "anonymisée")
    assert candidate.birth_date == datetime.date(1984, 1, 1)
    assert (candidate.birth_name, candidate.birth_place, candidate.email, candidate.phone) == ("", "", "", "")
    assert (candidate.address, candidate.postcode, candidate.city) == ("", "", "")
    assert candidate.anonymised_at is not None
    assert not Candidate.objects.filter(identity_key__contains="martin").exists()


def test_anonymising_keeps_what_the_statistics_count_and_blanks_every_free_text():
    dossier = withdrawn_dossier()
    before = statistics(dossier)
    kept = Candidate.objects.values("civility", "registration_status", "education_level", "origin", "born_abroad")
    person_before = kept.get(pk=dossier.candidate_id)

    retention_apply(now=later(years=6))

    assert statistics(dossier) == before
    assert kept.get(pk=dossier.candidate_id) == person_before
    dossier.refresh_from_db()
    assert dossier.withdrawal_reason == "" and dossier.anonymised_at is not None
    texts = [
        *DossierEvent.objects.filter(dossier=dossier).values_list("note", flat=True),
        *CriterionResult.objects.filter(evaluation__dossier=dossier).values_list("comment", flat=True),
        *Evaluation.objects.filter(dossier=dossier).values_list("context", flat=True),
        *ProgressNote.objects.filter(plan__dossier=dossier).values_list("text", flat=True),
        *TrainingPlan.objects.filter(dossier=dossier).values_list("objectives", flat=True),
    ]
    assert texts and set(texts) == {""}
    for text in (WITHDRAWAL_REASON, COMMENT, CONTEXT, NOTE):
        assert not DossierEvent.objects.filter(note__contains=text).exists()
    # The notes are blanked, the rows stay: the progress notes are still counted.
    assert ProgressNote.objects.filter(plan__dossier=dossier).count() == 1


def test_the_attestations_file_is_deleted_and_its_verification_says_the_holder_was_erased(
    django_capture_on_commit_callbacks,
):
    dossier = withdrawn_dossier(first_name="Inès", last_name="Durand")
    attestation = Attestation.objects.get(dossier=dossier)
    storage, name = attestation.file.storage, attestation.file.name
    assert storage.exists(name)
    url = reverse("certificate_verify", kwargs={"code": attestation.verification_code})
    assert "Inès DURAND" in page_text(Client().get(url))

    now = later(years=5, days=1)
    with django_capture_on_commit_callbacks(execute=True):
        retention_apply(now=now)

    attestation.refresh_from_db()
    assert attestation.file.name == "" and attestation.sha256  # the row and its fingerprint stay
    assert not storage.exists(name)
    response = Client().get(url)
    page = page_text(response)
    assert response.status_code == 200
    assert "Attestation authentique" in page
    assert "DURAND" not in page and "ANONYMISÉE" not in page
    assert "Identité effacée le" in page
    body = Client().get(reverse("api:attestation_verify", kwargs={"code": attestation.verification_code})).json()
    assert body["holder_name"] == "" and body["holder_erased_on"] == f"{timezone.localdate(now):%Y-%m-%d}"


def test_a_certificate_holder_keeps_their_identity_and_the_verification_page_is_unchanged():
    _jury, _submission, certificate = certified(first_name="Camille", last_name="Roux")
    candidate_id = certificate.dossier.candidate_id
    url = reverse("certificate_verify", kwargs={"code": certificate.verification_code})
    shown_before = page_text(Client().get(url)).split("<dl", 1)[1].split("</dl>", 1)[0]

    done = retention_apply(now=later(years=30))

    assert done["closed_dossiers"] == 0
    candidate = Candidate.objects.get(pk=candidate_id)
    assert (candidate.first_name, candidate.last_name, candidate.birth_place) == ("Camille", "Roux", "Lille")
    response = Client().get(url)
    assert response.status_code == 200
    assert page_text(response).split("<dl", 1)[1].split("</dl>", 1)[0] == shown_before
    assert certificate_lookup(certificate.verification_code).holder_name == "Camille ROUX"


def test_a_certificate_holders_contact_details_are_erased_five_years_after_the_award():
    _jury, _submission, certificate = certified()
    candidate_id = certificate.dossier.candidate_id

    assert retention_apply(now=later(years=5, days=-1))["certified_contacts"] == 0
    assert Candidate.objects.get(pk=candidate_id).email == "candidate@exemple.fr"

    assert retention_apply(now=later(years=5, days=1))["certified_contacts"] == 1
    candidate = Candidate.objects.get(pk=candidate_id)
    assert candidate.email == "" and candidate.contacts_erased_at is not None
    assert candidate.birth_date == datetime.date(1985, 4, 12) and candidate.anonymised_at is None


def test_a_dossier_in_progress_is_never_anonymised():
    in_progress = dossier_in_training()
    staff_still_logging_in(later(years=40))
    assert retention_apply(now=later(years=40)) == nothing_due()
    assert Candidate.objects.get(pk=in_progress.candidate_id).anonymised_at is None


def test_running_it_twice_changes_nothing_the_second_time():
    withdrawn_dossier()
    certified()
    now = later(years=6)
    first = retention_apply(now=now)
    assert first["closed_dossiers"] == 1 and first["certified_contacts"] == 1
    rows = AuditLog.objects.count()
    snapshot = list(Candidate.objects.order_by("pk").values())

    assert retention_due(now=now) == nothing_due()
    assert retention_apply(now=now) == nothing_due()
    assert retention_apply(now=later(years=12)) == nothing_due()
    assert list(Candidate.objects.order_by("pk").values()) == snapshot
    assert AuditLog.objects.count() == rows  # no audit row for a run that did nothing


def test_a_run_that_did_something_writes_one_audit_row_with_its_counts_and_no_name():
    withdrawn_dossier(last_name="Lefebvre")
    retention_apply(now=later(years=6))
    row = AuditLog.objects.get(action="privacy.retention")
    assert row.details["done"]["closed_dossiers"] == 1
    assert "Lefebvre" not in str(row.details) and row.object_repr == ""


def test_a_declined_referral_is_anonymised_a_year_after_its_answer_and_one_waiting_is_kept():
    declined = decline(make_referral())
    waiting = make_referral(first_name="Awa", last_name="Diallo")

    assert retention_apply(now=later(years=1, days=-1))["closed_referrals"] == 0
    assert retention_apply(now=later(years=1, days=1))["closed_referrals"] == 1

    declined.refresh_from_db()
    assert (declined.first_name, declined.last_name, declined.email, declined.phone) == (
        "Personne",
        "anonymisée",
        "",
        "",
    )
    assert declined.birth_date == datetime.date(1985, 1, 1)
    assert declined.note == "" and declined.decline_reason == "" and declined.anonymised_at is not None
    assert set(ReferralEvent.objects.filter(referral=declined).values_list("note", flat=True)) == {""}
    assert declined.state == ReferralState.DECLINED  # still counted
    waiting.refresh_from_db()
    assert waiting.last_name == "Diallo" and waiting.anonymised_at is None


def test_revoked_and_expired_api_tokens_go_a_year_after_sessions_at_their_expiry_emails_after_90_days(settings):
    membership = MembershipFactory(role=Role.COUNSELLOR)
    revoked, _key = api_token_create(
        membership=membership, name="Ancien", expires_at=timezone.now() + datetime.timedelta(days=300)
    )
    api_token_revoke(token=revoked, by=membership.user)
    usable, _key = api_token_create(
        membership=membership, name="Actuel", expires_at=timezone.now() + datetime.timedelta(days=300)
    )
    Session.objects.create(
        session_key="a" * 32, session_data="", expire_date=timezone.now() + datetime.timedelta(hours=1)
    )
    email = email_add(subject="Votre dossier", body="Bonjour Mme Martin", to=["lea@exemple.fr"], organisation=None)

    assert retention_apply(now=later(days=89)) == {**nothing_due(), "sessions": 1}
    assert SideEffect.objects.filter(pk=email.pk).exists()
    done = retention_apply(now=later(days=91))
    assert done["outbox_emails"] == 1 and not SideEffect.objects.filter(pk=email.pk).exists()
    assert done["api_tokens"] == 0
    # A year after its revocation the revoked token goes; the usable one expires in 300 days, and goes a year later.
    assert retention_apply(now=later(years=1, days=1))["api_tokens"] == 1
    assert list(ApiToken.objects.values_list("pk", flat=True)) == [usable.pk]
    assert retention_apply(now=later(years=1, days=301))["api_tokens"] == 1


def test_the_command_prints_the_counts_per_category_and_its_dry_run_changes_nothing():
    dossier = withdrawn_dossier()
    out = io.StringIO()
    call_command("anonymise", "--dry-run", f"--now={later(years=6).isoformat()}", stdout=out)
    assert "closed_dossiers: 1 due" in out.getvalue()
    assert "dry run: nothing changed" in out.getvalue()
    assert Candidate.objects.get(pk=dossier.candidate_id).anonymised_at is None

    out = io.StringIO()
    call_command("anonymise", stdout=out)  # today: nothing is past its retention yet
    assert "closed_dossiers: 0 done" in out.getvalue()


def test_the_command_refuses_to_apply_a_day_that_has_not_come():
    with pytest.raises(CommandError):
        call_command("anonymise", f"--now={later(years=6).isoformat()}", stdout=io.StringIO())


def test_beat_runs_the_task_daily_and_the_task_applies_the_table():
    schedule = settings.CELERY_BEAT_SCHEDULE["privacy-retention"]
    assert schedule == {"task": "privacy.tasks.retention_apply_task", "schedule": 60 * 60 * 24}
    assert schedule["task"] in celery_app.tasks
    assert schedule["task"] in settings.SWEEP_TASKS
    assert retention_apply_task.delay().get() == nothing_due()


def test_each_dossier_counts_once_whatever_its_history():
    withdrawn_dossier()
    withdrawn_dossier()
    assert retention_due(now=later(years=6))["closed_dossiers"] == 2
    counts = Dossier.objects.values("state").annotate(n=Count("pk"))
    retention_apply(now=later(years=6))
    assert list(Dossier.objects.values("state").annotate(n=Count("pk"))) == list(counts)


def test_a_revoked_certificates_holder_is_kept_even_once_the_dossier_is_withdrawn():
    """The revoked certificate stays verifiable (« révoqué », with its holder): its dossier, withdrawn since, is
    closed without a valid certificate, but a certificate row names the person."""
    _jury, _submission, certificate = certified(last_name="Moreau")
    decision_revoke(decision=certificate.decision, by=make_certifpro(), reason="Fraude à l'évaluation")
    dossier = Dossier.objects.get(pk=certificate.dossier_id)
    dossier_withdraw(dossier=dossier, by=counsellor_of(dossier), reason="Fin du parcours")

    assert retention_apply(now=later(years=30))["closed_dossiers"] == 0
    assert Candidate.objects.get(pk=dossier.candidate_id).last_name == "Moreau"
    page = page_text(Client().get(reverse("certificate_verify", kwargs={"code": certificate.verification_code})))
    assert "Certificat révoqué" in page and certificate.holder_name in page


def test_a_run_takes_a_batch_at_most_and_the_next_run_the_rest(monkeypatch):
    monkeypatch.setattr("privacy.services.RETENTION_BATCH", 1)
    first, second = withdrawn_dossier(), withdrawn_dossier()
    now = later(years=6)
    assert retention_apply(now=now)["closed_dossiers"] == 1
    assert Candidate.objects.get(pk=first.candidate_id).anonymised_at is not None
    assert retention_due(now=now)["closed_dossiers"] == 1
    assert retention_apply(now=now)["closed_dossiers"] == 1
    assert Candidate.objects.get(pk=second.candidate_id).anonymised_at is not None


def dossier_with_every_file(capture) -> tuple[Dossier, list[str]]:
    """A withdrawn dossier whose attestation was rendered again (its earlier file kept as a version) and whose
    funding line holds a proof; with the names of the three files the anonymisation deletes."""
    dossier = dossier_in_training()
    team = dossier.team
    upload = SimpleUploadedFile("accord.pdf", b"%PDF-1.4 accord de prise en charge", content_type="application/pdf")
    proof = funding_proof_add(line=draft_line(dossier), by=team.counsellor, label="Accord", upload=upload)
    attestation = Attestation.objects.get(dossier=dossier)
    with capture(execute=True):
        document_regenerate(document=attestation, by=make_certifpro(), reason="Gabarit corrigé")
    attestation.refresh_from_db()
    version = DocumentVersion.objects.get(object_id=attestation.pk)
    dossier = dossier_withdraw(dossier=dossier, by=team.counsellor, reason=WITHDRAWAL_REASON)
    return dossier, [attestation.file.name, version.file.name, proof.file.name]


def stored(names: list[str]) -> list[str]:
    return [name for name in names if default_storage.exists(name)]


def test_the_attestations_earlier_versions_and_the_funding_proofs_go_once_committed_and_their_rows_stay(
    django_capture_on_commit_callbacks,
):
    dossier, names = dossier_with_every_file(django_capture_on_commit_callbacks)
    assert stored(names) == names

    with django_capture_on_commit_callbacks(execute=True):
        assert retention_apply(now=later(years=6))["closed_dossiers"] == 1

    assert stored(names) == []
    version = DocumentVersion.objects.get(object_id=Attestation.objects.get(dossier=dossier).pk)
    assert version.file.name == "" and version.erased_at is not None and version.sha256
    assert list(FundingProof.objects.filter(line__dossier=dossier).values_list("file", "original_name")) == [("", "")]
    assert orphan_files(grace=datetime.timedelta(0)) == []


def test_files_a_dead_process_did_not_delete_after_the_commit_are_finished_by_the_orphan_collector(
    django_capture_on_commit_callbacks,
):
    _dossier, names = dossier_with_every_file(django_capture_on_commit_callbacks)
    now = later(years=6)

    # Committed, and the process dies before its on-commit deletion runs.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert retention_apply(now=now)["closed_dossiers"] == 1
    assert callbacks, "the deletion waits for the commit"
    assert stored(names) == names  # nothing deleted before the commit

    # The next run has nothing left to anonymise; the daily collector deletes the files no row names any more.
    assert retention_apply(now=now) == nothing_due()
    collected = orphan_files_collect(grace=datetime.timedelta(0))
    assert sorted(orphan.name for orphan in collected) == sorted(names)
    assert stored(names) == []


# -- What the Django admin keeps of a person -----------------------------------------------------------------------


@pytest.fixture
def admin_user():
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client, admin_user):
    return verified_login(client, admin_user)


def test_the_admins_history_of_an_identity_corrected_there_names_nobody_once_anonymised(admin_client, admin_user):
    dossier = withdrawn_dossier(first_name="Hélène", last_name="Lefèvre")
    url = reverse("admin:candidates_candidate_change", args=[dossier.candidate_id])
    response = admin_client.post(url, {**admin_form_data(admin_client.get(url)), "last_name": "Lefebvre"}, follow=True)
    assert response.redirect_chain == [(reverse("admin:candidates_candidate_changelist"), 302)]
    history = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Candidate), object_id=str(dossier.candidate_id)
    )
    assert "LEFEBVRE" in history.get().object_repr  # Django's own history names the object by str()

    retention_apply(now=later(years=6))

    assert list(history.values_list("object_repr", flat=True)) == [f"Personne candidate n° {dossier.candidate_id}"]
    verified_login(admin_client, admin_user)  # the run deleted the sessions it found expired six years on
    recent = page_text(admin_client.get(reverse("admin:index")))
    assert f"Personne candidate n° {dossier.candidate_id}" in recent and "LEFEBVRE" not in recent


def test_the_admins_history_of_a_referral_saved_there_names_nobody_once_anonymised(admin_client):
    referral = decline(make_referral(first_name="Awa", last_name="Diallo"))
    url = reverse("admin:referrals_referral_change", args=[referral.pk])
    assert admin_client.post(url, admin_form_data(admin_client.get(url))).status_code == 302
    history = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Referral), object_id=str(referral.pk)
    )
    assert "DIALLO" in history.get().object_repr

    retention_apply(now=later(years=1, days=1))

    assert list(history.values_list("object_repr", flat=True)) == [f"Orientation France Travail n° {referral.pk}"]


def test_the_admin_shows_an_anonymised_candidate_read_only_and_refuses_a_name_posted(admin_client, admin_user):
    """As the counsellor's correction screen does (candidates.services.candidate_correct): no identity comes back."""
    dossier = withdrawn_dossier(first_name="Hélène", last_name="Lefèvre")
    url = reverse("admin:candidates_candidate_change", args=[dossier.candidate_id])
    data = admin_form_data(admin_client.get(url))
    retention_apply(now=later(years=6))
    verified_login(admin_client, admin_user)  # the run deleted the sessions it found expired six years on

    page = admin_client.get(url)
    assert page.status_code == 200 and 'name="last_name"' not in page_text(page)
    assert admin_client.post(url, {**data, "last_name": "Lefèvre"}).status_code == 403
    assert Candidate.objects.get(pk=dossier.candidate_id).last_name == "anonymisée"
