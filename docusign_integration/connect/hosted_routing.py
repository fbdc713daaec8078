"""Which hosted client a Connect message of the ISV account belongs to (docs/docusign.md §10.1).

The ISV account hosts many clients, so its account id names none of them: a message is routed by the envelope custom
field naming the client *and* its sender, who must be that client's own system user. A message without the field, or
whose field names a client other than its sender's, is quarantined: filing it by the account alone could show one
client another's envelopes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from docusign_integration.client.custom_fields import HOSTED_CLIENT_FIELD, hosted_client_named, sender_user_id
from tenants.models import ClientOrganization, Hosting


class Unroutable(ValueError):
    """The message cannot be given to any hosted client; the text is the quarantine reason."""


def hosted_organizations(*, environment: str, account_id: str, slugs: Iterable[str]) -> dict[str, ClientOrganization]:
    """The hosted clients of the account with these slugs, their system users joined (one query)."""
    found = (ClientOrganization.objects.select_related("system_user")
             .filter(slug__in=set(slugs), environment=environment, account_id=account_id.lower(), hosting=Hosting.HOSTED))
    return {organization.slug: organization for organization in found}


def hosted_organization_for(*, environment: str, account_id: str, summary: object,
                            known: Mapping[str, ClientOrganization] | None = None) -> ClientOrganization:
    """The hosted client an envelope (a Connect envelopeSummary or a listed envelope) belongs to, else Unroutable.

    `known` (from `hosted_organizations`) saves the query when a caller routes a whole page of envelopes.
    """
    slug = hosted_client_named(summary)
    if slug is None:
        raise Unroutable(f"The message from the ISV account {account_id} has no {HOSTED_CLIENT_FIELD} custom field: "
                         "it cannot be given to a hosted client.")
    if known is None:
        known = hosted_organizations(environment=environment, account_id=account_id, slugs=[slug])
    organization = known.get(slug)
    if organization is None:
        raise Unroutable(f"The {HOSTED_CLIENT_FIELD} custom field names {slug[:60]!r}, which is not a client hosted in "
                         f"the ISV account {account_id}.")
    system_user = getattr(organization, "system_user", None)
    sender = sender_user_id(summary)
    if system_user is None or sender is None or sender != system_user.user_id:
        raise Unroutable(f"The {HOSTED_CLIENT_FIELD} custom field names {slug[:60]!r}, but the envelope's sender is not "
                         "that client's system user.")
    return organization


def envelope_summary(payload: Mapping[str, Any]) -> object:
    data = payload.get("data")
    return data.get("envelopeSummary") if isinstance(data, Mapping) else None
