"""A permanent grant failure that says nothing about consent leaves the consent status as it was, with the error recorded.

`issuer_not_found` (the integration key is unknown in that environment) and `no_valid_keys_or_signatures` (the RSA
key is not registered on it) are the ISV's configuration problems, not the client's consent: a check that meets
one must not turn GRANTED into REQUIRED or REVOKED (which would send staff chasing the client for consent), nor
REQUIRED into GRANTED; it records the error in words that say what to fix. Against the sandbox's real JWT grant.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from docusign_integration.client import conf
from docusign_integration.client.errors import InvalidGrant
from docusign_integration.consent.system_user import consent_verify
from docusign_integration.consent.tasks import check_consent_task
from docusign_sandbox.models import Consent, IntegrationKey, RequestLog, User
from tenants.models import AuditEvent, ConsentStatus, SystemUser
from tests import factories

pytestmark = pytest.mark.usefixtures("sandbox")

UNKNOWN_INTEGRATION_KEY = "00000000-0000-4000-8000-00000000dead"


def unregistered_private_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def break_integration_key(settings) -> None:
    settings.DOCUSIGN_INTEGRATION_KEY = UNKNOWN_INTEGRATION_KEY


def break_private_key(settings) -> None:
    settings.DOCUSIGN_PRIVATE_KEY = unregistered_private_key()
    conf.reset_caches()


FAULTS = [
    pytest.param(break_integration_key, "issuer_not_found", id="issuer_not_found"),
    pytest.param(break_private_key, "no_valid_keys_or_signatures", id="no_valid_keys_or_signatures"),
]


@pytest.fixture
def granted(sandbox):
    """Acme, whose system user consented and was verified (GRANTED, account linked)."""
    seeded = sandbox.user("admin@acme.example")
    organization = factories.organization("Acme", system_user_id=seeded["user_id"], system_user_email=seeded["email"])
    Consent.objects.create(user=User.objects.get(email=seeded["email"]),
                           integration_key=IntegrationKey.objects.get(client_id=sandbox.seed["integration_key"]),
                           scopes="signature impersonation")
    system_user = consent_verify(acting_user=None, organization=organization)
    assert system_user.consent_status == ConsentStatus.GRANTED and system_user.last_error == ""
    return organization


def grant_refusals() -> int:
    """Token requests DocuSign (the sandbox) refused; which refusal it was shows in the recorded error code."""
    return RequestLog.objects.filter(method="POST", path="/oauth/token", status=400).count()


@pytest.mark.parametrize(("fault", "description"), FAULTS)
def test_a_permanent_grant_failure_leaves_granted_consent_granted_with_the_error_recorded(
        granted, settings, fault, description):
    before = SystemUser.objects.get(organization=granted)
    fault(settings)

    after = consent_verify(acting_user=None, organization=granted)

    assert grant_refusals() == 1
    assert after.consent_status == ConsentStatus.GRANTED
    assert (after.scopes, after.consent_type, after.verified_at) == (before.scopes, before.consent_type, before.verified_at)
    assert after.last_error_code == description
    assert after.last_error == InvalidGrant.MESSAGES[description]
    granted.refresh_from_db()
    assert granted.account_id and granted.account_id == before.organization.account_id
    check = AuditEvent.objects.filter(action="consent.check", organization=granted).latest("pk")
    assert "consent_status" not in check.after
    assert check.after["last_error_code"] == description


@pytest.mark.parametrize(("fault", "description"), FAULTS)
@pytest.mark.parametrize("status", [ConsentStatus.REQUIRED, ConsentStatus.REVOKED, ConsentStatus.UNKNOWN])
def test_a_permanent_grant_failure_changes_no_other_status_either(granted, settings, fault, description, status):
    SystemUser.objects.filter(organization=granted).update(consent_status=status)
    fault(settings)

    after = consent_verify(acting_user=None, organization=granted)

    assert (after.consent_status, after.last_error_code) == (status, description)


@pytest.mark.parametrize(("fault", "description"), FAULTS)
def test_the_background_check_records_it_once_without_retrying(granted, settings, eager_celery, fault, description):
    fault(settings)

    check_consent_task.delay(granted.pk)

    system_user = SystemUser.objects.get(organization=granted)
    assert (system_user.consent_status, system_user.last_error_code) == (ConsentStatus.GRANTED, description)
    assert grant_refusals() == 1  # refused once, not retried


def test_the_next_check_after_the_fix_clears_the_error(granted, settings):
    break_integration_key(settings)
    consent_verify(acting_user=None, organization=granted)
    settings.DOCUSIGN_INTEGRATION_KEY = IntegrationKey.objects.get().client_id

    system_user = consent_verify(acting_user=None, organization=granted)

    assert (system_user.consent_status, system_user.last_error, system_user.last_error_code) == (
        ConsentStatus.GRANTED, "", "")
