"""REST API of the dossiers: the same scoped querysets and services as the screens (candidates/views.py).

GET/POST /api/v1/dossiers/, GET /api/v1/dossiers/{id}/
GET/POST /api/v1/dossiers/{id}/transitions/
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from candidates.forms import CONSENT_TEXT, DossierCreateForm, DossierFilterForm
from candidates.models import Candidate, Dossier, DossierState
from candidates.services import (
    TransitionRefused,
    dossier_create,
    dossier_open,
    dossier_withdraw,
)
from candidates.views import DOSSIER_ROLES, offered_transitions
from clea_platform.api_errors import form_errors
from clea_platform.certifications import Certification
from evaluations.models import Modality
from evaluations.services import evaluation_start
from juries.models import JurySession
from juries.services import dossier_submit_to_jury
from organisations.api_auth import HasMembership, current_membership
from organisations.api_fields import as_posted
from organisations.models import Role
from organisations.transitions import role_may
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
    confirm_duplicate = serializers.BooleanField(
        default=False, help_text="Créer quand même un dossier quand la personne en a déjà un pour cette certification."
    )


class TransitionSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    arguments = serializers.ListField(child=serializers.CharField())


class TransitionRequestSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    consent = serializers.BooleanField(required=False, help_text="open : le candidat a donné son accord.")
    reason = serializers.CharField(required=False, allow_blank=True, help_text="withdraw : motif de l'abandon.")
    started_on = serializers.DateField(required=False, help_text="start_*_evaluation : date de début.")
    modality = serializers.ChoiceField(choices=Modality.choices, required=False)
    context = serializers.CharField(required=False, allow_blank=True, max_length=255)
    session = serializers.IntegerField(required=False, help_text="submit_to_jury : identifiant de la session.")


# The arguments each user-facing transition takes through the API (the fields above).
TRANSITION_ARGUMENTS: dict[str, list[str]] = {
    "open": ["consent"],
    "withdraw": ["reason"],
    "start_prior_evaluation": ["started_on", "modality", "context"],
    "start_final_evaluation": ["started_on", "modality", "context"],
    "submit_to_jury": ["session"],
}


def _required(data: dict[str, Any], field: str) -> Any:
    value = data.get(field)
    if value in (None, "", False):
        raise ValidationError({field: [_("Ce champ est obligatoire pour cette étape.")]})
    return value


class DossierViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Dossiers visible to the current membership; counsellors create them."""

    permission_classes = [HasMembership]
    allowed_roles = DOSSIER_ROLES
    serializer_class = DossierSerializer

    def get_queryset(self):  # noqa: ANN201
        return Dossier.objects.visible_to(current_membership(self.request)).select_related("candidate", "organisation")

    @extend_schema(
        parameters=[
            OpenApiParameter("state", OpenApiTypes.STR, enum=DossierState.values),
            OpenApiParameter("certification", OpenApiTypes.STR, enum=Certification.values),
            OpenApiParameter("q", OpenApiTypes.STR, description="Nom, prénom ou référence"),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        filters = DossierFilterForm(request.query_params)
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
        # The screen's form checks it all (habilitation, fields, duplicates); the candidate's fields are nested.
        certifications = membership.organisation.habilitations.in_force().values_list("certification", flat=True)
        form = DossierCreateForm(
            as_posted({**candidate, **{k: v for k, v in body.items() if k in ("certification", "confirm_duplicate")}}),
            certifications=certifications,
            membership=membership,
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

    @extend_schema(methods=["GET"], responses={200: TransitionSerializer(many=True)}, request=None)
    @extend_schema(
        methods=["POST"],
        request=TransitionRequestSerializer,
        responses={
            200: DossierSerializer,
            409: inline_serializer("Refusal", {"code": serializers.CharField(), "message": serializers.CharField()}),
        },
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def transitions(self, request: Request, pk: str | None = None) -> Response:
        """GET: the steps the membership may take now. POST: take one by name (409 when the state machine
        refuses it now, 403 when the role may not take it)."""
        dossier = self.get_object()
        membership = current_membership(request)
        if request.method == "GET":
            return Response(
                [
                    {
                        "name": transition.name,
                        "label": str(transition.custom.get("label", transition.name)),
                        "arguments": TRANSITION_ARGUMENTS.get(transition.name, []),
                    }
                    for transition in offered_transitions(dossier, membership)
                ]
            )
        body = TransitionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        name = data["name"]
        if name not in TRANSITION_ARGUMENTS:
            known = name in {t.name for t in Dossier._meta.get_field("state").get_all_transitions(Dossier)}
            if not known:
                raise ValidationError({"name": [_("Étape inconnue : %(name)s") % {"name": name}]})
            raise TransitionRefused(_("Cette étape est déclenchée par la plateforme, pas par une demande."))
        if not role_may(dossier, name, membership):
            raise PermissionDenied
        if name == "open":
            _required(data, "consent")
            dossier = dossier_open(dossier=dossier, by=membership, consent_text=CONSENT_TEXT, request=request)
        elif name == "withdraw":
            dossier = dossier_withdraw(
                dossier=dossier, by=membership, reason=_required(data, "reason"), request=request
            )
        elif name in ("start_prior_evaluation", "start_final_evaluation"):
            expected = DossierState.OPENED if name == "start_prior_evaluation" else DossierState.IN_TRAINING
            if dossier.state != expected:
                raise TransitionRefused(
                    _("Cette étape n'est pas possible pour un dossier « %(state)s ».")
                    % {"state": dossier.get_state_display()}
                )
            evaluation_start(
                dossier=dossier,
                by=membership,
                started_on=data.get("started_on") or timezone.localdate(),
                modality=data.get("modality") or Modality.ON_SITE,
                context=data.get("context", ""),
                request=request,
            )
        else:  # submit_to_jury
            session = JurySession.objects.open_for_submission().filter(pk=_required(data, "session")).first()
            if session is None:
                raise ValidationError({"session": [_("Aucune session de jury ouverte ne porte cet identifiant.")]})
            dossier_submit_to_jury(dossier=dossier, session=session, by=membership, request=request)
        dossier = self.get_queryset().get(pk=dossier.pk)
        return Response(DossierSerializer(dossier).data)
