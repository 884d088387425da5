"""REST API of the current user's notifications: the same scoped queryset and services as the centre.

GET /api/v1/notifications/ (?unread=true), GET /api/v1/notifications/{id}/,
POST /api/v1/notifications/{id}/read/, POST /api/v1/notifications/read-all/

Only the person's own notifications, of the organisation they work for now: anyone else's is a 404.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from clea_platform.api_feed import FeedViewSetMixin, NewestFirstPagination, declared_fields
from notifications.kinds import KINDS, kind_label
from notifications.models import Notification, NotificationQuerySet
from notifications.services import notification_mark_read, notifications_mark_all_read
from organisations.api_auth import HasMembership, current_membership


class NotificationSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=sorted(KINDS), read_only=True)
    kind_label = serializers.SerializerMethodField()
    url = serializers.CharField(read_only=True, help_text="Chemin de l'objet sur la plateforme.")

    class Meta:
        model = Notification
        fields = ["id", "kind", "kind_label", "title", "body", "url", "created_at", "read_at", "updated_at"]
        read_only_fields = fields

    def get_kind_label(self, notification: Notification) -> str:
        return kind_label(notification.kind)


class NotificationFilterSerializer(serializers.Serializer):
    unread = serializers.BooleanField(required=False, help_text="true : seulement les non lues.")


class ReadAllSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="Nombre de notifications marquées comme lues.")


class NotificationViewSet(FeedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The current user's notifications, newest change first (a person reads the latest first; the centre's
    "unread first" is `?unread=true`). The cursor still holds: a notification read while paging moves before
    the first page, and the next poll with `updated_since` finds it."""

    permission_classes = [HasMembership]
    serializer_class = NotificationSerializer
    pagination_class = NewestFirstPagination
    query_params = {"list": declared_fields(NotificationFilterSerializer)}

    def get_queryset(self) -> NotificationQuerySet:
        return Notification.objects.visible_to(current_membership(self.request)).for_centre()

    @extend_schema(parameters=[NotificationFilterSerializer])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        filters = NotificationFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        notifications = self.get_queryset()
        if filters.validated_data.get("unread"):
            notifications = notifications.unread()
        page = self.paginate_queryset(notifications)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=None, responses={200: NotificationSerializer})
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        """Mark the notification read (idempotent: an already read one keeps its date)."""
        notification = notification_mark_read(notification=self.get_object(), by=current_membership(request))
        return Response(self.get_serializer(notification).data)

    @extend_schema(request=None, responses={200: ReadAllSerializer})
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        """Mark every unread notification of the current organisation read."""
        return Response({"marked": notifications_mark_all_read(by=current_membership(request))})
