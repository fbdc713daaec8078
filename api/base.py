"""What every API view shares: the key's organization, throttling per key, usage counting, the problem responses."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tenants.models import ClientOrganization

from . import usage
from .auth import OrganizationKeyAuthentication, PerKeyThrottle, api_key_of
from .models import OrganizationAPIKey

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key", {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]([ -~]*[!-~])?$"},
    OpenApiParameter.HEADER, required=True,
    description="A unique string per request (e.g. a UUID). Retrying with it replays the first answer for 24 hours; "
                "another body with it is 422.")


class ApiView(APIView):
    authentication_classes = [OrganizationKeyAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes = [PerKeyThrottle]

    def organization(self, request: Request) -> ClientOrganization:
        return api_key_of(request).organization

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(request.auth, OrganizationAPIKey):
            usage.count(request.auth.pk, error=response.status_code >= 400)
        return response


def ok(data: Any, status: int = 200) -> Response:
    return Response(data, status=status)
