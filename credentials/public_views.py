"""The credential file checked on the public `/verifier/` page: no login, a verdict in plain French."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from clea_platform.ratelimit import rate_limited
from credentials.forms import CredentialUploadForm
from credentials.verify import MAX_CREDENTIAL_BYTES, credential_verify


@rate_limited(scope="verify", limit=30, period=60)
def credential_verify_upload(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return redirect("certificate_verify_form")
    form = CredentialUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        context = {"certificate": None, "code": "", "ask": True, "upload_form": form}
        return render(request, "juries/verify.html", context, status=400)
    verdict = credential_verify(form.cleaned_data["file"].read(MAX_CREDENTIAL_BYTES + 1))
    return render(request, "credentials/verify_result.html", {"verdict": verdict})
