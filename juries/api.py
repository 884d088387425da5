"""REST API of the juries: the public verification of a certificate."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from juries.services import certificate_lookup


class CertificateVerifyThrottle(AnonRateThrottle):
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
