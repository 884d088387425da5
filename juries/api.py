"""REST API of the juries: sessions, their dossiers and decisions, the certificates, and the public verification.

The same scoped querysets, access rules and services as the screens (juries/views.py): a session, a decision or a
certificate of another organisation answers 404 like a missing one; the jury rules (quorum, who decides,
conflicts of interest, revocation) stay in juries/services.py and their refusals are 409.

GET /api/v1/jury-sessions/, GET /api/v1/jury-sessions/{id}/, GET /api/v1/jury-sessions/{id}/submissions/
POST /api/v1/jury-sessions/{id}/convene/ | deliberate/ | decisions/ | close/, GET /api/v1/jury-sessions/{id}/minutes/
GET /api/v1/decisions/, GET /api/v1/decisions/{id}/, POST /api/v1/decisions/{id}/revoke/
GET /api/v1/certificates/, GET /api/v1/certificates/{id}/, GET /api/v1/certificates/{id}/download/
GET /api/v1/certificates/verify/{code}/ (public)
"""

from __future__ import annotations

import dataclasses
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.http import FileResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from clea_platform.api_feed import FeedPagination, FeedViewSetMixin, declared_fields
from clea_platform.downloads import PDF, file_response, negotiation_for
from clea_platform.ratelimit import PlatformThrottleMixin
from clea_platform.verification import verification_code_normalise
from evaluations.selectors import attestation_check
from juries.models import (
    SESSION_ROLES,
    Attendance,
    Certificate,
    ConflictDeclaration,
    Decision,
    DecisionKind,
    DecisionQuerySet,
    JurySession,
    SessionMinutes,
    SessionSeat,
    Submission,
    decision_domains_problem,
)
from juries.selectors import related_count, submissions_for_session
from juries.services import (
    certificate_lookup,
    decision_record,
    decision_revoke,
    jury_session_close,
    jury_session_convene,
    jury_session_start_deliberation,
    verification_url,
)
from organisations.api_auth import HasMembership, current_membership
from organisations.api_fields import MAX_ID, ScopedPrimaryKeyField
from organisations.models import Role

# Who reads decisions: the roles that see submitted dossiers (Submission.objects.visible_to).
DECISION_ROLES = (Role.COUNSELLOR, Role.EVALUATOR, Role.ORG_ADMIN, Role.JURY_MEMBER, Role.CERTIFPRO_ADMIN)


# -- Serializers ----------------------------------------------------------------------------------------------


class SessionSeatSerializer(serializers.ModelSerializer):
    member = serializers.IntegerField(source="member_id", read_only=True)
    name = serializers.CharField(source="member.user.get_full_name", read_only=True)
    college = serializers.CharField(source="member.college", read_only=True)
    represents = serializers.CharField(source="member.represents", read_only=True)
    attendance_label = serializers.CharField(source="get_attendance_display", read_only=True)
    present = serializers.BooleanField(read_only=True)

    class Meta:
        model = SessionSeat
        fields = [
            "id",
            "member",
            "name",
            "college",
            "represents",
            "attendance",
            "attendance_label",
            "present",
            "is_president",
        ]
        read_only_fields = fields


class SessionMinutesSerializer(serializers.ModelSerializer):
    class Meta:
        model = SessionMinutes
        fields = ["number", "sha256", "generated_at"]
        read_only_fields = fields


