"""`/metrics` (docs/operations.md section 10): guarded by its bearer token, and counting what the portal did: Connect
deliveries through the real listener, DocuSign calls through the real choke point to the sandbox, Celery task runs,
/api/ requests by route. Counters are process-wide, so each test reads the change it caused."""

from __future__ import annotations

import json
import uuid

import pytest
from django.test import TestCase

from docusign_integration.client import errors, http
from docusign_integration.client.rest import AccountRef, rest_call
from docusign_integration.oauth import tokens
from docusign_sandbox.seed import ACME, INITECH
from portal.celery import app as celery_app
from tests.connect.conftest import PARTNER_SECRET, fixture_body, signed_headers

URL = "/docusign/connect/"


def test_metrics_are_off_without_a_token(client, settings):
    settings.PORTAL_METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404


def test_metrics_refuse_a_request_without_the_token(client, metrics_on):
    refused = client.get("/metrics")
    assert refused.status_code == 401 and refused["WWW-Authenticate"].startswith("Bearer")
    assert b"portal_" not in refused.content
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {metrics_on}x").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=metrics_on).status_code == 401  # the scheme too
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {metrics_on}").status_code == 401


@pytest.mark.django_db
def test_a_signed_connect_delivery_is_counted(client, scrape, acme_organization, partner_key):
    before = scrape()
    body = fixture_body("envelope-completed")
    with TestCase.captureOnCommitCallbacks(execute=False):
        assert client.post(URL, data=body, content_type="application/json",
                           **signed_headers(body, PARTNER_SECRET)).status_code == 200
        assert client.post(URL, data=body, content_type="application/json",
                           **signed_headers(body, PARTNER_SECRET)).status_code == 200  # DocuSign's retry
        assert client.post(URL, data=body, content_type="application/json",
                           **signed_headers(body, "not-the-partner-secret")).status_code == 401
        assert client.post(URL, data=b"{", content_type="application/json",
                           **signed_headers(b"{", PARTNER_SECRET)).status_code == 400
    after = scrape()

    def change(name: str, **labels: str) -> float:
        return after.value(name, **labels) - before.value(name, **labels)

    assert change("portal_connect_deliveries_received_total") == 4
    assert change("portal_connect_deliveries_stored_total", state="received") == 1
    assert change("portal_connect_deliveries_stored_total", state="duplicate") == 1
    assert change("portal_connect_deliveries_refused_total", reason="signature") == 1
    assert change("portal_connect_deliveries_refused_total", reason="not_json") == 1
    assert change("portal_connect_acknowledgement_seconds_count") == 4
    assert after.value("portal_connect_events_waiting") == 1  # stored, its processing not run (no commit)


@pytest.mark.django_db
def test_processing_counts_applied_and_quarantined_and_the_task_run(client, scrape, acme_organization, partner_key,
                                                                    eager_celery):
    before = scrape()
    completed = fixture_body("envelope-completed")
    unknown_account = str(uuid.uuid4())
    stray = json.loads(completed)
    stray["data"]["accountId"] = unknown_account
    stray_body = json.dumps(stray).encode()
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(URL, data=completed, content_type="application/json", **signed_headers(completed, PARTNER_SECRET))
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(URL, data=stray_body, content_type="application/json",
                    **signed_headers(stray_body, PARTNER_SECRET, account_id=unknown_account))
    after = scrape()
    assert after.value("portal_connect_events_processed_total", state="applied") \
        - before.value("portal_connect_events_processed_total", state="applied") == 1
    assert after.value("portal_connect_deliveries_stored_total", state="quarantined") \
        - before.value("portal_connect_deliveries_stored_total", state="quarantined") == 1
    task = "docusign_integration.tasks_connect.process_connect_events"
    assert after.value("portal_celery_tasks_total", task=task, outcome="success") \
        - before.value("portal_celery_tasks_total", task=task, outcome="success") == 1
    assert unknown_account not in after.text and ACME.account_id not in after.text


