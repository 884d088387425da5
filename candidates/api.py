"""REST API of the dossiers: the same scoped querysets and services as the screens (candidates/views.py).

GET/POST /api/v1/dossiers/, GET /api/v1/dossiers/{id}/ (the steps of a dossier: journey/api.py)
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, Throttled, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from candidates.forms import TRANSFER_CONSENT_TEXT, DossierCreateForm, DossierFilterForm
from candidates.models import DOSSIER_ROLES, Candidate, Dossier, DossierState
from candidates.services import (
    TRANSFER_ROLES,
    TransferLookupsExceeded,
    TransitionRefused,
    dossier_create,
    dossier_transfer,
    transfer_find,
)
from clea_platform.api_errors import form_errors
from clea_platform.api_feed import FeedViewSetMixin, declared_fields
from clea_platform.certifications import Certification
from organisations.api_auth import HasMembership, current_membership
from organisations.api_fields import as_posted, iso_8601_only
from organisations.models import Role
from referentiels.models import Referentiel


class CandidateSerializer(serializers.ModelSerializer):
    class Meta:
        model = Candidate
        fields = [
            "civility",
            "first_name",
            "last_name",
            "birth_name",
            "birth_date",
            "birth_place",
            "born_abroad",
            "sex",
            "birth_insee_code",
            "email",
            "phone",
            "address",
            "postcode",
            "city",
            "registration_status",
            "education_level",
            "origin",
        ]


class DossierSerializer(serializers.ModelSerializer):
    candidate = CandidateSerializer(read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    organisation = serializers.CharField(source="organisation.name", read_only=True)

    class Meta:
        model = Dossier
        fields = [
            "id",
            "reference",
            "certification",
            "state",
            "state_label",
            "organisation",
            "candidate",
            "consent_at",
            "window_starts_on",
            "deadline",
            "withdrawal_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class DossierCreateSerializer(serializers.Serializer):
    """The body, for the schema: the screen's DossierCreateForm validates it."""

    certification = serializers.ChoiceField(choices=Certification.choices)
    candidate = CandidateSerializer()


class DossierTransferSerializer(serializers.Serializer):
    """Taking in a dossier from another organisation (issue 19): found by its reference and the candidate's birth
    date; the candidate's consent to the platform's text (TRANSFER_CONSENT_TEXT, stored with the move)."""

    reference = serializers.CharField(max_length=30)
    birth_date = serializers.DateField()
    consent = serializers.BooleanField(help_text="La personne a donné son accord au texte du changement d'organisme.")
    reason = serializers.CharField(max_length=2000, help_text="Motif du changement, inscrit à l'historique.")


class DossierViewSet(
    FeedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Dossiers visible to the current membership; counsellors create them. The list is the feed's order: the
    screen's `sort` is not offered (a cursor needs one stable order)."""

    permission_classes = [HasMembership]
    query_params = {"list": declared_fields(DossierFilterForm, exclude=["sort"])}
    allowed_roles = DOSSIER_ROLES
    serializer_class = DossierSerializer

    def get_queryset(self):
        return Dossier.objects.visible_to(current_membership(self.request)).select_related("candidate", "organisation")

    @extend_schema(
        parameters=[
            OpenApiParameter("state", OpenApiTypes.STR, enum=DossierState.values),
            OpenApiParameter("certification", OpenApiTypes.STR, enum=Certification.values),
            OpenApiParameter("q", OpenApiTypes.STR, description="Nom, prénom ou référence"),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        filters = iso_8601_only(DossierFilterForm(request.query_params))
        if not filters.is_valid():
            raise form_errors(filters)
        page = self.paginate_queryset(filters.filter(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=DossierCreateSerializer, responses={201: DossierSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        membership = current_membership(request)
        if membership.role != Role.COUNSELLOR:
            raise PermissionDenied
        body = request.data if isinstance(request.data, dict) else {}
        candidate = body.get("candidate")
        if not isinstance(candidate, dict):
            raise ValidationError({"candidate": [_("Un objet est attendu : l'identité et la situation du candidat.")]})
        # The screen's form checks the habilitation and the fields (the candidate's are nested); dossier_create
        # refuses a person who may not have a new dossier, which answers 409 with the refusal's code.
        certifications = membership.organisation.habilitations.in_force().values_list("certification", flat=True)
        form = iso_8601_only(
            DossierCreateForm(
                as_posted({**candidate, **{k: v for k, v in body.items() if k == "certification"}}),
                certifications=certifications,
            )
        )
        if not form.is_valid():
            errors = form_errors(form).detail
            raise ValidationError(
                {
                    f"candidate.{name}" if name in DossierCreateForm.Meta.fields else name: e
                    for name, e in errors.items()
                }
            )
        try:
            dossier = dossier_create(
                membership=membership,
                candidate_data=form.candidate_data(),
                certification=form.cleaned_data["certification"],
                request=request,
            )
        except Referentiel.DoesNotExist as exc:
            raise TransitionRefused(
                _("Aucun référentiel n'est en vigueur pour cette certification : contactez Certif'Pro.")
            ) from exc
        return Response(DossierSerializer(dossier).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=DossierTransferSerializer,
        responses={
            201: DossierSerializer,
            404: OpenApiResponse(
                inline_serializer(
                    "TransferNotFound", {"code": serializers.CharField(), "message": serializers.CharField()}
                ),
                description="Aucun dossier d'un autre organisme ne porte cette référence avec cette date de naissance.",
            ),
        },
        description=(
            "Accueillir le dossier d'un autre organisme, trouvé par sa référence et la date de naissance de la "
            "personne (404 sinon), avec son accord. Le demandeur devient le conseiller du dossier."
        ),
    )
    @action(detail=False, methods=["post"], url_path="transfer")
    def transfer(self, request: Request) -> Response:
        membership = current_membership(request)
        if membership.role not in TRANSFER_ROLES:
            raise PermissionDenied
        body = DossierTransferSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            dossier = transfer_find(membership=membership, reference=data["reference"], birth_date=data["birth_date"])
        except TransferLookupsExceeded as exc:
            raise Throttled(detail=str(exc)) from exc
        if dossier is None:
            raise NotFound
        try:
            dossier_transfer(
                dossier=dossier,
                to_organisation=membership.organisation,
                consent_text=TRANSFER_CONSENT_TEXT,
                consent_given=data["consent"],
                reason=data["reason"],
                by=membership,
                request=request,
            )
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from exc
        return Response(DossierSerializer(self.get_queryset().get(pk=dossier.pk)).data, status=status.HTTP_201_CREATED)
