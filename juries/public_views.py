"""The public verification page of a certificate or of an attestation of partial validation: no login, nothing
beyond what proves the document. The code's length says which: 8 characters for a certificate, 10 for an
attestation (clea_platform.verification)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from clea_platform.ratelimit import rate_limited
from clea_platform.verification import ATTESTATION_CODE_LENGTH
from evaluations.selectors import attestation_check
from juries.services import certificate_lookup, verification_code_normalise


def _malformed(request: HttpRequest, typed: str) -> HttpResponse:
    """Input that cannot be a code: the form again, with what was typed and why it cannot be a code."""
    return render(
        request, "juries/verify.html", {"certificate": None, "code": typed, "ask": True, "malformed": True}, status=400
    )


@never_cache
@rate_limited(scope="verify", limit=30, period=60)
def certificate_verify(request: HttpRequest, code: str) -> HttpResponse:
    normalised = verification_code_normalise(code)
    if normalised is None:
        return _malformed(request, code)
    if len(normalised) == ATTESTATION_CODE_LENGTH:
        attestation = attestation_check(normalised)
        return render(
            request,
            "juries/verify_attestation.html",
            {"attestation": attestation, "code": normalised},
            status=200 if attestation is not None else 404,
        )
    certificate = certificate_lookup(normalised)
    status = 200 if certificate is not None else 404
    return render(request, "juries/verify.html", {"certificate": certificate, "code": normalised}, status=status)


@rate_limited(scope="verify", limit=30, period=60)
def certificate_verify_form(request: HttpRequest) -> HttpResponse:
    typed = request.GET.get("code", "")
    if not typed.strip():
        return render(request, "juries/verify.html", {"certificate": None, "code": "", "ask": True})
    normalised = verification_code_normalise(typed)
    if normalised is None:
        return _malformed(request, typed)
    return redirect("certificate_verify", code=normalised)
