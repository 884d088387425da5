"""REST API of the France Travail referrals: the same scoped querysets, forms and services as the screens
(referrals/views.py, referrals/services.py).

GET /api/v1/referrals/ (?state=), POST (an advisor, with the job seeker's consent),
GET /api/v1/referrals/consent-text/?site=&certification= (the text to read to the job seeker first),
GET /api/v1/referrals/{id}/, POST /api/v1/referrals/{id}/accept/, POST /api/v1/referrals/{id}/decline/

The sending agency sees its referrals and, once a dossier is open, that dossier's step only; the receiving
organisation also gets the dossier's id and reference.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from candidates.models import EducationLevel
from clea_platform.api_errors import form_errors
from clea_platform.api_feed import FeedViewSetMixin, declared_fields
from clea_platform.certifications import Certification
from directory.selectors import directory_sites
from organisations.api_auth import HasMembership, current_membership
from organisations.api_fields import ScopedPrimaryKeyField, bound_form, iso_8601_only
from organisations.models import Role, Site
from referrals.forms import ReferralAcceptForm, ReferralDeclineForm, ReferralFilterForm, ReferralForm
from referrals.models import ACCEPTING_ROLE, REFERRAL_ROLES, Referral, ReferralQuerySet, ReferralState
from referrals.services import (
    referral_accept,
    referral_consent_text,
    referral_decline,
    referral_send,
)

# Who may take each action, as on the screens; list and retrieve: REFERRAL_ROLES.
ACTION_ROLES: dict[str, tuple[str, ...]] = {
    "create": (Role.FT_ADVISOR,),
    "consent_text": (Role.FT_ADVISOR,),
    "accept": (ACCEPTING_ROLE,),
    "decline": (Role.COUNSELLOR, Role.ORG_ADMIN),
}


class ReferralSiteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Site
        fields = ["id", "name", "address", "postcode", "city", "contact_email", "contact_phone"]
        read_only_fields = fields


class SenderReferralSerializer(serializers.ModelSerializer):
    """What the sending agency reads: the referral it sent and, once a dossier is open, that dossier's step.
    An allow-list: a field added to the receiving side's reading stays out of it until listed here."""

    state_label = serializers.CharField(source="get_state_display", read_only=True)
    organisation = serializers.CharField(source="organisation.name", read_only=True)
    site = ReferralSiteSerializer(read_only=True)
    from_organisation = serializers.CharField(source="from_organisation.name", read_only=True)
    advisor = serializers.CharField(source="advisor.get_full_name", read_only=True)
    expires_at = serializers.DateTimeField(read_only=True)
    dossier_state = serializers.CharField(
        source="dossier.state", read_only=True, allow_null=True, help_text="Étape du dossier ouvert."
    )
    dossier_state_label = serializers.CharField(source="dossier.get_state_display", read_only=True, allow_null=True)

    class Meta:
        model = Referral
        fields = [
            "id",
            "state",
            "state_label",
            "certification",
            "organisation",
            "site",
            "from_organisation",
            "advisor",
            "civility",
            "first_name",
            "last_name",
            "birth_date",
            "birth_place",
            "email",
            "phone",
            "postcode",
            "city",
            "education_level",
            "note",
            "consent_at",
            "consent_text",
            "sent_at",
            "expires_at",
            "answered_at",
            "decline_reason",
            "dossier_state",
            "dossier_state_label",
            "updated_at",
        ]
        read_only_fields = fields


class ReferralSerializer(SenderReferralSerializer):
    """The receiving organisation's reading (and Certif'Pro's): also the advisor's address and the dossier opened.
    The sending agency gets its own reading, with these fields null."""

    advisor_email = serializers.EmailField(
        source="advisor.email", read_only=True, allow_null=True, help_text="Organisme destinataire seulement."
    )
    dossier = serializers.IntegerField(
        source="dossier_id", read_only=True, allow_null=True, help_text="Organisme destinataire seulement."
    )
    dossier_reference = serializers.CharField(
        source="dossier.reference", read_only=True, allow_null=True, help_text="Organisme destinataire seulement."
    )

    class Meta(SenderReferralSerializer.Meta):
        fields = [*SenderReferralSerializer.Meta.fields, "advisor_email", "dossier", "dossier_reference"]
        read_only_fields = fields

    def to_representation(self, referral: Referral) -> dict[str, Any]:
        if referral.is_received_by(current_membership(self.context["request"])):
            return super().to_representation(referral)
        return {**dict.fromkeys(self.fields), **SenderReferralSerializer(referral, context=self.context).data}


class DirectorySiteSerializer(serializers.Serializer):
    site = ScopedPrimaryKeyField(
        queryset_for=lambda _membership: directory_sites(),
        message=_("Ce site n'est pas dans l'annuaire des organismes évaluateurs."),
        help_text="`site_id` d'un site de GET /evaluators/nearby.",
    )


class ReferralCreateSerializer(DirectorySiteSerializer, serializers.ModelSerializer):
    """The body: the site, looked up in the directory; the rest, described here for the schema, is validated by
    the screen's ReferralForm."""

    consent = serializers.BooleanField(
        help_text="La personne a lu le texte de consentement (GET /referrals/consent-text/) et l'accepte."
    )

    class Meta:
        model = Referral
        fields = [
            "site",
            "certification",
            "civility",
            "last_name",
            "first_name",
            "birth_date",
            "birth_place",
            "email",
            "phone",
            "postcode",
            "city",
            "education_level",
            "note",
            "consent",
        ]


