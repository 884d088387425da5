"""Each subscriber hears only of what its membership reads (issue 20), like an API token: another organisation's
dossier never, and a dossier that moved away no longer once its move is told."""

from __future__ import annotations

import pytest
from django.urls import reverse

from candidates.services import dossier_withdraw
from evaluations.models import Evaluation
from evaluations.services import attestation_generate
from organisations.models import Role
from outbox.models import SideEffect
from referrals.services import referral_accept
from tests.candidates.transfer_support import move, new_organisation
from tests.factories import MembershipFactory
from tests.journey import DossierFactory
from tests.juries.factories import certified, make_jury
from tests.referrals.support import advisor_of, make_referral
from tests.webhooks.support import subscribe
from webhooks.models import EventType, WebhookSubscription

pytestmark = pytest.mark.django_db


def heard(subscription: WebhookSubscription) -> list[tuple[str, str]]:
    return [
        (payload["type"], payload["data"].get("state"))
        for payload in subscription.deliveries.order_by("created_at", "pk").values_list("payload", flat=True)
    ]


def test_a_dossier_is_told_to_its_organisation_and_certifpro_and_after_a_move_to_the_new_organisation_only(
    org_a, make_member
):
    org_b, team_b = new_organisation()
    to_a = subscribe(make_member(org_a, Role.ORG_ADMIN))[0]
    to_b = subscribe(make_member(org_b, Role.ORG_ADMIN))[0]
    national = subscribe(make_member(role=Role.CERTIFPRO_ADMIN))[0]
    # Subscribed to the decisions only: hears nothing of a dossier's steps.
    decisions_only = subscribe(make_member(org_a, Role.ORG_ADMIN), event_types=[EventType.DECISION_RECORDED])[0]

    dossier = DossierFactory(organisation=org_a, opened=True)
    move(dossier, org_b, by=team_b.counsellor)
    dossier_withdraw(dossier=dossier, by=team_b.counsellor, reason="La personne renonce.")

    created, opened = ("dossier.state_changed", "information"), ("dossier.state_changed", "opened")
    moved, withdrawn = ("dossier.transferred", "opened"), ("dossier.state_changed", "withdrawn")
    assert heard(to_a) == [created, opened, moved]
    assert heard(to_b) == [moved, withdrawn]
    assert heard(national) == [created, opened, moved, withdrawn]
    assert heard(decisions_only) == []
    moved_payload = to_a.deliveries.get(event_type="dossier.transferred").payload
    assert moved_payload["data"] == {"from_organisation": org_a.pk, "to_organisation": org_b.pk, "state": "opened"}
    assert moved_payload["organisation"] == org_b.pk
    # One side effect per delivery, in its subscriber's organisation.
    assert SideEffect.objects.filter(kind="webhook", organisation=org_b).count() == 2


def test_a_paused_or_deactivated_subscription_hears_nothing_and_says_so(org_a, make_member, client_for):
    paused = subscribe(make_member(org_a, Role.ORG_ADMIN))[0]
    WebhookSubscription.objects.filter(pk=paused.pk).update(paused_at=paused.created_at)
    left = subscribe(make_member(org_a, Role.ORG_ADMIN))[0]
    left.membership.is_active = False
    left.membership.save(update_fields=["is_active"])

    DossierFactory(organisation=org_a)

    assert heard(paused) == [] and heard(left) == []
    page = client_for(make_member(org_a, Role.ORG_ADMIN)).get(reverse("webhooks:list")).content.decode()
    assert "En pause" in page and "Suspendu : rattachement, compte ou organisation désactivé" in page


def test_documents_decisions_and_referrals_reach_the_organisations_that_read_them(org_a, make_member):
    """The dossier's organisation hears of its attestation, decision and certificate; the jury body of the decision
    and of the certificate, not of the dossier's steps; the referral's two organisations, of the referral."""
    dossier_side = subscribe(make_member(org_a, Role.ORG_ADMIN))[0]
    jury = make_jury()
    jury_side = subscribe(jury.admin)[0]
    agency_side = subscribe(make_member(advisor_of().organisation, Role.ORG_ADMIN))[0]

    partial = DossierFactory(organisation=org_a, partially_validated=True)
    attestation = attestation_generate(evaluation_id=Evaluation.objects.get(dossier=partial).pk)
    _jury, submission, certificate = certified(jury, organisation=org_a)
    referral = make_referral(to=org_a, from_agency=agency_side.organisation)
    referral_accept(referral=referral, by=MembershipFactory(organisation=org_a, role=Role.COUNSELLOR))

    def named(subscription: WebhookSubscription) -> set[tuple[str, int]]:
        return {
            (payload["type"], payload["resource_id"])
            for payload in subscription.deliveries.exclude(event_type="dossier.state_changed").values_list(
                "payload", flat=True
            )
        }

    decision = ("decision.recorded", submission.decision.pk)
    awarded = ("certificate.ready", certificate.pk)
    sent, accepted = ("referral.sent", referral.pk), ("referral.answered", referral.pk)
    assert named(dossier_side) == {("attestation.ready", attestation.pk), decision, awarded, sent, accepted}
    assert named(jury_side) == {decision, awarded}
    assert not jury_side.deliveries.filter(event_type="dossier.state_changed").exists()
    assert named(agency_side) == {sent, accepted}
    payload = dossier_side.deliveries.get(event_type="referral.answered").payload
    assert (payload["url"].endswith(f"/api/v1/referrals/{referral.pk}/"), payload["data"]) == (
        True,
        {"state": "accepted"},
    )
