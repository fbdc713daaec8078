"""`manage.py seed_demo`: the demo's staff user, partner HMAC keys and client organizations, idempotently."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

USERNAME = "staff"
# The sandbox seed's users (docusign_sandbox/seed.py): their fixed user ids make this idempotent.
DEMO_ORGANIZATIONS = (
    ("Acme Corp", "acme", "a0000001-0000-4000-8000-000000000001", "system@acme.example"),
    ("Initech", "initech", "a0000001-0000-4000-8000-000000000004", "sender@initech.example"),
)


class Command(BaseCommand):
    help = "Create the demo staff user (once) and print its sign-in; later runs keep the stored password."

    def handle(self, *args: Any, **options: Any) -> None:
        password_file = settings.VAR_DIR / "demo_staff_password.txt"
        User = get_user_model()
        user = User.objects.filter(username=USERNAME).first()
        if user is None or not password_file.exists():
            password = secrets.token_urlsafe(12)
            user = user or User(username=USERNAME, email="staff@isv.example")
            user.is_staff = user.is_superuser = True
            user.set_password(password)
            user.save()
            password_file.parent.mkdir(parents=True, exist_ok=True)
            password_file.write_text(password)
            password_file.chmod(0o600)
        password = password_file.read_text().strip()
        self.stdout.write(f"Staff sign-in: username {USERNAME!r}, password {password!r} (stored in {password_file})")
        self._import_sandbox_hmac_keys()
        self._provision_demo_organizations()
        self._demo_webhook_endpoints()

    def _import_sandbox_hmac_keys(self) -> None:
        """Copy the sandbox partner account's Connect HMAC keys in as partner keys, as ISV staff would from DocuSign."""
        if "sandbox" not in settings.DOCUSIGN_ENVIRONMENTS:
            return
        from docusign_integration.connect.hmac import connect_hmac_key_add
        from docusign_integration.models import ConnectHMACKey
        from docusign_sandbox.models import IntegrationKey
        from docusign_sandbox.seed import partner_hmac_keys

        integration = IntegrationKey.objects.filter(client_id=settings.DOCUSIGN_INTEGRATION_KEY).first()
        if integration is None or integration.partner_account is None:
            return  # run `manage.py sandbox_seed` first
        known = set(ConnectHMACKey.objects.filter(environment="sandbox").values_list("key_id", flat=True))
        added = [connect_hmac_key_add(acting_user=None, environment="sandbox", label=f"Sandbox partner key {k['key_id'][:8]}",
                                      secret=k["secret"], key_id=k["key_id"])
                 for k in partner_hmac_keys(integration.partner_account) if k["key_id"] not in known]
        self.stdout.write(f"Connect HMAC keys: {len(added)} sandbox partner key(s) imported")

    def _provision_demo_organizations(self) -> None:
        """Two sandbox clients to try the journeys on: Acme (consent still to give) and Initech (already consented)."""
        if "sandbox" not in settings.DOCUSIGN_ENVIRONMENTS:
            return
        from tenants.models import ClientOrganization
        from tenants.services import organization_provision

        for name, slug, user_id, email in DEMO_ORGANIZATIONS:
            if not ClientOrganization.objects.filter(slug=slug).exists():
                organization_provision(acting_user=None, name=name, environment="sandbox", slug=slug,
                                       system_user_id=user_id, system_user_email=email)
        names = ", ".join(f"{name} (system user {email})" for name, _, _, email in DEMO_ORGANIZATIONS)
        self.stdout.write(f"Demo client organizations: {names}")

    def _demo_webhook_endpoints(self) -> None:
        """Each demo client's events go to the DEBUG-only receiver page, so a newcomer watches them arrive."""
        if not (settings.DEBUG and settings.OUTBOUND_EVENTS_ALLOW_LOOPBACK):
            return
        from outbound_events.models import WebhookEndpoint
        from outbound_events.services import endpoint_create
        from tenants.models import ClientOrganization

        for organization in ClientOrganization.objects.filter(slug__in=[slug for _, slug, _, _ in DEMO_ORGANIZATIONS]):
            url = f"{settings.PORTAL_BASE_URL.rstrip('/')}/_dev/webhooks/{organization.slug}/"
            if not WebhookEndpoint.objects.filter(organization=organization, url=url).exists():
                endpoint_create(acting_user=None, organization=organization, url=url)
            self.stdout.write(f"Events of {organization.name}: {url}")
