"""The domain's named write operations, one import for callers: `from tenants import services`.

Every state change goes through one of these. Each is atomic, takes a keyword-only `acting_user` (None for the
system), writes one `AuditEvent` per change (tenants/audit.py), and runs side effects (emails, token cache
eviction) only after the transaction commits. They live by concept in the modules below; tests/test_orm_writes.py
fails on an ORM write anywhere else.
"""

from tenants.invitations import (
    INVITATION_LIFETIME,
    InvitationUnusable,
    invitation_accept,
    invitation_accept_url,
    invitation_send,
    invitation_status,
)
from tenants.offboarding import (
    OFFBOARDING_RETENTION,
    OffboardingCounts,
    offboarding_preview,
    organization_offboard,
    organization_reactivate,
)
from tenants.organizations import (
    ACCOUNT_TAKEN,
    ORGANIZATION_FIELDS,
    VerifiedAccount,
    account_choose,
    organization_delete,
    organization_provision,
    organization_rename,
)
from tenants.system_users import SYSTEM_USER_FIELDS, ConsentError, consent_record_result, system_user_update

__all__ = [
    "ACCOUNT_TAKEN", "INVITATION_LIFETIME", "OFFBOARDING_RETENTION", "ORGANIZATION_FIELDS", "SYSTEM_USER_FIELDS",
    "ConsentError", "InvitationUnusable", "OffboardingCounts", "VerifiedAccount", "account_choose", "consent_record_result",
    "invitation_accept", "invitation_accept_url", "invitation_send", "invitation_status", "offboarding_preview",
    "organization_delete", "organization_offboard", "organization_provision", "organization_reactivate", "organization_rename",
    "system_user_update",
]
