"""Envelopes made from templates: `templateId` + `templateRoles`, and `compositeTemplates`.

Both are turned into a plain envelope definition (documents, recipients, customFields) before envelopes.py
parses it, so an envelope from a template obeys every rule a plain one does.
- `templateId` + `templateRoles`: each role fills the template recipient of the same `roleName` (case-insensitive)
  with name, email, clientUserId, and tab values (`tabs.textTabs[{tabLabel, value}]` set the value of the template's
  tab of that label). A role the template does not have is refused. A template role nobody fills is left out of
  the envelope (UNVERIFIED: DocuSign drops an unfilled role's placeholder).
- `compositeTemplates`: each composite's layers (serverTemplates and inlineTemplates) are applied in `sequence`
  order; its documents are its own `document` if given, else the first layer's that has any; inline recipients fill
  the server template's roles of their roleName, or are added. Recipients of several composites merge by
  recipientId; a documentId already taken is renumbered to the next free number.
References: https://developers.docusign.com/docs/esign-rest-api/esign101/concepts/templates/composite/ ,
https://developers.docusign.com/docs/esign-rest-api/reference/envelopes/envelopes/create/
"""

from __future__ import annotations

import copy
from typing import Any

from .api import ApiError
from .models import Account
from .templates_api import RECIPIENT_GROUPS, template_for

BODY_ERROR = "The request body is missing or improperly formatted."
FILLED_FROM_ROLE = ("name", "email", "clientUserId", "routingOrder", "recipientId")


def _role_not_in_template(role: str) -> ApiError:
    # UNVERIFIED code and wording: DocuSign's own answer to a role the template lacks was not found.
    return ApiError("TEMPLATE_ROLE_NOT_FOUND", f"The role '{role}' is not a recipient role of the template.")


