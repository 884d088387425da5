"""REST API of the evaluations, their criterion results and the attestations.

Reads start from the scoped querysets of evaluations/models.py; writes go through evaluations/services.py.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from clea_platform.api_feed import FeedViewSetMixin, declared_fields
from clea_platform.downloads import PDF, file_response, negotiation_for
from evaluations.models import (
    EVALUATION_READERS,
    Attestation,
    CriterionResult,
    CriterionResultValue,
    Evaluation,
    EvaluationKind,
    EvaluationStatus,
)
from evaluations.services import evaluation_close, evaluation_save_results
from organisations.api_auth import HasMembership, current_membership
from organisations.api_fields import MAX_ID


class CriterionResultSerializer(serializers.ModelSerializer):
    criterion_code = serializers.CharField(source="criterion.code", read_only=True)

    class Meta:
        model = CriterionResult
        fields = ["criterion", "criterion_code", "result", "comment"]


class SubDomainOutcomeSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    validated = serializers.BooleanField()
    acquired = serializers.IntegerField(help_text="Critères acquis.")
    required = serializers.IntegerField(help_text="Critères à acquérir pour valider le sous-domaine.")
    total = serializers.IntegerField()
    missing_mandatory = serializers.ListField(
        child=serializers.CharField(), help_text="Critères obligatoires manquants."
    )


class DomainOutcomeSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    validated = serializers.BooleanField()
    subdomains = SubDomainOutcomeSerializer(many=True)


class EvaluationOutcomeSerializer(serializers.Serializer):
    """The outcome stored at closing (referentiels.outcomes.Outcome.as_json); an empty object before."""

    all_validated = serializers.BooleanField(required=False)
    domains = DomainOutcomeSerializer(many=True, required=False)


class EvaluationSerializer(serializers.ModelSerializer):
    dossier_reference = serializers.CharField(source="dossier.reference", read_only=True)
    results = CriterionResultSerializer(many=True, read_only=True)
    outcome = EvaluationOutcomeSerializer(read_only=True, help_text="Le résultat calculé à la clôture ({} avant).")

    class Meta:
        model = Evaluation
        fields = [
            "id",
            "dossier",
            "dossier_reference",
            "kind",
            "status",
            "started_on",
            "ended_on",
            "duration_hours",
            "modality",
            "context",
            "closed_at",
            "abandoned_at",
            "outcome",
            "results",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ResultLineSerializer(serializers.Serializer):
    criterion = serializers.IntegerField()
    result = serializers.ChoiceField(choices=CriterionResultValue.choices)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class ResultsSerializer(serializers.Serializer):
    results = ResultLineSerializer(many=True, allow_empty=False)


class CloseSerializer(serializers.Serializer):
    ended_on = serializers.DateField()
    duration_hours = serializers.DecimalField(
        max_digits=4, decimal_places=1, required=False, allow_null=True, help_text="De 0 à 40 heures."
    )


class OutcomeSerializer(serializers.Serializer):
    all_validated = serializers.BooleanField()
    validated_domains = serializers.ListField(child=serializers.CharField())
    evaluation = EvaluationSerializer()


class EvaluationFilterSerializer(serializers.Serializer):
    dossier = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID, help_text="Dossier")
    kind = serializers.ChoiceField(choices=EvaluationKind.choices, required=False)
    status = serializers.ChoiceField(choices=EvaluationStatus.choices, required=False)


class EvaluationViewSet(FeedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Evaluations visible to the membership; their evaluator organisation's evaluators fill and close them."""

    permission_classes = [HasMembership]
    allowed_roles = EVALUATION_READERS
    serializer_class = EvaluationSerializer
    query_params = {"list": declared_fields(EvaluationFilterSerializer)}

    def get_queryset(self) -> QuerySet[Evaluation]:
        return (
            Evaluation.objects.visible_to(current_membership(self.request))
            .select_related("dossier")
            .prefetch_related(Prefetch("results", CriterionResult.objects.select_related("criterion")))
            .order_by("-created_at", "-id")
        )

    @extend_schema(parameters=[EvaluationFilterSerializer])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        filters = EvaluationFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        lookups = {"dossier": "dossier_id", "kind": "kind", "status": "status"}
        evaluations = self.get_queryset().filter(
            **{lookups[name]: value for name, value in filters.validated_data.items()}
        )
        page = self.paginate_queryset(evaluations)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def _editable(self) -> Evaluation:
        evaluation = self.get_object()
        if not evaluation.is_filled_by(current_membership(self.request)):
            raise PermissionDenied
        return evaluation

    @extend_schema(request=ResultsSerializer, responses={200: EvaluationSerializer})
    @action(detail=True, methods=["put", "post"], pagination_class=None)
    def results(self, request: Request, pk: str | None = None) -> Response:
        """Set criterion results in bulk (a draft): lines not sent keep their value."""
        evaluation = self._editable()
        body = ResultsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        evaluation_save_results(
            evaluation=evaluation,
            by=current_membership(request),
            results={line["criterion"]: (line["result"], line["comment"]) for line in body.validated_data["results"]},
            request=request,
        )
        return Response(EvaluationSerializer(self.get_queryset().get(pk=evaluation.pk)).data)

    @extend_schema(request=CloseSerializer, responses={200: OutcomeSerializer})
    @action(detail=True, methods=["post"], pagination_class=None)
    def close(self, request: Request, pk: str | None = None) -> Response:
        """Close the evaluation: the outcome is computed and the dossier moves on (evaluation_close)."""
        evaluation = self._editable()
        body = CloseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        outcome = evaluation_close(
            evaluation=evaluation,
            by=current_membership(request),
            ended_on=body.validated_data["ended_on"],
            duration_hours=body.validated_data.get("duration_hours"),
            request=request,
        )
        return Response(
            {
                "all_validated": outcome.all_validated,
                "validated_domains": [domain.code for domain in outcome.validated_domains],
                "evaluation": EvaluationSerializer(self.get_queryset().get(pk=evaluation.pk)).data,
            }
        )


class DocumentSerializer(serializers.ModelSerializer):
    kind = serializers.SerializerMethodField()
    dossier_reference = serializers.CharField(source="dossier.reference", read_only=True)

    class Meta:
        model = Attestation
        fields = [
            "id",
            "kind",
            "number",
            "version",
            "dossier",
            "dossier_reference",
            "evaluation",
            "sha256",
            "generated_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_kind(self, attestation: Attestation) -> str:
        return "attestation"


class DocumentViewSet(FeedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Attestations of partial validation: whoever may see the dossier may read and download them."""

    permission_classes = [HasMembership]
    serializer_class = DocumentSerializer

    def get_queryset(self) -> QuerySet[Attestation]:
        return (
            Attestation.objects.visible_to(current_membership(self.request))
            .select_related("dossier")
            .order_by("-generated_at", "-id")
        )

    @extend_schema(responses={(200, PDF): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], content_negotiation_class=negotiation_for(PDF))
    def download(self, request: Request, pk: str | None = None) -> FileResponse:
        attestation = self.get_object()
        if not attestation.file:  # deleted past its retention (privacy.services): the row stays, the file is gone
            raise NotFound
        return file_response(attestation.file, attestation.filename)
