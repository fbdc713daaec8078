"""Issuing and revoking an organization's API keys (named services: audited by the key's prefix, never the key)."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from tenants import audit
from tenants.models import ClientOrganization

from .models import OrganizationAPIKey


def api_key_create(*, acting_user: User | None, organization: ClientOrganization, name: str,
                   expiry_date: datetime | None = None) -> tuple[OrganizationAPIKey, str]:
    """A new key of `organization`; the key itself is returned once and never stored (only its hash)."""
    name = name.strip()
    if not name or len(name) > 50:
        raise ValidationError("An API key's name is 1 to 50 characters.")
    if organization.offboarded_at is not None:
        raise ValidationError(f"{organization.name} is offboarded: it gets no API keys.")
    with transaction.atomic():
        api_key = OrganizationAPIKey(organization=organization, name=name, expiry_date=expiry_date)
        key = OrganizationAPIKey.objects.assign_key(api_key)
        api_key.save()
        audit.record(actor=acting_user, action="api.key_create", organization=organization,
                     target=f"API key {api_key.prefix}", after={"prefix": api_key.prefix, "name": name,
                                                                "expiry_date": expiry_date})
    return api_key, key


def api_key_revoke(*, acting_user: User | None, api_key: OrganizationAPIKey) -> bool:
    """Revoke the key for good (True), or False when it already was."""
    with transaction.atomic():
        changed = OrganizationAPIKey.objects.filter(pk=api_key.pk, revoked=False).update(revoked=True)
        if changed:
            audit.record(actor=acting_user, action="api.key_revoke", organization=api_key.organization,
                         target=f"API key {api_key.prefix}", after={"prefix": api_key.prefix, "revoked": True})
    return bool(changed)


def api_key_update(*, acting_user: User | None, api_key: OrganizationAPIKey, name: str,
                   expiry_date: datetime | None) -> OrganizationAPIKey:
    """Rename a key or change its expiry (the admin's change form); audited by the key's prefix."""
    name = name.strip()
    if not name or len(name) > 50:
        raise ValidationError("An API key's name is 1 to 50 characters.")
    with transaction.atomic():
        locked = OrganizationAPIKey.objects.select_for_update().get(pk=api_key.pk)
        before = {"name": locked.name, "expiry_date": locked.expiry_date}
        after = {"name": name, "expiry_date": expiry_date}
        changed = {field: value for field, value in after.items() if before[field] != value}
        if changed:
            OrganizationAPIKey.objects.filter(pk=locked.pk).update(**changed)
            audit.record(actor=acting_user, action="api.key_update", organization=locked.organization,
                         target=f"API key {locked.prefix}", before={field: before[field] for field in changed},
                         after=changed)
    api_key.name, api_key.expiry_date = name, expiry_date
    return api_key
