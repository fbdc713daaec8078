"""Envelope custom fields: `customFields` on create, `/envelopes/{id}/custom_fields`, and the list filter.

Text fields carry a free value; list fields a value from their `listItems`. They come back on GET envelope and
list status changes with `include=custom_fields`, in Connect messages whose `includeData` asks for them, and
`?custom_field=Name=Value` on list status changes selects envelopes by one (`%` around the value: contains).
Reference: https://developers.docusign.com/docs/esign-rest-api/reference/envelopes/envelopecustomfields/
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods

from . import clock, router
from .api import ApiError, Caller, json_response, read_json, rest_endpoint
from .models import Envelope, EnvelopeCustomField

GROUPS = {"textCustomFields": EnvelopeCustomField.TEXT, "listCustomFields": EnvelopeCustomField.LIST}
BODY_ERROR = "The request body is missing or improperly formatted."
MAX_NAME, MAX_VALUE = 100, 500
# Envelopes can be changed (fields added, edited, removed) until they are finished.
OPEN_STATUSES = ("created", "sent", "delivered")


def _flag(item: dict[str, Any], key: str, default: bool) -> bool:
    value = item.get(key)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ApiError("INVALID_REQUEST_BODY", f"{BODY_ERROR} '{key}' must be 'true' or 'false'.")


def _string(item: dict[str, Any], key: str, limit: int) -> str:
    value = item.get(key)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ApiError("INVALID_REQUEST_BODY", f"{BODY_ERROR} '{key}' of a custom field must be a string.")
    text = str(value).strip()
    if len(text) > limit:
        raise ApiError("INVALID_REQUEST_BODY", f"{BODY_ERROR} '{key}' of a custom field is longer than {limit}.")
    return text


def parse(body: object, *, need_id: bool = False) -> list[EnvelopeCustomField]:
    """The fields of a `customFields` object (unsaved); `need_id` for updates and deletes, which name fields by id."""
    if body is None:
        return []
    if not isinstance(body, dict):
        raise ApiError("INVALID_REQUEST_BODY", BODY_ERROR)
    fields = []
    for group, kind in GROUPS.items():
        items = body.get(group) or []
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise ApiError("INVALID_REQUEST_BODY", f"{BODY_ERROR} '{group}' must be a list of objects.")
        for item in items:
            field = EnvelopeCustomField(kind=kind, field_id=_string(item, "fieldId", 20), name=_string(item, "name", MAX_NAME),
                                        value=_string(item, "value", MAX_VALUE), show=_flag(item, "show", True),
                                        required=_flag(item, "required", False))
            if need_id and not field.field_id:
                raise ApiError("INVALID_REQUEST_BODY", f"{BODY_ERROR} Each custom field needs its 'fieldId'.")
            if not need_id and not field.name:
                raise ApiError("INVALID_REQUEST_BODY", f"{BODY_ERROR} Each custom field needs a 'name'.")
            if kind == EnvelopeCustomField.LIST:
                field.list_items = _list_items(item)
            fields.append(field)
    names = [f.name.lower() for f in fields if f.name]
    if len(names) != len(set(names)):
        raise ApiError("DUPLICATE_CUSTOM_FIELD_NAME",  # UNVERIFIED code: the sandbox's own wording
                       "Custom field names must be unique within an envelope.")
    return fields


def _list_items(item: dict[str, Any]) -> list[str]:
    items = item.get("listItems") or []
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise ApiError("INVALID_REQUEST_BODY", f"{BODY_ERROR} 'listItems' must be a list of strings.")
    value = str(item.get("value") or "")
    if value and value not in items:
        raise ApiError("INVALID_LIST_CUSTOM_FIELD_VALUE",  # UNVERIFIED code: the sandbox's own wording
                       f"The value '{value}' of list custom field '{item.get('name', '')}' is not one of its listItems.")
    return items


def attach(envelope: Envelope, fields: list[EnvelopeCustomField]) -> None:
    """Save new fields on `envelope`, numbering them after its existing ones (DocuSign assigns fieldId)."""
    existing = list(envelope.custom_fields.all())
    taken = {f.name.lower() for f in existing}
    if any(f.name.lower() in taken for f in fields):
        raise ApiError("DUPLICATE_CUSTOM_FIELD_NAME",  # UNVERIFIED code
                       "A custom field with that name already exists on the envelope.")
    next_id = max((int(f.field_id) for f in existing if f.field_id.isdigit()), default=0) + 1
    for offset, field in enumerate(fields):
        field.envelope, field.field_id = envelope, str(next_id + offset)
    EnvelopeCustomField.objects.bulk_create(fields)


def field_json(field: EnvelopeCustomField) -> dict[str, Any]:
    data: dict[str, Any] = {"fieldId": field.field_id, "name": field.name, "show": "true" if field.show else "false",
                            "required": "true" if field.required else "false", "value": field.value}
    if field.kind == EnvelopeCustomField.LIST:
        data["listItems"] = list(field.list_items)
    return data


def fields_json(fields: list[EnvelopeCustomField]) -> dict[str, list[dict[str, Any]]]:
    """`customFields` (textCustomFields, listCustomFields) of the given fields, in fieldId order."""
    ordered = sorted(fields, key=lambda f: (len(f.field_id), f.field_id))
    return {group: [field_json(f) for f in ordered if f.kind == kind] for group, kind in GROUPS.items()}


def custom_fields_json(envelope: Envelope) -> dict[str, list[dict[str, Any]]]:
    """The envelope's `customFields`; reads a prefetched `custom_fields` without a query."""
    return fields_json(list(envelope.custom_fields.all()))


