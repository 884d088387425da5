"""Notifications for the tests: rows written as a receiver writes them, and who received what."""

from __future__ import annotations

import itertools
from typing import Any

from notifications.models import EmailDelivery, Notification
from organisations.models import Membership, Organisation, Role
from tests.factories import MembershipFactory

_keys = itertools.count(1)


def notification_for(membership: Membership, **fields: Any) -> Notification:
    defaults: dict[str, Any] = {
        "kind": "evaluation_closed",
        "title": "Évaluation préalable clôturée",
        "url": "/dossiers/1/",
        "event_key": f"test:{next(_keys)}",
        "email_delivery": EmailDelivery.NONE,
    }
    return Notification.objects.create(
        recipient=membership.user, organisation=membership.organisation, **defaults | fields
    )


def member_with_notification(organisation: Organisation, role: str = Role.COUNSELLOR, **fields: Any):
    membership = MembershipFactory(organisation=organisation, role=role)
    return membership, notification_for(membership, **fields)


def recipients(kind: str) -> set[str]:
    """Who received notifications of this kind: users' e-mail addresses, and candidates' addresses."""
    return {n.email_address for n in Notification.objects.filter(kind=kind).select_related("recipient")}
