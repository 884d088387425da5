"""REST API of the appointments: the same rules and scoping as the screens (scheduling/services.py,
`Appointment.objects.visible_to`), and each appointment as an .ics file."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from clea_platform.api_feed import FeedViewSetMixin, declared_fields
from clea_platform.downloads import negotiation_for
from organisations.api_auth import HasMembership, current_membership
from organisations.api_fields import MAX_ID, ScopedPrimaryKeyField
from organisations.models import Membership, Site
from scheduling.ics import appointment_ics, appointment_ics_filename
from scheduling.models import (
    MAX_DURATION_MINUTES,
    MIN_DURATION_MINUTES,
    Appointment,
    AppointmentModality,
    AppointmentPurpose,
    AppointmentState,
)
from scheduling.selectors import BOOKERS, bookable_dossiers
from scheduling.services import (
    appointment_book,
    appointment_cancel,
    appointment_mark,
    appointment_rebook,
)


class AppointmentSerializer(serializers.ModelSerializer):
    dossier_reference = serializers.CharField(source="dossier.reference", read_only=True, allow_null=True)
    with_name = serializers.CharField(source="with_membership.user.get_full_name", read_only=True)
    ends_at = serializers.DateTimeField(read_only=True)

    class Meta:
        model = Appointment
        fields = [
            "id",
            "dossier",
            "dossier_reference",
            "purpose",
            "with_membership",
            "with_name",
            "starts_at",
            "ends_at",
            "duration_minutes",
            "modality",
            "site",
            "remote_details",
            "state",
            "cancel_reason",
            "rebooked_from",
            "sequence",
            "booked_at",
            "updated_at",
        ]
        read_only_fields = fields


class SlotSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField(help_text="Date et heure, avec fuseau (heure de Paris si absent).")
    duration_minutes = serializers.IntegerField(min_value=MIN_DURATION_MINUTES, max_value=MAX_DURATION_MINUTES)
    modality = serializers.ChoiceField(choices=AppointmentModality.choices)
    site = ScopedPrimaryKeyField(
        queryset_for=lambda _membership: Site.objects.active(),
        message=_("Aucun site actif ne porte cet identifiant."),
        required=False,
        allow_null=True,
        default=None,
        help_text="Sur site : obligatoire.",
    )
    remote_details = serializers.CharField(required=False, allow_blank=True, default="", max_length=255)


class AppointmentCreateSerializer(SlotSerializer):
    dossier = ScopedPrimaryKeyField(
        queryset_for=bookable_dossiers, message=_("Aucun de vos dossiers ne porte cet identifiant.")
    )
    purpose = serializers.ChoiceField(choices=AppointmentPurpose.choices)
    # Any active membership: the service says which roles and organisations the purpose takes (400 on the field).
    with_membership = ScopedPrimaryKeyField(
        queryset_for=lambda _membership: Membership.objects.active(),
        message=_("Aucune personne active ne porte cet identifiant."),
        help_text="Le rattachement de la personne rencontrée (conseil, évaluation ou formation selon l'objet).",
    )


class RebookSerializer(SlotSerializer):
    duration_minutes = serializers.IntegerField(
        min_value=MIN_DURATION_MINUTES, max_value=MAX_DURATION_MINUTES, required=False
    )
    modality = serializers.ChoiceField(choices=AppointmentModality.choices, required=False)


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class AppointmentFilterSerializer(serializers.Serializer):
    dossier = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    state = serializers.ChoiceField(choices=AppointmentState.choices, required=False)


class AppointmentViewSet(
    FeedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Appointments visible to the membership (its organisation's; a trainer's own). The counsellor books every
    kind, a trainer the training sessions of the dossiers assigned to them; 400 on a rule about the slot (past date,
    duration, person, place, overlap: the message names the clash), 409 on a state that forbids the action."""

    permission_classes = [HasMembership]
    serializer_class = AppointmentSerializer
    # The list is the feed's order, not the agenda's: sort by `starts_at` on your side.
    query_params = {"list": declared_fields(AppointmentFilterSerializer)}

    @property
    def allowed_roles(self) -> tuple[str, ...] | None:
        if self.action in ("create", "rebook", "cancel"):
            return BOOKERS
        return None

    def get_queryset(self) -> QuerySet[Appointment]:
        return (
            Appointment.objects.visible_to(current_membership(self.request))
            .select_related("dossier__organisation", "with_membership__user", "with_membership__organisation", "site")
            .order_by("starts_at", "id")
        )

    def _answer(self, appointment: Appointment, code: int = status.HTTP_200_OK) -> Response:
        return Response(AppointmentSerializer(self.get_queryset().get(pk=appointment.pk)).data, status=code)

    @extend_schema(parameters=[AppointmentFilterSerializer])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        filters = AppointmentFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        rows = self.get_queryset()
        if filters.validated_data.get("dossier") is not None:
            rows = rows.filter(dossier_id=filters.validated_data["dossier"])
        if filters.validated_data.get("state"):
            rows = rows.filter(state=filters.validated_data["state"])
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=AppointmentCreateSerializer, responses={201: AppointmentSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Book an appointment (appointment_book)."""
        body = AppointmentCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        appointment = appointment_book(by=current_membership(request), request=request, **body.validated_data)
        return self._answer(appointment, status.HTTP_201_CREATED)

    @extend_schema(request=CancelSerializer, responses={200: AppointmentSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel a planned appointment, with its reason."""
        appointment = self.get_object()
        body = CancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        appointment_cancel(
            appointment=appointment,
            by=current_membership(request),
            reason=body.validated_data["reason"],
            request=request,
        )
        return self._answer(appointment)

    @extend_schema(request=None, responses={200: AppointmentSerializer})
    @action(detail=True, methods=["post"])
    def done(self, request: Request, pk: str | None = None) -> Response:
        """The appointment took place (once it has started)."""
        appointment = appointment_mark(
            appointment=self.get_object(), by=current_membership(request), done=True, request=request
        )
        return self._answer(appointment)

    @extend_schema(request=None, responses={200: AppointmentSerializer})
    @action(detail=True, methods=["post"])
    def missed(self, request: Request, pk: str | None = None) -> Response:
        """The candidate did not come (once the appointment has started)."""
        appointment = appointment_mark(
            appointment=self.get_object(), by=current_membership(request), done=False, request=request
        )
        return self._answer(appointment)

    @extend_schema(request=RebookSerializer, responses={201: AppointmentSerializer})
    @action(detail=True, methods=["post"])
    def rebook(self, request: Request, pk: str | None = None) -> Response:
        """A new planned appointment replacing this missed or cancelled one; what is not given is kept."""
        old = self.get_object()
        body = RebookSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        new = appointment_rebook(
            appointment=old,
            by=current_membership(request),
            starts_at=data["starts_at"],
            duration_minutes=data.get("duration_minutes"),
            modality=data.get("modality"),
            site=data.get("site"),
            remote_details=data.get("remote_details") or None,
            request=request,
        )
        return self._answer(new, status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "text/calendar"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], content_negotiation_class=negotiation_for("text/calendar"))
    def ics(self, request: Request, pk: str | None = None) -> HttpResponse:
        """The appointment as an iCalendar file (Europe/Paris)."""
        appointment = self.get_object()
        response = HttpResponse(appointment_ics(appointment), content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{appointment_ics_filename(appointment)}"'
        return response