def filter_envelopes(found: QuerySet[Envelope], request: HttpRequest) -> QuerySet[Envelope]:
    """`?custom_field=Name=Value` (repeatable, all must match); `%Value%` matches a value containing it."""
    for condition in request.GET.getlist("custom_field"):
        name, separator, value = condition.partition("=")
        if not separator or not name.strip():
            raise ApiError("INVALID_REQUEST_PARAMETER", "The request contained at least one invalid parameter. "
                           "Value for 'custom_field' must be of the form name=value.")
        matching = EnvelopeCustomField.objects.filter(name__iexact=name.strip())
        if len(value) > 1 and value.startswith("%") and value.endswith("%"):
            matching = matching.filter(value__icontains=value[1:-1])
        else:
            matching = matching.filter(value=value)
        found = found.filter(pk__in=matching.values("envelope_id"))
    return found


def _open_envelope(caller: Caller, envelope_id: str) -> Envelope:
    from .envelopes import envelope_for  # envelopes imports this module for create

    envelope = envelope_for(caller, envelope_id)
    if envelope.status not in OPEN_STATUSES:
        raise ApiError("ENVELOPE_INVALID_STATUS",  # UNVERIFIED code: the sandbox's own wording
                       f"Custom fields cannot be changed on an envelope in the '{envelope.status}' state.")
    return envelope


def _by_id(envelope: Envelope, fields: list[EnvelopeCustomField]) -> list[EnvelopeCustomField]:
    stored = {f.field_id: f for f in envelope.custom_fields.all()}
    missing = [f.field_id for f in fields if f.field_id not in stored]
    if missing:
        raise ApiError("CUSTOM_FIELD_DOES_NOT_EXIST",  # UNVERIFIED code: the sandbox's own wording
                       f"No custom field with fieldId {', '.join(missing)} exists on this envelope.")
    return [stored[f.field_id] for f in fields]


@rest_endpoint
@require_http_methods(["GET", "POST", "PUT", "DELETE"])
def envelope_custom_fields(request: HttpRequest, caller: Caller, envelope_id: str) -> HttpResponse:
    """GET, POST (add, 201), PUT (change value/show/required by fieldId), DELETE (by fieldId) custom fields."""
    if request.method == "GET":
        from .envelopes import envelope_for

        return json_response(custom_fields_json(envelope_for(caller, envelope_id)))
    envelope = _open_envelope(caller, envelope_id)
    body = read_json(request)
    with transaction.atomic(using=router.database()):
        Envelope.objects.select_for_update().filter(pk=envelope.pk).exists()
        if request.method == "POST":
            fields = parse(body)
            attach(envelope, fields)
            status = 201
        elif request.method == "PUT":
            changes = parse(body, need_id=True)
            fields = _by_id(envelope, changes)
            for field, change in zip(fields, changes, strict=True):
                field.value, field.show, field.required = change.value, change.show, change.required
                if field.kind == EnvelopeCustomField.LIST and field.value and field.value not in field.list_items:
                    raise ApiError("INVALID_LIST_CUSTOM_FIELD_VALUE",  # UNVERIFIED code
                                   f"The value '{field.value}' of list custom field '{field.name}' is not one of its "
                                   "listItems.")
                field.save(update_fields=["value", "show", "required"])
            status = 200
        else:
            fields = _by_id(envelope, parse(body, need_id=True))
            EnvelopeCustomField.objects.filter(pk__in=[f.pk for f in fields]).delete()
            status = 200
        Envelope.objects.filter(pk=envelope.pk).update(last_modified_at=clock.now())
    return json_response(fields_json(fields), status=status)
