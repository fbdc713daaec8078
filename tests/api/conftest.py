"""The ISV API's tests: organizations connected to the sandbox, their keys, and a client that speaks like the ISV."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.test import Client

from api import usage
from api.keys import api_key_create
from api.models import OrganizationApiSettings
from tenants.models import ClientOrganization

# The envelope tests' fixtures: organizations connected to the sandbox, signed documents in a fresh storage.
from tests.envelopes.conftest import SIMPLE_PDF, acme, globex, media_root, pdf_base64  # noqa: F401

ISV_ORIGIN = "https://app.isv.example"
__all__ = ["SIMPLE_PDF", "ApiClient", "document_envelope", "pdf_base64"]


class ApiClient:
    """The ISV's backend: every request with its key; every POST with a fresh Idempotency-Key unless given one."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.client = Client(HTTP_AUTHORIZATION=f"Api-Key {key}")

    def get(self, path: str, params: dict | None = None, **extra: Any):
        return self.client.get(f"/api/v1/{path}", params, **extra)

    def post(self, path: str, body: dict | None = None, *, idempotency_key: str | None = None, **extra: Any):
        return self.client.post(f"/api/v1/{path}", data=json.dumps(body or {}), content_type="application/json",
                                HTTP_IDEMPOTENCY_KEY=idempotency_key or str(uuid.uuid4()), **extra)


def api_for(organization: ClientOrganization, name: str = "ISV backend") -> ApiClient:
    _, key = api_key_create(acting_user=None, organization=organization, name=name)
    OrganizationApiSettings.objects.update_or_create(organization=organization, defaults={
        "allowed_origins": [ISV_ORIGIN], "frame_ancestors": [ISV_ORIGIN]})
    return ApiClient(key)


def document_envelope(*, end_user_id: str | None = "user-42", status: str = "sent", **extra: Any) -> dict:
    recipient: dict[str, Any] = {"name": "Erin End-User", "email": "erin@customer.example"}
    if end_user_id:
        recipient["end_user_id"] = end_user_id
    return {"subject": "Service agreement", "status": status, "recipients": [recipient],
            "documents": [{"name": "agreement.pdf", "content_base64": pdf_base64(SIMPLE_PDF)}], **extra}


@pytest.fixture(autouse=True)
def _fresh_usage_counts():
    usage.forget()
    yield
    usage.forget()


@pytest.fixture
def acme_api(acme) -> ApiClient:  # noqa: F811 (the imported fixture)
    return api_for(acme)


@pytest.fixture
def globex_api(globex) -> ApiClient:  # noqa: F811 (the imported fixture)
    return api_for(globex)
