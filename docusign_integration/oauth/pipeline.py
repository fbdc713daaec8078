"""social-auth pipeline steps for "Connect to DocuSign" (settings.SOCIAL_AUTH_PIPELINE lists them in order).

Connecting never creates or signs in a portal user: it links the DocuSign identity (userinfo `sub`) to the
signed-in user who started the flow, for the organization named in the consumed state, then moves the tokens
into an encrypted DocuSignCredential and finishes on the account choice page or the checklist.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse

from docusign_integration.oauth import credentials
from docusign_integration.oauth.models.credentials import DocuSignCredential
from docusign_integration.oauth.social_backend import DocuSignOAuth2
from tenants import onboarding, organizations
from tenants.models import ClientOrganization, MembershipRole


def require_connecting_admin(backend: DocuSignOAuth2, user: User | None = None, *args: Any, **kwargs: Any,
                             ) -> dict[str, Any]:
    """The organization of the consumed state, if the signed-in user who started the flow is still its admin."""
    record = backend.state_record
    if user is None or not user.is_authenticated or record is None or record.user_id != user.pk:
        raise PermissionDenied
    # The role is checked again here, not only at the start: a demotion takes effect on the very next request.
    organization = onboarding.membership_organization(user, organization_id=record.organization_id,
                                                      role=MembershipRole.ADMIN)
    if organization.environment != record.environment:
        raise PermissionDenied  # docs/security.md OA-5: a code is redeemed only for the environment it was issued in
    return {"organization": organization}


def store_credential(backend: DocuSignOAuth2, user: User, organization: ClientOrganization, *args: Any,
                     **kwargs: Any) -> dict[str, Any]:
    """Move the token pair out of the pipeline into the encrypted DocuSignCredential."""
    tokens, userinfo = backend.exchanged()
    credential = credentials.credential_store(acting_user=user, organization=organization, tokens=tokens,
                                              userinfo=userinfo, environment=backend.state_record.environment)
    return {"credential": credential}


def finish_on_account_step(backend: DocuSignOAuth2, user: User, organization: ClientOrganization,
                           credential: DocuSignCredential, *args: Any, **kwargs: Any) -> HttpResponse:
    """Link or re-validate the organization's account, or ask the user to choose one when there are several."""
    request = backend.http_request
    checklist = reverse("onboarding:checklist", args=[organization.slug])
    _, userinfo = backend.exchanged()
    accounts = userinfo.accounts
    if not onboarding.account_is_chosen(organization) and len(accounts) > 1:
        messages.info(request, "Connected to DocuSign. Your DocuSign user belongs to several accounts: choose the one "
                               "this organization uses.")
        return HttpResponseRedirect(reverse("onboarding:account", args=[organization.slug]))
    try:
        account = onboarding.account_for_connection(organization, userinfo)
        organizations.account_choose(acting_user=user, organization=organization, account=account)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Connected to DocuSign as {credential.docusign_email or credential.docusign_user_id}, "
                                  f"account {account.account_name}.")
    return HttpResponseRedirect(checklist)
