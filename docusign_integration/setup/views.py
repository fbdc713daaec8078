"""The onboarding checklist's "Set up DocuSign account" button (client admins of the organization only)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from docusign_integration.client.errors import DocuSignError
from docusign_integration.oauth.models.credentials import CredentialStatus, DocuSignCredential
from docusign_integration.setup.account_setup import account_setup_push
from tenants import onboarding
from tenants.users import AuthenticatedRequest


@login_required
@require_POST
def account_setup(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """Push the setup now, as the admin's own DocuSign connection when they are a DocuSign administrator, else the system user.

    Synchronous rather than a task: the admin is waiting for the outcome, which is often a sentence about who must
    act; the push is a handful of DocuSign calls, each bounded by DOCUSIGN_HTTP_TIMEOUT; and the admin's own
    connection is used while they are there to act on the answer.
    """
    organization = onboarding.organization_for(request, slug)  # 404 for other organizations, 403 for members
    credential = DocuSignCredential.objects.filter(organization=organization, user=request.user,
                                                   status=CredentialStatus.OK).first()
    try:
        account_setup_push(acting_user=request.user, organization=organization, as_credential=credential)
    except DocuSignError as exc:
        messages.error(request, exc.user_message)
    else:
        messages.success(request, "Your DocuSign account is set up: the portal will hear about your envelopes.")
    return HttpResponseRedirect(reverse("onboarding:checklist", args=[organization.slug]) + "#step-setup")
