"""What the platform publishes to verify its credentials (keys, DID document, status lists, achievements), and the
staff download of a certificate's credential from the dossier page."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from clea_platform.certifications import Certification
from clea_platform.tenancy import membership_required
from credentials import signing
from credentials.models import SigningKey
from credentials.open_badges import achievement
from credentials.services import CREDENTIAL_CONTENT_TYPE, credential_download, signing_key, status_list_signed
from juries.models import Certificate

# Public documents: caches may keep them this long. A revocation reaches the status list's readers within it.
PUBLIC_MAX_AGE = 300


def _public(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, public=True, max_age=PUBLIC_MAX_AGE)
    return response


def _published_keys() -> list[SigningKey]:
    signing_key()  # a fresh install publishes its first key before anything is signed
    return list(SigningKey.objects.published())


def _jwk(key: SigningKey) -> dict[str, str]:
    return {**key.public_jwk, "kid": signing.key_uri(key.kid), "alg": signing.ALGORITHM, "use": "sig"}


@require_safe
def jwks(request: HttpRequest) -> HttpResponse:
    """Every key that ever signed, retired ones included, under the `kid` the credentials' headers carry."""
    return _public(JsonResponse({"keys": [_jwk(key) for key in _published_keys()]}))


@require_safe
def did_document(request: HttpRequest) -> HttpResponse:
    """The platform's did:web document: the same keys, as verification methods for assertions."""
    issuer = signing.issuer_id()
    keys = _published_keys()
    document = {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/jws-2020/v1"],
        "id": issuer,
        "verificationMethod": [
            {
                "id": signing.key_uri(key.kid),
                "type": "JsonWebKey2020",
                "controller": issuer,
                "publicKeyJwk": key.public_jwk,
            }
            for key in keys
        ],
        "assertionMethod": [signing.key_uri(key.kid) for key in keys],
    }
    return _public(JsonResponse(document, content_type="application/did+json"))


@require_safe
def status_list(request: HttpRequest, number: int) -> HttpResponse:
    """The signed BitstringStatusListCredential; a client holding the same version gets 304."""
    signed = status_list_signed(number)
    if signed is None:
        raise Http404
    if signed.etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = HttpResponse(signed.token, content_type=CREDENTIAL_CONTENT_TYPE)
    response["ETag"] = signed.etag
    return _public(response)


@require_safe
def achievement_detail(request: HttpRequest, certification: str) -> HttpResponse:
    """The Achievement a credential awards, at the URI that is its `id`."""
    if certification not in Certification.values:
        raise Http404
    return _public(
        JsonResponse(
            {"@context": "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json", **achievement(certification)}
        )
    )


@membership_required()
def credential_download_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Whoever may download the certificate's PDF may download its credential (`pk` is the certificate's)."""
    certificate = get_object_or_404(Certificate.objects.downloadable_by(request.membership), pk=pk)
    download = credential_download(certificate)
    if download is None:
        raise Http404
    filename, content, content_type = download
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
