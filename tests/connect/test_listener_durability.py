"""docs/security.md WH-6 (c): when storing fails, the listener answers 5xx, so DocuSign keeps the message and
retries; nothing is acknowledged that was not stored, and the retry is stored once."""

from __future__ import annotations

import json
import uuid

import pytest
from django.db import OperationalError, connection
from django.test import Client, TestCase

from docusign_integration.models import ConnectEvent
from tests.connect.conftest import PARTNER_SECRET, URL, fixture_body, signed_headers

pytestmark = pytest.mark.django_db


class FailEveryHundredthInsert:
    """A database wrapper (Django's execute_wrapper) that makes 1% of the listener's INSERTs fail, as a lost commit."""

    def __init__(self) -> None:
        self.inserts = 0

    def __call__(self, execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("INSERT") and ConnectEvent._meta.db_table in sql:
            self.inserts += 1
            if self.inserts % 100 == 0:
                raise OperationalError("could not write to the write-ahead log: disk full")
        return execute(sql, params, many, context)


def delivery(n: int) -> bytes:
    message = json.loads(fixture_body("envelope-sent"))
    envelope_id = str(uuid.UUID(int=n))
    message["data"] = {**message["data"], "envelopeId": envelope_id,
                       "envelopeSummary": {**message["data"]["envelopeSummary"], "envelopeId": envelope_id}}
    return json.dumps(message).encode()


def test_a_delivery_that_could_not_be_stored_is_not_acknowledged_and_its_retry_is_stored_once(
        acme_organization, partner_key, eager_celery):
    docusign = Client(raise_request_exception=False)  # as gunicorn: an unhandled error is a 500, not a crash
    bodies = [delivery(n) for n in range(1, 301)]
    answers = {}
    with connection.execute_wrapper(FailEveryHundredthInsert()), TestCase.captureOnCommitCallbacks(execute=True):
        for n, body in enumerate(bodies, start=1):
            answers[n] = docusign.post(URL, data=body, content_type="application/json",
                                       **signed_headers(body, PARTNER_SECRET)).status_code

    stored = set(ConnectEvent.objects.values_list("envelope_id", flat=True))
    refused = [n for n, status in answers.items() if status != 200]
    assert refused == [100, 200, 300] and all(answers[n] >= 500 for n in refused)
    # Every 200 was stored; nothing refused was (the failed INSERT left no row behind).
    assert stored == {str(uuid.UUID(int=n)) for n in answers if n not in refused}

    # DocuSign retries what was not acknowledged (its retryCount grows); this time the database is back.
    with TestCase.captureOnCommitCallbacks(execute=True):
        for n in refused:
            body = json.dumps({**json.loads(bodies[n - 1]), "retryCount": 1}).encode()
            assert docusign.post(URL, data=body, content_type="application/json",
                                 **signed_headers(body, PARTNER_SECRET)).status_code == 200
    assert ConnectEvent.objects.count() == 300
    assert set(ConnectEvent.objects.values_list("state", flat=True)) == {"applied"}
