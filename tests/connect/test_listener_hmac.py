"""The listener trusts only bytes signed with a key allowed for the account (docs/security.md WH-1..WH-3, WH-7)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from docusign_integration.connect.hmac import connect_hmac_key_add, connect_hmac_key_retire, signature
from docusign_integration.models import ConnectEvent, Envelope
from tests import factories
from tests.connect.conftest import PARTNER_SECRET, URL, fixture_body, signed_headers, with_payload

pytestmark = pytest.mark.django_db
OTHER_ACCOUNT = "c2a1d3b5-7e4f-4b9c-8d2e-000000000201"


def test_the_signature_matches_the_known_answer():
    assert signature("It's a Secret to Everybody", b"Hello, World!") == "dXEH6g6yUJ/CESIczphLijdXC211hsIsRvQ3nIsEPhc="


def test_a_signed_delivery_is_stored_and_applied(deliver, acme_organization, partner_key):
    response = deliver.signed(fixture_body("envelope-sent"))

    assert response.status_code == 200
    event = ConnectEvent.objects.get()
    assert (event.event, event.state, event.organization) == ("envelope-sent", "applied", acme_organization)
    assert bytes(event.body) == fixture_body("envelope-sent")
    assert Envelope.objects.get(envelope_id=event.envelope_id).status == "sent"


def test_an_account_id_in_upper_case_finds_its_organization(deliver, acme_organization, partner_key):
    response = deliver.signed(fixture_body("envelope-sent"), account_id=acme_organization.account_id.upper())

    assert response.status_code == 200
    event = ConnectEvent.objects.get()
    assert (event.organization, event.account_id, event.state) == (acme_organization, acme_organization.account_id, "applied")


def _flip_one_bit(body: bytes) -> bytes:
    return body[:40] + bytes([body[40] ^ 0x01]) + body[41:]


@pytest.mark.parametrize("mutate", [
    pytest.param(lambda b: json.dumps(json.loads(b)).encode(), id="re-serialized JSON"),
    pytest.param(lambda b: b + b"\n", id="trailing newline added"),
    pytest.param(lambda b: b.replace(b"}", b"}\r\n", 1), id="CRLF inserted"),
    pytest.param(_flip_one_bit, id="one flipped bit"),
])
def test_a_mutated_body_is_refused_before_parsing(deliver, acme_organization, partner_key, mutate):
    original = fixture_body("envelope-completed")
    response = deliver.post(mutate(original), signed_headers(original, PARTNER_SECRET))
    assert response.status_code == 401
    assert not ConnectEvent.objects.exists() and not Envelope.objects.exists()


def test_a_body_whose_newline_was_removed_or_changed_is_refused(deliver, acme_organization, partner_key):
    with_crlf = fixture_body("envelope-completed") + b"\r\n"
    for mutated in (with_crlf[:-2], with_crlf[:-2] + b"\n"):
        assert deliver.post(mutated, signed_headers(with_crlf, PARTNER_SECRET)).status_code == 401
    assert not ConnectEvent.objects.exists()


@pytest.mark.parametrize("headers", [
    pytest.param(lambda body: signed_headers(body, "a-wrong-secret-0123456789"), id="wrong key"),
    pytest.param(lambda body: signed_headers(body), id="no signature header"),
    pytest.param(lambda body: {k: v.lower() if "SIGNATURE" in k else v
                               for k, v in signed_headers(body, PARTNER_SECRET).items()}, id="signature in lower case"),
    pytest.param(lambda body: {k: v for k, v in signed_headers(body, PARTNER_SECRET).items() if "ACCOUNTID" not in k},
                 id="no account header"),
])
def test_a_delivery_without_a_matching_signature_is_refused(deliver, acme_organization, partner_key, headers):
    body = fixture_body("envelope-sent")
    assert deliver.post(body, headers(body)).status_code == 401
    assert not ConnectEvent.objects.exists()


def test_an_account_without_any_key_gets_everything_refused(deliver, acme_organization):
    assert deliver.signed(fixture_body("envelope-sent")).status_code == 401
    assert not ConnectEvent.objects.exists()


def test_a_retired_key_alone_is_refused_but_with_a_current_one_is_accepted(deliver, acme_organization, partner_key):
    current = "the-new-partner-secret-0123456789"
    connect_hmac_key_add(acting_user=None, environment="sandbox", label="Partner key 2", secret=current)
    connect_hmac_key_retire(acting_user=None, key=partner_key)
    body = fixture_body("envelope-sent")

    assert deliver.signed(body, PARTNER_SECRET).status_code == 401
    assert not ConnectEvent.objects.exists()
    assert deliver.signed(body, PARTNER_SECRET, current).status_code == 200
    assert ConnectEvent.objects.count() == 1


def test_another_accounts_key_does_not_vouch_for_this_account(deliver, acme_organization):
    globex = factories.organization("Globex", account_id=OTHER_ACCOUNT)
    globex_secret = "globex-own-secret-0123456789"
    connect_hmac_key_add(acting_user=None, environment="sandbox", label="Globex", secret=globex_secret,
                         organization=globex)
    body = fixture_body("envelope-sent")  # Acme's message

    assert deliver.signed(body, globex_secret).status_code == 401  # header says Acme: Globex's key is not allowed
    forged = with_payload(body, data={**json.loads(body)["data"], "accountId": OTHER_ACCOUNT})
    assert deliver.signed(forged, globex_secret, account_id=OTHER_ACCOUNT).status_code == 200  # its own account is fine
    assert deliver.signed(body, globex_secret, account_id=OTHER_ACCOUNT).status_code == 401  # body names Acme
    assert list(ConnectEvent.objects.values_list("organization", flat=True)) == [globex.pk]


def test_a_body_naming_another_account_than_the_header_is_refused(deliver, acme_organization, partner_key):
    factories.organization("Globex", account_id=OTHER_ACCOUNT)
    body = fixture_body("envelope-sent")  # data.accountId is Acme
    assert deliver.signed(body, account_id=OTHER_ACCOUNT).status_code == 401
    assert not ConnectEvent.objects.exists()


def test_header_count_is_capped_so_a_valid_eleventh_signature_is_not_read(deliver, acme_organization, partner_key):
    body = fixture_body("envelope-sent")
    headers = {"HTTP_X_DOCUSIGN_ACCOUNTID": acme_organization.account_id}
    headers.update({f"HTTP_X_DOCUSIGN_SIGNATURE_{n}": signature(f"junk-{n}", body) for n in range(1, 101)})
    headers["HTTP_X_DOCUSIGN_SIGNATURE_11"] = signature(PARTNER_SECRET, body)
    assert deliver.post(body, headers).status_code == 401
    headers["HTTP_X_DOCUSIGN_SIGNATURE_10"] = signature(PARTNER_SECRET, body)
    assert deliver.post(body, headers).status_code == 200


def test_signatures_are_compared_in_constant_time_only():
    source = (Path(__file__).resolve().parents[2] / "docusign_integration" / "connect" / "hmac.py").read_text()
    assert "compare_digest" in source
    assert not re.search(r"(signature|expected|presented|value)\s*[!=]=", source)


def test_get_and_put_are_not_allowed(client):
    assert client.get(URL).status_code == 405
    assert client.put(URL, data=b"{}", content_type="application/json").status_code == 405


def test_a_body_over_the_cap_gets_413_without_being_read(deliver, acme_organization, partner_key, settings):
    settings.DOCUSIGN_CONNECT_MAX_BODY = 1000
    body = fixture_body("envelope-sent")  # over 1,000 bytes and correctly signed
    assert len(body) > 1000
    assert deliver.signed(body).status_code == 413
    assert not ConnectEvent.objects.exists()


def test_a_lying_content_length_reads_no_more_than_it_declares(deliver, acme_organization, partner_key, settings):
    settings.DOCUSIGN_CONNECT_MAX_BODY = 100_000
    body = fixture_body("envelope-sent")
    huge = body + b" " * 3_000_000  # a 3 MB body that declares the signed message's length
    response = deliver.post(huge, {**signed_headers(body, PARTNER_SECRET), "CONTENT_LENGTH": str(len(body))})
    assert response.status_code == 200  # exactly the declared (signed) bytes were read, not a byte more
    assert bytes(ConnectEvent.objects.get().body) == body


def test_only_the_listener_is_csrf_exempt(deliver, acme_organization, partner_key):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    body = fixture_body("envelope-sent")
    assert strict.post(URL, data=body, content_type="application/json", **signed_headers(body, PARTNER_SECRET)).status_code == 200
    assert strict.post("/accounts/login/", data={"username": "x", "password": "y"}).status_code == 403
