"""Whether the portal still acts for a client organization: the one check tasks, beat fan-outs and Connect use.

An organization ISV staff offboarded (`tenants.services.organization_offboard`) keeps its rows, but nothing calls
DocuSign for it any more (docs/security.md TS-6): DocuSign leaves access tokens valid until they expire after
consent is revoked, so the portal must stop using them itself. A task queued before the offboarding checks
`organization_is_active` when it starts; a fan-out filters its queryset with `active_only`.
"""

from __future__ import annotations

import logging
from typing import TypeGuard, TypeVar

from django.db.models import Model, Q, QuerySet

from tenants.models import ClientOrganization

logger = logging.getLogger(__name__)
M = TypeVar("M", bound=Model)
R = TypeVar("R")  # what the queryset yields: the model, or values_list rows


def active_only(queryset: QuerySet[M, R], via: str = "") -> QuerySet[M, R]:
    """`queryset` without offboarded organizations; `via` is the lookup path to the organization ("organization__")."""
    return queryset.filter(Q(**{f"{via}offboarded_at__isnull": True}))


def organization_is_active(organization: ClientOrganization | None, *, task: str = "") -> TypeGuard[ClientOrganization]:
    """True when `organization` exists and is not offboarded. A task that gets False returns without a DocuSign call.

    Reads only `offboarded_at`, which every loader of the organization fetches (the Connect listener's raw SELECT too),
    so the check costs no query.
    """
    if organization is None:
        return False  # deleted since the work was queued
    if organization.offboarded_at is not None:
        if task:
            logger.info("task_skipped reason=offboarded organization=%s task=%s", organization.pk, task)
        return False
    return True
