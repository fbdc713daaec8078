"""The security sweep's world: organization A with every kind of object and secret, organization B, and each role.

Secrets are seeded the way production gets them (the client secret in its file, the RSA key the sandbox registered,
an HMAC key through `manage.py connect_hmac_key add`, tokens through `credentials.credential_store` and through a
real "Connect to DocuSign" round trip), so a leak anywhere along those paths shows up as a canary in the sweep.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import AbstractUser, Group, Permission
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.management import call_command
from django.db.models import Model
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from docusign_integration.client.errors import DocuSignError
from docusign_integration.connect.hmac import forget_cached_keys
from docusign_integration.envelopes.documents import documents_download
from docusign_integration.envelopes.sync import envelopes_sweep
from docusign_integration.models import ConnectEvent, ConnectHMACKey, DocuSignCredential, Envelope
from docusign_integration.oauth import credentials
from docusign_integration.oauth.account_server import TokenResponse, UserAccount, UserInfo
from docusign_sandbox.models import IntegrationKey
from docusign_sandbox.seed import ACME
from outbound_events import services as outbound_services
from outbound_events.models import WebhookEndpoint
from tenants import services
from tenants.models import ClientMembership, ClientOrganization, Invitation, MembershipRole
from tests import factories
from tests.connect.conftest import fixture_body, signed_headers
from tests.envelopes.conftest import connected_organization, docusign_envelope
from tests.onboarding.conftest import connect
from tests.security.routes import Route, admin_model_for

ROLES = ("anonymous", "admin_a", "member_a", "staff", "superuser")


def canary() -> str:
    return f"CANARY-{uuid.uuid4()}"


@dataclass
class Secrets:
    """Every secret value the portal holds in the world, by name; `needles` is what must never be found outside."""

    client_secret: str = field(default_factory=canary)
    access_token: str = field(default_factory=canary)
    refresh_token: str = field(default_factory=canary)
    hmac_secret: str = field(default_factory=canary)
    private_key_lines: list[str] = field(default_factory=list)  # the PEM body of the key the sandbox registered
    issued_tokens: list[str] = field(default_factory=list)  # the real token pair the sandbox issued to admin A
    webhook_secret: str = ""  # organization A's webhook endpoint's signing secret (made by the portal)

    @property
    def needles(self) -> dict[str, str]:
        found = {"client secret": self.client_secret, "access token": self.access_token,
                 "refresh token": self.refresh_token, "HMAC secret": self.hmac_secret}
        found.update({f"private key line {n}": line for n, line in enumerate(self.private_key_lines)})
        found.update({f"issued token {n}": token for n, token in enumerate(self.issued_tokens)})
        if self.webhook_secret:
            found["webhook secret"] = self.webhook_secret
        return found

    def found_in(self, text: str) -> list[str]:
        return [name for name, value in self.needles.items() if value in text]


@dataclass
class World:
    sandbox: object
    secrets: Secrets
    org_a: ClientOrganization
    org_b: ClientOrganization
    users: dict[str, AbstractUser | None]
    envelope: Envelope
    webhook_endpoint: WebhookEndpoint
    invitation_token: str
    canary_credential: DocuSignCredential
    preferred: dict[type[Model], Model]

    def client(self, role: str, **kwargs: object) -> Client:
        client = Client(**kwargs)
        if self.users[role] is not None:
            client.force_login(self.users[role])
        return client

    def value(self, route: Route, param: str) -> str | None:
        """Organization A's own object for a route parameter (None: nothing to fill it with)."""
        if param == "object_id" and route.name == "admin:view_on_site":
            return str(self.org_a.pk)
        if param in ("object_id", "pk", "id"):
            model = admin_model_for(route.name or "")
            if model is None:
                return None
            instance = self.preferred.get(model) or model._default_manager.order_by("pk").first()
            return str(instance.pk) if instance is not None else None
        if param == "kind":
            return "individual" if route.name == "docusign:consent_start" else "combined"
        if param == "token" and route.name == "password_reset_confirm":
            return default_token_generator.make_token(self.users["admin_a"])
        if param == "invitation_id":  # the organization page's revoke/resend of A's own invitation
            invitation = Invitation.objects.filter(organization=self.org_a).order_by("pk").first()
            return str(invitation.pk) if invitation is not None else None
        return {
            "action": "resend",
            "template_id": str(uuid.uuid4()),  # the ISV API's; the crawl's session roles get its 401 either way
            "slug": self.org_a.slug,
            "envelope_id": self.envelope.envelope_id,
            "endpoint_id": str(self.webhook_endpoint.pk),
            "recipient_id": "1",
            "token": self.invitation_token,
            "uidb64": urlsafe_base64_encode(force_bytes(self.users["admin_a"].pk)),
            "app_label": "tenants",
            "content_type_id": str(ContentType.objects.get_for_model(ClientOrganization).pk),
        }.get(param)


def _seed_client_secret(settings, secret: str) -> None:
    """The canary becomes the integration key's secret on both sides: the portal's secret file and DocuSign's hash."""
    Path(settings.DOCUSIGN_CLIENT_SECRET_FILE).write_text(secret + "\n")
    IntegrationKey.objects.update(secret_hash=hashlib.sha256(secret.encode()).hexdigest())


def _add_hmac_key(monkeypatch, organization: ClientOrganization, secret: str) -> ConnectHMACKey:
    """`manage.py connect_hmac_key add`, the secret on standard input as operators type it."""
    monkeypatch.setattr("sys.stdin", io.StringIO(secret + "\n"))
    call_command("connect_hmac_key", "add", "--label", "Acme account key", "--organization", organization.slug,
                 stdout=io.StringIO())
    return ConnectHMACKey.objects.get(organization=organization)


