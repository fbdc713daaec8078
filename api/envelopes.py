"""What the API's envelope endpoints do, in the organization of the request's key; DocuSign is spoken to only through
docusign_integration's named services (sending, envelopes.actions, documents).

Everything the API can check is checked before any DocuSign call: the template is allowed and its roles exist, the
documents are PDF/DOCX, the return URL and frame origins are the organization's, the end user is the signer's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from django.db.models import Exists, OuterRef, QuerySet

from docusign_integration.client.conf import parse_origin
from docusign_integration.envelopes.models.envelopes import EmbeddedSigner, Envelope
from docusign_integration.envelopes.sending import RecipientRequest, SignerIdentity, envelope_create
from tenants.models import ClientOrganization

from .models import CachedTemplate, EnvelopeMetadata, OrganizationApiSettings
from .problems import ApiProblem


def envelopes_of(organization: ClientOrganization) -> QuerySet[Envelope]:
    return Envelope.objects.filter(organization=organization)


def envelope_of(organization: ClientOrganization, envelope_id: str) -> Envelope:
    """The organization's envelope; another organization's (or none) is the same 404."""
    envelope = envelopes_of(organization).filter(envelope_id=envelope_id).first()
    if envelope is None:
        raise ApiProblem(404, "not_found", "No such envelope in this organization.")
    return envelope


def filtered(queryset: QuerySet[Envelope], filters: Mapping[str, Any]) -> QuerySet[Envelope]:
    if "status" in filters:
        queryset = queryset.filter(status=filters["status"])
    if "updated_since" in filters:
        queryset = queryset.filter(updated__gte=filters["updated_since"])
    if "metadata_key" in filters:
        entries = EnvelopeMetadata.objects.filter(envelope=OuterRef("pk"), key=filters["metadata_key"])
        if "metadata_value" in filters:
            entries = entries.filter(value=filters["metadata_value"])
        queryset = queryset.filter(Exists(entries))
    return queryset


def _recipient_requests(data: Mapping[str, Any], template: CachedTemplate | None) -> list[RecipientRequest]:
    roles = {role["role_name"]: role["recipient_id"] for role in template.roles} if template else {}
    requests = []
    for index, recipient in enumerate(data["recipients"]):
        role_name = recipient.get("role_name", "")
        if template is not None and role_name not in roles:
            raise ApiProblem(400, "invalid_request", f"The template has no role {role_name!r}; its roles: "
                             f"{', '.join(sorted(roles)) or 'none'}.", field=f"recipients.{index}.role_name")
        if template is None and (role_name or recipient.get("tabs")):
            raise ApiProblem(400, "invalid_request", "role_name and tabs belong to an envelope from a template.",
                             field=f"recipients.{index}.role_name")
        end_user_id = recipient.get("end_user_id", "")
        try:
            embedded_as = SignerIdentity.end_user(end_user_id) if end_user_id else None
        except ValueError as exc:
            raise ApiProblem(400, "invalid_request", str(exc), field=f"recipients.{index}.end_user_id") from None
        requests.append(RecipientRequest(name=recipient["name"], email=recipient["email"], embedded_as=embedded_as,
                                         role_name=role_name, recipient_id=roles.get(role_name, ""),
                                         tabs=recipient.get("tabs", {})))
    return requests


def allowed_template(organization: ClientOrganization, template_id: str) -> CachedTemplate:
    template = CachedTemplate.objects.filter(organization=organization, template_id=template_id, allowed=True).first()
    if template is None:
        raise ApiProblem(400, "template_not_allowed", "This organization may not send from that template (unknown, "
                         "not allowed by the ISV, or the template list needs a refresh).", field="template_id")
    return template


def envelope_create_from_api(organization: ClientOrganization, data: Mapping[str, Any], api_key_prefix: str) -> Envelope:
    """Create the envelope the API body describes (validated by EnvelopeCreate) and keep its metadata."""
    template = allowed_template(organization, data["template_id"]) if data.get("template_id") else None
    recipients = _recipient_requests(data, template)
    metadata = data.get("metadata") or {}
    envelope = envelope_create(
        acting_user=None, organization=organization, subject=data["subject"], recipients=recipients,
        documents=[d["document"] for d in data.get("documents") or []],
        template_id=template.template_id if template else "", send=data["status"] == "sent", metadata=metadata,
        audit_extra={"api_key": api_key_prefix, "metadata_keys": sorted(metadata)},
        # In the transaction that records the envelope, so its first outbound event already carries the metadata.
        on_recorded=lambda recorded: _metadata_record(recorded, metadata))
    return envelope


def _metadata_record(envelope: Envelope, metadata: Mapping[str, str]) -> None:
    EnvelopeMetadata.objects.bulk_create(
        [EnvelopeMetadata(envelope=envelope, key=key, value=value) for key, value in metadata.items()])


def as_json(envelope: Envelope, embedded_ids: Iterable[str] | None = None) -> dict[str, Any]:
    """The API's view of an envelope (EnvelopeOut); metadata and embedded signers prefetched by the caller."""
    if embedded_ids is None:
        embedded_ids = [signer.recipient_id for signer in envelope.embedded_signers.all()]
    embedded = set(embedded_ids)
    return {
        "envelope_id": envelope.envelope_id, "status": envelope.status, "subject": envelope.subject,
        "recipients": [{"recipient_id": r.get("recipient_id", ""), "name": r.get("name", ""),
                        "email": r.get("email", ""), "status": r.get("status", ""),
                        "embedded": r.get("recipient_id") in embedded} for r in envelope.recipients],
        "metadata": {m.key: m.value for m in envelope.metadata.all()},
        "status_changed_at": envelope.status_changed_at, "sent_at": envelope.sent_at,
        "delivered_at": envelope.delivered_at, "completed_at": envelope.completed_at,
        "declined_at": envelope.declined_at, "voided_at": envelope.voided_at,
        "voided_reason": envelope.voided_reason, "created": envelope.created, "updated": envelope.updated,
    }


