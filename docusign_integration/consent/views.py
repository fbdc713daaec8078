"""The pages that send people to DocuSign for consent, and the consent flows' handlers on the one redirect URI.

The start sends the browser top-level to DocuSign's consent page with a fresh state; DocuSign redirects to
/docusign/callback/ (docusign_integration/oauth/views.py), which hands the request to `_consent_return` here.
"""

from __future__ import annotations

import logging
import re
from http import HTTPStatus

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

from docusign_integration.client import errors
from docusign_integration.consent import system_user as consent
from docusign_integration.oauth import account_server as oauth
from docusign_integration.oauth import state
from docusign_integration.oauth.views import callback_rejected
from tenants.active import active_only
from tenants.models import ClientMembership, ClientOrganization, ConsentStatus, ConsentType, MembershipRole
from tenants.users import AuthenticatedRequest, User, acting_user

logger = logging.getLogger(__name__)

CONSENT_KINDS = {"individual": consent.FLOW_INDIVIDUAL, "admin": consent.FLOW_ADMIN}
_OAUTH_ERROR = re.compile(r"^[a-z_]{1,50}$")


@login_required
@require_GET
def consent_start(request: AuthenticatedRequest, slug: str, kind: str) -> HttpResponse:
    """Send the browser to DocuSign's consent page, top-level (never framed), with a fresh state for this session.

    Open to ISV staff who may change client organizations and to the organization's own client admins.
    """
    flow = CONSENT_KINDS.get(kind)
    if flow is None:
        raise Http404
    # A client that left (offboarded) gets no new consent: the portal no longer acts for it (docs/security.md TS-6).
    organization = get_object_or_404(active_only(ClientOrganization.objects.all()), slug=slug)
    access = _consent_access(request.user, organization)
    if access == HTTPStatus.NOT_FOUND:
        raise Http404  # the same answer as an unknown slug: no enumeration of other clients
    if access == HTTPStatus.FORBIDDEN:
        raise PermissionDenied
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        next_url = _default_return(request, organization)
    # The PKCE verifier stays in the state record, encrypted; only its S256 challenge goes to the browser.
    verifier = state.new_code_verifier()
    issued = state.issue_state(
        request, flow=flow, environment=organization.environment, organization_id=organization.pk, payload={"next": next_url},
        code_verifier=verifier,
    )
    build = consent.individual_consent_url if flow == consent.FLOW_INDIVIDUAL else consent.admin_consent_url
    return HttpResponseRedirect(build(organization.environment, issued, state.code_challenge(verifier)))


