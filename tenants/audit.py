"""The audit trail: every state change made by a write operation leaves one `AuditEvent`."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import User
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from tenants.models import AuditEvent, ClientOrganization


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The named fields of `instance` as JSON-ready values, for an event's `before` and `after`."""
    return _json_ready({name: getattr(instance, name) for name in fields})


def record(
    *,
    actor: User | None,
    action: str,
    organization: ClientOrganization | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    target: object | None = None,
) -> AuditEvent:
    """Write one audit event. `actor` None means the system (a task or a command without a user).

    Callers pass field values only, never secrets: the audit log is readable by staff.
    """
    return AuditEvent.objects.create(
        actor=actor,
        action=action,
        organization=organization,
        target=str(target)[:200] if target is not None else "",
        before=_jsonable(before),
        after=_jsonable(after),
    )


def changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys whose values differ, so an event shows what the operation actually changed."""
    keys = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def _jsonable(value: dict[str, Any] | None) -> dict[str, Any] | None:
    # Datetimes and UUIDs become strings the same way Django's JSON encoder writes them.
    return None if value is None else _json_ready(value)


def _json_ready(value: dict[str, Any]) -> dict[str, Any]:
    ready: dict[str, Any] = json.loads(json.dumps(value, cls=DjangoJSONEncoder))
    return ready
