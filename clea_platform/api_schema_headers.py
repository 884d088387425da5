"""The schema declares the headers of safe writes (clea_platform.api_headers, organisations.api_idempotency), so that
generated clients offer them and schemathesis sends them: `Idempotency-Key` on authenticated POSTs, `If-Match` on
writes to one resource, `If-None-Match` and `ETag` on reads, the RateLimit-* headers on answers, and the answers
they add (304, 412, 422)."""

from __future__ import annotations

from typing import Any

from clea_platform.api_headers import RESOURCE

HEADERS: dict[str, Any] = {
    "ETag": {
        "description": "Empreinte de la représentation (après une écriture avec If-Match : la nouvelle) : à renvoyer "
        "dans If-None-Match ou If-Match.",
        "schema": {"type": "string"},
    },
    "RateLimit-Limit": {"description": "Requêtes permises dans la fenêtre.", "schema": {"type": "integer"}},
    "RateLimit-Remaining": {"description": "Requêtes restant dans la fenêtre.", "schema": {"type": "integer"}},
    "RateLimit-Reset": {
        "description": "Secondes avant qu'une requête de la fenêtre se libère.",
        "schema": {"type": "integer"},
    },
    "RateLimit-Policy": {"description": "« <limite>;w=<fenêtre en secondes> ».", "schema": {"type": "string"}},
    "Idempotent-Replayed": {
        "description": "« true » : réponse enregistrée d'une requête déjà reçue avec cette Idempotency-Key.",
        "schema": {"type": "string"},
    },
}
RATE_LIMIT = ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy"]

IDEMPOTENCY_KEY = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "description": "Clé choisie par le client, une par opération (UUID v4 par exemple) : renvoyée avec la même "
    "requête dans les 24 heures, la réponse enregistrée est rendue sans rien refaire.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x20-\\x7e]+$"},
}
IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": False,
    "description": "Facultatif : l'ETag lu ; 412 si la ressource a changé depuis.",
    "schema": {"type": "string"},
}
IF_NONE_MATCH = {
    "in": "header",
    "name": "If-None-Match",
    "required": False,
    "description": "L'ETag déjà lu : 304 sans corps si rien n'a changé.",
    "schema": {"type": "string"},
}


def _error(description: str, schema: str = "Error") -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def add_safe_write_headers(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular post-processing hook, after clea_platform.api_schema.add_error_responses."""
    components = result.setdefault("components", {})
    components.setdefault("headers", {}).update(HEADERS)
    paths = result.get("paths", {})
    for path, operations in paths.items():
        # /api/v1/<resources>/{id}/..., whose GET /api/v1/<resources>/{id}/ exists.
        resource = RESOURCE.match(path)
        has_resource = resource is not None and "{" in resource.group(0) and "get" in paths.get(resource.group(0), {})
        for method, operation in operations.items():
            anonymous = {} in operation.get("security", [{}])
            parameters = operation.setdefault("parameters", [])
            responses = operation.setdefault("responses", {})
            if method == "post" and not anonymous:
                parameters.append(IDEMPOTENCY_KEY)
                responses.setdefault("409", _error("Refus d'une règle métier, ou requête de même clé en cours."))
                responses.setdefault("422", _error("Idempotency-Key déjà utilisée pour une autre requête."))
            if method in {"post", "put", "patch", "delete"} and has_resource:
                parameters.append(IF_MATCH)
                responses.setdefault("412", _error("La ressource a changé depuis la lecture (If-Match)."))
            if method == "get":
                parameters.append(IF_NONE_MATCH)
                responses.setdefault("304", {"description": "Rien n'a changé depuis la lecture (If-None-Match)."})
            for code, response in responses.items():
                if not isinstance(response, dict) or not (code.startswith("2") or code == "429"):
                    continue
                names = [*RATE_LIMIT]
                if (method == "get" and code == "200") or (method != "get" and has_resource and code.startswith("2")):
                    names.append("ETag")
                if method == "post" and not anonymous and code.startswith("2"):
                    names.append("Idempotent-Replayed")
                headers = response.setdefault("headers", {})
                for name in names:
                    headers.setdefault(name, {"$ref": f"#/components/headers/{name}"})
    return result
