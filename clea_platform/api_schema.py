"""The OpenAPI schema declares the error answers of every operation, in the shape `api_errors.py` gives them, so
that integrators (and schemathesis' status-code check) know a 404 or a 409 is part of the contract."""

from __future__ import annotations

from typing import Any

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
    "404": ("Objet inexistant ou d'un autre organisme, ou page au-delà de la liste.", "Error"),
    "409": ("Refus d'une règle métier (étape impossible maintenant, jury, financement…).", "Error"),
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
            codes = {"400", "429"}
            paginated = any(p.get("name") == "page" for p in operation.get("parameters", []))
            if "{" in path or paginated:
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
