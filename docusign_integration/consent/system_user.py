"""Consent for a client organization's system user: the two consent links, and asking DocuSign whether consent holds.

There is no "has consent?" endpoint: a JWT grant for the system user either succeeds or answers
`consent_required` (docs/docusign.md §3.4). `consent_verify` does exactly that, then reads userinfo to
settle the account and its `base_uri` (docs/docusign.md §5, §10).
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib.auth.models import User
from django.urls import reverse

from docusign_integration.client import conf, errors
from docusign_integration.oauth import account_server as oauth
from docusign_integration.oauth import tokens
from docusign_integration.oauth.state import OAuthFlow
from tenants import system_users
from tenants.models import ClientOrganization, SystemUser

IMPERSONATION_SCOPES = "signature impersonation"

FLOW_INDIVIDUAL = OAuthFlow.CONSENT_INDIVIDUAL
FLOW_ADMIN = OAuthFlow.CONSENT_ADMIN


def individual_consent_url(environment: str, state: str, code_challenge: str) -> str:
    """The system user approves `signature impersonation` for the ISV's integration key (docs/docusign.md §3.1)."""
    return _authorization_url(environment, code_challenge, {
        "response_type": "code",
        "scope": IMPERSONATION_SCOPES,
        "client_id": conf.integration_key(),
        "redirect_uri": settings.DOCUSIGN_REDIRECT_URI,
        "state": state,
    })


def admin_consent_url(environment: str, state: str, code_challenge: str) -> str:
    """An organization admin approves the scopes for every user of the organization's claimed domains (docs/docusign.md §3.3)."""
    return _authorization_url(environment, code_challenge, {
        "response_type": "code",
        "scope": "openid",
        "admin_consent_scope": IMPERSONATION_SCOPES,
        "client_id": conf.integration_key(),
        "redirect_uri": settings.DOCUSIGN_REDIRECT_URI,
        "state": state,
    })


def consent_verify(
    *, acting_user: User | None, organization: ClientOrganization, consent_type: str | None = None,
) -> SystemUser:
    """Check with DocuSign that the system user's consent holds, and record the outcome and the account.

    `consent_type` is how consent was just obtained (the consent return flow knows it); None keeps the recorded
    type. Transient failures (timeouts, 5xx, rate limits) raise and store nothing, so a retry starts clean.
    """
    system_user = SystemUser.objects.get(organization=organization)
    environment = organization.environment
    # A cached token outlives a revocation (docs/docusign.md §3.4): a consent check must ask for a fresh grant.
    tokens.forget_impersonation_token(environment, system_user.user_id)
    try:
        access_token = tokens.get_impersonation_token(environment, system_user.user_id, IMPERSONATION_SCOPES)
    except errors.ConsentRequired as exc:
        return system_users.consent_record_result(acting_user=acting_user, organization=organization, granted=False, error=exc)
    except errors.DocuSignError as exc:
        if exc.retryable:
            raise
        return system_users.consent_record_result(acting_user=acting_user, organization=organization, granted=None, error=exc)

    try:
        # The dedicated account when one is set (it must be reachable), otherwise the user's default account.
        account = oauth.userinfo(environment, access_token).choose_account(organization.account_id)
    except errors.DocuSignError as exc:
        if exc.retryable:
            raise
        return system_users.consent_record_result(
            acting_user=acting_user, organization=organization, granted=True, consent_type=consent_type,
            scopes=IMPERSONATION_SCOPES, error=exc,
        )
    return system_users.consent_record_result(
        acting_user=acting_user, organization=organization, granted=True, consent_type=consent_type,
        scopes=IMPERSONATION_SCOPES, account=account,
    )


def _authorization_url(environment: str, code_challenge: str, params: dict[str, str]) -> str:
    # The consent return redeems the code (to learn who consented), so it is bound to the state's PKCE verifier
    # like "Connect to DocuSign" (docs/security.md OA-2; docs/docusign.md §4).
    params = {**params, "code_challenge": code_challenge, "code_challenge_method": "S256"}
    # quote, not quote_plus: DocuSign's documented links encode the space in scopes as %20.
    return f"{conf.get_environment(environment).oauth_base_url}/oauth/auth?{urlencode(params, quote_via=quote)}"


def consent_links(organization: ClientOrganization) -> list[dict[str, str]]:
    """Both consent paths with the portal URL that starts each and its prerequisites, in plain words."""
    return [
        {
            "title": "Individual consent",
            "url": reverse("docusign:consent_start", args=[organization.slug, "individual"]),
            "prerequisites": "The system user signs in to DocuSign once, as themselves, and approves. "
                             "No DocuSign organization or claimed domain is needed.",
        },
        {
            "title": "Organization admin consent",
            "url": reverse("docusign:consent_start", args=[organization.slug, "admin"]),
            "prerequisites": "Needs a DocuSign organization that has claimed the system user's email domain, and one of "
                             "its organization admins to sign in and approve. It covers every user of the claimed domains.",
        },
    ]