def _objects(value: object, what: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ApiError("INVALID_REQUEST_BODY", f"{BODY_ERROR} '{what}' must be a list of objects.")
    return value


def _with_tab_values(tabs: dict[str, Any], values: object) -> dict[str, Any]:
    """The template's tabs with the values a role gives by tabLabel; tabs the template lacks are added."""
    merged = copy.deepcopy(tabs) if isinstance(tabs, dict) else {}
    if not isinstance(values, dict):
        return merged
    for kind, given in values.items():
        existing = merged.setdefault(kind, [])
        for tab in _objects(given, f"tabs.{kind}"):
            label = str(tab.get("tabLabel") or "")
            match = next((t for t in existing if label and str(t.get("tabLabel") or "") == label), None)
            if match is not None:
                match.update({k: v for k, v in tab.items() if k in ("value", "locked", "selected")})
            else:
                existing.append(dict(tab))
    return merged


def _fill(recipient: dict[str, Any], role: dict[str, Any]) -> dict[str, Any]:
    filled = {**recipient, **{key: role[key] for key in FILLED_FROM_ROLE if role.get(key) not in (None, "")}}
    filled["tabs"] = _with_tab_values(recipient.get("tabs") or {}, role.get("tabs"))
    return filled


def _roles_filled(template_recipients: dict[str, list[dict[str, Any]]],
                  roles: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The template's recipients, each filled by the role of its roleName; unfilled placeholders left out."""
    by_role = {str(r.get("roleName") or "").strip().lower(): r for r in roles if r.get("roleName")}
    known = {str(item.get("roleName") or "").strip().lower()
             for group in RECIPIENT_GROUPS for item in template_recipients.get(group, [])}
    result: dict[str, list[dict[str, Any]]] = {group: [] for group in RECIPIENT_GROUPS}
    for group in RECIPIENT_GROUPS:
        for recipient in template_recipients.get(group, []):
            role = by_role.get(str(recipient.get("roleName") or "").strip().lower())
            filled = _fill(recipient, role) if role is not None else copy.deepcopy(recipient)
            if filled.get("email") and filled.get("name"):
                result[group].append(filled)
    for role in roles:
        name = str(role.get("roleName") or "").strip()
        if name.lower() not in known:
            raise _role_not_in_template(name)
    return result


def from_template(definition: dict[str, Any], account: Account) -> dict[str, Any]:
    template = template_for(account, definition["templateId"])
    stored = template.definition
    roles = _objects(definition.get("templateRoles"), "templateRoles")
    for role in roles:
        if not str(role.get("roleName") or "").strip():
            raise ApiError("INVALID_REQUEST_BODY", f"{BODY_ERROR} Each template role needs a 'roleName'.")
    expanded = {key: value for key, value in definition.items() if key not in ("templateId", "templateRoles")}
    expanded["documents"] = copy.deepcopy(stored.get("documents", []))
    expanded["recipients"] = _roles_filled(stored.get("recipients", {}), roles)
    expanded.setdefault("emailSubject", stored.get("emailSubject", ""))
    expanded.setdefault("emailBlurb", stored.get("emailBlurb", ""))
    expanded["customFields"] = _merged_custom_fields(stored.get("customFields"), definition.get("customFields"))
    return expanded


def _merged_custom_fields(*sources: object) -> dict[str, list[Any]]:
    merged: dict[str, list[Any]] = {"textCustomFields": [], "listCustomFields": []}
    for source in sources:
        if isinstance(source, dict):
            for group in merged:
                merged[group] += [f for f in _objects(source.get(group), group)
                                  if f.get("name") not in {g.get("name") for g in merged[group]}]
    return merged


def _composite(composite: dict[str, Any], account: Account,
               subject: dict[str, Any]) -> tuple[list[dict], list[tuple[str, dict]], list[Any]]:
    """One composite template's documents, (group, recipient) pairs and custom fields; `subject` takes the first
    server template's emailSubject and emailBlurb (the request's own win)."""
    layers: list[tuple[int, str, dict[str, Any]]] = []
    for kind in ("serverTemplates", "inlineTemplates"):
        for layer in _objects(composite.get(kind), f"compositeTemplates.{kind}"):
            sequence = str(layer.get("sequence") or "1")
            if not sequence.isdigit():
                raise ApiError("INVALID_REQUEST_BODY", f"{BODY_ERROR} 'sequence' must be a number.")
            layers.append((int(sequence), kind, layer))
    if not layers and not composite.get("document"):
        raise ApiError("INVALID_REQUEST_BODY", f"{BODY_ERROR} A composite template needs a server or inline template.")
    layers.sort(key=lambda entry: entry[0])
    documents: list[dict[str, Any]] = []
    recipients: dict[str, list[dict[str, Any]]] = {group: [] for group in RECIPIENT_GROUPS}
    fields: list[Any] = []
    for _, kind, layer in layers:
        if kind == "serverTemplates":
            stored = template_for(account, str(layer.get("templateId") or "")).definition
            layer_documents, layer_recipients = stored.get("documents", []), stored.get("recipients", {})
            fields.append(stored.get("customFields"))
            for key in ("emailSubject", "emailBlurb"):
                if stored.get(key):
                    subject.setdefault(key, stored[key])
            placeholders = {g: [*recipients[g], *copy.deepcopy(layer_recipients.get(g, []))] for g in RECIPIENT_GROUPS}
            recipients = placeholders
        else:
            layer_documents = _objects(layer.get("documents"), "inlineTemplates.documents")
            groups = layer.get("recipients") or {}
            if not isinstance(groups, dict):
                raise ApiError("INVALID_REQUEST_BODY", BODY_ERROR)
            fields.append(layer.get("customFields"))
            for group in RECIPIENT_GROUPS:
                recipients = _overlay(recipients, group, _objects(groups.get(group), f"recipients.{group}"))
        if not documents:
            documents = copy.deepcopy(layer_documents)
    if isinstance(composite.get("document"), dict):
        documents = [dict(composite["document"])]
    pairs = [(group, r) for group in RECIPIENT_GROUPS for r in recipients[group] if r.get("email") and r.get("name")]
    return documents, pairs, fields


def _overlay(recipients: dict[str, list[dict[str, Any]]], group: str,
             inline: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Inline recipients fill the placeholders of their roleName (in any group), or join `group`."""
    result = {g: list(items) for g, items in recipients.items()}
    for item in inline:
        role = str(item.get("roleName") or "").strip().lower()
        target = next(((g, i) for g in RECIPIENT_GROUPS for i, r in enumerate(result[g])
                       if role and str(r.get("roleName") or "").strip().lower() == role), None)
        if target is None:
            result[group].append(dict(item))
        else:
            found_group, index = target
            result[found_group][index] = _fill(result[found_group][index], item)
    return result


def from_composites(definition: dict[str, Any], account: Account) -> dict[str, Any]:
    composites = _objects(definition.get("compositeTemplates"), "compositeTemplates")
    expanded = {key: value for key, value in definition.items() if key not in ("compositeTemplates", "documents")}
    documents: list[dict[str, Any]] = []
    recipients: dict[str, list[dict[str, Any]]] = {group: [] for group in RECIPIENT_GROUPS}
    by_id: dict[str, dict[str, Any]] = {}
    fields: list[Any] = [definition.get("customFields")]
    for composite in composites:
        composite_documents, pairs, composite_fields = _composite(composite, account, expanded)
        taken = {str(d.get("documentId")) for d in documents}
        for document in composite_documents:
            if str(document.get("documentId")) in taken:
                document["documentId"] = str(max((int(i) for i in taken if i.isdigit()), default=0) + 1)
            taken.add(str(document["documentId"]))
            documents.append(document)
        for group, recipient in pairs:
            key = str(recipient.get("recipientId") or "")
            if key and key in by_id:  # the same signer across composites: one recipient, tabs joined
                tabs = by_id[key].setdefault("tabs", {})
                for kind, items in (recipient.get("tabs") or {}).items():
                    tabs.setdefault(kind, []).extend(items if isinstance(items, list) else [])
                continue
            recipient = copy.deepcopy(recipient)
            by_id[key] = recipient
            recipients[group].append(recipient)
        fields += composite_fields
    expanded["documents"], expanded["recipients"] = documents, recipients
    expanded["customFields"] = _merged_custom_fields(*fields)
    return expanded


def expand(definition: dict[str, Any], account: Account) -> dict[str, Any]:
    """A create-envelope body with its template references resolved; a plain body comes back unchanged."""
    if definition.get("compositeTemplates"):
        return from_composites(definition, account)
    if definition.get("templateId"):
        return from_template(definition, account)
    if definition.get("templateRoles"):
        raise ApiError("INVALID_REQUEST_BODY", f"{BODY_ERROR} 'templateRoles' needs a 'templateId'.")
    return definition
