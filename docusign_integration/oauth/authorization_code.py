"""The Authorization Code grant flow: start "Connect to DocuSign" for an organization, and its handler on the one redirect URI.

The start sends the browser top-level to DocuSign's /oauth/auth (never in a frame). DocuSign redirects to
/docusign/callback/, whose router (docusign_integration.oauth.views) peeks at the state's flow and calls
`authorization_code_callback`. The state is consumed (single use, this session, this user) before anything else, so an
abused state costs no token request; then social-core's `do_complete` runs the backend and the pipeline
(docusign_integration.oauth.pipeline), which ends on the account choice page or the checklist.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.debug import sensitive_variables
from social_core.actions import do_complete
from social_core.exceptions import AuthAssociationError, AuthException
from social_django.utils import load_backend, load_strategy

from docusign_integration.client.errors import DocuSignError
from docusign_integration.oauth import state
from docusign_integration.oauth.social_backend import AUTHORIZATION_CODE_FLOW, DocuSignOAuth2
from tenants.models import ClientOrganization
from tenants.users import acting_user

logger = logging.getLogger(__name__)

CANCELLED = "Connecting to DocuSign was cancelled."


def authorization_code_start(request: HttpRequest, organization: ClientOrganization) -> HttpResponse:
    """Redirect to DocuSign's sign-in and consent page for `organization` (the caller checked the admin role)."""
    backend = _backend(request)
    backend.organization = organization
    return backend.start()


# social-core's frames below hold DocuSign's token answer: error reports show none of their variables (docs/security.md TS-8).
@sensitive_variables()
def authorization_code_callback(request: HttpRequest) -> HttpResponse:
    """DocuSign's redirect for the Authorization Code grant flow: 400 for a bad state, else back to the portal's pages."""
    if request.GET.get("error"):
        return _provider_error(request)
    backend = _backend(request)
    try:
        response = do_complete(backend, _never_sign_in, user=acting_user(request), request=request)
    except state.StateRejected:
        return _rejected(request)
    except DocuSignError as exc:
        return _back_to_checklist(request, backend, exc.user_message)
    except AuthAssociationError:
        return _back_to_checklist(request, backend, "This DocuSign user is already connected to another portal user. "
                                                   "Sign in to DocuSign as yourself, or ask that person to disconnect.")
    except AuthException:
        logger.warning("docusign_connect_failed", exc_info=False)
        return _back_to_checklist(request, backend, "DocuSign did not complete the connection. Please try again.")
    return response


def _backend(request: HttpRequest) -> DocuSignOAuth2:
    return load_backend(load_strategy(request), DocuSignOAuth2.name, redirect_uri=None)


def _never_sign_in(*args: Any, **kwargs: Any) -> None:
    # social-core calls this only for a user who is not signed in; connecting links DocuSign to a portal user
    # who is, and must never sign anyone in to the portal.
    raise PermissionDenied


def _provider_error(request: HttpRequest) -> HttpResponse:
    """DocuSign sent `error=...` (the user declined, or the request was refused): consume the state, then explain."""
    try:
        record = state.consume_state(request, request.GET.get("state", ""), flow=AUTHORIZATION_CODE_FLOW)
    except state.StateRejected:
        return _rejected(request)
    if request.GET["error"] == "access_denied":
        messages.info(request, CANCELLED)
    else:
        messages.error(request, "DocuSign did not connect. Please try again, or ask your DocuSign administrator.")
    return HttpResponseRedirect(_checklist_url(record.organization_id))


def _back_to_checklist(request: HttpRequest, backend: DocuSignOAuth2, message: str) -> HttpResponse:
    messages.error(request, message)
    record = backend.state_record
    return HttpResponseRedirect(_checklist_url(record.organization_id if record else None))


def _checklist_url(organization_id: int | None) -> str:
    if organization_id is None:
        return reverse("onboarding:index")
    slug = ClientOrganization.objects.filter(pk=organization_id).values_list("slug", flat=True).first()
    return reverse("onboarding:checklist", args=[slug]) if slug else reverse("onboarding:index")


def _rejected(request: HttpRequest) -> HttpResponse:
    return render(request, "docusign_integration/callback_rejected.html", status=400)

