"""Envelopes: create (documents or a template), list, get, void, resend, sender view, signing and focused views."""

from __future__ import annotations

import base64
import json

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from docusign_integration.envelopes import actions as envelope_actions
from docusign_integration.envelopes import sending

from . import envelopes, serializers
from .auth import api_key_of
from .base import IDEMPOTENCY_HEADER, ApiView
from .idempotency import idempotent


class EnvelopeCursor(CursorPagination):
    ordering = ("-updated", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100


def _audit(request: Request) -> dict[str, object]:
    return {"api_key": api_key_of(request).prefix}


class EnvelopeListView(ApiView):
    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(operation_id="envelopes_list", parameters=[
        serializers.EnvelopeFilters,
        OpenApiParameter("cursor", str, description="From a page's next or previous link."),
        OpenApiParameter("page_size", {"type": "integer", "minimum": 1, "maximum": EnvelopeCursor.max_page_size})],
                   responses={200: serializers.EnvelopePage})
    def get(self, request: Request) -> Response:
        filters = serializers.EnvelopeFilters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        queryset = envelopes.with_details(envelopes.filtered(envelopes.envelopes_of(self.organization(request)),
                                                             filters.validated_data))
        paginator = EnvelopeCursor()
        page = paginator.paginate_queryset(queryset, request, view=self) or []
        return paginator.get_paginated_response([envelopes.as_json(e) for e in page])

    @extend_schema(operation_id="envelopes_create", parameters=[IDEMPOTENCY_HEADER],
                   request={"application/json": serializers.EnvelopeCreate,
                            "multipart/form-data": serializers.EnvelopeMultipart},
                   responses={201: serializers.EnvelopeOut})
    @idempotent
    def post(self, request: Request) -> Response:
        body = serializers.EnvelopeCreate(data=_envelope_body(request))
        body.is_valid(raise_exception=True)
        envelope = envelopes.envelope_create_from_api(self.organization(request), body.validated_data,
                                                      api_key_of(request).prefix)
        return Response(envelopes.as_json(envelope), status=201)


def _envelope_body(request: Request) -> object:
    """The JSON body, or a multipart one turned into the same shape (its files as documents), validated once."""
    if not (request.content_type or "").startswith("multipart/form-data"):
        return request.data
    form = serializers.EnvelopeMultipart(data={"envelope": request.data.get("envelope"),
                                               "documents": request.FILES.getlist("documents")})
    form.is_valid(raise_exception=True)
    try:
        body = json.loads(form.validated_data["envelope"])
    except ValueError:
        raise ValidationError({"envelope": "Not a JSON object."}) from None
    if not isinstance(body, dict) or "documents" in body:
        raise ValidationError({"envelope": "A JSON object without documents (they are the files)."})
    body["documents"] = [{"name": upload.name or "Document", "content_base64": base64.b64encode(upload.read()).decode()}
                         for upload in form.validated_data["documents"]]
    return body


class EnvelopeView(ApiView):
    @extend_schema(operation_id="envelopes_get", responses={200: serializers.EnvelopeOut})
    def get(self, request: Request, envelope_id: str) -> Response:
        envelope = envelopes.envelope_of(self.organization(request), envelope_id)
        return Response(envelopes.as_json(envelope))


class VoidView(ApiView):
    @extend_schema(operation_id="envelopes_void", request=serializers.VoidIn, parameters=[IDEMPOTENCY_HEADER],
                   responses={200: serializers.EnvelopeOut})
    @idempotent
    def post(self, request: Request, envelope_id: str) -> Response:
        envelope = envelopes.envelope_of(self.organization(request), envelope_id)
        body = serializers.VoidIn(data=request.data)
        body.is_valid(raise_exception=True)
        envelope = envelope_actions.envelope_void(acting_user=None, envelope=envelope,
                                                  reason=body.validated_data["reason"], audit_extra=_audit(request))
        return Response(envelopes.as_json(envelope))


class ResendView(ApiView):
    @extend_schema(operation_id="envelopes_resend", request=None, parameters=[IDEMPOTENCY_HEADER],
                   responses={200: serializers.ResendOut})
    @idempotent
    def post(self, request: Request, envelope_id: str) -> Response:
        envelope = envelopes.envelope_of(self.organization(request), envelope_id)
        envelope_actions.envelope_resend(acting_user=None, envelope=envelope, audit_extra=_audit(request))
        return Response({"envelope_id": envelope.envelope_id, "resent": True})


class SenderView(ApiView):
    @extend_schema(operation_id="envelopes_sender_view", request=serializers.ReturnUrlIn,
                   parameters=[IDEMPOTENCY_HEADER], responses={201: serializers.ViewOut})
    @idempotent
    def post(self, request: Request, envelope_id: str) -> Response:
        organization = self.organization(request)
        envelope = envelopes.envelope_of(organization, envelope_id)
        body = serializers.ReturnUrlIn(data=request.data)
        body.is_valid(raise_exception=True)
        envelopes.check_return_url(organization, body.validated_data["return_url"])
        url = sending.sender_view_url(acting_user=None, envelope=envelope, return_url=body.validated_data["return_url"])
        return Response({"url": url}, status=201)


RECIPIENT_ID = OpenApiParameter("recipient_id", str, OpenApiParameter.PATH)


class SigningView(ApiView):
    """The signing URL for an embedded signer, issued only for the end user id bound to them when the envelope was
    made; anyone else's id is the same 404 as no such signer, and DocuSign is not asked."""

    focused = False

    @extend_schema(operation_id="envelopes_signing_view", request=serializers.SigningViewIn,
                   parameters=[IDEMPOTENCY_HEADER, RECIPIENT_ID], responses={201: serializers.ViewOut})
    @idempotent
    def post(self, request: Request, envelope_id: str, recipient_id: str) -> Response:
        organization = self.organization(request)
        envelope = envelopes.envelope_of(organization, envelope_id)
        body = (serializers.FocusedViewIn if self.focused else serializers.SigningViewIn)(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        envelopes.check_return_url(organization, data["return_url"])
        frame_ancestors, message_origins = [], []
        if self.focused:
            frame_ancestors = envelopes.check_origins(organization, "frame_ancestors", data["frame_ancestors"],
                                                      frame=True)
            message_origins = envelopes.check_origins(organization, "message_origins",
                                                      data.get("message_origins", []), frame=False)
        url = sending.end_user_signing_view_url(envelope=envelope, recipient_id=recipient_id,
                                                end_user_id=data["end_user_id"], return_url=data["return_url"],
                                                frame_ancestors=frame_ancestors, message_origins=message_origins)
        return Response({"url": url}, status=201)


class FocusedView(SigningView):
    """The signing URL as DocuSign's focused view, to be framed by the ISV's page (frame ancestors checked)."""

    focused = True

    @extend_schema(operation_id="envelopes_focused_view", request=serializers.FocusedViewIn,
                   parameters=[IDEMPOTENCY_HEADER, RECIPIENT_ID], responses={201: serializers.ViewOut})
    def post(self, request: Request, envelope_id: str, recipient_id: str) -> Response:
        return super().post(request, envelope_id, recipient_id)
