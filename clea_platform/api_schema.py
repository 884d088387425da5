"""The OpenAPI schema declares the error answers of every operation, in the shape `api_errors.py` gives them, so
that integrators (and schemathesis' status-code check) know a 404 or a 409 is part of the contract."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular import openapi
from rest_framework import serializers

STANDARD_ACTIONS = {"list", "create", "retrieve", "update", "partial_update", "destroy"}


class AutoSchema(openapi.AutoSchema):
    """Operation ids that read as method names in a generated client: a step named by its verb alone
    (`jury_sessions_close`, `certificates_download`, `evaluators_nearby`) rather than `..._close_create` or
    `..._download_retrieve`. The suffix stays where it tells two operations of one path apart
    (`dossiers_transitions_list` / `dossiers_transitions_create`) and where a POST creates something (201)."""

    def get_operation_id(self) -> str:
        operation_id = super().get_operation_id()
        if getattr(self.view, "action", None) in STANDARD_ACTIONS:
            return operation_id
        # HEAD and OPTIONS are not operations (and DRF adds "head" to a route's action map once it served a GET).
        action_map = getattr(self.view, "action_map", None)
        if action_map is not None:
            methods = set(action_map) - {"head", "options"}
        else:
            methods = {m for m in self.view.http_method_names if m not in {"options", "head"} and hasattr(self.view, m)}
        if len(methods) > 1:
            return operation_id
        if operation_id.endswith("_retrieve"):
            return operation_id.removesuffix("_retrieve")
        responses = self.get_response_serializers()
        statuses: dict[Any, Any] = responses if isinstance(responses, dict) else {}
        creates = any(str(key[0] if isinstance(key, tuple) else key) == "201" for key in statuses)
        if operation_id.endswith("_create") and not creates:
            return operation_id.removesuffix("_create")
        return operation_id

    def _map_serializer_field(self, field: Any, direction: str, bypass_extensions: bool = False) -> dict[str, Any]:
        # A read-only field of a ModelSerializer loses `allow_blank` (DRF drops it with `read_only`), so a choice
        # left blank in the row ("" for a seat's attendance before deliberation) would break the declared enum.
        if isinstance(field, serializers.ChoiceField) and field.read_only and not field.allow_blank:
            model = getattr(getattr(field.parent, "Meta", None), "model", None)
            try:
                model_field = model._meta.get_field(field.source) if model is not None else None
            except FieldDoesNotExist:
                model_field = None
            if model_field is not None and getattr(model_field, "blank", False):
                field.allow_blank = True
        return super()._map_serializer_field(field, direction, bypass_extensions)


ERROR: dict[str, Any] = {
    "type": "object",
    "properties": {
        "code": {"type": "string", "description": "Code stable, pour les programmes."},
        "message": {"type": "string", "description": "Explication en français, pour les personnes."},
    },
    "required": ["code", "message"],
}
VALIDATION_ERROR = {
    "type": "object",
    "properties": {
        **ERROR["properties"],
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string", "description": "Le champ en cause (« non_field_errors » sinon)."},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                },
                "required": ["field", "code", "message"],
            },
        },
    },
    "required": ["code", "message"],
}

# (status, description, schema): who gets it is decided per operation below.
RESPONSES = {
    "400": ("Données invalides : chaque erreur nomme son champ.", "ValidationError"),
    "401": ("Authentification requise : session ou jeton d'API.", "Error"),
    "403": ("Le rôle de l'adhésion courante ne permet pas cette action.", "Error"),
    "404": ("Objet inexistant ou d'un autre organisme.", "Error"),
    "409": ("Refus d'une règle métier (étape impossible maintenant, jury, financement…).", "Error"),
    "405": ("Méthode non permise sur ce chemin (l'en-tête Allow donne celles qui le sont).", "Error"),
    "406": ("Aucun format de réponse ne convient à l'en-tête Accept : l'API répond en JSON.", "Error"),
    "415": ("Corps de requête d'un autre type que ceux déclarés (JSON : Content-Type: application/json).", "Error"),
    "429": ("Trop de requêtes : réessayer plus tard.", "Error"),
}


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular post-processing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"])."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", ERROR)
    schemas.setdefault("ValidationError", VALIDATION_ERROR)
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            # No security requirement (auth=[]), or "{}" among them: anonymous callers are let in.
            anonymous = {} in operation.get("security", [{}])
            # 405 and 406 can answer any operation (another method on the path, an Accept the API cannot serve);
            # 415 any that reads a body.
            codes = {"400", "405", "406", "429"}
            if "requestBody" in operation:
                codes.add("415")
            if "{" in path:
                codes.add("404")
            if not anonymous:
                codes |= {"401", "403"}
            if method in {"post", "put", "patch", "delete"}:
                codes.add("409")
            responses = operation.setdefault("responses", {})
            for code in sorted(codes):
                description, schema = RESPONSES[code]
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
                    },
                )
    return result
