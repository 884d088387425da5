"""REST API of the funding lines, the funders' claim batches and the funders' list.

The same scoped querysets, roles and services as the screens (funding/views.py): another organisation's line or
batch answers 404 like a missing one; the funding rules (what may change when, amounts within the granted one,
one batch in production per funder) stay in funding/services.py and their refusals are 409.

GET/POST /api/v1/funding-lines/, GET/PATCH /api/v1/funding-lines/{id}/, POST /api/v1/funding-lines/{id}/transition/
GET/POST /api/v1/funding-batches/ (one funder, or every funder with lines to claim), GET /api/v1/funding-batches/{id}/,
GET /api/v1/funding-batches/{id}/download/{fmt}/
GET /api/v1/funders/
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from candidates.models import Dossier
from clea_platform.api_errors import form_errors
from clea_platform.api_feed import FeedViewSetMixin, declared_fields
from clea_platform.downloads import file_response, negotiation_for
from funding.documents import CONTENT_TYPES
from funding.forms import (
    TRANSITION_CENTS_FORMS,
    BatchRequestForm,
    FundingLineCentsForm,
    FundingLineForm,
    LineListFilterForm,
)
from funding.models import ClaimBatch, Funder, FundingLine, FundingStep, LineState, transition_label
from funding.services import (
    LINE_ROLES,
    USER_TRANSITIONS,
    batch_request,
    batches_request,
    funding_line_create,
    funding_line_transition,
    funding_line_update,
)
from organisations.api_auth import HasMembership, current_membership
from organisations.api_fields import ScopedPrimaryKeyField, bound_form, iso_8601_only
from organisations.models import Role

# -- Serializers ----------------------------------------------------------------------------------------------


class OfferedTransitionSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()


class FundingLineSerializer(serializers.ModelSerializer):
    organisation = serializers.CharField(source="organisation.name", read_only=True)
    dossier_reference = serializers.CharField(source="dossier.reference", read_only=True)
    step_label = serializers.CharField(source="get_step_display", read_only=True)
    funder_name = serializers.CharField(source="funder.name", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    step_done_on = serializers.DateField(read_only=True, allow_null=True)
    remainder_cents = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="Reste à percevoir TTC, en centimes (ligne facturée non soldée)."
    )
    transitions = serializers.SerializerMethodField()

    class Meta:
        model = FundingLine
        fields = [
            "id",
            "organisation",
            "dossier",
            "dossier_reference",
            "step",
            "step_label",
            "step_done_on",
            "funder",
            "funder_name",
            "hours",
            "vat_rate",
            "requested_cents",
            "requested_incl_vat_cents",
            "granted_cents",
            "granted_incl_vat_cents",
            "invoiced_cents",
            "invoiced_incl_vat_cents",
            "paid_cents",
            "remainder_cents",
            "written_off_cents",
            "funder_reference",
            "service_date",
            "granted_on",
            "invoiced_on",
            "paid_on",
            "written_off_on",
            "state",
            "state_label",
            "batch",
            "note",
            "transitions",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OfferedTransitionSerializer(many=True))
    def get_transitions(self, line: FundingLine) -> list[dict[str, str]]:
        """The steps the membership may take now (the state machine's answer), as the line's page offers them."""
        membership = current_membership(self.context["request"])
        if membership.role not in LINE_ROLES:
            return []
        return [{"name": a["name"], "label": str(a["label"])} for a in line.actions_for(membership)]


# The bodies: an id is looked up here, through a scoped queryset; the other fields are described for the schema
# and validated by the screens' forms (funding/forms.py), amounts in integer cents.


class FundingLineUpdateSerializer(serializers.Serializer):
    """A draft's fields, as FundingLineForm takes them; a PATCH changes those it sends."""

    step = serializers.ChoiceField(choices=FundingStep.choices)
    funder = serializers.IntegerField(help_text="Financeur proposé (voir /funders/).")
    requested_cents = serializers.IntegerField(help_text="Montant demandé hors taxes, en centimes.")
    vat_rate = serializers.DecimalField(
        max_digits=5, decimal_places=2, required=False, help_text="Taux de TVA en %, 20 par défaut."
    )
    hours = serializers.DecimalField(max_digits=6, decimal_places=1, required=False, allow_null=True)
    funder_reference = serializers.CharField(required=False, allow_blank=True)
    note = serializers.CharField(required=False, allow_blank=True)


class LineDossierSerializer(serializers.Serializer):
    dossier = ScopedPrimaryKeyField(
        queryset_for=Dossier.objects.visible_to, message=_("Aucun de vos dossiers ne porte cet identifiant.")
    )


class FundingLineCreateSerializer(LineDossierSerializer, FundingLineUpdateSerializer):
    pass


class TransitionNameSerializer(serializers.Serializer):
    name = serializers.ChoiceField(choices=[(name, transition_label(name)) for name in USER_TRANSITIONS])


class FundingLineTransitionSerializer(TransitionNameSerializer):
    """The step's name; its fields as the step's screen form takes them, left out: as the screen pre-fills them."""

    note = serializers.CharField(required=False, allow_blank=True, help_text="refuse, cancel : motif.")
    granted_cents = serializers.IntegerField(
        required=False, help_text="grant : montant accordé HT, en centimes (le demandé par défaut)."
    )
    granted_on = serializers.DateField(required=False, help_text="grant : date de l'accord (aujourd'hui par défaut).")
    override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="grant : motif de la dérogation, obligatoire pour accorder plus que le demandé ou dater l'accord "
        "du futur ; il figure dans l'historique de la ligne.",
    )
    funder_reference = serializers.CharField(
        required=False, allow_blank=True, help_text="grant : référence du financeur (celle de la ligne par défaut)."
    )
    invoiced_cents = serializers.IntegerField(
        required=False, help_text="invoice : montant facturé HT, en centimes (l'accordé par défaut)."
    )
    invoiced_on = serializers.DateField(
        required=False, help_text="invoice : date de facturation (aujourd'hui par défaut)."
    )


class FunderSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Funder
        fields = ["id", "code", "kind", "kind_label", "name", "reference_label"]
        read_only_fields = fields


class ClaimBatchSerializer(serializers.ModelSerializer):
    organisation = serializers.CharField(source="organisation.name", read_only=True)
    funder_name = serializers.CharField(source="funder.name", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    progress_percent = serializers.IntegerField(read_only=True)
    files = serializers.SerializerMethodField()

    class Meta:
        model = ClaimBatch
        fields = [
            "id",
            "number",
            "organisation",
            "funder",
            "funder_name",
            "period_start",
            "period_end",
            "status",
            "status_label",
            "total_lines",
            "processed_lines",
            "progress_percent",
            "total_cents",
            "total_incl_vat_cents",
            "issued_on",
            "issued_at",
            "csv_sha256",
            "xlsx_sha256",
            "pdf_sha256",
            "files",
            "error",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=list(CONTENT_TYPES))))
    def get_files(self, batch: ClaimBatch) -> list[str]:
        """The formats to download (`download/{fmt}/`), once the batch is issued."""
        return list(CONTENT_TYPES) if batch.is_issued else []


class ClaimBatchCreateSerializer(serializers.Serializer):
    """The body, for the schema: BatchRequestForm validates it."""

    funder = serializers.IntegerField(
        required=False, help_text="Un financeur ; sans lui, un lot par financeur ayant des lignes à réclamer."
    )
    period_start = serializers.DateField(help_text="Étapes réalisées du…")
    period_end = serializers.DateField(help_text="…au (inclus).")


# One funder's batch, or the list of those requested for every funder with lines to claim.
REQUESTED_BATCHES = PolymorphicProxySerializer(
    component_name="ClaimBatchRequested",
    serializers=[ClaimBatchSerializer, ClaimBatchSerializer(many=True)],
    resource_type_field_name=None,
    many=False,
)


# -- Funding lines --------------------------------------------------------------------------------------------


def _ensure_line_role(request: Request) -> None:
    """Certif'Pro reads the lines; only the evaluator organisation's counsellors and administrators write them."""
    if current_membership(request).role not in LINE_ROLES:
        raise PermissionDenied


