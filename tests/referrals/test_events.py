"""A referral's history: its sending, then its answer or its expiry, persisted and shown on its page."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from organisations.models import Role
from referrals.models import Referral, ReferralEvent, ReferralState
from referrals.services import ReferralError, referral_accept, referral_decline, referrals_expire
from tests.factories import MembershipFactory
from tests.referrals.support import make_referral
from tests.spoken import spoken

pytestmark = pytest.mark.django_db

S = ReferralState


def _history(referral: Referral) -> list[tuple[str, str, str]]:
    events = ReferralEvent.objects.filter(referral=referral).order_by("at", "id")
    return [(e.transition, e.from_state, e.to_state) for e in events]


def test_sending_then_accepting_is_recorded_with_who_acted(org_a):
    referral = make_referral(to=org_a)
    counsellor = MembershipFactory(organisation=org_a, role=Role.COUNSELLOR)
    referral_accept(referral=referral, by=counsellor)

    assert _history(referral) == [("", "", S.SENT), ("accept", S.SENT, S.ACCEPTED)]
    sent, accepted = ReferralEvent.objects.filter(referral=referral).order_by("at", "id")
    assert sent.actor == referral.advisor
    assert accepted.actor == counsellor.user


def test_a_decline_keeps_its_reason_in_the_history(org_a):
    referral = make_referral(to=org_a)
    referral_decline(
        referral=referral, by=MembershipFactory(organisation=org_a, role=Role.ORG_ADMIN), reason="Plus de places"
    )
    assert _history(referral)[-1] == ("decline", S.SENT, S.DECLINED)
    assert ReferralEvent.objects.get(referral=referral, transition="decline").note == "Plus de places"


def test_the_platform_records_an_expiry_without_an_actor(org_a):
    referral = make_referral(to=org_a)
    Referral.objects.filter(pk=referral.pk).update(sent_at=timezone.now() - datetime.timedelta(days=31))
    assert referrals_expire() == 1
    expired = ReferralEvent.objects.get(referral=referral, transition="expire")
    assert (expired.from_state, expired.to_state, expired.actor) == (S.SENT, S.EXPIRED, None)
    assert referrals_expire() == 0
    assert ReferralEvent.objects.filter(referral=referral, transition="expire").count() == 1


def test_a_refused_answer_records_nothing(org_a):
    referral = make_referral(to=org_a)
    counsellor = MembershipFactory(organisation=org_a, role=Role.COUNSELLOR)
    referral_accept(referral=referral, by=counsellor)
    with pytest.raises(ReferralError):
        referral_decline(referral=referral, by=counsellor, reason="Trop tard")
    assert _history(referral) == [("", "", S.SENT), ("accept", S.SENT, S.ACCEPTED)]


def _history_section(client, referral: Referral) -> str:
    page = client.get(reverse("referrals:detail", kwargs={"pk": referral.pk})).content.decode()
    return page.split('id="history-title"')[1]


def test_both_sides_see_the_history_but_only_the_receiver_sees_who_answered(org_a, client_for):
    referral = make_referral(to=org_a)
    counsellor = MembershipFactory(organisation=org_a, role=Role.COUNSELLOR)
    referral_decline(referral=referral, by=counsellor, reason="Plus de places")
    colleague = MembershipFactory(organisation=org_a, role=Role.COUNSELLOR)
    advisor = referral.advisor.memberships.get(role=Role.FT_ADVISOR)
    for membership in (colleague, advisor):
        history = _history_section(client_for(membership), referral)
        assert "Envoyée, en attente de réponse vers Déclinée" in spoken(history)
        assert "Plus de places" in history
    # France Travail learns the answer and its date, not who answered in the organisation (as in the API).
    assert counsellor.user.get_full_name() in _history_section(client_for(colleague), referral)
    assert counsellor.user.get_full_name() not in _history_section(client_for(advisor), referral)
