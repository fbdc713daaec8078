"""The OpenAPI schema's shared parts: the Api-Key security scheme and the problem responses every operation can give."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

PROBLEM_STATUSES = {
    "400": "Bad input: `errors` names the fields. Nothing was created at DocuSign.",
    "401": "No API key, or an unknown, revoked or expired one.",
    "404": "No such object in the key's organization.",
    "405": "Method not allowed.",
    "406": "Not acceptable.",
    "409": "Not possible now (organization not ready, request with this Idempotency-Key still running, envelope not "
           "completed).",
    "415": "Unsupported media type.",
    "422": "DocuSign refused the request (`docusign_error_code`), or an Idempotency-Key reused with another body.",
    "429": "Too many requests with this key, or DocuSign's rate limit for the account: see Retry-After.",
}
PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "code": {"type": "string", "description": "Stable: branch on this."},
        "docusign_error_code": {"type": "string", "description": "DocuSign's errorCode, when DocuSign refused."},
        "errors": {"type": "array", "items": {"type": "object", "properties": {
            "field": {"type": "string", "nullable": True}, "message": {"type": "string"}}}},
    },
}


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.OrganizationKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": 'The value "Api-Key PREFIX.SECRET" (from `manage.py api_key create` or the admin).'}


def add_problem_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: every operation documents the problem+json answers it can give."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    content = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for status, description in PROBLEM_STATUSES.items():
                responses.setdefault(status, {"description": description, "content": content})
    return result
