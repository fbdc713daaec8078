"""Who has consented to what: individual consent and organization (admin) consent (docs/docusign.md §3).

A user's consented scopes for an integration key are the union of their own Consent and every
OrganizationConsent of an organization that claims their email domain. Revoking either kills the refresh
tokens it no longer covers at once; live access tokens keep working until they expire (docs/docusign.md §3.4).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q, QuerySet

from . import clock, router
from .models import Consent, IntegrationKey, Organization, OrganizationConsent, RefreshToken, User

# DocuSign's scopes (docs/docusign.md §4); anything else is invalid_scope.
KNOWN_SCOPES = frozenset({
    "signature", "impersonation", "extended", "openid", "cors", "click.manage", "click.send",
    "organization_read", "group_read", "permission_read", "user_read", "user_write", "account_read",
    "domain_read", "identity_provider_read", "user_data_redact",
})
# What a JWT grant must ask for (docs/docusign.md §2.1).
JWT_REQUIRED_SCOPES = frozenset({"signature", "impersonation"})


def scope_set(scopes: str) -> set[str]:
    """The scopes of a space-separated `scope` value."""
    return set(scopes.split())


def scope_string(scopes: set[str] | frozenset[str]) -> str:
    return " ".join(sorted(scopes))


def organizations_covering(user: User) -> QuerySet[Organization]:
    """The organizations whose claimed domains include the user's email domain."""
    return Organization.objects.filter(claimed_domains__domain__iexact=user.email_domain)


def users_covered_by(organization: Organization) -> QuerySet[User]:
    domains = list(organization.claimed_domains.values_list("domain", flat=True))
    query = Q(pk__in=[])
    for domain in domains:
        query |= Q(email__iendswith="@" + domain)
    return User.objects.filter(query)


def consented_scopes(user: User, integration_key: IntegrationKey) -> set[str]:
    """Every scope the user has consented to for this integration key, individually or via an organization."""
    scopes: set[str] = set()
    for value in Consent.objects.filter(user=user, integration_key=integration_key).values_list("scopes", flat=True):
        scopes |= scope_set(value)
    org_consents = OrganizationConsent.objects.filter(
        integration_key=integration_key, organization__in=organizations_covering(user))
    for value in org_consents.values_list("scopes", flat=True):
        scopes |= scope_set(value)
    return scopes


def has_consent(user: User, integration_key: IntegrationKey, scopes: set[str]) -> bool:
    """True when consent covers every requested scope (asking for more gives consent_required, docs/docusign.md §3.1)."""
    return scopes <= consented_scopes(user, integration_key)


def consent_kind(user: User, integration_key: IntegrationKey) -> str:
    """How the user's consent was obtained: `individual`, `organization` or `none`."""
    if Consent.objects.filter(user=user, integration_key=integration_key).exists():
        return "individual"
    if OrganizationConsent.objects.filter(integration_key=integration_key,
                                          organization__in=organizations_covering(user)).exists():
        return "organization"
    return "none"


@transaction.atomic(using=router.database())
def grant_individual(user: User, integration_key: IntegrationKey, scopes: set[str]) -> Consent:
    """Store the user's consent, extending any earlier one: consent only ever grows until revoked."""
    consent, created = Consent.objects.select_for_update().get_or_create(
        user=user, integration_key=integration_key, defaults={"scopes": scope_string(scopes)})
    if not created:
        consent.scopes = scope_string(scope_set(consent.scopes) | scopes)
        consent.save(update_fields=["scopes"])
    return consent


@transaction.atomic(using=router.database())
def grant_organization(organization: Organization, integration_key: IntegrationKey, scopes: set[str], *,
                       granted_by: User) -> OrganizationConsent:
    """Store or extend the organization's consent; the caller has checked that `granted_by` is its admin."""
    consent, created = OrganizationConsent.objects.select_for_update().get_or_create(
        organization=organization, integration_key=integration_key,
        defaults={"scopes": scope_string(scopes), "granted_by": granted_by})
    if not created:
        consent.scopes = scope_string(scope_set(consent.scopes) | scopes)
        consent.granted_by = granted_by
        consent.save(update_fields=["scopes", "granted_by"])
    return consent


@transaction.atomic(using=router.database())
def revoke_individual(user: User, integration_key: IntegrationKey) -> None:
    Consent.objects.filter(user=user, integration_key=integration_key).delete()
    _revoke_uncovered_refresh_tokens(User.objects.filter(pk=user.pk), integration_key)


@transaction.atomic(using=router.database())
def revoke_organization(organization: Organization, integration_key: IntegrationKey) -> None:
    OrganizationConsent.objects.filter(organization=organization, integration_key=integration_key).delete()
    _revoke_uncovered_refresh_tokens(users_covered_by(organization), integration_key)


def _revoke_uncovered_refresh_tokens(users: QuerySet[User], integration_key: IntegrationKey) -> None:
    """Revoke each live refresh token whose scopes the user's remaining consent no longer covers."""
    live = (RefreshToken.objects.select_related("user")
            .filter(user__in=users, integration_key=integration_key, revoked=False, expires_at__gt=clock.now()))
    remaining: dict[int, set[str]] = {}
    for token in live:
        if token.user_id not in remaining:
            remaining[token.user_id] = consented_scopes(token.user, integration_key)
        if not scope_set(token.scopes) <= remaining[token.user_id]:
            RefreshToken.objects.filter(pk=token.pk).update(revoked=True)
