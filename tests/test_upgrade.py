"""The upgrade to the layout of issue 13: a database migrated by main as of c1947e4 and filled there migrates to this
layout with every row kept and readable through today's models.

The moves change Django's state only: docusign_integration kept its app label (no table moved), and FailedTask moved
from portal to background keeping its table (portal_failedtask) and its content type, so staff granted the
permission on dead letters keep it.
"""

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from background.models import FailedTask
from docusign_integration.connect.models import ConnectEvent, ConnectHMACKey
from docusign_integration.envelopes.models.documents import SignedDocument
from docusign_integration.keys import encryption
from docusign_integration.oauth.models.credentials import DocuSignCredential
from tenants.models import ClientOrganization, SystemUser

# The leaf migration of each of the portal's apps on main at c1947e4, the last commit before the moves.
MAIN = [
    ("tenants", "0005_client_organization_base_uri_allowlist"),
    ("docusign_integration", "0007_envelope_signer_binding"),
    ("portal", "0001_initial"),
    ("background", None),  # the app did not exist
]
ORG_GUID = "11111111-2222-4333-8444-555555555555"
ACCOUNT_ID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
ENVELOPE_ID = "12345678-1234-4234-8234-123456789abc"


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader


def _sealed(value: str, model: str, pk: uuid.UUID, field: str) -> str:
    # The AAD names the app label (encryption.model_context), which the moves kept: a changed label fails to decrypt.
    return encryption.encrypt(value, context=f"docusign_integration.{model}:{pk}:{field}")


def _fill(apps) -> dict[str, object]:
    """Rows as main wrote them, through main's historical models."""
    now = timezone.now()
    organization = apps.get_model("tenants", "ClientOrganization").objects.create(
        name="Acme Corp", slug="acme", environment="sandbox", account_id=ACCOUNT_ID)
    apps.get_model("tenants", "SystemUser").objects.create(organization=organization, user_id=ORG_GUID,
                                                           email="system@acme.example", consent_status="granted")
    person = apps.get_model("auth", "User").objects.create(username="alice", email="alice@acme.example")

    credential_id = uuid.uuid4()
    apps.get_model("docusign_integration", "DocuSignCredential").objects.create(
        id=credential_id, organization=organization, user=person, environment="sandbox", docusign_user_id=ORG_GUID,
        access_token_ciphertext=_sealed("ACCESS-before", "DocuSignCredential", credential_id, "access_token_ciphertext"),
        refresh_token_ciphertext=_sealed("REFRESH-before", "DocuSignCredential", credential_id, "refresh_token_ciphertext"),
        expires_at=now + timedelta(hours=1), refresh_expires_at=now + timedelta(days=30), scopes="signature extended")

    key_id = uuid.uuid4()
    apps.get_model("docusign_integration", "ConnectHMACKey").objects.create(
        id=key_id, environment="sandbox", scope="account", organization=organization, label="acme",
        secret_ciphertext=_sealed("HMAC-before", "ConnectHMACKey", key_id, "secret_ciphertext"))
    apps.get_model("docusign_integration", "ConnectEvent").objects.create(
        environment="sandbox", account_id=ACCOUNT_ID, envelope_id=ENVELOPE_ID, event="envelope-completed", generated_at=now,
        organization=organization, body=b'{"event": "envelope-completed"}', state="quarantined", reason="kept")
    envelope = apps.get_model("docusign_integration", "Envelope").objects.create(
        organization=organization, envelope_id=ENVELOPE_ID, environment="sandbox", status="completed", created_via="connect")
    apps.get_model("docusign_integration", "SignedDocument").objects.create(envelope=envelope, kind="combined", state="failed",
                                                                            attempts=3, last_error="kept")
    apps.get_model("portal", "FailedTask").objects.create(
        task_name="docusign_integration.tasks_envelopes.sync_organization", args=[organization.pk], call_digest="d" * 64,
        exception_class="docusign_integration.client.errors.Unauthorized", first_failed_at=now, last_failed_at=now)

    # Staff granted the dead-letter permission on main: the content type is portal's then.
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    content_type, _ = ContentType.objects.get_or_create(app_label="portal", model="failedtask")
    permission, _ = Permission.objects.get_or_create(content_type=content_type, codename="change_failedtask",
                                                     defaults={"name": "Can change failed task"})
    operator = apps.get_model("auth", "User").objects.create(username="ops", is_staff=True)
    operator.user_permissions.add(permission)
    return {"organization": organization.pk, "credential": credential_id, "key": key_id, "content_type": content_type.pk}


@pytest.mark.django_db(transaction=True)
def test_a_database_of_main_migrates_to_the_new_layout_with_every_row_kept_and_readable():
    loader = _migrate(MAIN)
    ids = _fill(loader.project_state(
        [(app, name) for app, name in MAIN if name] + [("auth", "0012_alter_user_first_name_max_length"),
                                                         ("contenttypes", "0002_remove_content_type_name")]).apps)

    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    organization = ClientOrganization.objects.get(pk=ids["organization"])
    assert (organization.slug, organization.account_id) == ("acme", ACCOUNT_ID)
    assert SystemUser.objects.get(organization=organization).email == "system@acme.example"
    credential = DocuSignCredential.objects.get(pk=ids["credential"])
    assert (credential.get_access_token(), credential.get_refresh_token()) == ("ACCESS-before", "REFRESH-before")
    assert ConnectHMACKey.objects.get(pk=ids["key"]).get_secret() == "HMAC-before"
    event = ConnectEvent.objects.get()
    assert (event.envelope_id, event.state, bytes(event.body)) == (ENVELOPE_ID, "quarantined", b'{"event": "envelope-completed"}')
    document = SignedDocument.objects.select_related("envelope").get()
    assert (document.envelope.envelope_id, document.state, document.attempts) == (ENVELOPE_ID, "failed", 3)
    letter = FailedTask.objects.get()
    assert (letter.task_name, letter.args) == ("docusign_integration.tasks_envelopes.sync_organization", [organization.pk])
    # The content type moved with the model (the same row): the grant given on main still holds.
    assert User.objects.get(username="ops").has_perm("background.change_failedtask")
    from django.contrib.contenttypes.models import ContentType

    assert ContentType.objects.get_for_model(FailedTask).pk == ids["content_type"]
