"""The public verification page of a certificate: no login, nothing beyond what proves the certificate."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from clea_platform.ratelimit import rate_limited
from juries.services import certificate_lookup


@never_cache
@rate_limited(scope="verify", limit=30, period=60)
def certificate_verify(request: HttpRequest, code: str) -> HttpResponse:
    certificate = certificate_lookup(code)
    status = 200 if certificate is not None else 404
    return render(
        request, "juries/verify.html", {"certificate": certificate, "code": code.strip().upper()}, status=status
    )


@rate_limited(scope="verify", limit=30, period=60)
def certificate_verify_form(request: HttpRequest) -> HttpResponse:
    code = request.GET.get("code", "").strip()
    if code:
        return redirect("certificate_verify", code=code.upper())
    return render(request, "juries/verify.html", {"certificate": None, "code": "", "ask": True})