class FundingLineViewSet(
    FeedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Funding lines of the dossiers the membership sees: the organisation's counsellors and administrators,
    Certif'Pro (read-only)."""

    permission_classes = [HasMembership]
    query_params = {"list": declared_fields(LineListFilterForm)}
    allowed_roles = (*LINE_ROLES, Role.CERTIFPRO_ADMIN)
    serializer_class = FundingLineSerializer

    def get_queryset(self) -> QuerySet[FundingLine]:
        return (
            FundingLine.objects.visible_to(current_membership(self.request))
            .with_step_done_on()
            .select_related("dossier", "funder", "organisation")
            .order_by("-updated_at", "-id")
        )

    def _answer(self, line: FundingLine, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=line.pk)).data, status=code)

    @extend_schema(
        parameters=[
            OpenApiParameter("dossier", OpenApiTypes.INT, description="Dossier"),
            OpenApiParameter("state", OpenApiTypes.STR, enum=LineState.values),
            OpenApiParameter("funder", OpenApiTypes.INT, description="Financeur (identifiant, voir /funders/)"),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        filters = iso_8601_only(LineListFilterForm(request.query_params))
        if not filters.is_valid():
            raise form_errors(filters)
        page = self.paginate_queryset(filters.filter(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=FundingLineCreateSerializer, responses={201: FundingLineSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A draft line for one step of a dossier and one funder (funding_line_create)."""
        _ensure_line_role(request)
        reference = LineDossierSerializer(data=request.data, context=self.get_serializer_context())
        form = bound_form(FundingLineCentsForm, request, prefill=True)
        # Both read before answering: every error of the body at once.
        if not all([reference.is_valid(), form.is_valid()]):
            raise ValidationError({**reference.errors, **form_errors(form).detail})
        line = funding_line_create(
            dossier=reference.validated_data["dossier"],
            by=current_membership(request),
            request=request,
            **form.cleaned_data,
        )
        return self._answer(line, status.HTTP_201_CREATED)

    @extend_schema(request=FundingLineUpdateSerializer, responses={200: FundingLineSerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Change a draft's fields (funding_line_update): those sent are changed, the others kept. Once requested,
        the line stays as it was sent (409)."""
        line = self.get_object()
        _ensure_line_role(request)
        form = bound_form(FundingLineCentsForm, request, prefill=True, initial=FundingLineForm.initial_for(line))
        if not form.is_valid():
            raise form_errors(form)
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        line = funding_line_update(line=line, by=current_membership(request), changes=changes, request=request)
        return self._answer(line)

    @extend_schema(request=FundingLineTransitionSerializer, responses={200: FundingLineSerializer})
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str | None = None) -> Response:
        """Take one step by name (funding_line_transition), with the fields of the step's screen: request; grant
        (granted_cents, funder_reference, granted_on; override_reason to grant more than requested or date the
        agreement in the future, else 400 on those fields); refuse (note); invoice (invoiced_cents, invoiced_on),
        once the step happened; cancel (note). 409 with the reason when the line's lifecycle refuses it now."""
        line = self.get_object()
        _ensure_line_role(request)
        step = TransitionNameSerializer(data=request.data)
        step.is_valid(raise_exception=True)
        name = step.validated_data["name"]
        form = bound_form(TRANSITION_CENTS_FORMS[name], request, prefill=True, line=line)
        if not form.is_valid():
            raise form_errors(form)
        data = dict(form.cleaned_data)
        line = funding_line_transition(
            line=line, name=name, by=current_membership(request), note=data.pop("note", ""), request=request, **data
        )
        return self._answer(line)


# -- Claim batches ---------------------------------------------------------------------------------------------


class ClaimBatchViewSet(
    FeedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """The organisation's claim batches (its administrators; Certif'Pro reads all). A batch is produced by a
    worker: `status` and `progress_percent` follow it, the files are downloadable once issued."""

    permission_classes = [HasMembership]
    allowed_roles = (Role.ORG_ADMIN, Role.CERTIFPRO_ADMIN)
    serializer_class = ClaimBatchSerializer

    def get_queryset(self) -> QuerySet[ClaimBatch]:
        return (
            ClaimBatch.objects.visible_to(current_membership(self.request))
            .select_related("funder", "organisation")
            .order_by("-created_at", "-id")
        )

    @extend_schema(request=ClaimBatchCreateSerializer, responses={201: REQUESTED_BATCHES})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Number a batch of the organisation's claimable lines for the funder and period, and queue its
        production (batch_request): 409 when nothing is to claim or a batch for that funder is in production.
        Without a funder, one batch per funder with lines to claim (batches_request), answered as a list."""
        membership = current_membership(request)
        if membership.role != Role.ORG_ADMIN:
            raise PermissionDenied
        form = bound_form(BatchRequestForm, request, funders=Funder.objects.all())
        if not form.is_valid():
            raise form_errors(form)
        data = form.cleaned_data
        period = {"period_start": data["period_start"], "period_end": data["period_end"]}
        if data["funder"] is None:
            batches = batches_request(organisation=membership.organisation, by=membership, request=request, **period)
            requested = self.get_queryset().filter(pk__in=[batch.pk for batch in batches])
            return Response(ClaimBatchSerializer(requested, many=True).data, status=status.HTTP_201_CREATED)
        batch = batch_request(
            organisation=membership.organisation, funder=data["funder"], by=membership, request=request, **period
        )
        return Response(ClaimBatchSerializer(self.get_queryset().get(pk=batch.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[OpenApiParameter("fmt", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(CONTENT_TYPES))],
        responses={(200, content_type): OpenApiTypes.BINARY for content_type in CONTENT_TYPES.values()},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"download/(?P<fmt>csv|xlsx|pdf)",
        content_negotiation_class=negotiation_for(*CONTENT_TYPES.values()),
    )
    def download(self, request: Request, pk: str | None = None, fmt: str = "pdf") -> FileResponse:
        """One of the issued batch's files: CSV, XLSX or the PDF summary (404 while it is in production)."""
        batch = self.get_object()
        if not batch.is_issued:
            raise Http404
        return file_response(getattr(batch, f"{fmt}_file"), batch.filename(fmt), CONTENT_TYPES[fmt])


# -- Funders -----------------------------------------------------------------------------------------------------


class FunderViewSet(FeedViewSetMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The funders offered for new lines and batches (the national list Certif'Pro keeps), in one page: reference
    data, not in the change feed (a plain array, no cursor nor `updated_since`)."""

    permission_classes = [HasMembership]
    allowed_roles = (*LINE_ROLES, Role.CERTIFPRO_ADMIN)
    serializer_class = FunderSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[Funder]:
        return Funder.objects.active().order_by("position", "name")
