from functools import cache
from typing import Any

from django.http import HttpRequest

from notifications.models import Notification


def unread_notifications(request: HttpRequest) -> dict[str, Any]:
    """The header's unread count for a member's pages: one COUNT on the index notification_centre, run only when
    a template reads it (a callable, which templates call), and once per request."""
    membership = getattr(request, "membership", None)
    if membership is None:
        return {}

    @cache
    def count() -> int:
        return Notification.objects.visible_to(membership).unread().count()

    return {"unread_notifications": count}
