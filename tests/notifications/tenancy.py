"""The notification centre and its API: a notification is its recipient's own, in the organisation they work for;
anyone else (another organisation's member with the same role) gets 404."""

from __future__ import annotations

from organisations.models import Organisation, Role
from tests.notifications.support import member_with_notification
from tests.tenancy_registry import Row, Target, TenantList, TenantURL, marker


def _own(organisation: Organisation) -> Target:
    membership, notification = member_with_notification(organisation)
    return Target({"pk": notification.pk}, actor=membership)


def _listed(organisation: Organisation) -> Row:
    membership, notification = member_with_notification(organisation, title=marker(organisation, "notification"))
    return Row(notification.title, actor=membership)


TENANT_URLS = [
    TenantURL("notifications:mark_read", Role.COUNSELLOR, _own, method="post"),
    TenantURL("api:notification-detail", Role.COUNSELLOR, _own),
    TenantURL("api:notification-read", Role.COUNSELLOR, _own, method="post"),
]

TENANT_LISTS = [
    TenantList("notifications:centre", Role.COUNSELLOR, _listed),
    TenantList("api:notification-list", Role.COUNSELLOR, _listed),
]