def _store_canary_credential(user: AbstractUser, organization: ClientOrganization, secrets: Secrets) -> DocuSignCredential:
    tokens = TokenResponse(access_token=secrets.access_token, expires_in=3600, refresh_token=secrets.refresh_token,
                           scope="signature extended")
    person = UserInfo(sub=str(uuid.uuid4()), name="Second Admin", email="second.admin@acme.example",
                      accounts=[UserAccount(ACME.account_id, ACME.name, organization.base_uri, True)])
    return credentials.credential_store(acting_user=user, organization=organization, tokens=tokens, userinfo=person,
                                        environment=organization.environment)


def _use_canary_tokens_against_docusign(credential: DocuSignCredential) -> None:
    """Send the canary tokens and client secret over the wire: userinfo with the access token, then a refresh."""
    # The sandbox does not know the canary tokens: its refusals are part of what must log nothing.
    with contextlib.suppress(DocuSignError):
        credentials.fetch_userinfo(credential)
    with contextlib.suppress(DocuSignError):
        credentials.credential_refresh(str(credential.pk))


def _staff(username: str) -> AbstractUser:
    """ISV staff with every tenants permission and view permission on every DocuSign model."""
    staff = factories.isv_staff(username)
    staff.user_permissions.add(*Permission.objects.filter(content_type__app_label="docusign_integration",
                                                          codename__startswith="view_"))
    return staff


def build_world(sandbox, settings, monkeypatch) -> World:
    """Organization A (consented, connected, an envelope with signed documents, an HMAC key, a Connect message,
    an invitation) and organization B, each role's user, and every secret seeded."""
    secrets = Secrets()
    _seed_client_secret(settings, secrets.client_secret)
    pem = Path(settings.DOCUSIGN_PRIVATE_KEY_FILE).read_text()
    secrets.private_key_lines = [line for line in pem.splitlines() if len(line) >= 40 and "PRIVATE KEY" not in line]
    settings.DOCUSIGN_CONNECT_KEY_CACHE_SECONDS = 0
    forget_cached_keys()

    org_a = connected_organization(sandbox, "acme")
    org_b = factories.organization("Organization B")
    users: dict[str, AbstractUser | None] = {
        "anonymous": None,
        "admin_a": factories.client_admin("admin-a", org_a),
        "member_a": factories.user("member-a"),
        "admin_b": factories.client_admin("admin-b", org_b),
        "staff": _staff("staff"),
        "superuser": factories.user("root", is_staff=True, is_superuser=True),
    }
    ClientMembership.objects.create(user=users["member_a"], organization=org_a, role=MembershipRole.MEMBER)
    Group.objects.create(name="ISV support")

    # A real "Connect to DocuSign" (code exchange with the canary client secret), then a canary token pair.
    admin_client = Client()
    admin_client.force_login(users["admin_a"])
    connect(admin_client, sandbox, org_a.slug, "admin@acme.example")
    issued = DocuSignCredential.objects.get(organization=org_a, user=users["admin_a"])
    secrets.issued_tokens = [issued.get_access_token(), issued.get_refresh_token()]
    canary_credential = _store_canary_credential(factories.client_admin("admin2-a", org_a), org_a, secrets)
    _use_canary_tokens_against_docusign(canary_credential)

    hmac_key = _add_hmac_key(monkeypatch, org_a, secrets.hmac_secret)
    body = fixture_body("envelope-sent")
    delivered = Client().post("/docusign/connect/", data=body, content_type="application/json",
                              **signed_headers(body, secrets.hmac_secret))
    assert delivered.status_code == 200, delivered.status_code

    in_docusign = docusign_envelope(org_a.account_id, status="completed", embedded=True)
    envelopes_sweep(org_a)
    envelope = Envelope.objects.get(envelope_id=in_docusign.envelope_id)
    documents_download(envelope)

    services.invitation_send(acting_user=users["staff"], organization=org_a, email="invitee@acme.example",
                             role=MembershipRole.MEMBER)
    link = mail.outbox[-1].body
    invitation_token = link[link.index("/onboarding/invitations/"):].split()[0].split("/")[3]
    LogEntry.objects.log_actions(user_id=users["superuser"].pk, queryset=ClientOrganization.objects.filter(pk=org_a.pk),
                                 action_flag=CHANGE, change_message="Renamed.")
    settings.OUTBOUND_EVENTS_ALLOW_LOOPBACK = True
    webhook_endpoint, secrets.webhook_secret = outbound_services.endpoint_create(
        acting_user=users["staff"], organization=org_a, url="http://127.0.0.1:9/hooks", event_types=["setup.drifted"])

    return World(sandbox=sandbox, secrets=secrets, org_a=org_a, org_b=org_b, users=users, envelope=envelope,
                 webhook_endpoint=webhook_endpoint,
                 invitation_token=invitation_token, canary_credential=canary_credential,
                 preferred={ClientOrganization: org_a, DocuSignCredential: canary_credential, ConnectHMACKey: hmac_key,
                            ConnectEvent: ConnectEvent.objects.filter(organization=org_a).first()})


@pytest.fixture
def world(sandbox, settings, monkeypatch, media_root) -> World:
    return build_world(sandbox, settings, monkeypatch)


@pytest.fixture
def media_root(settings, tmp_path) -> Iterator[Path]:
    """Signed documents go to a fresh storage directory per test."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    yield tmp_path / "media"
