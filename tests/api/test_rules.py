"""The API's rules a caller notices: who gets a signing view, where views return to, bad input, limits, keys."""

from __future__ import annotations

import pytest
import requests
from django.core.management import call_command
from django.utils import timezone

from api.models import OrganizationAPIKey
from docusign_integration.client.custom_fields import HOSTED_CLIENT_FIELD
from docusign_integration.models import AccountRateLimit
from docusign_sandbox.models import Envelope as SandboxEnvelope
from tenants.models import AuditEvent
from tests.api.conftest import ISV_ORIGIN, ApiClient, api_for, document_envelope
from tests.envelopes.conftest import api_requests

RECIPIENT_VIEWS = r"^/restapi/.*/views/recipient$"


def sent(api) -> dict:
    response = api.post("envelopes", document_envelope())
    assert response.status_code == 201, response.content
    return response.json()


def test_a_signing_view_for_the_wrong_end_user_is_refused_without_asking_docusign(sandbox, acme, acme_api):
    envelope = sent(acme_api)
    path = f"envelopes/{envelope['envelope_id']}/recipients/1/signing_view"

    for end_user_id in ("user-43", "USER-42", " user-42x", "user-4"):
        refused = acme_api.post(path, {"end_user_id": end_user_id, "return_url": f"{ISV_ORIGIN}/done"})
        assert refused.status_code == 404 and refused.json()["code"] == "not_found", end_user_id
    assert not api_requests(RECIPIENT_VIEWS).exists()  # the sandbox's request log: DocuSign was never asked

    assert acme_api.post(path, {"end_user_id": "user-42", "return_url": f"{ISV_ORIGIN}/done"}).status_code == 201
    assert api_requests(RECIPIENT_VIEWS).count() == 1


def test_a_remote_signer_has_no_signing_view(sandbox, acme, acme_api):
    envelope = acme_api.post("envelopes", document_envelope(end_user_id=None)).json()
    refused = acme_api.post(f"envelopes/{envelope['envelope_id']}/recipients/1/signing_view",
                            {"end_user_id": "user-42", "return_url": f"{ISV_ORIGIN}/done"})
    assert refused.status_code == 404 and not api_requests(RECIPIENT_VIEWS).exists()


def test_return_urls_and_frame_ancestors_must_be_the_organizations(sandbox, acme, acme_api):
    envelope = sent(acme_api)
    signing = f"envelopes/{envelope['envelope_id']}/recipients/1/signing_view"
    focused = f"envelopes/{envelope['envelope_id']}/recipients/1/focused_view"

    elsewhere = acme_api.post(signing, {"end_user_id": "user-42", "return_url": "https://evil.example/done"})
    assert elsewhere.status_code == 400 and elsewhere.json()["errors"][0]["field"] == "return_url"
    framed_elsewhere = acme_api.post(focused, {"end_user_id": "user-42", "return_url": f"{ISV_ORIGIN}/done",
                                               "frame_ancestors": ["https://evil.example"]})
    assert framed_elsewhere.status_code == 400 and framed_elsewhere.json()["errors"][0]["field"] == "frame_ancestors.0"
    assert not api_requests(RECIPIENT_VIEWS).exists()

    framed = acme_api.post(focused, {"end_user_id": "user-42", "return_url": f"{ISV_ORIGIN}/done",
                                     "frame_ancestors": [ISV_ORIGIN]})
    assert framed.status_code == 201, framed.content


def test_bad_input_is_400_naming_the_field_and_nothing_is_created_at_docusign(sandbox, acme, acme_api):
    not_a_pdf = [{"name": "a.exe", "content_base64": "TVqQAAMAAAAEAAAA"}]
    cases = [
        ("recipients.0.email", {"recipients": [{"name": "Erin", "email": "not-an-email"}]}),
        ("documents.0.content_base64", {"documents": [{"name": "a.pdf", "content_base64": "%%%"}]}),
        ("documents.0.content_base64", {"documents": not_a_pdf}),
        ("subject", {"subject": ""}),
        ("metadata.k", {"metadata": {"k": "v" * 101}}),
        ("recipients", {"recipients": []}),
        ("documents", {"template_id": "5c1f3d2e-6a1b-4c8e-9f7a-2d4b6e8a0c11"}),
        ("recipients.0.role_name", {"recipients": [{"name": "E", "email": "e@x.example", "role_name": "Client"}]}),
    ]
    for field, change in cases:
        response = acme_api.post("envelopes", document_envelope() | change)
        assert response.status_code == 400, field
        assert response.json()["code"] == "invalid_request"
        assert [e["field"] for e in response.json()["errors"]] == [field], response.json()
    assert SandboxEnvelope.objects.count() == 0 and not api_requests(r"/envelopes$", "POST").exists()


