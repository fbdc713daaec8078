"""`/api/v1/webhook_endpoints`: the key's organization's webhook endpoints (issue 17), through outbound_events' audited
services. The signing secret is in the create and rotate answers only: never in a list or get answer, a log line, or the
kept Idempotency-Key answer (api/idempotency.py `shows_secret_once`)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from outbound_events import clock, secrets, services
from outbound_events.models import OutboundEvent, WebhookEndpoint
from tenants.models import ClientOrganization

from . import serializers_webhooks as shapes
from .base import IDEMPOTENCY_HEADER, ApiView
from .idempotency import idempotent, shows_secret_once
from .problems import ApiProblem


def _endpoint_json(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {"id": str(endpoint.pk), "url": endpoint.url, "event_types": endpoint.event_types,
            "enabled": endpoint.enabled, "disabled_reason": endpoint.disabled_reason,
            "secret_hint": secrets.masked(endpoint), "previous_secret_until": endpoint.previous_secret_until,
            "failing_since": endpoint.failing_since, "created": endpoint.created, "updated": endpoint.updated}


def _endpoint_of(organization: ClientOrganization, endpoint_id: str) -> WebhookEndpoint:
    """The organization's endpoint; another organization's, a deleted one or a malformed id are the same 404."""
    try:
        pk = uuid.UUID(endpoint_id)
    except ValueError:
        pk = None
    endpoint = WebhookEndpoint.objects.filter(organization=organization, pk=pk).first() if pk else None
    if endpoint is None:
        raise ApiProblem(404, "not_found", "No such webhook endpoint in this organization.")
    return endpoint


def _refused(exc: DjangoValidationError, field: str) -> ValidationError:
    return ValidationError({field: exc.messages})


class WebhookEndpointListView(ApiView):
    @extend_schema(operation_id="webhook_endpoints_list", responses={200: shapes.WebhookEndpointList})
    def get(self, request: Request) -> Response:
        rows = WebhookEndpoint.objects.filter(organization=self.organization(request)).order_by("created", "id")
        return Response({"webhook_endpoints": [_endpoint_json(e) for e in rows]})

    @extend_schema(operation_id="webhook_endpoints_create", request=shapes.WebhookEndpointCreate,
                   parameters=[IDEMPOTENCY_HEADER], responses={201: shapes.WebhookEndpointWithSecret})
    @idempotent
    def post(self, request: Request) -> Response:
        body = shapes.WebhookEndpointCreate(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            endpoint, secret = services.endpoint_create(
                acting_user=None, organization=self.organization(request), url=data["url"],
                event_types=data.get("event_types", []), enabled=data["enabled"])
        except DjangoValidationError as exc:
            raise _refused(exc, "url") from None  # the host's DNS answer changed since the body was checked
        return shows_secret_once(Response({**_endpoint_json(endpoint), "secret": secret}, status=201))


class WebhookEndpointView(ApiView):
    @extend_schema(operation_id="webhook_endpoints_get", responses={200: shapes.WebhookEndpointOut})
    def get(self, request: Request, endpoint_id: str) -> Response:
        return Response(_endpoint_json(_endpoint_of(self.organization(request), endpoint_id)))

    @extend_schema(operation_id="webhook_endpoints_update", request=shapes.WebhookEndpointUpdate,
                   responses={200: shapes.WebhookEndpointOut})
    def patch(self, request: Request, endpoint_id: str) -> Response:
        endpoint = _endpoint_of(self.organization(request), endpoint_id)
        body = shapes.WebhookEndpointUpdate(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            endpoint = services.endpoint_update(acting_user=None, endpoint=endpoint, url=data.get("url"),
                                                event_types=data.get("event_types"), enabled=data.get("enabled"))
        except DjangoValidationError as exc:
            raise _refused(exc, "url" if "url" in data else "enabled") from None
        return Response(_endpoint_json(endpoint))

    @extend_schema(operation_id="webhook_endpoints_delete", responses={204: OpenApiResponse(description="Deleted.")})
    def delete(self, request: Request, endpoint_id: str) -> Response:
        services.endpoint_delete(acting_user=None, endpoint=_endpoint_of(self.organization(request), endpoint_id))
        return Response(status=204)


class RotateSecretView(ApiView):
    @extend_schema(operation_id="webhook_endpoints_rotate_secret", request=shapes.RotateIn,
                   parameters=[IDEMPOTENCY_HEADER], responses={200: shapes.WebhookEndpointWithSecret})
    @idempotent
    def post(self, request: Request, endpoint_id: str) -> Response:
        endpoint = _endpoint_of(self.organization(request), endpoint_id)
        body = shapes.RotateIn(data=request.data)
        body.is_valid(raise_exception=True)
        secret = services.endpoint_rotate_secret(acting_user=None, endpoint=endpoint,
                                                 overlap=timedelta(hours=body.validated_data["overlap_hours"]))
        endpoint.refresh_from_db()
        return shows_secret_once(Response({**_endpoint_json(endpoint), "secret": secret}))


class ReplayView(ApiView):
    @extend_schema(operation_id="webhook_endpoints_replay", request=shapes.ReplayIn, parameters=[IDEMPOTENCY_HEADER],
                   responses={202: shapes.ReplayOut})
    @idempotent
    def post(self, request: Request, endpoint_id: str) -> Response:
        organization = self.organization(request)
        endpoint = _endpoint_of(organization, endpoint_id)
        body = shapes.ReplayIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        events = OutboundEvent.objects.filter(organization=organization)
        if "event_id" in data:
            events = events.filter(pk=data["event_id"])
            if not events.exists():
                raise ApiProblem(404, "not_found", "No such event in this organization.")
        else:
            events = events.filter(occurred_at__gte=data["start"], occurred_at__lt=data.get("end") or clock.now())
        queued = services.events_replay(acting_user=None, events=events, endpoint=endpoint)
        return Response({"queued": queued}, status=202)
