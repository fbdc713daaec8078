"""The organization, its templates, and the signed documents of its envelopes."""

from __future__ import annotations

import base64
from datetime import date

from django.http import FileResponse, HttpResponseNotModified
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from docusign_integration.envelopes import documents
from docusign_integration.envelopes.models.documents import SignedDocument
from docusign_integration.envelopes.models.envelopes import EnvelopeStatus
from docusign_integration.hosting.usage import organization_usage
from tenants import readiness
from tenants.models import ClientOrganization, ConsentStatus, SystemUser

from . import envelopes, serializers, templates
from .auth import api_key_of
from .base import IDEMPOTENCY_HEADER, ApiView
from .idempotency import idempotent
from .models import CachedTemplate
from .problems import ApiProblem


def _organization_json(organization: ClientOrganization) -> dict:
    system_user = SystemUser.objects.filter(organization=organization).first()
    consent = system_user.consent_status if system_user else "no_system_user"
    setup = getattr(organization, "account_setup", None)
    account_chosen = bool(organization.account_id and organization.base_uri)
    # "ready" answers "can envelopes be sent now": the sending service's own rule (setup done once, hosted clients
    # exempt: tenants/readiness.py), so it never says ready while POST /envelopes answers setup_required.
    ready = (consent == ConsentStatus.GRANTED and account_chosen and organization.offboarded_at is None
             and readiness.facts_of(organization).setup_done)
    return {
        "slug": organization.slug, "name": organization.name, "status": organization.onboarding_status,
        "ready": ready,
        "checklist": {"consent": consent, "account": "chosen" if account_chosen else "not_chosen",
                      "account_setup": "isv_account" if organization.is_hosted
                      else str(getattr(setup, "status", "not_started"))},
        "docusign_account": {"environment": organization.environment, "account_id": organization.account_id,
                             "account_name": organization.account_name, "base_uri": organization.base_uri}
        if account_chosen else None,
    }


class OrganizationView(ApiView):
    @extend_schema(operation_id="organization_get", responses={200: serializers.OrganizationOut})
    def get(self, request: Request) -> Response:
        return Response(_organization_json(self.organization(request)))


class UsageView(ApiView):
    """Envelopes sent per month by the key's organization, counted from the portal's records (never DocuSign's)."""

    @extend_schema(operation_id="organization_usage", parameters=[serializers.UsageQuery],
                   responses={200: serializers.UsageOut})
    def get(self, request: Request) -> Response:
        query = serializers.UsageQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        last = _month(query.validated_data.get("to"), "to") or timezone.now().date().replace(day=1)
        if last > timezone.now().date():
            raise ApiProblem(400, "invalid_request", "No usage is recorded for a month that has not begun.", field="to")
        first = _month(query.validated_data.get("from"), "from") or _add_months(last, -11, floor=date(1, 1, 1))
        span = _months_between(first, last) + 1
        if span < 1:
            raise ApiProblem(400, "invalid_request", "`from` must not be after `to`.", field="from")
        if span > serializers.MAX_USAGE_MONTHS:
            raise ApiProblem(400, "invalid_request", f"At most {serializers.MAX_USAGE_MONTHS} months at once.",
                             field="from")
        organization = self.organization(request)
        sent = {row.month: row.envelopes_sent
                for row in organization_usage(organization, first_month=first, last_month=last)}
        months = [_add_months(first, n) for n in range(span)]
        return Response({"organization": organization.slug, "hosting": organization.hosting,
                         "from": f"{first:%Y-%m}", "to": f"{last:%Y-%m}", "total": sum(sent.values()),
                         "months": [{"month": f"{m:%Y-%m}", "envelopes_sent": sent.get(m, 0)} for m in months]})


def _month(value: str | None, field: str) -> date | None:
    if value is None:
        return None
    year, month = (int(part) for part in value.split("-"))
    if year < 1:
        raise ApiProblem(400, "invalid_request", "A month as YYYY-MM, from year 0001.", field=field)
    return date(year, month, 1)


