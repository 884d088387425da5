"""Referrals sent before the event log get their history rebuilt from the append-only audit log
(referrals/migrations/0002_referral_events.py): schema before, audit rows, migration, the events they imply."""

import datetime

import pytest
from django.utils import timezone

from organisations.models import Role
from referrals.models import ReferralEvent, ReferralState
from tests.factories import MembershipFactory, OrganisationFactory, SiteFactory
from tests.migrations_support import migrated_to

# The last migration before the event log. No other app's migration depends on referrals 0002, so it is the
# only one unapplied.
BEFORE_EVENTS = ("referrals", "0001_initial")

S = ReferralState


def _history(referral_pk: int) -> list[tuple]:
    events = ReferralEvent.objects.filter(referral_id=referral_pk).order_by("at", "id")
    return [(e.transition, e.from_state, e.to_state, e.actor_id, e.at, e.note) for e in events]


@pytest.mark.django_db(transaction=True)
def test_existing_referrals_get_their_history_from_the_audit_log():
    organisation, agency = OrganisationFactory(), OrganisationFactory(france_travail=True)
    site = SiteFactory(organisation=organisation)
    advisor = MembershipFactory(organisation=agency, role=Role.FT_ADVISOR).user
    counsellor = MembershipFactory(organisation=organisation, role=Role.COUNSELLOR).user
    # Whole seconds: the same value back from every backend.
    sent_at = timezone.now().replace(microsecond=0) - datetime.timedelta(days=40)
    declined_at = sent_at + datetime.timedelta(days=2)
    fields = {
        "organisation_id": organisation.pk,
        "site_id": site.pk,
        "from_organisation_id": agency.pk,
        "advisor_id": advisor.pk,
        "certification": "clea",
        "civility": "mme",
        "first_name": "Nadia",
        "last_name": "Benali",
        "birth_date": datetime.date(1988, 4, 12),
        "consent_at": sent_at,
        "consent_text": "J'accepte que France Travail transmette mon identité.",
        "sent_at": sent_at,
    }
    # Every other app as it is now, referrals as it was before the event log. Leaving the block migrates to the
    # latest state: the backfill under test.
    with migrated_to([BEFORE_EVENTS]) as old_apps:
        with pytest.raises(LookupError):
            old_apps.get_model("referrals", "ReferralEvent")
        Referral = old_apps.get_model("referrals", "Referral")
        AuditLog = old_apps.get_model("organisations", "AuditLog")
        content_type = old_apps.get_model("contenttypes", "ContentType").objects.get(
            app_label="referrals", model="referral"
        )

        declined = Referral.objects.create(
            **fields,
            state=S.DECLINED,
            answered_at=declined_at,
            answered_by_id=counsellor.pk,
            decline_reason="Plus de places avant l'été.",
        )
        expired_at = sent_at + datetime.timedelta(days=31)
        expired = Referral.objects.create(
            **{**fields, "first_name": "Karim", "sent_at": sent_at + datetime.timedelta(hours=1)},
            state=S.EXPIRED,
            answered_at=expired_at,
        )
        for action, actor, at, details in [
            # The audit row lands a moment after the insert.
            ("referral.send", advisor, sent_at + datetime.timedelta(seconds=1), {}),
            ("referral.decline", counsellor, declined_at, {"from": S.SENT, "to": S.DECLINED}),
        ]:
            AuditLog.objects.create(
                action=action,
                actor_id=actor.pk,
                organisation_id=organisation.pk,
                object_type=content_type,
                object_id=str(declined.pk),
                created_at=at,
                details=details,
            )

    # The sending as the audit log has it (when, by whom), then the decline with the referral's reason.
    assert _history(declined.pk) == [
        ("", "", S.SENT, advisor.pk, sent_at + datetime.timedelta(seconds=1), ""),
        ("decline", S.SENT, S.DECLINED, counsellor.pk, declined_at, "Plus de places avant l'été."),
    ]
    # No audit row at all: the sending and the expiry from the referral itself (sent_at, answered_at).
    assert _history(expired.pk) == [
        ("", "", S.SENT, advisor.pk, sent_at + datetime.timedelta(hours=1), ""),
        ("expire", S.SENT, S.EXPIRED, None, expired_at, ""),
    ]
