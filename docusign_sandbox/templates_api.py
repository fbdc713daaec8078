"""Server templates: `/templates` create, list, get, update, delete.

A template is an envelope definition with roles in place of people: its recipients carry a `roleName` and may
leave out name and email, which `templateRoles` (or an inline template) fill in when an envelope is made from it
(composition.py). Documents are converted to PDF when the template is saved, as DocuSign does.
Reference: https://developers.docusign.com/docs/esign-rest-api/reference/templates/templates/
"""

from __future__ import annotations

import base64
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods

from . import clock, custom_fields, router
from .api import ApiError, Caller, json_response, read_json, rest_endpoint
from .models import Account, Template

BODY_ERROR = "The request body is missing or improperly formatted."
TEMPLATE_ID_INVALID = "Invalid template ID."  # DocuSign's TEMPLATE_ID_INVALID; the exact message is UNVERIFIED
RECIPIENT_GROUPS = ("signers", "carbonCopies")
DEFINITION_KEYS = ("emailSubject", "emailBlurb", "documents", "recipients", "customFields")
MAX_NAME, MAX_DESCRIPTION = 100, 500
DEFAULT_COUNT, MAX_COUNT = 100, 2000


def template_for(account: Account, template_id: str) -> Template:
    """The account's template, or TEMPLATE_ID_INVALID (another account's template answers the same)."""
    found = (Template.objects.select_related("owner")
             .filter(account=account, template_id__iexact=str(template_id).strip()).first())
    if found is None:
        raise ApiError("TEMPLATE_ID_INVALID", TEMPLATE_ID_INVALID)
    return found


def _string(body: dict[str, Any], key: str, limit: int) -> str:
    value = body.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ApiError("INVALID_REQUEST_BODY", f"{BODY_ERROR} '{key}' must be a string.")
    if len(value) > limit:
        raise ApiError("INVALID_REQUEST_BODY", f"{BODY_ERROR} '{key}' is longer than {limit} characters.")
    return value.strip()


def _stored_documents(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The template's documents, each converted to PDF now (envelopes' own parser checks and converts them)."""
    from .envelopes import _documents  # envelopes imports composition, which imports this module

    return [{"documentId": d.document_id, "name": d.name, "fileExtension": "pdf", "order": str(d.order),
             "documentBase64": base64.b64encode(bytes(d.content)).decode()} for d in _documents(body)]


def _stored_recipients(body: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Template roles: each needs a recipientId, and a roleName or both a name and an email."""
    groups = body.get("recipients") or {}
    if not isinstance(groups, dict):
        raise ApiError("INVALID_REQUEST_BODY", BODY_ERROR)
    stored: dict[str, list[dict[str, Any]]] = {}
    role_names: set[str] = set()
    for group in RECIPIENT_GROUPS:
        items = groups.get(group) or []
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise ApiError("INVALID_REQUEST_BODY", f"{BODY_ERROR} 'recipients.{group}' must be a list of objects.")
        for item in items:
            role, recipient_id = str(item.get("roleName") or "").strip(), str(item.get("recipientId") or "").strip()
            if not recipient_id or not (role or (item.get("name") and item.get("email"))):
                raise ApiError("INVALID_REQUEST_BODY", f"{BODY_ERROR} Each template recipient needs a 'recipientId' "
                               "and a 'roleName' (or a fixed 'name' and 'email').")
            if role and role.lower() in role_names:
                raise ApiError("INVALID_REQUEST_BODY", f"{BODY_ERROR} Role '{role}' appears twice in the template.")
            role_names.add(role.lower())
        stored[group] = items
    return stored


def _definition(body: dict[str, Any], current: dict[str, Any] | None = None) -> dict[str, Any]:
    """The stored definition: what `body` gives replaces the current value, the rest is kept."""
    definition = dict(current or {})
    if "documents" in body:
        definition["documents"] = _stored_documents(body)
    if "recipients" in body:
        definition["recipients"] = _stored_recipients(body)
    if "customFields" in body:
        custom_fields.parse(body["customFields"])  # checked now, attached to each envelope made from it
        definition["customFields"] = body["customFields"]
    for key in ("emailSubject", "emailBlurb"):
        if key in body:
            definition[key] = _string(body, key, 10000 if key == "emailBlurb" else 200)
    return definition