def _months_between(first: date, last: date) -> int:
    return (last.year - first.year) * 12 + last.month - first.month


def _add_months(month: date, count: int, *, floor: date | None = None) -> date:
    index = month.year * 12 + month.month - 1 + count
    if floor is not None and index < floor.year * 12 + floor.month - 1:
        return floor
    return date(index // 12, index % 12 + 1, 1)


def _template_json(template: CachedTemplate) -> dict:
    return {"template_id": template.template_id, "name": template.name, "description": template.description,
            "roles": template.roles, "allowed": template.allowed, "refreshed_at": template.refreshed_at}


class TemplateListView(ApiView):
    @extend_schema(operation_id="templates_list", responses={200: serializers.TemplateList})
    def get(self, request: Request) -> Response:
        rows = CachedTemplate.objects.filter(organization=self.organization(request)).order_by("name", "template_id")
        return Response({"templates": [_template_json(t) for t in rows]})


class TemplateView(ApiView):
    @extend_schema(operation_id="templates_get", responses={200: serializers.TemplateOut})
    def get(self, request: Request, template_id: str) -> Response:
        template = CachedTemplate.objects.filter(organization=self.organization(request), template_id=template_id).first()
        if template is None:
            raise ApiProblem(404, "not_found", "No such template in this organization (refresh the list if it is new).")
        return Response(_template_json(template))


class TemplateRefreshView(ApiView):
    @extend_schema(operation_id="templates_refresh", request=None, parameters=[IDEMPOTENCY_HEADER],
                   responses={200: serializers.TemplateList})
    @idempotent
    def post(self, request: Request) -> Response:
        rows = templates.templates_refresh(acting_user=None, organization=self.organization(request),
                                           api_key_prefix=api_key_of(request).prefix)
        return Response({"templates": [_template_json(t) for t in rows]})


class DocumentView(ApiView):
    """A completed envelope's combined PDF or certificate, streamed from the portal's storage (downloaded from DocuSign
    once, on first request if the background download has not run yet); ETag and Repr-Digest carry its SHA-256."""

    kind = "combined"

    @extend_schema(operation_id="envelopes_document", responses={
        (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF."),
        304: OpenApiResponse(description="Not modified (If-None-Match matched the ETag).")})
    def get(self, request: Request, envelope_id: str) -> Response | FileResponse | HttpResponseNotModified:
        organization = self.organization(request)
        envelope = envelopes.envelope_of(organization, envelope_id)
        if envelope.status != EnvelopeStatus.COMPLETED:
            raise ApiProblem(409, "envelope_not_completed", "Documents are available once the envelope is completed.")
        document = documents.stored_document(organization.pk, envelope.envelope_id, self.kind)
        if document is None:
            documents.documents_download(envelope)
            document = documents.stored_document(organization.pk, envelope.envelope_id, self.kind)
        if document is None:
            raise ApiProblem(409, "document_not_ready", "The document is being downloaded from DocuSign; retry shortly.",
                             retry_after=5)
        return _document_response(request, document)


def _document_response(request: Request, document: SignedDocument) -> FileResponse | HttpResponseNotModified:
    etag = f'"{document.sha256}"'
    if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
        not_modified = HttpResponseNotModified()
        not_modified["ETag"] = etag
        return not_modified
    response = documents.document_response(document)
    response["ETag"] = etag
    response["Repr-Digest"] = f"sha-256=:{base64.b64encode(bytes.fromhex(document.sha256)).decode()}:"
    response["X-Content-SHA256"] = document.sha256
    return response


class CertificateView(DocumentView):
    kind = "certificate"

    @extend_schema(operation_id="envelopes_certificate", responses={
        (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF."),
        304: OpenApiResponse(description="Not modified (If-None-Match matched the ETag).")})
    def get(self, request: Request, envelope_id: str) -> Response | FileResponse | HttpResponseNotModified:
        return super().get(request, envelope_id)
