"""The Connect HMAC key cache switched ON and warm: what changed is obeyed at the next delivery, not after the TTL.

Every other Connect test runs with the cache off (tests/connect/conftest.py `no_remembered_keys`); here it
remembers keys for five minutes, and each test first makes the listener remember the account's keys. A change
made "in another process" is made with a plain UPDATE: that is all this process sees of a web worker's admin
action (its `forget_cached_keys` after commit runs in that worker, not here).
"""

from __future__ import annotations

import pytest
from django.test import TestCase

from docusign_integration.connect import hmac as connect_hmac
from docusign_integration.connect.hmac import connect_hmac_key_add, connect_hmac_key_retire, forget_cached_keys
from docusign_integration.models import ConnectEvent, ConnectHMACKey
from docusign_sandbox.seed import ACME
from tenants.models import ClientOrganization
from tests import factories
from tests.connect.conftest import PARTNER_SECRET, fixture_body, with_payload

pytestmark = pytest.mark.django_db

ACME_SECRET = "test-acme-account-secret-0123456789ab"
DEMO_PARTNER_SECRET = "test-demo-partner-secret-0123456789ab"
SECOND_PARTNER_SECRET = "test-second-partner-secret-0123456789"


@pytest.fixture(autouse=True)
def no_remembered_keys(settings) -> None:
    """Overrides the package's fixture of this name: the cache is ON (long enough that no test outlives it)."""
    settings.DOCUSIGN_CONNECT_KEY_CACHE_SECONDS = 300
    forget_cached_keys()


def message(n: int) -> bytes:
    """A distinct envelope-sent message (a new dedup key each), for ACME's account."""
    return with_payload(fixture_body("envelope-sent"), generatedDateTime=f"2024-05-01T10:00:{n:02d}.0000000Z")


def assert_keys_remembered(account_id: str = ACME.account_id) -> None:
    assert account_id.lower() in connect_hmac._key_cache, "the cache is not warm: the test would prove nothing"


def stored(n: int) -> ConnectEvent | None:
    return ConnectEvent.objects.filter(generated_at__second=n).select_related("organization").first()


@pytest.fixture
def acme_key(acme_organization) -> ConnectHMACKey:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return connect_hmac_key_add(acting_user=None, environment="sandbox", label="Acme's own key",
                                    secret=ACME_SECRET, organization=acme_organization)


def test_an_account_moved_to_another_organization_is_filed_under_the_new_one_at_once(
        deliver, acme_organization, partner_key, acme_key):
    assert deliver.signed(message(1), PARTNER_SECRET).status_code == 200
    assert deliver.signed(message(2), ACME_SECRET).status_code == 200
    assert_keys_remembered()
    assert stored(1).organization == stored(2).organization == acme_organization

    # Staff move the account (in another process): Acme no longer has it, Globex does.
    ClientOrganization.objects.filter(pk=acme_organization.pk).update(account_id=None)
    globex = factories.organization("Globex", account_id=ACME.account_id)

    assert deliver.signed(message(3), PARTNER_SECRET).status_code == 200
    assert stored(3).organization == globex
    # Acme's own key vouched for the account while Acme had it; now it vouches for nothing.
    assert deliver.signed(message(4), ACME_SECRET).status_code == 401
    assert stored(4) is None


def test_a_key_retired_here_is_refused_at_once(deliver, acme_organization, partner_key):
    assert deliver.signed(message(1), PARTNER_SECRET).status_code == 200
    assert_keys_remembered()

    with TestCase.captureOnCommitCallbacks(execute=True):
        connect_hmac_key_retire(acting_user=None, key=partner_key)

    assert deliver.signed(message(2), PARTNER_SECRET).status_code == 401
    assert stored(2) is None


def test_a_key_retired_in_another_process_is_refused_at_once(deliver, acme_organization, partner_key):
    with TestCase.captureOnCommitCallbacks(execute=True):
        connect_hmac_key_add(acting_user=None, environment="sandbox", label="Partner key 2", secret=SECOND_PARTNER_SECRET)
    assert deliver.signed(message(1), PARTNER_SECRET).status_code == 200
    assert_keys_remembered()

    ConnectHMACKey.objects.filter(pk=partner_key.pk).update(active=False)  # another worker's retire

    assert deliver.signed(message(2), PARTNER_SECRET).status_code == 401
    assert stored(2) is None
    # The key that is still active keeps working from the cache.
    assert deliver.signed(message(3), SECOND_PARTNER_SECRET).status_code == 200


def test_a_partner_key_of_another_environment_is_refused_once_the_account_has_an_organization(
        deliver, partner_key, settings):
    settings.DOCUSIGN_ENVIRONMENTS = ["sandbox", "demo"]
    with TestCase.captureOnCommitCallbacks(execute=True):
        connect_hmac_key_add(acting_user=None, environment="demo", label="Demo partner key", secret=DEMO_PARTNER_SECRET)
    # No organization has the account yet: any served environment's partner key may vouch (it is quarantined).
    assert deliver.signed(message(1), DEMO_PARTNER_SECRET).status_code == 200
    assert (stored(1).environment, stored(1).state) == ("demo", "quarantined")
    assert_keys_remembered()

    acme = factories.organization("Acme Corp", account_id=ACME.account_id)  # a sandbox organization

    assert deliver.signed(message(2), DEMO_PARTNER_SECRET).status_code == 401
    assert stored(2) is None
    assert deliver.signed(message(3), PARTNER_SECRET).status_code == 200
    assert stored(3).organization == acme


def test_a_partner_key_of_another_environment_never_vouches_for_a_known_account(
        deliver, acme_organization, partner_key, settings):
    settings.DOCUSIGN_ENVIRONMENTS = ["sandbox", "demo"]
    with TestCase.captureOnCommitCallbacks(execute=True):
        connect_hmac_key_add(acting_user=None, environment="demo", label="Demo partner key", secret=DEMO_PARTNER_SECRET)
    assert deliver.signed(message(1), PARTNER_SECRET).status_code == 200
    assert_keys_remembered()

    assert deliver.signed(message(2), DEMO_PARTNER_SECRET).status_code == 401
    assert deliver.signed(message(3), DEMO_PARTNER_SECRET, PARTNER_SECRET).status_code == 200
    assert stored(2) is None and stored(3).organization == acme_organization
