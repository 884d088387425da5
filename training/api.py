"""REST API of the individualised training plans: the same scoped querysets, rules and services as the screens
(training/views.py).

GET /api/v1/training-plans/ (?dossier=, ?completed=), POST (a counsellor defines a plan),
GET /api/v1/training-plans/trainers/ (who may be named), GET /api/v1/training-plans/{id}/,
POST /api/v1/training-plans/{id}/sessions/, .../sessions/{session_pk}/done/, .../sessions/{session_pk}/remove/,
.../notes/, .../complete/

Whoever may see a plan reads all of it (a trainer of another tenant too: the plan and the candidate's identity,
nothing of the dossier); only the plan's own trainer acts on it.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from candidates.models import Candidate, Dossier
from clea_platform.api_errors import form_errors
from clea_platform.api_feed import FeedViewSetMixin, declared_fields
from organisations.api_auth import HasMembership, current_membership
from organisations.api_fields import MAX_ID, ScopedPrimaryKeyField, bound_form
from organisations.models import Membership, Role
from referentiels.models import Criterion
from training.forms import TrainingPlanForm, trainer_label
from training.models import ProgressNote, TrainingPlan, TrainingPlanQuerySet, TrainingSession
from training.services import (
    trainer_memberships,
    training_note_add,
    training_plan_complete,
    training_plan_create,
    training_session_add,
    training_session_mark_done,
    training_session_remove,
)

# Who may list plans: every role `TrainingPlan.objects.visible_to` shows plans to. The screens show the same
# plans to counsellors, evaluators and jury members on the dossier's page; a France Travail advisor sees none.
PLAN_READERS = (
    Role.COUNSELLOR,
    Role.EVALUATOR,
    Role.TRAINER,
    Role.ORG_ADMIN,
    Role.JURY_MEMBER,
    Role.CERTIFPRO_ADMIN,
)


class PlanCandidateSerializer(serializers.ModelSerializer):
    class Meta:
        model = Candidate
        fields = ["first_name", "last_name"]
        read_only_fields = fields


class PlanTrainerSerializer(serializers.Serializer):
    name = serializers.CharField(source="trainer.get_full_name", read_only=True)
    organisation = serializers.CharField(source="organisation.name", read_only=True)


class TrainingSessionSerializer(serializers.ModelSerializer):
    # The model's own bounds (0.5 to 12 h), given as validators: DRF wants a Decimal for min_value, not 0.5.
    duration_hours = serializers.DecimalField(
        max_digits=4, decimal_places=1, validators=TrainingSession._meta.get_field("duration_hours").validators
    )

    class Meta:
        model = TrainingSession
        fields = ["id", "date", "duration_hours", "topic", "done"]
        read_only_fields = ["id"]


class TrainingPlanCompleteSerializer(serializers.Serializer):
    shortfall_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=2000,
        help_text="Obligatoire quand les heures réalisées sont inférieures aux heures prévues.",
    )


class ProgressNoteSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.get_full_name", read_only=True)

    class Meta:
        model = ProgressNote
        fields = ["id", "at", "author", "text"]
        read_only_fields = ["id", "at", "author"]


class TargetCriterionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Criterion
        fields = ["id", "code", "title"]
        read_only_fields = fields


class TrainingPlanSerializer(serializers.ModelSerializer):
    """What every reader of the plan sees, on the list as on the plan page."""

    dossier_reference = serializers.CharField(source="dossier.reference", read_only=True)
    certification = serializers.CharField(source="dossier.certification", read_only=True)
    candidate = PlanCandidateSerializer(source="dossier.candidate", read_only=True)
    trainer = PlanTrainerSerializer(source="*", read_only=True)
    hours_done = serializers.DecimalField(
        max_digits=6, decimal_places=1, read_only=True, help_text="Heures des séances réalisées."
    )
    is_completed = serializers.BooleanField(read_only=True)

    class Meta:
        model = TrainingPlan
        fields = [
            "id",
            "dossier",
            "dossier_reference",
            "certification",
            "cycle",
            "candidate",
            "trainer",
            "planned_hours",
            "hours_done",
            "starts_on",
            "ends_on",
            "is_completed",
            "completed_at",
            "shortfall_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class TrainingPlanDetailSerializer(TrainingPlanSerializer):
    target_criteria = TargetCriterionSerializer(many=True, read_only=True)
    sessions = TrainingSessionSerializer(many=True, read_only=True)
    notes = ProgressNoteSerializer(many=True, read_only=True)

    class Meta(TrainingPlanSerializer.Meta):
        fields = [*TrainingPlanSerializer.Meta.fields, "objectives", "target_criteria", "sessions", "notes"]
        read_only_fields = fields


class PlanFilterSerializer(serializers.Serializer):
    dossier = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Les parcours de ce dossier."
    )
    completed = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="true : terminés ; false : en cours."
    )


class PlanDossierSerializer(serializers.Serializer):
    dossier = ScopedPrimaryKeyField(
        queryset_for=Dossier.objects.visible_to,
        message=_("Aucun de vos dossiers ne porte cet identifiant."),
        help_text="Dossier en validation partielle.",
    )


class TrainingPlanCreateSerializer(PlanDossierSerializer):
    """The body: the dossier, looked up among the counsellor's; the rest, described here for the schema, is
    validated by the screen's TrainingPlanForm."""

    trainer = serializers.IntegerField(help_text="Identifiant d'un rattachement de GET /training-plans/trainers/.")
    planned_hours = serializers.DecimalField(max_digits=5, decimal_places=1)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    objectives = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Par défaut, les critères encore à acquérir."
    )


class TrainerSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Identifiant du rattachement, à donner dans `trainer`.")
    name = serializers.CharField(source="user.get_full_name")
    organisation = serializers.CharField(source="organisation.name")
    label = serializers.SerializerMethodField()

    def get_label(self, membership: Membership) -> str:
        return trainer_label(membership)


def _with_contents(plans: TrainingPlanQuerySet) -> TrainingPlanQuerySet:
    """What the plan page shows beyond the list: sessions, notes and target criteria, in the page's order."""
    return plans.prefetch_related(
        "sessions",
        Prefetch("notes", ProgressNote.objects.select_related("author")),
        Prefetch("target_criteria", Criterion.objects.in_referentiel_order()),
    )


class TrainingPlanViewSet(
    FeedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Training plans visible to the membership; the dossier's counsellor defines them, their trainer runs them."""

    permission_classes = [HasMembership]
    query_params = {"list": declared_fields(PlanFilterSerializer)}
    serializer_class = TrainingPlanSerializer

    @property
    def allowed_roles(self) -> tuple[str, ...] | None:
        if self.action == "list":
            return PLAN_READERS
        if self.action in ("create", "trainers"):
            return (Role.COUNSELLOR,)
        # A plan: any membership, as on screen; visibility answers 404, then only its trainer acts (403).
        return None

    def get_queryset(self) -> TrainingPlanQuerySet:
        plans = TrainingPlan.objects.visible_to(current_membership(self.request)).listed()
        return _with_contents(plans) if self.action == "retrieve" else plans

    def get_serializer_class(self) -> type[TrainingPlanSerializer]:
        return TrainingPlanDetailSerializer if self.action == "retrieve" else TrainingPlanSerializer

    def _plan_for_action(self) -> TrainingPlan:
        plan = self.get_object()
        if not plan.is_delivered_by(current_membership(self.request)):
            raise PermissionDenied
        return plan

    def _detail(self, plan: TrainingPlan) -> dict[str, Any]:
        # Read again after the service: the progress, sessions and state as committed.
        return TrainingPlanDetailSerializer(_with_contents(self.get_queryset()).get(pk=plan.pk)).data

    @extend_schema(parameters=[PlanFilterSerializer])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        filters = PlanFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        plans = self.get_queryset()
        if filters.validated_data.get("dossier") is not None:
            plans = plans.filter(dossier_id=filters.validated_data["dossier"])
        if filters.validated_data.get("completed") is not None:
            plans = plans.filter(completed_at__isnull=not filters.validated_data["completed"])
        page = self.paginate_queryset(plans)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=TrainingPlanCreateSerializer, responses={201: TrainingPlanDetailSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Define the plan of a partially validated dossier (training_plan_create): the dossier moves into
        training. The trainer is never someone who evaluated the candidate (409)."""
        membership = current_membership(request)
        reference = PlanDossierSerializer(data=request.data, context=self.get_serializer_context())
        reference.is_valid(raise_exception=True)
        dossier = reference.validated_data["dossier"]
        # The screen's form: the trainer among trainer_memberships(), the calendar within the 5-year window.
        form = bound_form(TrainingPlanForm, request, dossier=dossier, trainers=trainer_memberships())
        if not form.is_valid():
            raise form_errors(form)
        cleaned = form.cleaned_data
        plan = training_plan_create(
            dossier=dossier,
            by=membership,
            trainer=cleaned["trainer"],
            planned_hours=cleaned["planned_hours"],
            starts_on=cleaned["starts_on"],
            ends_on=cleaned["ends_on"],
            objectives=cleaned["objectives"],
            request=request,
        )
        return Response(self._detail(plan), status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: TrainerSerializer(many=True)})
    @action(detail=False, methods=["get"], pagination_class=None)
    def trainers(self, request: Request) -> Response:
        """Who may be named trainer of a plan (as the screen's list)."""
        return Response(TrainerSerializer(trainer_memberships(), many=True).data)

    @extend_schema(request=TrainingSessionSerializer, responses={201: TrainingSessionSerializer})
    @action(detail=True, methods=["post"])
    def sessions(self, request: Request, pk: str | None = None) -> Response:
        """The plan's trainer adds a session to its calendar (already done or not): 400 on `date` outside the
        plan's period, on `done` for a session done before its day."""
        plan = self._plan_for_action()
        body = TrainingSessionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        session = training_session_add(
            plan=plan, by=current_membership(request), request=request, **body.validated_data
        )
        return Response(TrainingSessionSerializer(session).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={200: TrainingSessionSerializer},
        parameters=[OpenApiParameter("session_pk", OpenApiTypes.INT, OpenApiParameter.PATH)],
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"sessions/(?P<session_pk>[^/.]+)/done",
        url_name="session-done",
    )
    def session_done(self, request: Request, pk: str | None = None, session_pk: str | None = None) -> Response:
        """The plan's trainer marks one of its sessions done (again is harmless); 400 on `done` before the
        session's day."""
        plan = self._plan_for_action()
        session = get_object_or_404(plan.sessions.all(), pk=session_pk)
        session = training_session_mark_done(session=session, by=current_membership(request), request=request)
        return Response(TrainingSessionSerializer(session).data)

    @extend_schema(
        request=None,
        responses={204: None},
        parameters=[OpenApiParameter("session_pk", OpenApiTypes.INT, OpenApiParameter.PATH)],
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"sessions/(?P<session_pk>[^/.]+)/remove",
        url_name="session-remove",
    )
    def session_remove(self, request: Request, pk: str | None = None, session_pk: str | None = None) -> Response:
        """The plan's trainer takes a session that did not take place off the calendar (409 for a session done)."""
        plan = self._plan_for_action()
        session = get_object_or_404(plan.sessions.all(), pk=session_pk)
        training_session_remove(session=session, by=current_membership(request), request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=ProgressNoteSerializer, responses={201: ProgressNoteSerializer})
    @action(detail=True, methods=["post"])
    def notes(self, request: Request, pk: str | None = None) -> Response:
        """The plan's trainer writes a progress note."""
        plan = self._plan_for_action()
        body = ProgressNoteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        note = training_note_add(
            plan=plan, by=current_membership(request), text=body.validated_data["text"], request=request
        )
        return Response(ProgressNoteSerializer(note).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=TrainingPlanCompleteSerializer, responses={200: TrainingPlanDetailSerializer})
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str | None = None) -> Response:
        """The plan's trainer declares the training done today, for good: the final evaluation may start.
        400 while sessions are planned after today, or on `shortfall_reason` when fewer hours were done than
        planned and no reason is given; 409 without a session done, or when the dossier has left the training."""
        plan = self._plan_for_action()
        body = TrainingPlanCompleteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        training_plan_complete(
            plan=plan,
            by=current_membership(request),
            shortfall_reason=body.validated_data["shortfall_reason"],
            request=request,
        )
        return Response(self._detail(plan))
