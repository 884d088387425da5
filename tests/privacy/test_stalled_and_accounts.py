"""Two rules of the retention table (settings.DATA_RETENTION): dossiers stalled in information or opened, and staff
accounts nobody logs into. Running the job twice changes nothing."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from candidates.models import Candidate, Dossier, DossierEvent
from funding.models import FundingLine, LineState
from funding.references import funding_references_load
from organisations.models import AuditLog, Membership, Role, User
from privacy.services import retention_apply, retention_due
from tests.factories import MembershipFactory, UserFactory
from tests.funding.support import draft_line
from tests.journey import DossierFactory
from tests.privacy.support import later, staff_still_logging_in
from tests.two_factor import provision_device

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limit")]


def stalled(state: str = "opened", **fields) -> Dossier:
    return DossierFactory(state=state, first_name="Inès", last_name="Garnier", **fields)


# -- Dossiers stalled before the prior evaluation -------------------------------------------------------------


@pytest.mark.parametrize("state", ["information", "opened"])
def test_a_dossier_without_activity_for_two_years_is_closed_and_its_person_anonymised(state):
    dossier = stalled(state)
    staff_still_logging_in(later(years=2, days=1))
    assert retention_apply(now=later(years=2, days=-1))["stalled_dossiers"] == 0
    assert Candidate.objects.get(pk=dossier.candidate_id).last_name == "Garnier"

    done = retention_apply(now=later(years=2, days=1))
    assert done["stalled_dossiers"] == 1 and done["closed_dossiers"] == 0
    dossier.refresh_from_db()
    assert dossier.state == "withdrawn" and dossier.anonymised_at is not None
    assert Candidate.objects.get(pk=dossier.candidate_id).last_name == "anonymisée"
    event = DossierEvent.objects.filter(dossier=dossier).latest("at", "id")
    assert event.to_state == "withdrawn" and event.actor is None
    assert "Garnier" not in event.note and "conservation" in event.note
    assert AuditLog.objects.filter(action="dossier.withdraw", actor=None, object_id=str(dossier.pk)).exists()

    # Twice: nothing more.
    assert retention_apply(now=later(years=2, days=1)) == dict.fromkeys(retention_due(), 0)


def test_activity_counts_from_the_last_event_not_from_the_creation():
    dossier = stalled()
    # A step recorded a year later (a note, an interview): the two years run from it.
    DossierEvent.objects.create(dossier=dossier, note="Entretien reporté", at=later(years=1))
    staff_still_logging_in(later(years=2, days=1))
    assert retention_apply(now=later(years=2, days=1))["stalled_dossiers"] == 0
    staff_still_logging_in(later(years=3, days=1))
    assert retention_apply(now=later(years=3, days=1))["stalled_dossiers"] == 1


def test_a_dossier_past_the_opening_is_not_stalled_however_quiet():
    # From the prior evaluation on, the 5-year window and the closed dossiers' rule apply instead.
    dossier = DossierFactory(state="prior_evaluation")
    staff_still_logging_in(later(years=3))
    assert retention_apply(now=later(years=3))["stalled_dossiers"] == 0
    assert Dossier.objects.get(pk=dossier.pk).state == "prior_evaluation"


def test_the_stalled_dossiers_draft_funding_lines_are_cancelled_with_it():
    funding_references_load()
    dossier = stalled()
    line = draft_line(dossier)
    staff_still_logging_in(later(years=3))
    assert retention_apply(now=later(years=3))["stalled_dossiers"] == 1
    assert FundingLine.objects.get(pk=line.pk).state == LineState.CANCELLED


# -- Staff accounts nobody logs into -----------------------------------------------------------------------------


def test_an_account_unused_for_two_years_is_deactivated_and_anonymised_but_keeps_its_audit_references():
    membership = MembershipFactory(role=Role.COUNSELLOR, user=UserFactory(first_name="Paul", last_name="Vidal"))
    user = membership.user
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    provision_device(user)
    audited = AuditLog.objects.create(action="test.by_paul", actor=user)

    assert retention_apply(now=later(years=2, days=-1))["inactive_accounts"] == 0
    assert retention_apply(now=later(years=2, days=1))["inactive_accounts"] >= 1

    user.refresh_from_db()
    assert (user.first_name, user.last_name, user.email) == ("", "", f"compte-{user.pk}@anonyme.invalid")
    assert not user.is_active and not user.has_usable_password() and user.anonymised_at is not None
    assert not Membership.objects.filter(user=user, is_active=True).exists()
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert AuditLog.objects.get(pk=audited.pk).actor_id == user.pk

    # Twice: nothing more, the row is not anonymised again.
    anonymised_at = user.anonymised_at
    assert retention_apply(now=later(years=2, days=2))["inactive_accounts"] == 0
    user.refresh_from_db()
    assert user.anonymised_at == anonymised_at


def test_a_never_used_account_counts_from_its_creation_and_a_superuser_is_never_chosen():
    never = UserFactory()
    User.objects.filter(pk=never.pk).update(date_joined=timezone.now() - datetime.timedelta(days=3))
    operator = UserFactory(is_superuser=True, is_staff=True)
    recent = UserFactory()
    User.objects.filter(pk=recent.pk).update(last_login=later(years=1))

    retention_apply(now=later(years=2))
    assert User.objects.get(pk=never.pk).anonymised_at is not None
    assert User.objects.get(pk=operator.pk).anonymised_at is None
    assert User.objects.get(pk=recent.pk).anonymised_at is None