def _consent_return(request: HttpRequest, flow: str) -> HttpResponse:
    """DocuSign sent the person back after the consent page: confirm who consented, then verify with a JWT grant."""
    try:
        record = state.consume_state(request, request.GET.get("state", ""), flow=flow)
    except state.StateRejected:
        return callback_rejected(request)
    # Offboarded since the flow started: 404 before the code is redeemed, so no DocuSign call is made (docs/security.md TS-6).
    organization = get_object_or_404(active_only(ClientOrganization.objects.select_related("system_user")),
                                     pk=record.organization_id)
    if record.environment != organization.environment or not record.code_verifier:
        # docs/security.md OA-5: a code is redeemed only in the environment the flow started in; OA-2: only with
        # its PKCE verifier.
        return callback_rejected(request)
    if _consent_access(request.user, organization) != HTTPStatus.OK:
        # Demoted, removed or without the permission since the link was opened: the right is checked again here.
        logger.warning("consent_callback_refused reason=no_longer_allowed")
        return render(request, "docusign_integration/consent_refused.html", {"organization": organization},
                      status=HTTPStatus.FORBIDDEN)
    back = HttpResponseRedirect((record.payload or {}).get("next") or _default_return(request, organization))

    error = request.GET.get("error", "")
    if error:
        if error == "access_denied":
            messages.info(request, "Consent was cancelled on DocuSign's page; nothing changed.")
        else:
            code = error if _OAUTH_ERROR.match(error) else "unknown"
            messages.error(request, f"DocuSign did not record consent (error {code}). Start again from the consent link.")
        return back
    code = request.GET.get("code", "")
    if not code:
        messages.error(request, "DocuSign's answer had no authorization code. Start again from the consent link.")
        return back
    try:
        # The consenting person's own token only tells us who they are; it is used here once and never stored.
        environment = organization.environment
        token = oauth.exchange_code(environment, code, code_verifier=record.code_verifier,
                                    redirect_uri=settings.DOCUSIGN_REDIRECT_URI)
        person = oauth.userinfo(environment, token.access_token)
    except errors.DocuSignError as exc:
        messages.error(request, exc.user_message)
        return back
    problem = _consenter_problem(flow, organization, person)
    if problem:
        messages.error(request, problem)
        return back

    consent_type = ConsentType.INDIVIDUAL if flow == consent.FLOW_INDIVIDUAL else ConsentType.ORGANIZATION_ADMIN
    try:
        system_user = consent.consent_verify(acting_user=acting_user(request), organization=organization,
                                             consent_type=consent_type)
    except errors.DocuSignError as exc:
        messages.error(request, f"Consent was given, but checking it failed: {exc.user_message}")
        return back
    if system_user.consent_status == ConsentStatus.GRANTED and not system_user.last_error:
        account_name = ClientOrganization.objects.values_list("account_name", flat=True).get(pk=organization.pk)
        messages.success(request, f"Consent granted for {system_user.email}; DocuSign account {account_name} recorded.")
    else:
        messages.error(request, system_user.last_error or "DocuSign does not report consent for the system user yet.")
    return back


def _consenter_problem(flow: str, organization: ClientOrganization, person: oauth.UserInfo) -> str:
    """Why the person who just consented cannot have consented for this organization's system user, or ""."""
    system_user = organization.system_user
    if flow == consent.FLOW_INDIVIDUAL:
        if person.sub.lower() != system_user.user_id.lower():
            return (f"You approved as {person.email}, but the system user is {system_user.email}. Sign in to DocuSign "
                    f"as {system_user.email} and approve again.")
        return ""
    # DocuSign lets only organization admins approve admin consent; where the organization is known, it must match.
    if organization.organization_id and not any(a.organization_id == organization.organization_id for a in person.accounts):
        return (f"The DocuSign user {person.email} is not an administrator of this client's DocuSign organization. "
                "Ask the client's DocuSign organization admin to approve.")
    return ""


def _consent_access(user: User | AnonymousUser, organization: ClientOrganization) -> HTTPStatus:
    """OK if `user` may give consent for `organization` (staff with the change permission, or its client admins);
    NOT_FOUND for a non-member, FORBIDDEN for a member without the admin role. Asked at the start and at the return.
    """
    if not isinstance(user, User):
        return HTTPStatus.NOT_FOUND  # signed out since the start: the same answer as for a stranger
    if user.is_staff and user.has_perm("tenants.change_clientorganization"):
        return HTTPStatus.OK
    role = ClientMembership.objects.filter(user=user, organization=organization).values_list("role", flat=True).first()
    if role is None:
        return HTTPStatus.NOT_FOUND
    return HTTPStatus.OK if role == MembershipRole.ADMIN else HTTPStatus.FORBIDDEN


def _default_return(request: HttpRequest, organization: ClientOrganization) -> str:
    if request.user.is_staff:
        return reverse("admin:tenants_clientorganization_change", args=[organization.pk])
    try:
        return reverse("onboarding:checklist", args=[organization.slug])
    except NoReverseMatch:
        return f"/onboarding/{organization.slug}/"


def individual_consent_return(request: HttpRequest) -> HttpResponse:
    """The one redirect URI's handler for individual consent (docusign_integration/urls.py routes to it)."""
    return _consent_return(request, consent.FLOW_INDIVIDUAL)


def admin_consent_return(request: HttpRequest) -> HttpResponse:
    """The one redirect URI's handler for organization admin consent."""
    return _consent_return(request, consent.FLOW_ADMIN)
