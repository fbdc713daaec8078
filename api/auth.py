"""Who calls the API: an organization's API key (`Authorization: Api-Key PREFIX.SECRET`), and how often it may.

The key decides the organization; nothing in a URL or body can name another. A revoked, expired or unknown key, or
the key of an offboarded organization, is refused with 401 and the same words, so a caller learns nothing about
which. Throttling counts per key in Django's cache (shared by every process when the cache is Redis).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_api_key.permissions import KeyParser

from tenants.models import ClientOrganization

from .models import OrganizationAPIKey

if TYPE_CHECKING:
    from rest_framework.views import APIView

KEYWORD = "Api-Key"


@dataclass(frozen=True)
class ApiClient:
    """The caller behind a valid key: DRF's `request.user` for the API (never a portal user)."""

    api_key: OrganizationAPIKey

    is_authenticated = True
    is_staff = False

    @property
    def organization(self) -> ClientOrganization:
        return self.api_key.organization

    @property
    def pk(self) -> str:
        return self.api_key.prefix


class OrganizationKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[ApiClient, OrganizationAPIKey] | None:
        key = KeyParser().get(request._request)
        if not key:
            return None
        prefix = key.partition(".")[0]
        api_key = (OrganizationAPIKey.objects.select_related("organization")
                   .filter(prefix=prefix, revoked=False).first())
        if (api_key is None or not api_key.is_valid(key) or api_key.has_expired
                or api_key.organization.offboarded_at is not None):
            raise AuthenticationFailed("The API key is unknown, revoked or expired.")
        return ApiClient(api_key), api_key

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD


def api_key_of(request: Request) -> OrganizationAPIKey:
    key = request.auth
    if not isinstance(key, OrganizationAPIKey):  # the views' permission class lets no other request in
        raise AuthenticationFailed("An API key is required.")
    return key


class PerKeyThrottle(SimpleRateThrottle):
    """At most API_THROTTLE_RATE requests per key (DRF's "N/period"), counted in Django's cache; 429 + Retry-After."""

    scope = "api_key"

    def get_rate(self) -> str | None:
        rate: str = getattr(settings, "API_THROTTLE_RATE", "600/min")
        return rate

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        key = request.auth
        if not isinstance(key, OrganizationAPIKey):
            return None  # unauthenticated: refused before any work, nothing to count
        return self.cache_format % {"scope": self.scope, "ident": key.prefix}