def test_docusign_calls_and_the_jwt_grant_are_counted(sandbox, scrape):
    before = scrape()
    sender = sandbox.user("sender@initech.example")
    token = tokens.get_impersonation_token("sandbox", sender["user_id"])
    ref = AccountRef("sandbox", INITECH.account_id, sandbox.site(INITECH.account_id))  # the account's own site
    assert rest_call(ref, "GET", "/settings", bearer=token).status_code == 200
    with pytest.raises(errors.DocuSignError):
        rest_call(ref, "GET", f"/envelopes/{uuid.uuid4()}", bearer=token)
    after = scrape()

    def change(name: str, **labels: str) -> float:
        return after.value(name, **labels) - before.value(name, **labels)

    assert change("portal_docusign_token_requests_total", grant="jwt", outcome="ok") == 1
    assert change("portal_docusign_calls_total", resource="oauth/token", method="POST", outcome="ok") == 1
    assert change("portal_docusign_calls_total", resource="settings", method="GET", outcome="ok") == 1
    assert change("portal_docusign_calls_total", resource="envelopes", method="GET", outcome="4xx") == 1
    assert change("portal_docusign_call_seconds_count", resource="settings", method="GET") == 1
    assert ref.account_id not in after.text


@pytest.mark.urls("tests.operations.api_urls")
def test_api_requests_are_counted_by_route_never_by_id(client, scrape):
    before = scrape()
    assert client.get("/api/v1/things/7/").status_code == 200
    assert client.get("/api/v1/things/8/").status_code == 200
    assert client.get("/api/v1/things/4242/").status_code == 404
    assert client.get("/api/v1/nothing-here/").status_code == 404
    after = scrape()
    route = "api/v1/things/<int:pk>/"

    def change(**labels: str) -> float:
        return after.value("portal_api_requests_total", **labels) - before.value("portal_api_requests_total", **labels)

    assert change(route=route, method="GET", status="200") == 2
    assert change(route=route, method="GET", status="404") == 1
    assert change(route="unmatched", method="GET", status="404") == 1
    assert "4242" not in after.text and "things/7" not in after.text


def test_a_celery_task_failure_is_counted(scrape, eager_celery):
    @celery_app.task(name="tests.operations.always_fails")
    def always_fails() -> None:
        raise RuntimeError("boom")

    before = scrape()
    always_fails.delay()
    after = scrape()
    assert after.value("portal_celery_tasks_total", task="tests.operations.always_fails", outcome="failure") \
        - before.value("portal_celery_tasks_total", task="tests.operations.always_fails", outcome="failure") == 1


def test_an_unreachable_docusign_is_counted_as_such(scrape):
    before = scrape()
    with pytest.raises(errors.TransientError):
        http.call("GET", "http://127.0.0.1:1/oauth/userinfo", environment="sandbox", idempotent=False)
    after = scrape()
    assert after.value("portal_docusign_calls_total", resource="oauth/userinfo", method="GET",
                       outcome="connection-error") \
        - before.value("portal_docusign_calls_total", resource="oauth/userinfo", method="GET",
                       outcome="connection-error") == 1


@pytest.mark.parametrize(("path", "resource"), [
    ("/oauth/token", "oauth/token"),
    ("/oauth/userinfo", "oauth/userinfo"),
    ("/restapi/v2.1/accounts/d3b2e4c6-8f5a-4cad-9e3f-000000000301", "accounts"),
    ("/restapi/v2.1/accounts/d3b2e4c6-8f5a-4cad-9e3f-000000000301/envelopes", "envelopes"),
    ("/restapi/v2.1/accounts/d3b2e4c6-8f5a-4cad-9e3f-000000000301/envelopes/0f8fad5b-d9cb-469f-a165-70867728950e/"
     "documents/combined", "envelopes/documents/combined"),
    ("/restapi/v2.1/accounts/d3b2e4c6-8f5a-4cad-9e3f-000000000301/envelopes/0f8fad5b-d9cb-469f-a165-70867728950e/"
     "recipients/1/views/recipient", "envelopes/recipients/views/recipient"),
    ("/restapi/v2.1/accounts/d3b2e4c6-8f5a-4cad-9e3f-000000000301/connect/12345", "connect"),
])
def test_a_docusign_resource_is_named_by_its_path_words_never_its_ids(path, resource):
    from portal.metrics import resource_of

    assert resource_of(path) == resource


@pytest.mark.django_db
def test_a_scrape_still_answers_the_counters_when_the_database_fails(client, metrics_on):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE portal_failedtask")  # undone with the test's transaction
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {metrics_on}")
    assert response.status_code == 200
    text = response.content.decode()
    assert "portal_connect_deliveries_received_total" in text and "portal_dead_letters_open" not in text
