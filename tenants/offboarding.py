"""Offboarding a client organization that left, and reactivating it (docs/security.md TS-6).

Like every service (tenants/services.py): atomic, keyword-only `acting_user`, one audit row per change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Model, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from docusign_integration.connect.hmac import connect_hmac_key_retire
from docusign_integration.connect.models import ConnectHMACKey, HMACKeyScope
from docusign_integration.oauth.credentials import credential_disconnect
from docusign_integration.oauth.models.credentials import DocuSignCredential
from docusign_integration.oauth.models.state import OAuthState
from docusign_integration.oauth.models.tokens import CachedAccessToken
from docusign_integration.oauth.state import oauth_states_cancel
from docusign_integration.oauth.tokens import forget_impersonation_token
from tenants import audit
from tenants.models import (
    ClientMembership,
    ClientOrganization,
    Invitation,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

OFFBOARDING_RETENTION = (
    "The organization row, its envelopes, stored signed documents, Connect messages and audit history are kept, "
    "with no time limit: the portal never deletes them by itself. Deleting them (at the end of the ISV's retention "
    "period, or at the client's request) is a separate decision, never part of offboarding."
)


class OffboardingCounts(TypedDict):
    """What `offboarding_preview` adds to each organization."""

    to_disconnect: int
    to_forget: int
    to_retire: int
    to_revoke: int
    to_remove: int
    to_cancel: int


def offboarding_preview(organizations: QuerySet[ClientOrganization],
                        ) -> QuerySet[WithAnnotations[ClientOrganization, OffboardingCounts]]:
    """`organizations` annotated with what offboarding each would delete or revoke (one query for the page or command).

    `to_disconnect` DocuSign connections, `to_forget` cached JWT tokens, `to_retire` account Connect HMAC keys,
    `to_revoke` pending invitations, `to_remove` memberships, `to_cancel` OAuth sign-ins in progress.
    """
    now = timezone.now()

    def count(model: type[Model], **filters: object) -> Coalesce:
        rows = model._default_manager.filter(**filters).order_by().values("organization_id").annotate(n=Count("pk")).values("n")
        return Coalesce(Subquery(rows), 0)

    tokens = (CachedAccessToken.objects.filter(environment=OuterRef("environment"), user_id=OuterRef("system_user__user_id"))
              .order_by().values("user_id").annotate(n=Count("pk")).values("n"))
    return organizations.select_related("system_user").annotate(
        to_disconnect=count(DocuSignCredential, organization=OuterRef("pk")),
        to_forget=Coalesce(Subquery(tokens), 0),
        to_retire=count(ConnectHMACKey, organization=OuterRef("pk"), scope=HMACKeyScope.ACCOUNT, active=True),
        to_revoke=count(Invitation, organization=OuterRef("pk"), accepted_at__isnull=True, expires_at__gt=now),
        to_remove=count(ClientMembership, organization=OuterRef("pk")),
        to_cancel=count(OAuthState, organization_id=OuterRef("pk")),
    )


def organization_offboard(*, acting_user: User | None, organization: ClientOrganization, reason: str) -> bool:
    """Stop serving a client that left: delete its DocuSign secrets and access, keep its records (docs/security.md TS-6).

    Deletes its DocuSign connections, its system user's cached JWT tokens and its OAuth sign-ins in progress, retires
    its account Connect HMAC keys (partner keys are shared and stay), revokes pending invitations and removes its
    members, so its onboarding pages are 404 for them like any other organization's. Tasks queued before find it
    offboarded when they start and make no DocuSign call (`tenants.active`). See OFFBOARDING_RETENTION for what stays.
    Returns False, changing nothing, when it was offboarded already. An empty reason raises ValidationError.
    """
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the client is offboarded (it is kept in the audit history)."})
    with transaction.atomic():
        locked = (ClientOrganization.objects.select_for_update(of=("self",)).select_related("system_user")
                  .get(pk=organization.pk))
        if locked.offboarded_at is not None:
            return False
        now = timezone.now()
        connections = list(DocuSignCredential.objects.filter(organization=locked).select_related("user", "organization"))
        for credential in connections:
            credential_disconnect(acting_user=acting_user, credential=credential)
        system_user = getattr(locked, "system_user", None)
        tokens = forget_impersonation_token(locked.environment, system_user.user_id) if system_user else 0
        oauth_states = oauth_states_cancel(acting_user=acting_user, organization=locked)
        keys = ConnectHMACKey.objects.filter(organization=locked, scope=HMACKeyScope.ACCOUNT, active=True)
        retired = sum(connect_hmac_key_retire(acting_user=acting_user, key=key) for key in keys)
        # Expiring a pending invitation keeps the record; its link then says "expired" and can no longer be accepted.
        revoked = Invitation.objects.filter(organization=locked, accepted_at__isnull=True, expires_at__gt=now).update(
            expires_at=now)
        members = list(ClientMembership.objects.filter(organization=locked).select_related("user").order_by("pk"))
        ClientMembership.objects.filter(pk__in=[m.pk for m in members]).delete()
        ClientOrganization.objects.filter(pk=locked.pk).update(offboarded_at=now, offboarding_reason=reason[:500],
                                                               updated=now)
        audit.record(
            actor=acting_user, action="organization.offboard", organization=locked, target=locked,
            before={"offboarded_at": None},
            after={"offboarded_at": now, "reason": reason[:500], "connections_deleted": len(connections),
                   "cached_tokens_deleted": tokens, "oauth_states_deleted": oauth_states,
                   "account_hmac_keys_retired": retired, "invitations_revoked": revoked,
                   "members_removed": [{"user": m.user.get_username(), "role": m.role} for m in members]},
        )
    organization.offboarded_at, organization.offboarding_reason = now, reason[:500]
    return True


def organization_reactivate(*, acting_user: User | None, organization: ClientOrganization) -> bool:
    """Serve an offboarded client again; False, changing nothing, when it is active.

    Nothing deleted comes back: staff invite a client admin again, who connects to DocuSign again; account Connect
    HMAC keys are added again; the system user's consent is checked again before background work resumes.
    """
    with transaction.atomic():
        locked = ClientOrganization.objects.select_for_update().get(pk=organization.pk)
        if locked.offboarded_at is None:
            return False
        ClientOrganization.objects.filter(pk=locked.pk).update(offboarded_at=None, offboarding_reason="",
                                                               updated=timezone.now())
        audit.record(actor=acting_user, action="organization.reactivate", organization=locked, target=locked,
                     before={"offboarded_at": locked.offboarded_at, "reason": locked.offboarding_reason},
                     after={"offboarded_at": None})
    organization.offboarded_at, organization.offboarding_reason = None, ""
    return True