class JurySessionSerializer(serializers.ModelSerializer):
    organisation = serializers.CharField(source="organisation.name", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    submission_count = serializers.IntegerField(read_only=True)
    seats = SessionSeatSerializer(many=True, read_only=True)
    quorum_problems = serializers.SerializerMethodField()
    minutes = serializers.SerializerMethodField()

    class Meta:
        model = JurySession
        fields = [
            "id",
            "organisation",
            "region",
            "certification",
            "date",
            "place",
            "is_online",
            "capacity",
            "state",
            "state_label",
            "closed_at",
            "submission_count",
            "seats",
            "quorum_problems",
            "minutes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_quorum_problems(self, session: JurySession) -> list[str]:
        return session.pending_quorum_problems()

    @extend_schema_field(SessionMinutesSerializer(allow_null=True))
    def get_minutes(self, session: JurySession) -> dict[str, Any] | None:
        try:
            return SessionMinutesSerializer(session.minutes).data
        except SessionMinutes.DoesNotExist:
            return None


class DecisionSerializer(serializers.ModelSerializer):
    session = serializers.IntegerField(source="submission.session_id", read_only=True)
    dossier = serializers.IntegerField(source="submission.dossier_id", read_only=True)
    dossier_reference = serializers.CharField(source="submission.dossier.reference", read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    decided_by = serializers.CharField(source="decided_by.get_full_name", read_only=True)
    certificate = serializers.SerializerMethodField()
    missing_domains = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="Ajournement : domaines qui restent à acquérir."
    )

    class Meta:
        model = Decision
        fields = [
            "id",
            "submission",
            "session",
            "dossier",
            "dossier_reference",
            "kind",
            "kind_label",
            "reason",
            "missing_domains",
            "decided_by",
            "decided_at",
            "revoked_at",
            "revocation_reason",
            "certificate",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_certificate(self, decision: Decision) -> int | None:
        """The certificate's id once its PDF is produced (after the session closes), as /certificates/ lists it."""
        certificate = decision.produced_certificate
        return certificate.pk if certificate is not None else None


class ConflictDeclarationSerializer(serializers.ModelSerializer):
    member = serializers.CharField(source="seat.member.user.get_full_name", read_only=True)

    class Meta:
        model = ConflictDeclaration
        fields = ["seat", "member", "detected", "declared_at"]
        read_only_fields = fields


class SubmittedDossierSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    state = serializers.CharField()
    candidate = serializers.CharField(source="candidate.full_name")
    organisation = serializers.CharField(source="organisation.name")


class SubmissionSerializer(serializers.ModelSerializer):
    dossier = SubmittedDossierSerializer(read_only=True)
    decision = serializers.SerializerMethodField()
    conflicts = ConflictDeclarationSerializer(many=True, read_only=True)

    class Meta:
        model = Submission
        fields = ["id", "session", "dossier", "submitted_at", "decision", "conflicts"]
        read_only_fields = fields

    @extend_schema_field(DecisionSerializer(allow_null=True))
    def get_decision(self, submission: Submission) -> dict[str, Any] | None:
        decision = submission.recorded_decision
        return DecisionSerializer(decision).data if decision is not None else None


class MemberAttendanceSerializer(serializers.Serializer):
    member = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="Identifiant du membre convoqué.")
    attendance = serializers.ChoiceField(choices=Attendance.choices)


class DeliberateSerializer(serializers.Serializer):
    attendance = MemberAttendanceSerializer(
        many=True, help_text="La présence de chaque membre convoqué, relevée à l'ouverture de la délibération."
    )


# The body that creates a Decision: named so in the schema, so that the decision kinds make one enum.
@extend_schema_serializer(component_name="Decision")
class DecisionRecordSerializer(serializers.Serializer):
    submission = ScopedPrimaryKeyField(
        queryset_for=Submission.objects.visible_to,
        within="session",
        message=_lazy("Aucun dossier de cette session ne porte cet identifiant."),
        help_text="Identifiant du dossier soumis à cette session.",
    )
    kind = serializers.ChoiceField(choices=DecisionKind.choices)
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=4000,
        default="",
        help_text="Obligatoire pour un refus ou un ajournement.",
    )
    missing_domains = serializers.ListField(
        child=serializers.CharField(max_length=20),
        required=False,
        default=list,
        help_text="Ajournement : codes des domaines du référentiel qui restent à acquérir.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        problem = decision_domains_problem(attrs["kind"], attrs.get("missing_domains") or [])
        if problem:
            raise serializers.ValidationError({"missing_domains": [problem]})
        return attrs


class RevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=4000, help_text="Motif de la révocation.")


class DecisionFilterSerializer(serializers.Serializer):
    session = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    dossier = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)


class CertificateSerializer(serializers.ModelSerializer):
    certification_label = serializers.CharField(source="get_certification_display", read_only=True)
    dossier_reference = serializers.CharField(source="dossier.reference", read_only=True)
    verification_url = serializers.SerializerMethodField()

    class Meta:
        model = Certificate
        fields = [
            "id",
            "number",
            "verification_code",
            "verification_url",
            "holder_name",
            "certification",
            "certification_label",
            "awarded_on",
            "dossier",
            "dossier_reference",
            "session",
            "sha256",
            "revoked_at",
            "revocation_reason",
            "updated_at",
        ]
        read_only_fields = fields

    def get_verification_url(self, certificate: Certificate) -> str:
        return verification_url(certificate)


# -- Sessions -------------------------------------------------------------------------------------------------


class SubmissionPagination(FeedPagination):
    """A session's dossiers, in the order they were put before it (not a feed: no `updated_since`)."""

    ordering = ("submitted_at", "id")
    feed = False


