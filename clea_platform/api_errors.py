"""Every API error as JSON: a stable `code`, a French `message`, and for invalid input the fields at fault.

    {"code": "invalid", "message": "Certaines données sont invalides.",
     "errors": [{"field": "certification", "code": "invalid_choice", "message": "…"}]}

A service's `django.core.exceptions.ValidationError` (a rule about what was typed, with the field it concerns) is
a 400 with its fields, as a form's errors are. The services' refusals (`BusinessRefusal`: a step the state machine
refuses now, an evaluation rule, a jury rule) are 409 with the refusal's code and its own French explanation: the
API never words a rule twice. A refusal that names its `field` (a reason left out) is a 400 on that field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response

from clea_platform.errors import BusinessRefusal

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

GENERIC_MESSAGES: dict[type[Exception], StrOrPromise] = {
    exceptions.NotFound: _lazy("Cet objet n'existe pas ou ne vous est pas accessible."),
    exceptions.PermissionDenied: _lazy("Votre rôle ne permet pas cette action."),
    exceptions.NotAuthenticated: _lazy("Authentification requise : session ou jeton d'API."),
}


def _flatten(detail: Any, field: str = "") -> list[dict[str, str]]:
    if isinstance(detail, dict):
        return [
            error
            for key, value in detail.items()
            for error in _flatten(value, key if key == "non_field_errors" or not field else f"{field}.{key}")
        ]
    if isinstance(detail, list):
        return [
            error
            for index, value in enumerate(detail)
            for error in _flatten(value, f"{field}.{index}" if isinstance(value, dict | list) else field)
        ]
    return [{"field": field or "non_field_errors", "code": getattr(detail, "code", "invalid"), "message": str(detail)}]


def form_errors(form: forms.Form) -> exceptions.ValidationError:
    """A screen form's French errors, with their codes, as the API's field errors: the API validates with the
    screens' own forms rather than word the rules twice."""
    return exceptions.ValidationError(
        {
            "non_field_errors" if field == "__all__" else field: [
                exceptions.ErrorDetail(error["message"], code=error["code"] or "invalid") for error in errors
            ]
            for field, errors in form.errors.get_json_data().items()
        }
    )


def model_errors(exc: DjangoValidationError) -> exceptions.ValidationError:
    """A model's or a service's validation (`full_clean`, a rule on a field) as the API's field errors."""
    if hasattr(exc, "error_dict"):
        return exceptions.ValidationError(
            {
                "non_field_errors" if field == NON_FIELD_ERRORS else field: [
                    exceptions.ErrorDetail(str(message), code=error.code or "invalid")
                    for error in errors
                    for message in error.messages
                ]
                for field, errors in exc.error_dict.items()
            }
        )
    return exceptions.ValidationError({"non_field_errors": exc.messages})


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, BusinessRefusal) and exc.field:
        # Input left out or refused by a rule of the service: 400 on that field, as a form's errors.
        exc = exceptions.ValidationError({exc.field: [exceptions.ErrorDetail(str(exc), code=exc.code)]})
    elif isinstance(exc, BusinessRefusal):
        return Response({"code": exc.code, "message": str(exc)}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        # Input a rule refuses (a date outside its bounds, a reason left out): 400 on the field, not 409.
        exc = model_errors(exc)
    if isinstance(exc, Http404 | ObjectDoesNotExist):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    # Imported here: rest_framework.views reads the authentication classes, whose module (through the rate limits)
    # imports the API's middleware, which imports this module for json_error.
    from rest_framework.views import exception_handler as drf_exception_handler

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {
            "code": "invalid",
            "message": _("Certaines données sont invalides."),
            "errors": _flatten(exc.detail),
        }
        return response
    detail = getattr(exc, "detail", "")
    # Our own wording for the generic cases; a view's specific message (a detail it set) is kept.
    message: StrOrPromise = str(detail)
    if message == str(getattr(exc, "default_detail", "")):
        message = GENERIC_MESSAGES.get(type(exc), message)
    code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
    response.data = {"code": code, "message": message}
    return response


def json_error(status: int, code: str, message: StrOrPromise) -> JsonResponse:
    """An answer in the API's error shape, {"code", "message"}, from outside DRF's views (middleware, handlers)."""
    return JsonResponse({"code": code, "message": str(message)}, status=status)


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: under /api/ an unknown path answers in the API's error shape, not the site's HTML page (the
    slash redirect of APPEND_SLASH still comes first, since this is the 404 it turns into a redirect)."""
    if _is_api(request):
        return json_error(
            status.HTTP_404_NOT_FOUND, "not_found", _("Aucune opération de l'API à cette adresse (voir /api/schema/).")
        )
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: the API's error shape under /api/, the site's page elsewhere."""
    if _is_api(request):
        return json_error(
            status.HTTP_500_INTERNAL_SERVER_ERROR,
            "server_error",
            _("Erreur interne : elle est signalée à l'équipe technique."),
        )
    return defaults.server_error(request)
