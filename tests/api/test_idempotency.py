"""Idempotency-Key: one envelope at DocuSign however often (or however concurrently) a POST is repeated."""

from __future__ import annotations

import hashlib
import json
import threading

import pytest
from django.db import connection

from api.models import IdempotentRequest
from docusign_sandbox.models import Envelope as SandboxEnvelope
from tests.api.conftest import ApiClient, document_envelope
from tests.envelopes.conftest import api_requests


def test_the_same_post_twice_makes_one_envelope_and_replays_the_first_answer(sandbox, acme, acme_api):
    first = acme_api.post("envelopes", document_envelope(), idempotency_key="order-17")
    again = acme_api.post("envelopes", document_envelope(), idempotency_key="order-17")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert SandboxEnvelope.objects.count() == 1  # one envelope at DocuSign
    assert api_requests(r"/envelopes$", "POST").count() == 1


def test_the_same_key_with_another_body_is_422_and_creates_nothing(sandbox, acme, acme_api):
    acme_api.post("envelopes", document_envelope(), idempotency_key="order-17")
    other = acme_api.post("envelopes", document_envelope(subject="Another"), idempotency_key="order-17")

    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert SandboxEnvelope.objects.count() == 1


def test_a_post_without_the_header_is_refused_before_docusign(sandbox, acme, acme_api):
    response = acme_api.client.post("/api/v1/envelopes", data=document_envelope(), content_type="application/json")

    assert response.status_code == 400 and response.json()["code"] == "idempotency_key_required"
    assert SandboxEnvelope.objects.count() == 0


def test_a_duplicate_arriving_while_the_first_runs_is_409_and_makes_nothing(sandbox, acme, acme_api):
    """The first request's claim (its row, committed before DocuSign is called) is what the duplicate meets."""
    body = json.dumps(document_envelope()).encode()
    same_request = hashlib.sha256(b"POST\0/api/v1/envelopes\0application/json\0" + body).hexdigest()
    IdempotentRequest.objects.create(organization=acme, key="order-17", request_hash=same_request)

    duplicate = acme_api.post("envelopes", document_envelope(), idempotency_key="order-17")

    assert duplicate.status_code == 409 and duplicate.json()["code"] == "idempotency_request_in_progress"
    assert duplicate["Retry-After"] == "1"
    assert SandboxEnvelope.objects.count() == 0
    IdempotentRequest.objects.filter(key="order-17").delete()  # the first request failed retryably: its claim is gone
    assert acme_api.post("envelopes", document_envelope(), idempotency_key="order-17").status_code == 201


def test_keys_are_per_organization(sandbox, acme, acme_api, globex, globex_api):
    assert acme_api.post("envelopes", document_envelope(), idempotency_key="k1").status_code == 201
    assert globex_api.post("envelopes", document_envelope(), idempotency_key="k1").status_code == 201
    assert SandboxEnvelope.objects.count() == 2


@pytest.mark.postgres
def test_concurrent_duplicates_make_one_envelope(sandbox, acme, acme_api):
    """Eight threads send the same POST with one key at once: the unique row lets one through; DocuSign sees one."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: concurrent writers on one in-memory SQLite connection would serialize")
    barrier = threading.Barrier(8)
    statuses: list[int] = []

    def send() -> None:
        client = ApiClient(acme_api.key)
        barrier.wait()
        statuses.append(client.post("envelopes", document_envelope(), idempotency_key="burst").status_code)
        connection.close()

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert SandboxEnvelope.objects.count() == 1
    assert statuses.count(201) >= 1 and set(statuses) <= {201, 409}


def test_answers_are_kept_24_hours_then_the_key_is_new_again(sandbox, acme, acme_api):
    from datetime import timedelta

    from django.utils import timezone

    from api.tasks import purge_idempotency_keys

    assert acme_api.post("envelopes", document_envelope(), idempotency_key="day-old").status_code == 201
    IdempotentRequest.objects.update(created=timezone.now() - timedelta(hours=23))
    assert acme_api.post("envelopes", document_envelope(), idempotency_key="day-old")["Idempotent-Replayed"] == "true"
    assert purge_idempotency_keys() == 0
    IdempotentRequest.objects.update(created=timezone.now() - timedelta(hours=25))
    assert purge_idempotency_keys() == 1
    assert acme_api.post("envelopes", document_envelope(), idempotency_key="day-old").status_code == 201
    assert SandboxEnvelope.objects.count() == 2