class JurySessionViewSet(FeedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Sessions visible to the membership: jurors their own, the jury body's administrators theirs, Certif'Pro all.
    The operations are the screens': the service decides who may take them (403) and whether now (409)."""

    permission_classes = [HasMembership]
    allowed_roles = SESSION_ROLES
    serializer_class = JurySessionSerializer

    def get_queryset(self) -> QuerySet[JurySession]:
        return (
            JurySession.objects.visible_to(current_membership(self.request))
            .select_related("organisation", "minutes")
            .prefetch_related(Prefetch("seats", queryset=SessionSeat.objects.president_first()))
            .annotate(submission_count=related_count(Submission, "session"))
            .order_by("-date", "-pk")
        )

    def _answer(self, session: JurySession) -> Response:
        return Response(JurySessionSerializer(self.get_queryset().get(pk=session.pk)).data)

    paginated_actions = frozenset({"submissions"})

    @extend_schema(responses={200: SubmissionSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=SubmissionPagination)
    def submissions(self, request: Request, pk: str | None = None) -> Response:
        """The dossiers put before the session, with their decision and the declared or detected conflicts."""
        session = self.get_object()
        submissions = submissions_for_session(session, current_membership(request)).select_related(
            "decision__decided_by", "decision__certificate"
        )
        page = self.paginate_queryset(submissions)
        return self.get_paginated_response(SubmissionSerializer(page, many=True).data)

    @extend_schema(request=None, responses={200: JurySessionSerializer})
    @action(detail=True, methods=["post"])
    def convene(self, request: Request, pk: str | None = None) -> Response:
        """Send the convocations (the jury body's administrators, Certif'Pro): jury_session_convene."""
        session = jury_session_convene(session=self.get_object(), by=current_membership(request), request=request)
        return self._answer(session)

    @extend_schema(request=DeliberateSerializer, responses={200: JurySessionSerializer})
    @action(detail=True, methods=["post"])
    def deliberate(self, request: Request, pk: str | None = None) -> Response:
        """Open the deliberation on the session's day with the attendance of every member convened (the president,
        the administrators): 409 before the day, or with what the quorum lacks among those present."""
        session = self.get_object()
        body = DeliberateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        attendance = {row["member"]: row["attendance"] for row in body.validated_data["attendance"]}
        session = jury_session_start_deliberation(
            session=session, by=current_membership(request), attendance=attendance, request=request
        )
        return self._answer(session)

    @extend_schema(
        request=DecisionRecordSerializer,
        responses={201: DecisionSerializer},
    )
    @action(detail=True, methods=["post"])
    def decisions(self, request: Request, pk: str | None = None) -> Response:
        """Record the jury's decision on one of the session's dossiers: decision_record (the president, or the
        member the jury designates when the president is linked to the dossier). The dossier moves on."""
        session = self.get_object()
        membership = current_membership(request)
        # Outside the session's seats there is nothing to ask (as the screen, before reading any input).
        if SessionSeat.objects.of(session.pk, membership) is None:
            raise PermissionDenied
        body = DecisionRecordSerializer(
            data=request.data, context={**self.get_serializer_context(), "session": session}
        )
        body.is_valid(raise_exception=True)
        data = body.validated_data
        decision = decision_record(
            submission=data["submission"],
            by=membership,
            kind=data["kind"],
            reason=data["reason"],
            missing_domains=data["missing_domains"],
            request=request,
        )
        return Response(DecisionSerializer(_decisions().get(pk=decision.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: JurySessionSerializer})
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        """Close the session once every dossier has its decision: jury_session_close. The minutes and the
        certificates are produced by workers afterwards (see `minutes` and /certificates/)."""
        session = jury_session_close(session=self.get_object(), by=current_membership(request), request=request)
        return self._answer(session)

    @extend_schema(responses={(200, PDF): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], content_negotiation_class=negotiation_for(PDF))
    def minutes(self, request: Request, pk: str | None = None) -> FileResponse:
        """The signed minutes (procès-verbal) of a closed session, once produced."""
        minutes = SessionMinutes.objects.filter(session=self.get_object()).first()
        if minutes is None:
            raise NotFound(_("Le procès-verbal de cette session n'est pas encore produit."))
        return file_response(minutes.file, minutes.filename)


# -- Decisions ------------------------------------------------------------------------------------------------


def _decisions() -> DecisionQuerySet:
    return Decision.objects.select_related("submission__dossier", "decided_by", "certificate")


class DecisionViewSet(FeedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """The decisions on the dossiers the membership sees; Certif'Pro revokes them."""

    permission_classes = [HasMembership]
    query_params = {"list": declared_fields(DecisionFilterSerializer)}
    allowed_roles = DECISION_ROLES
    serializer_class = DecisionSerializer

    def get_queryset(self) -> QuerySet[Decision]:
        return _decisions().visible_to(current_membership(self.request)).order_by("-decided_at", "-id")

    @extend_schema(
        parameters=[
            OpenApiParameter("session", OpenApiTypes.INT, description="Session de jury"),
            OpenApiParameter("dossier", OpenApiTypes.INT, description="Dossier"),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        filters = DecisionFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        decisions = self.get_queryset()
        if "session" in filters.validated_data:
            decisions = decisions.filter(submission__session_id=filters.validated_data["session"])
        if "dossier" in filters.validated_data:
            decisions = decisions.filter(submission__dossier_id=filters.validated_data["dossier"])
        page = self.paginate_queryset(decisions)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=RevokeSerializer, responses={200: DecisionSerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        """Certif'Pro only: void the decision and its certificate; the dossier returns before the jury."""
        decision = self.get_object()
        membership = current_membership(request)
        if not membership.is_certifpro:
            raise PermissionDenied
        body = RevokeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        decision_revoke(decision=decision, by=membership, reason=body.validated_data["reason"], request=request)
        return Response(DecisionSerializer(self.get_queryset().get(pk=decision.pk)).data)


# -- Certificates ---------------------------------------------------------------------------------------------


class CertificateViewSet(FeedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Certificates whose PDF exists, for those who may download them on the screens: the dossier's evaluator
    organisation, the session's jurors and jury body, Certif'Pro."""

    permission_classes = [HasMembership]
    serializer_class = CertificateSerializer

    def get_queryset(self) -> QuerySet[Certificate]:
        return (
            Certificate.objects.downloadable_by(current_membership(self.request))
            .select_related("dossier")
            .order_by("-awarded_on", "-id")
        )

    @extend_schema(responses={(200, PDF): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], content_negotiation_class=negotiation_for(PDF))
    def download(self, request: Request, pk: str | None = None) -> FileResponse:
        certificate = self.get_object()
        return file_response(certificate.file, certificate.filename)


# -- Public verification --------------------------------------------------------------------------------------


class CertificateVerifyThrottle(PlatformThrottleMixin, AnonRateThrottle):
    """Per client address, as the public verification page: enough to check, not to enumerate codes."""

    scope = "certificate_verify"


class CertificateVerificationSerializer(serializers.Serializer):
    code = serializers.CharField()
    valid = serializers.BooleanField()
    number = serializers.CharField()
    holder_name = serializers.CharField()
    certification = serializers.CharField()
    awarded_on = serializers.DateField()
    revoked = serializers.BooleanField()


class CertificateVerifyView(APIView):
    """Public: whether a verification code proves a certificate, and nothing beyond what the page shows."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    throttle_classes = [CertificateVerifyThrottle]

    @extend_schema(responses={200: CertificateVerificationSerializer}, auth=[])
    def get(self, request: Request, code: str) -> Response:
        certificate = certificate_lookup(code)
        if certificate is None:
            raise NotFound(_("Aucun certificat ne correspond à ce code."))
        return Response(
            {
                "code": certificate.verification_code,
                "valid": certificate.revoked_at is None,
                "number": certificate.number,
                "holder_name": certificate.holder_name,
                "certification": certificate.get_certification_display(),
                "awarded_on": certificate.awarded_on,
                "revoked": certificate.revoked_at is not None,
            }
        )


class AttestationVerificationSerializer(serializers.Serializer):
    code = serializers.CharField()
    holder_name = serializers.CharField()
    certification = serializers.CharField()
    issued_on = serializers.DateField()
    acquired_domains = serializers.ListField(child=serializers.CharField())
    # Set (and holder_name empty) once the holder's identity was erased past its retention.
    holder_erased_on = serializers.DateField(allow_null=True)


class AttestationVerifyView(APIView):
    """Public: what an attestation of partial validation's code proves, exactly what `/verifier/` shows of it (no
    birth date, contact details, organisation or number). Throttled with the certificates' check: one budget per
    address for every code, so that alternating the two kinds does not double the guesses."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    throttle_classes = [CertificateVerifyThrottle]

    @extend_schema(responses={200: AttestationVerificationSerializer}, auth=[])
    def get(self, request: Request, code: str) -> Response:
        normalised = verification_code_normalise(code)
        checked = attestation_check(normalised) if normalised else None
        if checked is None:
            raise NotFound(_("Aucune attestation ne correspond à ce code."))
        return Response({"code": normalised, **dataclasses.asdict(checked)})
