"""Interview requests from the directory: the e-mail confirmation, the proposal and the answer, the dossier opened
from it, the reminder and the expiry, and the retention of their personal data."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from intake.models import InterviewRequest, InterviewRequestState, token_hash
from intake.services import (
    interview_request_answer,
    interview_request_confirm,
    interview_request_convert,
    interview_request_propose,
    interview_request_submit,
    interview_requests_follow_up,
    working_days_before,
)
from organisations.models import AuditLog, Role
from outbox.models import SideEffect
from privacy.services import retention_apply
from tests.factories import MembershipFactory
from tests.intake.support import counsellor_of, last_email_body, listed_site, make_request, token_from
from tests.journey import DossierFactory

pytestmark = pytest.mark.django_db

PARIS_MONDAY_NOON = datetime.datetime(2026, 11, 30, 12, 0, tzinfo=datetime.UTC)


def emails_to(address: str) -> list[SideEffect]:
    return [e for e in SideEffect.objects.filter(kind="email").order_by("pk") if address in e.arguments["to"]]


def test_a_submitted_request_is_unconfirmed_keeps_only_the_hash_and_mails_a_confirmation_link(org_a):
    site = listed_site(org_a)
    request = interview_request_submit(
        site=site, certification="clea", first_name="Léa", last_name="Martin", email="lea@exemple.fr"
    )
    assert request.state == InterviewRequestState.UNCONFIRMED
    assert request.organisation == org_a and request.consent_at is not None
    [mail] = emails_to("lea@exemple.fr")
    token = token_from(mail.arguments["body"], "confirmer")
    assert request.token_sha256 == token_hash(token) and token not in request.token_sha256
    # The organisation does not see it yet.
    counsellor = counsellor_of(org_a)
    assert not InterviewRequest.objects.visible_to(counsellor).confirmed().exists()


def test_the_confirmation_link_works_once_and_brings_the_request_to_the_organisation(org_a):
    request = make_request(org_a, state=InterviewRequestState.UNCONFIRMED)
    token = token_from(last_email_body(), "confirmer")
    confirmed = interview_request_confirm(token=token)
    assert confirmed is not None and confirmed.pk == request.pk
    assert confirmed.state == InterviewRequestState.WAITING and confirmed.token_sha256 is None
    assert interview_request_confirm(token=token) is None
    assert InterviewRequest.objects.visible_to(counsellor_of(org_a)).to_handle().get() == request


def test_an_expired_confirmation_link_does_nothing(org_a):
    make_request(org_a, state=InterviewRequestState.UNCONFIRMED)
    token = token_from(last_email_body(), "confirmer")
    later = timezone.now() + datetime.timedelta(hours=49)
    assert interview_request_confirm(token=token, now=later) is None
    assert InterviewRequest.objects.get().state == InterviewRequestState.UNCONFIRMED


def test_a_proposal_mails_the_person_with_a_link_and_the_calendar_file_and_is_audited(org_a):
    request = make_request(org_a)
    counsellor = counsellor_of(org_a)
    starts = timezone.now() + datetime.timedelta(days=2)
    request, token = interview_request_propose(
        interview_request=request,
        by=counsellor,
        starts_at=starts,
        duration_minutes=45,
        with_membership=counsellor,
        place="Site de Lille",
    )
    assert request.state == InterviewRequestState.PROPOSED
    body = emails_to("lea.martin@exemple.fr")[-1].arguments["body"]
    assert token_from(body, "reponse") == token
    assert "rendez-vous.ics" in body and "Site de Lille" in body and "45 minutes" in body
    assert AuditLog.objects.filter(action="intake.propose", object_id=str(request.pk)).count() == 1
    assert [e.action for e in request.events.all()] == ["submit", "confirm", "propose"]


def test_a_proposal_is_refused_in_the_past_with_someone_outside_the_organisation_or_without_a_place(org_a, org_b):
    request = make_request(org_a)
    counsellor = counsellor_of(org_a)
    with pytest.raises(ValidationError) as caught:
        interview_request_propose(
            interview_request=request,
            by=counsellor,
            starts_at=timezone.now() - datetime.timedelta(hours=1),
            duration_minutes=10,
            with_membership=counsellor_of(org_b),
            place=" ",
        )
    assert set(caught.value.message_dict) == {"starts_at", "duration_minutes", "with_membership", "place"}
    assert InterviewRequest.objects.get().state == InterviewRequestState.WAITING


def test_another_organisation_or_an_evaluator_may_not_propose(org_a, org_b):
    request = make_request(org_a)
    for outsider in (counsellor_of(org_b), MembershipFactory(organisation=org_a, role=Role.EVALUATOR)):
        with pytest.raises(PermissionDenied):
            interview_request_propose(
                interview_request=request,
                by=outsider,
                starts_at=timezone.now() + datetime.timedelta(days=1),
                duration_minutes=30,
                with_membership=counsellor_of(org_a),
                place="Lille",
            )


def test_the_person_accepts_once_or_asks_for_another_time_which_the_organisation_answers_again(org_a):
    request = make_request(org_a, state=InterviewRequestState.PROPOSED)
    token = token_from(last_email_body(), "reponse")
    answered = interview_request_answer(token=token, accept=False, message="Plutôt le lundi matin")
    assert answered.state == InterviewRequestState.OTHER_TIME and answered.answer_message == "Plutôt le lundi matin"
    assert interview_request_answer(token=token, accept=True) is None
    request.refresh_from_db()
    assert request.state == InterviewRequestState.OTHER_TIME and request.may_propose


def test_opening_the_dossier_converts_the_request_and_links_it(org_a):
    request = make_request(org_a, state=InterviewRequestState.ACCEPTED)
    counsellor = counsellor_of(org_a)
    dossier = DossierFactory(organisation=org_a)
    converted = interview_request_convert(interview_request=request, dossier=dossier, by=counsellor)
    assert converted.state == InterviewRequestState.CONVERTED and converted.dossier == dossier
    assert converted.closed_at is not None
    assert AuditLog.objects.filter(action="intake.convert").count() == 1
    with pytest.raises(ValidationError):
        interview_request_convert(interview_request=converted, dossier=dossier, by=counsellor)


def test_working_days_skip_the_weekend():
    monday = PARIS_MONDAY_NOON
    assert working_days_before(monday, 1).date() == datetime.date(2026, 11, 27)  # Friday
    assert working_days_before(monday, 3).date() == datetime.date(2026, 11, 25)


def test_an_unanswered_request_is_reminded_once_then_expires_with_the_sites_nearby(org_a, org_b, settings):
    settings.INTAKE_REMIND_AFTER_WORKING_DAYS = 3
    settings.INTAKE_EXPIRE_AFTER_WORKING_DAYS = 5
    other_site = listed_site(org_b, name="Site voisin")
    org_a.email = "accueil@organisme-a.fr"
    org_a.save(update_fields=["email"])
    request = make_request(org_a)
    start = request.waiting_since

    assert interview_requests_follow_up(now=start + datetime.timedelta(days=1)) == {"reminded": 0, "expired": 0}
    after_reminder = start + datetime.timedelta(days=6)
    assert interview_requests_follow_up(now=after_reminder) == {"reminded": 1, "expired": 0}
    assert interview_requests_follow_up(now=after_reminder) == {"reminded": 0, "expired": 0}
    assert len(emails_to("accueil@organisme-a.fr")) == 1

    expiry = after_reminder + datetime.timedelta(days=8)
    assert interview_requests_follow_up(now=expiry) == {"reminded": 0, "expired": 1}
    assert interview_requests_follow_up(now=expiry) == {"reminded": 0, "expired": 0}
    request.refresh_from_db()
    assert request.state == InterviewRequestState.EXPIRED
    body = emails_to("lea.martin@exemple.fr")[-1].arguments["body"]
    assert "Site voisin" in body and other_site.organisation.name in body
    assert "/annuaire/" in body


def test_a_proposed_request_is_neither_reminded_nor_expired(org_a):
    request = make_request(org_a, state=InterviewRequestState.PROPOSED)
    far = request.waiting_since + datetime.timedelta(days=60)
    assert interview_requests_follow_up(now=far) == {"reminded": 0, "expired": 0}


def test_the_beat_schedule_runs_the_follow_up_daily(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["interview-requests-follow-up"]
    assert entry == {"task": "intake.tasks.interview_requests_follow_up_task", "schedule": 60 * 60 * 24}
    from intake.tasks import interview_requests_follow_up_task

    assert interview_requests_follow_up_task.name == entry["task"]


def test_the_retention_job_deletes_unconfirmed_requests_after_two_days_and_closed_ones_after_a_year(org_a):
    unconfirmed = make_request(org_a, state=InterviewRequestState.UNCONFIRMED)
    waiting = make_request(org_a)
    converted = make_request(org_a, state=InterviewRequestState.ACCEPTED)
    interview_request_convert(
        interview_request=converted, dossier=DossierFactory(organisation=org_a), by=counsellor_of(org_a)
    )
    now = timezone.now()
    assert retention_apply(now=now + datetime.timedelta(days=1))["unconfirmed_interview_requests"] == 0
    done = retention_apply(now=now + datetime.timedelta(days=3))
    assert done["unconfirmed_interview_requests"] == 1 and done["closed_interview_requests"] == 0
    assert not InterviewRequest.objects.filter(pk=unconfirmed.pk).exists()
    done = retention_apply(now=now + datetime.timedelta(days=367))
    assert done["closed_interview_requests"] == 1
    assert list(InterviewRequest.objects.all()) == [waiting]


def test_the_counsellors_are_told_of_a_confirmed_request_and_the_proposer_of_the_answer(org_a):
    from notifications.models import Notification

    counsellor = counsellor_of(org_a)
    colleague = MembershipFactory(organisation=org_a, role=Role.COUNSELLOR)
    outsider = counsellor_of(listed_site().organisation)
    make_request(org_a, state=InterviewRequestState.ACCEPTED)
    received = Notification.objects.filter(kind="interview_request_received")
    assert set(received.values_list("recipient_id", flat=True)) == {counsellor.user_id, colleague.user_id}
    assert outsider.user_id not in set(Notification.objects.values_list("recipient_id", flat=True))
    # The proposer (make_request's counsellor) hears the answer; the colleague does not.
    answered = Notification.objects.filter(kind="interview_request_answered")
    assert list(answered.values_list("recipient_id", flat=True)) == [counsellor.user_id]
