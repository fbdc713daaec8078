"""An organization's DocuSign templates, cached for the API, and the ISV's allow-list of those its product may use.

Listing the account's templates is one paged DocuSign call sequence, made on demand (`templates_refresh`, from the
API's refresh endpoint or staff's admin action), never per API call: sending from a template reads the role names
and recipientIds from the cache. A refresh replaces names and roles, drops templates DocuSign no longer lists and
keeps the ISV's `allowed` choice.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from docusign_integration.client import templates as esign_templates
from docusign_integration.envelopes.sending import system_user_identity
from tenants import audit
from tenants.models import ClientOrganization

from .models import CachedTemplate


def templates_refresh(*, acting_user: User | None, organization: ClientOrganization,
                      api_key_prefix: str = "") -> list[CachedTemplate]:
    """List the account's templates in DocuSign and store them; the organization's templates afterwards."""
    identity = system_user_identity(organization)
    listed = identity.call(lambda bearer: esign_templates.list_templates(identity.ref, bearer=bearer))
    now = timezone.now()
    with transaction.atomic():
        CachedTemplate.objects.bulk_create(
            [CachedTemplate(organization=organization, template_id=t.template_id, name=t.name,
                            description=t.description, refreshed_at=now,
                            roles=[{"role_name": r.role_name, "recipient_id": r.recipient_id} for r in t.roles])
             for t in listed],
            update_conflicts=True, unique_fields=["organization", "template_id"],
            update_fields=["name", "description", "roles", "refreshed_at"])
        gone = CachedTemplate.objects.filter(organization=organization).exclude(
            template_id__in=[t.template_id for t in listed])
        removed = gone.count()
        gone.delete()
        audit.record(actor=acting_user, action="api.templates_refresh", organization=organization,
                     after={"templates": len(listed), "removed": removed,
                            **({"api_key": api_key_prefix} if api_key_prefix else {})})
    return list(CachedTemplate.objects.filter(organization=organization).order_by("name", "template_id"))


def template_allow(*, acting_user: User | None, template: CachedTemplate, allowed: bool) -> None:
    """Let (or stop) the organization's API calls send from `template` (staff's choice per client)."""
    with transaction.atomic():
        changed = CachedTemplate.objects.filter(pk=template.pk).exclude(allowed=allowed).update(allowed=allowed)
        if changed:
            audit.record(actor=acting_user, action="api.template_allow", organization=template.organization,
                         target=f"template {template.template_id}", before={"allowed": not allowed},
                         after={"allowed": allowed})