def template_json(template: Template, *, with_documents: bool = True) -> dict[str, Any]:
    """`envelopeTemplate` as GET answers it: documents listed without their bytes."""
    definition = template.definition
    recipients: dict[str, Any] = {group: definition.get("recipients", {}).get(group, []) for group in RECIPIENT_GROUPS}
    recipients["recipientCount"] = str(sum(len(items) for items in recipients.values()))
    data: dict[str, Any] = {
        "templateId": template.template_id, "name": template.name, "description": template.description,
        "shared": "false", "created": clock.iso(template.created), "lastModified": clock.iso(template.last_modified),
        "owner": {"userName": template.owner.name, "userId": template.owner.user_id, "email": template.owner.email},
        "emailSubject": definition.get("emailSubject", ""), "emailBlurb": definition.get("emailBlurb", ""),
        "uri": f"/templates/{template.template_id}", "recipients": recipients,
    }
    if with_documents:
        data["documents"] = [{key: d[key] for key in ("documentId", "name", "order")}
                             | {"uri": f"/templates/{template.template_id}/documents/{d['documentId']}"}
                             for d in definition.get("documents", [])]
    if "customFields" in definition:
        data["customFields"] = custom_fields.fields_json(custom_fields.parse(definition["customFields"]))
    return data


def _summary(template: Template) -> dict[str, Any]:
    return {"templateId": template.template_id, "name": template.name, "uri": f"/templates/{template.template_id}"}


def _paging(request: HttpRequest, name: str, default: int) -> int:
    value = request.GET.get(name, "").strip() or str(default)
    if not value.isdigit():
        raise ApiError("INVALID_REQUEST_PARAMETER", f"The request contained at least one invalid parameter. "
                       f"Invalid value for '{name}'.")
    return int(value)


def list_templates(request: HttpRequest, caller: Caller) -> HttpResponse:
    """GET /templates: envelopeTemplateResults, filtered by `search_text`, paged by count and start_position."""
    found = Template.objects.filter(account=caller.account).select_related("owner").order_by("name", "pk")
    if search := request.GET.get("search_text", "").strip():
        found = found.filter(Q(name__icontains=search) | Q(description__icontains=search))
    count, start = min(_paging(request, "count", DEFAULT_COUNT), MAX_COUNT), _paging(request, "start_position", 0)
    total = found.count()
    page = list(found[start:start + count])
    return json_response({
        "envelopeTemplates": [template_json(t, with_documents=False) for t in page],
        "resultSetSize": str(len(page)), "totalSetSize": str(total), "startPosition": str(start),
        "endPosition": str(start + len(page) - 1),
    })


def create_template(request: HttpRequest, caller: Caller) -> HttpResponse:
    """POST /templates: 201 templateSummary."""
    body = read_json(request)
    name = _string(body, "name", MAX_NAME)
    if not name:
        raise ApiError("INVALID_REQUEST_BODY", f"{BODY_ERROR} A template needs a 'name'.")
    definition = _definition(body)
    now = clock.now()
    template = Template.objects.create(account=caller.account, owner=caller.user, name=name,
                                       description=_string(body, "description", MAX_DESCRIPTION),
                                       definition=definition, created=now, last_modified=now)
    return json_response(_summary(template), status=201)


@rest_endpoint
@require_http_methods(["GET", "POST"])
def templates(request: HttpRequest, caller: Caller) -> HttpResponse:
    if request.method == "POST":
        return create_template(request, caller)
    return list_templates(request, caller)


@rest_endpoint
@require_http_methods(["GET", "PUT", "DELETE"])
def template(request: HttpRequest, caller: Caller, template_id: str) -> HttpResponse:
    """GET the template; PUT replaces the parts given (templateUpdateSummary); DELETE removes it."""
    found = template_for(caller.account, template_id)
    if request.method == "GET":
        return json_response(template_json(found))
    if request.method == "DELETE":
        # UNVERIFIED: DocuSign's v2.1 reference moves templates to the recycle bin (PUT /folders/recyclebin);
        # the sandbox models a plain delete, documented in docs/sandbox.md.
        found.delete()
        return json_response(_summary(found))
    body = read_json(request)
    with transaction.atomic(using=router.database()):
        found = Template.objects.select_for_update().select_related("owner").get(pk=found.pk)
        if "name" in body:
            found.name = _string(body, "name", MAX_NAME) or found.name
        if "description" in body:
            found.description = _string(body, "description", MAX_DESCRIPTION)
        found.definition = _definition(body, found.definition)
        found.last_modified = clock.now()
        found.save()
    # templateUpdateSummary: DocuSign reports the template's id as envelopeId (UNVERIFIED).
    return json_response({"envelopeId": found.template_id, "recipientUpdateResults": [],
                          "textCustomFieldUpdateResults": [], "listCustomFieldUpdateResults": []})
