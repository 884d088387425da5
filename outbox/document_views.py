"""The two screens of documents rendered again (issue 13), shared by every document's page: the POST that asks for
a new version, and the download of an earlier one. Apart from outbox/views.py, the operators' page of side
effects, which has its own."""

from __future__ import annotations

import posixpath

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from clea_platform.actions import post_only
from clea_platform.errors import BusinessRefusal
from clea_platform.tenancy import membership_required
from organisations.models import Role
from outbox import registry
from outbox.models import DocumentVersion
from outbox.services import document_regenerate

OPERATOR_ROLES = (Role.ORG_ADMIN, Role.CERTIFPRO_ADMIN)


@membership_required(*OPERATOR_ROLES)
@post_only(lambda request, kind, pk: reverse("outbox:side_effect_list"))
def regenerate(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Ask for a new version of the document, then go back to the page the form was on."""
    try:
        document_kind = registry.document(kind)
    except LookupError as exc:
        raise Http404 from exc
    scoped = document_kind.model._default_manager.visible_to(request.membership)  # type: ignore[attr-defined]
    document = get_object_or_404(scoped, pk=pk)
    try:
        document_regenerate(
            document=document, by=request.membership, reason=request.POST.get("reason", ""), request=request
        )
    except BusinessRefusal as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("La nouvelle version sera produite dans un instant ; l'ancienne est conservée."))
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = "home"
    return redirect(back)


@membership_required(*OPERATOR_ROLES)
def version_download(request: HttpRequest, pk: int) -> FileResponse:
    """An earlier file of a document, for whoever may have that document rendered again: the version's
    organisation, and the document itself through its model's scoping (another organisation's: 404)."""
    version = get_object_or_404(
        # An erased version (privacy.services, past its retention) has no file left: like a missing one.
        DocumentVersion.objects.visible_to(request.membership).exclude(file="").select_related("content_type"),
        pk=pk,
    )
    model = version.content_type.model_class()
    try:
        kind = registry.document_of(model) if model is not None else None
    except LookupError:
        kind = None
    scoped = kind.model._default_manager.visible_to(request.membership) if kind else None  # type: ignore[attr-defined]
    if scoped is None or not scoped.filter(pk=version.object_id).exists():
        raise Http404
    stem, _dot, extension = posixpath.basename(version.file.name).rpartition(".")
    filename = f"{stem}-remplace-le-{timezone.localtime(version.replaced_at):%Y-%m-%d-%Hh%M}.{extension}"
    try:
        handle = version.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    return FileResponse(handle, as_attachment=True, filename=filename)