def with_details(queryset: QuerySet[Envelope]) -> QuerySet[Envelope]:
    return queryset.prefetch_related("metadata", "embedded_signers")


def api_settings(organization: ClientOrganization) -> OrganizationApiSettings:
    return (OrganizationApiSettings.objects.filter(organization=organization).first()
            or OrganizationApiSettings(organization=organization))


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    parsed = parse_origin(f"{parts.scheme}://{parts.netloc}") if parts.scheme and parts.netloc else None
    return str(parsed) if parsed else ""


def check_return_url(organization: ClientOrganization, return_url: str) -> None:
    allowed = {o.lower().rstrip("/") for o in api_settings(organization).allowed_origins}
    if origin_of(return_url) not in allowed:
        raise ApiProblem(400, "return_url_not_allowed", "return_url must be on one of the organization's allowed "
                         "origins (set by the ISV's staff in the admin).", field="return_url")


def check_origins(organization: ClientOrganization, field_name: str, origins: Sequence[str], *,
                  frame: bool) -> list[str]:
    settings_row = api_settings(organization)
    allowed = {o.lower().rstrip("/") for o in (settings_row.frame_ancestors if frame else settings_row.allowed_origins)}
    checked = []
    for index, origin in enumerate(origins):
        parsed = parse_origin(origin)
        if parsed is None or str(parsed) not in allowed:
            raise ApiProblem(400, "origin_not_allowed", f"{origin!r} is not one of the organization's allowed "
                             f"{'frame ancestors' if frame else 'origins'}.", field=f"{field_name}.{index}")
        checked.append(str(parsed))
    return checked


def embedded_signer_exists(envelope: Envelope, recipient_id: str) -> bool:
    return EmbeddedSigner.objects.filter(envelope=envelope, recipient_id=recipient_id).exists()
