"""Envelopes made from templates: `templateId` + `templateRoles`, and `compositeTemplates`.

Both are turned into a plain envelope definition (documents, recipients, customFields) before envelopes.py
parses it, so an envelope from a template obeys every rule a plain one does.
- `templateId` + `templateRoles`: each role fills the template's placeholder (a recipient without a fixed email)
  of the identical `roleName`, and of the same `routingOrder` when the role gives one, with name, email,
  clientUserId, and tab values (`tabs.textTabs[{tabLabel, value}]` set the value of the template's tab of that
  label). A role that matches no placeholder (another name, another routing order, or a fixed recipient's role) is
  not refused: DocuSign adds it as a new signer, at routing order 1 unless it gives one. A placeholder nobody fills
  is left out of the envelope (UNVERIFIED: DocuSign drops an unfilled placeholder).
  Evidence for the matching: DocuSign's developer FAQ ("Why aren't my template roles matching?" and "Different
  role, same name or email": a new recipient),
  https://support.docusign.com/en/articles/DocuSign-Developer-FAQs-Templates-Envelopes-and-Connect ; and a DocuSign
  developer advocate's answer (Stack Overflow question 69200936) that a templateRole for a fixed recipient is added
  as a new recipient at routing order 1, by design.
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


def _matches(placeholder: dict[str, Any], role: dict[str, Any]) -> bool:
    """A role fills a placeholder of the identical roleName, and the same routingOrder when it gives one."""
    if placeholder.get("email") or str(placeholder.get("roleName") or "") != str(role.get("roleName") or ""):
        return False
    order = str(role.get("routingOrder") or "")
    return not order or order == str(placeholder.get("routingOrder") or "1")


def _roles_filled(template_recipients: dict[str, list[dict[str, Any]]],
                  roles: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The template's recipients with their placeholders filled by the roles; unmatched roles added as signers."""
    result: dict[str, list[dict[str, Any]]] = {group: [] for group in RECIPIENT_GROUPS}
    unmatched = list(roles)
    for group in RECIPIENT_GROUPS:
        for recipient in template_recipients.get(group, []):
            role = next((r for r in unmatched if _matches(recipient, r)), None)
            if role is not None:
                unmatched.remove(role)
            filled = _fill(recipient, role) if role is not None else copy.deepcopy(recipient)
            if filled.get("email") and filled.get("name"):
                result[group].append(filled)
    taken = [int(r["recipientId"]) for g in result.values() for r in g if str(r.get("recipientId", "")).isdigit()]
    for number, role in enumerate(unmatched, start=max([*taken, 0]) + 1):
        added = {key: role[key] for key in ("name", "email", "clientUserId", "roleName", "tabs") if key in role}
        result["signers"].append({**added, "recipientId": str(number), "routingOrder": str(role.get("routingOrder") or "1")})
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
        target = next(((g, i) for g in RECIPIENT_GROUPS for i, r in enumerate(result[g])
                       if item.get("roleName") and _matches(r, {**item, "routingOrder": None})), None)
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
