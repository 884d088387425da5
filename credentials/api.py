"""Public: POST a credential, get the verdict (the API twin of the upload on `/verifier/`)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import BaseParser, JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from credentials.verify import MAX_CREDENTIAL_BYTES, Verdict, credential_verify
from juries.api import CertificateVerifyThrottle
from juries.services import verification_url


class RawCredentialParser(BaseParser):
    """The credential file itself as the body (`curl --data-binary @clea-….jwt`)."""

    media_type = "text/plain"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> bytes:
        return stream.read(MAX_CREDENTIAL_BYTES + 1) if stream is not None else b""


class VcJwtParser(RawCredentialParser):
    # Accepted, not declared in the schema: one raw content type there is enough for generated clients.
    media_type = "application/vc+jwt"


# Named for generated clients: "CredentialVerifyRequest", not "CredentialVerifyRequestRequest".
@extend_schema_serializer(component_name="CredentialVerify")
class CredentialVerifyRequestSerializer(serializers.Serializer):
    credential = serializers.CharField(
        max_length=MAX_CREDENTIAL_BYTES, trim_whitespace=True, help_text="L'attestation : un JWS compact (JWT)."
    )


class VerifiedCredentialSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Identifiant de l'attestation (urn:uuid:…).")
    issuer = serializers.CharField(help_text="Émetteur (did:web de la plateforme).")
    number = serializers.CharField(help_text="Numéro national du certificat.")
    holder_name = serializers.CharField()
    certification = serializers.CharField()
    awarded_on = serializers.DateField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    verification_url = serializers.URLField()


class CredentialVerdictSerializer(serializers.Serializer):
    valid = serializers.BooleanField(help_text="Authentique, non modifiée, non révoquée, d'un certificat existant.")
    revoked = serializers.BooleanField()
    reasons = serializers.ListField(
        child=serializers.ChoiceField(
            choices=[
                "malformed",
                "other_issuer",
                "unknown_key",
                "bad_signature",
                "claims_mismatch",
                "unknown_credential",
                "revoked",
            ]
        ),
        help_text="Pourquoi elle n'est pas valable ; vide si elle l'est.",
    )
    credential = VerifiedCredentialSerializer(allow_null=True)


def _verdict_data(verdict: Verdict) -> dict[str, Any]:
    certificate = verdict.certificate
    credential = None
    if certificate is not None and verdict.claims is not None:
        credential = {
            "id": verdict.claims.get("id"),
            "issuer": verdict.claims.get("iss"),
            "number": certificate.number,
            "holder_name": certificate.holder_name,
            "certification": certificate.get_certification_display(),
            "awarded_on": certificate.awarded_on,
            "revoked_at": certificate.revoked_at,
            "verification_url": verification_url(certificate),
        }
    return {"valid": verdict.valid, "revoked": verdict.revoked, "reasons": verdict.reasons, "credential": credential}


class CredentialVerifyView(APIView):
    """Public: whether an Open Badges 3.0 credential of the platform is authentic, unchanged and not revoked."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    throttle_classes = [CertificateVerifyThrottle]
    parser_classes = [JSONParser, RawCredentialParser, VcJwtParser]

    @extend_schema(
        summary="Vérifier un certificat numérique (Open Badges 3.0)",
        description=(
            'Le corps est `{"credential": "<jwt>"}` en JSON, ou le fichier .jwt lui-même (text/plain ou '
            "application/vc+jwt). La réponse dit si l'attestation est signée par une clé publiée de la plateforme, "
            "non modifiée, non révoquée, et le certificat qu'elle désigne."
        ),
        request={"application/json": CredentialVerifyRequestSerializer, "text/plain": OpenApiTypes.STR},
        responses={200: CredentialVerdictSerializer},
        auth=[],
        examples=[OpenApiExample("JSON", value={"credential": "eyJhbGciOiJFZERTQSIs…"}, request_only=True)],
    )
    def post(self, request: Request) -> Response:
        data = request.data
        if isinstance(data, bytes):
            if not data.strip():
                raise ValidationError({"credential": [_("Envoyez l'attestation : le fichier .jwt, ou son contenu.")]})
            token: bytes | str = data
        else:
            serializer = CredentialVerifyRequestSerializer(data=data)
            serializer.is_valid(raise_exception=True)
            token = serializer.validated_data["credential"]
        verdict = credential_verify(token)
        return Response(CredentialVerdictSerializer(_verdict_data(verdict)).data)