def test_per_key_throttle_is_429_with_retry_after(sandbox, acme, settings):
    settings.API_THROTTLE_RATE = "3/min"
    api = api_for(acme, "throttled")
    statuses = [api.get("organization").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = api.get("organization")
    assert refused.json()["code"] == "throttled" and int(refused["Retry-After"]) > 0
    assert api_for(acme, "another key").get("organization").status_code == 200  # counted per key


def test_docusigns_rate_limit_is_429_with_docusigns_reset(sandbox, acme, acme_api):
    response = requests.post(f"{sandbox.url}/_sandbox/rate-limit", json={"hourly_limit": 1, "account_id":
                                                                         acme.account_id}, timeout=5)
    assert response.status_code == 200
    envelope = sent(acme_api)  # the account's one call this hour
    limited = acme_api.post(f"envelopes/{envelope['envelope_id']}/recipients/1/signing_view",
                            {"end_user_id": "user-42", "return_url": f"{ISV_ORIGIN}/done"})
    assert limited.status_code == 429, limited.content
    assert limited.json()["code"] == "docusign_rate_limited"
    assert limited.json()["docusign_error_code"] == "HOURLY_APIINVOCATION_LIMIT_EXCEEDED"
    blocked_until = AccountRateLimit.objects.get(account_id=acme.account_id).blocked_until
    # DocuSign's reset (X-RateLimit-Reset), as the block the portal recorded from it: not a guess.
    assert abs(int(limited["Retry-After"]) - (blocked_until - timezone.now()).total_seconds()) <= 2


def test_organization_reports_readiness_and_the_account(sandbox, acme, acme_api):
    response = acme_api.get("organization")
    assert response["Cache-Control"] == "no-store"  # an organization's data is never kept by a cache on the way
    body = response.json()
    assert body["ready"] is True and body["checklist"]["consent"] == "granted"
    assert body["docusign_account"]["account_id"] == acme.account_id


def test_api_key_command_prints_the_key_alone_on_the_last_line_and_revoke_ends_it(sandbox, acme, capsys):
    call_command("api_key", "create", acme.slug, "--name", "CRM")
    key = capsys.readouterr().out.strip().splitlines()[-1]
    api = ApiClient(key)
    assert api.get("organization").status_code == 200
    prefix = key.split(".")[0]

    call_command("api_key", "revoke", prefix)
    refused = api.get("organization")
    assert refused.status_code == 401 and refused.json()["code"] == "unauthenticated"
    assert refused["WWW-Authenticate"] == "Api-Key"
    trail = list(AuditEvent.objects.filter(action__startswith="api.key").values_list("target", "after"))
    assert [target for target, _ in trail] == [f"API key {prefix}"] * 2
    assert key.split(".")[1] not in str(trail)  # the key's secret part is in no audit row
    assert OrganizationAPIKey.objects.get(prefix=prefix).hashed_key != key


def test_no_key_or_a_wrong_key_is_401(sandbox, acme, acme_api):
    assert ApiClient("nope.nope").get("organization").status_code == 401
    assert ApiClient(acme_api.key[:-1] + "x").get("organization").status_code == 401
    from django.test import Client
    assert Client().get("/api/v1/organization").status_code == 401


def test_an_offboarded_organizations_keys_stop_working_and_it_gets_no_new_ones(sandbox, acme, acme_api):
    from django.core.exceptions import ValidationError

    from api.keys import api_key_create
    from tenants.services import organization_offboard

    assert acme_api.get("organization").status_code == 200
    organization_offboard(acting_user=None, organization=acme, reason="Left")
    before = api_requests().count()
    assert acme_api.get("organization").status_code == 401
    assert acme_api.post("envelopes", document_envelope()).status_code == 401
    assert api_requests().count() == before  # nothing is called at DocuSign for it again
    with pytest.raises(ValidationError):
        api_key_create(acting_user=None, organization=acme, name="again")


def test_metadata_may_not_use_the_hosted_client_field(sandbox, acme, acme_api):
    """The portal routes a hosted client's Connect messages by this custom field: the ISV's metadata may not set it."""
    for key in (HOSTED_CLIENT_FIELD, HOSTED_CLIENT_FIELD.upper()):
        response = acme_api.post("envelopes", document_envelope(metadata={key: "globex"}))
        assert response.status_code == 400, response.content
        assert [e["field"] for e in response.json()["errors"]] == [f"metadata.{key}"]
        assert HOSTED_CLIENT_FIELD in response.json()["errors"][0]["message"]
    assert SandboxEnvelope.objects.count() == 0 and not api_requests(r"/envelopes$", "POST").exists()
