"""Public JSON API of the evaluator directory (no login, throttled per client address).

GET /api/v1/evaluators/nearby?commune=59350&certification=clea&radius=20&wheelchair=1&remote=1
    commune: an INSEE code (taken first), else a postcode or a name as the search box reads them; when several
    communes match, 400 with the candidates. radius: 10, 20, 50 or 100 (km, default 20).
GET /api/v1/communes?q=saint etienne
    results: the communes matching; when none does, suggestions: the nearest names ("Lile": Lille (59)).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from clea_platform.certifications import Certification
from clea_platform.ratelimit import PlatformThrottleMixin
from directory.models import Commune, CommuneLookup
from directory.selectors import DEFAULT_RADIUS_KM, RADII_KM, NearbySite, sites_nearby

MAX_RESULTS = 100


class DirectoryThrottle(PlatformThrottleMixin, AnonRateThrottle):
    """Per client address: enough for a page that searches as one types, not for harvesting."""

    scope = "directory_api"
    rate = "60/minute"


class CommuneSerializer(serializers.ModelSerializer):
    postcodes = serializers.ListField(source="postcode_list", child=serializers.CharField())
    label = serializers.CharField()

    class Meta:
        model = Commune
        fields = [
            "insee_code",
            "name",
            "label",
            "departement",
            "departement_name",
            "region",
            "region_name",
            "postcodes",
            "latitude",
            "longitude",
            "is_approximate",
        ]


class ContactSerializer(serializers.Serializer):
    name = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()


class AvailabilitySerializer(serializers.Serializer):
    next_slot_on = serializers.DateField(allow_null=True)
    typical_wait_days = serializers.IntegerField(allow_null=True)
    updated_at = serializers.DateTimeField(allow_null=True)


class NearbySiteSerializer(serializers.Serializer):
    # The fields say what the schema publishes; `to_representation` builds the row in one pass over the site.
    site_id = serializers.IntegerField()
    organisation = ContactSerializer()
    name = serializers.CharField()
    address = serializers.CharField()
    postcode = serializers.CharField()
    city = serializers.CharField()
    insee_code = serializers.CharField()
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    distance_km = serializers.FloatField()
    certifications = serializers.ListField(child=serializers.ChoiceField(choices=Certification.values))
    wheelchair_accessible = serializers.BooleanField()
    remote_evaluation = serializers.BooleanField()
    contact = ContactSerializer()
    availability = AvailabilitySerializer()

    def to_representation(self, instance: NearbySite) -> dict[str, Any]:
        site = instance.site
        organisation = site.organisation
        return {
            "site_id": site.pk,
            "organisation": {"name": organisation.name, "email": organisation.email, "phone": organisation.phone},
            "name": site.name,
            "address": site.address,
            "postcode": site.postcode,
            "city": site.city,
            "insee_code": site.insee_code,
            "latitude": float(site.latitude),
            "longitude": float(site.longitude),
            "distance_km": round(instance.distance_km, 1),
            "certifications": [h.certification for h in getattr(organisation, "habilitations_in_force", [])],
            "wheelchair_accessible": site.wheelchair_accessible,
            "remote_evaluation": site.remote_evaluation,
            "contact": {"name": site.contact_name, "email": site.contact_email, "phone": site.contact_phone},
            "availability": {
                "next_slot_on": instance.upcoming_slot.isoformat() if instance.upcoming_slot else None,
                "typical_wait_days": site.typical_wait_days,
                "updated_at": site.availability_updated_at.isoformat() if site.availability_updated_at else None,
            },
        }


class NearbySerializer(serializers.Serializer):
    commune = CommuneSerializer()
    radius_km = serializers.ChoiceField(choices=RADII_KM)
    count = serializers.IntegerField(help_text="Sites dans le rayon (les 100 premiers sont dans `results`).")
    counts_by_radius = serializers.DictField(
        child=serializers.IntegerField(), help_text="Nombre de sites pour chaque rayon proposé (clé : le rayon)."
    )
    results = NearbySiteSerializer(many=True)


class CommunesSerializer(serializers.Serializer):
    results = CommuneSerializer(many=True)
    suggestions = CommuneSerializer(many=True, help_text="Les noms les plus proches, quand aucun ne correspond.")


class NearbyQuerySerializer(serializers.Serializer):
    commune = serializers.CharField(max_length=100, help_text="Code INSEE (prioritaire), code postal ou nom")
    certification = serializers.ChoiceField(choices=Certification.values, required=False, allow_blank=True)
    radius = serializers.ChoiceField(choices=RADII_KM, required=False, default=DEFAULT_RADIUS_KM)
    wheelchair = serializers.BooleanField(required=False, default=False)
    remote = serializers.BooleanField(required=False, default=False)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        # "radius=20" arrives as text; ChoiceField compares it with the integers.
        data = data.copy()
        if str(data.get("radius", "")).isdigit():
            data["radius"] = int(data["radius"])
        return super().to_internal_value(data)


# Errors in the API's shape (clea_platform/api_errors.py), with what helps the person choose: the candidates of an
# ambiguous name, the nearest names of an unknown one.
class FieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField()
    code = serializers.CharField()
    message = serializers.CharField()


AMBIGUOUS_COMMUNE = inline_serializer(
    "AmbiguousCommuneError",
    {
        "code": serializers.CharField(),
        "message": serializers.CharField(),
        "errors": FieldErrorSerializer(many=True, required=False, help_text="Un paramètre invalide."),
        "candidates": CommuneSerializer(many=True, required=False, help_text="Une commune ambiguë : ses homonymes."),
    },
)
UNKNOWN_COMMUNE = inline_serializer(
    "UnknownCommuneError",
    {"code": serializers.CharField(), "message": serializers.CharField(), "suggestions": CommuneSerializer(many=True)},
)


class PublicAPIView(APIView):
    """No login needed; anonymous clients are throttled per address (signed-in sessions are not: an agency
    shares one public address)."""

    permission_classes = [AllowAny]
    throttle_classes = [DirectoryThrottle]


class EvaluatorsNearbyView(PublicAPIView):
    """The directory's sites near a commune, nearest first (at most 100), with distance and availability."""

    @extend_schema(
        parameters=[NearbyQuerySerializer],
        responses={200: NearbySerializer, 400: AMBIGUOUS_COMMUNE, 404: UNKNOWN_COMMUNE},
        auth=[],
    )
    def get(self, request: Request) -> Response:
        query = NearbyQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        # An exact INSEE code is taken as such (clients get it from /communes); anything else is read as the
        # search box reads it, where a postcode that is also another commune's INSEE code asks which.
        text = params["commune"].strip()
        commune = Commune.objects.filter(insee_code=text.upper()).first()
        lookup = CommuneLookup(commune, []) if commune is not None else Commune.objects.resolve(text)
        if lookup.commune is None:
            if not lookup.candidates:
                return Response(
                    {
                        "code": "unknown_commune",
                        "message": _("Aucune commune ne correspond."),
                        "suggestions": CommuneSerializer(lookup.suggestions, many=True).data,
                    },
                    status=status.HTTP_404_NOT_FOUND,
                )
            return Response(
                {
                    "code": "ambiguous_commune",
                    "message": _("Plusieurs communes correspondent : précisez avec le code INSEE."),
                    "candidates": CommuneSerializer(lookup.candidates, many=True).data,
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        commune = lookup.commune
        found = sites_nearby(
            latitude=commune.latitude,
            longitude=commune.longitude,
            radius_km=params["radius"],
            certification=params.get("certification") or "",
            wheelchair_accessible=params["wheelchair"],
            remote_evaluation=params["remote"],
        )
        return Response(
            {
                "commune": CommuneSerializer(commune).data,
                "radius_km": found.radius_km,
                "count": len(found.ranked),
                "counts_by_radius": {str(r): n for r, n in found.counts_by_radius.items()},
                "results": NearbySiteSerializer(found.entries(found.ranked[:MAX_RESULTS]), many=True).data,
            }
        )


class CommunesView(PublicAPIView):
    """Communes matching a name, a postcode or an INSEE code (for completion), best first; when none does,
    `suggestions` holds the communes whose names are nearest ("Lile": Lille), for "did you mean"."""

    @extend_schema(
        operation_id="communes_search",
        parameters=[OpenApiParameter("q", OpenApiTypes.STR)],
        responses={200: CommunesSerializer},
        auth=[],
    )
    def get(self, request: Request) -> Response:
        text = request.query_params.get("q", "")
        communes = Commune.objects.search(text, limit=10) if len(text.strip()) >= 2 else []
        suggestions = Commune.objects.suggest(text) if not communes and len(text.strip()) >= 2 else []
        return Response(
            {
                "results": CommuneSerializer(communes, many=True).data,
                "suggestions": CommuneSerializer(suggestions, many=True).data,
            }
        )