class ConsentQuerySerializer(DirectorySiteSerializer):
    certification = serializers.ChoiceField(choices=Certification.choices)


class ConsentTextSerializer(serializers.Serializer):
    consent_text = serializers.CharField()


class ReferralAcceptSerializer(serializers.Serializer):
    """The body, for the schema: ReferralAcceptForm validates it."""

    birth_place = serializers.CharField(required=False, help_text="Par défaut, celui de l'orientation.")
    education_level = serializers.ChoiceField(
        choices=EducationLevel.choices, required=False, help_text="Par défaut, celui de l'orientation."
    )


class ReferralDeclineSerializer(serializers.Serializer):
    """The body, for the schema: ReferralDeclineForm validates it."""

    reason = serializers.CharField(help_text="Motif du refus, lu par le conseiller France Travail.")


class ReferralViewSet(
    FeedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Referrals visible to the membership: advisors send them, the receiving organisation answers them."""

    permission_classes = [HasMembership]
    query_params = {
        "list": declared_fields(ReferralFilterForm),
        "consent_text": declared_fields(ConsentQuerySerializer),
    }
    serializer_class = ReferralSerializer

    @property
    def allowed_roles(self) -> tuple[str, ...]:
        return ACTION_ROLES.get(self.action, REFERRAL_ROLES)

    def get_queryset(self) -> ReferralQuerySet:
        membership = current_membership(self.request)
        # Answering: only those the membership's organisation received (another's is a plain 404). Whether the
        # referral still awaits an answer is the service's to say (409).
        if self.action in ("accept", "decline"):
            referrals = Referral.objects.received_by(membership)
        else:
            referrals = Referral.objects.visible_to(membership)
        return referrals.select_related("site", "organisation", "from_organisation", "advisor", "dossier")

    def _answer(self, referral: Referral, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=referral.pk)).data, status=code)

    @extend_schema(parameters=[OpenApiParameter("state", OpenApiTypes.STR, enum=ReferralState.values)])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        filters = iso_8601_only(ReferralFilterForm(request.query_params))
        if not filters.is_valid():
            raise form_errors(filters)
        page = self.paginate_queryset(filters.filter(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=ReferralCreateSerializer, responses={201: ReferralSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Refer a job seeker who agreed to it to a directory site (referral_send): the site's contact is told.
        409 when the site no longer takes the certification or the person already awaits its answer."""
        reference = DirectorySiteSerializer(data=request.data, context=self.get_serializer_context())
        reference.is_valid(raise_exception=True)
        site = reference.validated_data["site"]
        # The screen's form: consent, a way to reach the person, a certification the site prepares for.
        form = bound_form(
            ReferralForm, request, certifications=[h.certification for h in site.organisation.habilitations_in_force]
        )
        if not form.is_valid():
            raise form_errors(form)
        certification = form.cleaned_data["certification"]
        referral = referral_send(
            by=current_membership(request),
            site=site,
            certification=certification,
            identity=form.identity(),
            note=form.cleaned_data["note"],
            consent_text=referral_consent_text(site=site, certification=certification),
            request=request,
        )
        return self._answer(referral, status.HTTP_201_CREATED)

    @extend_schema(parameters=[ConsentQuerySerializer], responses={200: ConsentTextSerializer})
    @action(detail=False, methods=["get"], url_path="consent-text")
    def consent_text(self, request: Request) -> Response:
        """The text the job seeker agrees to, for this site and certification: read it to them before sending."""
        query = ConsentQuerySerializer(data=request.query_params, context=self.get_serializer_context())
        query.is_valid(raise_exception=True)
        return Response({"consent_text": referral_consent_text(**query.validated_data)})

    @extend_schema(request=ReferralAcceptSerializer, responses={200: ReferralSerializer})
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        """Accept the referral (referral_accept): the job seeker's dossier opens at the information step and the
        advisor is told. Birth place and education level default to the referral's."""
        referral = self.get_object()
        membership = current_membership(request)
        form = bound_form(
            ReferralAcceptForm,
            request,
            prefill=True,
            initial={"birth_place": referral.birth_place, "education_level": referral.education_level},
        )
        if not form.is_valid():
            raise form_errors(form)
        referral = referral_accept(
            referral=referral,
            by=membership,
            extra={key: form.cleaned_data[key] for key in ("birth_place", "education_level")},
            request=request,
        )
        return self._answer(referral)

    @extend_schema(request=ReferralDeclineSerializer, responses={200: ReferralSerializer})
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: str | None = None) -> Response:
        """Decline the referral with a reason, which the advisor reads (referral_decline)."""
        referral = self.get_object()
        form = bound_form(ReferralDeclineForm, request)
        if not form.is_valid():
            raise form_errors(form)
        referral = referral_decline(
            referral=referral, by=current_membership(request), reason=form.cleaned_data["reason"], request=request
        )
        return self._answer(referral)
