"""Webhook subscriptions: an organisation's administrator manages its own only (Certif'Pro: every organisation's)."""

from __future__ import annotations

from organisations.models import Organisation, Role
from tests.factories import MembershipFactory
from tests.tenancy_registry import TenantList, TenantURL, marker
from webhooks.models import EventType, WebhookSubscription
from webhooks.services import secret_generate


def subscription(organisation: Organisation, name: str = "SI") -> WebhookSubscription:
    membership = MembershipFactory(organisation=organisation, role=Role.ORG_ADMIN)
    # Created as stored, without the https rule: a closed local port refuses a test ping at once.
    return WebhookSubscription.objects.create(
        organisation=organisation,
        membership=membership,
        name=name,
        url="http://127.0.0.1:9/hooks",
        secret=secret_generate(),
        event_types=list(EventType.values),
    )


def _pk(organisation: Organisation) -> dict[str, int]:
    return {"pk": subscription(organisation).pk}


TENANT_URLS = [
    TenantURL("webhooks:detail", Role.ORG_ADMIN, _pk),
    TenantURL("webhooks:test", Role.ORG_ADMIN, _pk, method="post"),
    TenantURL("webhooks:pause", Role.ORG_ADMIN, _pk, method="post"),
    TenantURL("webhooks:resume", Role.ORG_ADMIN, _pk, method="post"),
    TenantURL("webhooks:delete", Role.ORG_ADMIN, _pk, method="post"),
]

TENANT_LISTS = [
    TenantList("webhooks:list", Role.ORG_ADMIN, lambda org: subscription(org, name=marker(org, "webhook")).name),
]
