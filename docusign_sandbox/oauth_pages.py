"""The account server's pages: `/oauth/auth` (sign-in, consent, admin consent), Connected apps, sign-out.

The sandbox shares the portal's session store and, on one host name, its session cookie: every key it
keeps starts with `sandbox_`, and signing out removes only those keys (never `flush()`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from django.contrib.auth.hashers import check_password, make_password
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from . import clock, consent
from .auth import hash_token, new_token
from .models import AuthorizationCode, Consent, IntegrationKey, Organization, OrganizationConsent, User

SESSION_USER = "sandbox_user_id"
SESSION_CONSENT_GIVEN = "sandbox_consent_given"  # the authorization request just allowed (POST/redirect/GET)
CODE_LIFETIME = timedelta(minutes=5)  # "a few minutes", single use (docs/docusign.md §4, UNVERIFIED)
# RFC 7636 §4.2: BASE64URL(SHA256(verifier)) is always 43 characters.
S256_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")
NOTICES = {"revoked": "Access was revoked.", "granted": "Consent was granted for the organization."}


class AuthorizationPageError(Exception):
    """A request that cannot be trusted to redirect (unknown client, unregistered redirect_uri)."""


class AuthorizationRedirectError(Exception):
    """A refusal reported to the client at its (verified) redirect_uri."""

    def __init__(self, request: AuthorizationRequest, error: str, description: str) -> None:
        super().__init__(description)
        self.response = request.redirect(error=error, error_description=description)


@dataclass(frozen=True)
class AuthorizationRequest:
    """The validated parameters of `GET /oauth/auth` (docs/docusign.md §3.1, §3.3, §4)."""

    integration_key: IntegrationKey
    redirect_uri: str
    response_type: str
    scopes: frozenset[str]
    admin_consent_scopes: frozenset[str]
    state: str | None
    code_challenge: str
    prompt_login: bool

    def redirect(self, **params: str) -> HttpResponseRedirect:
        """Back to the client: query parameters for `code`, the fragment for `token` (RFC 6749 §4.2.2)."""
        if self.state is not None:
            params["state"] = self.state
        separator = "#" if self.response_type == "token" else ("&" if "?" in self.redirect_uri else "?")
        return HttpResponseRedirect(self.redirect_uri + separator + urlencode(params))


def parse_authorization_request(query: QueryDict) -> AuthorizationRequest:
    """Validate the client and its redirect_uri first: only then may an error be sent to that URI."""
    integration_key = IntegrationKey.objects.filter(client_id__iexact=query.get("client_id", "")).first()
    if integration_key is None:
        raise AuthorizationPageError("The client_id is not a known integration key.")
    redirect_uri = query.get("redirect_uri", "")
    if not integration_key.redirect_uris.filter(uri=redirect_uri).exists():
        # Exact match only; an unregistered URI never receives a redirect (RFC 9700 §2.1).
        raise AuthorizationPageError("The redirect_uri is not registered for this integration key.")
    response_type = query.get("response_type", "")
    request = AuthorizationRequest(
        integration_key=integration_key, redirect_uri=redirect_uri,
        response_type=response_type if response_type in ("code", "token") else "code",
        scopes=frozenset(consent.scope_set(query.get("scope", ""))),
        admin_consent_scopes=frozenset(consent.scope_set(query.get("admin_consent_scope", ""))),
        state=query.get("state"), code_challenge=query.get("code_challenge", ""),
        prompt_login="login" in query.get("prompt", "").split(),
    )
    if response_type not in ("code", "token"):
        raise AuthorizationRedirectError(request, "unsupported_response_type", "response_type must be code or token.")
    unknown = (request.scopes | request.admin_consent_scopes) - consent.KNOWN_SCOPES
    if not request.scopes or unknown:
        raise AuthorizationRedirectError(request, "invalid_scope", f"Unknown or missing scope: {' '.join(sorted(unknown))}")
    if request.admin_consent_scopes and request.scopes != {"openid"}:
        raise AuthorizationRedirectError(request, "invalid_request", "admin_consent_scope requires scope=openid.")
    method = query.get("code_challenge_method", "")
    if request.code_challenge or method:
        # A challenge without a method means `plain` (RFC 7636 §4.3), which is refused like `plain` itself.
        if method != "S256":
            raise AuthorizationRedirectError(request, "invalid_request", "code_challenge_method must be S256.")
        if not S256_CHALLENGE.match(request.code_challenge):
            raise AuthorizationRedirectError(request, "invalid_request", "code_challenge is not a S256 challenge.")
    return request


# --- Session ---------------------------------------------------------------------------------------


def signed_in_user(request: HttpRequest) -> User | None:
    user_id = request.session.get(SESSION_USER)
    return User.objects.filter(user_id=user_id, is_active=True).first() if user_id else None


def _authenticate(email: str, password: str) -> User | None:
    user = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
    if user is None:
        make_password(password)  # spend the same time as a real check: no hint that the email is unknown
        return None
    return user if check_password(password, user.password) else None


def _sign_in(request: HttpRequest, user: User) -> None:
    request.session.cycle_key()  # no session fixation
    request.session[SESSION_USER] = user.user_id


def _sign_out(request: HttpRequest) -> None:
    # SessionBase has keys() but no __iter__.
    for key in [k for k in request.session.keys() if k.startswith("sandbox_")]:  # noqa: SIM118
        del request.session[key]


def _page(request: HttpRequest, template: str, context: dict | None = None, status: int = 200) -> HttpResponse:
    context = {"sandbox_user": signed_in_user(request), **(context or {})}
    return render(request, f"docusign_sandbox/{template}", context, status=status)


# --- /oauth/auth -----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest) -> HttpResponse:
    """Sign in, then consent (individual, or for an organization with admin_consent_scope), then redirect."""
    try:
        auth = parse_authorization_request(request.GET)
    except AuthorizationPageError as exc:
        return _page(request, "error.html", {"message": str(exc)}, status=400)
    except AuthorizationRedirectError as exc:
        return exc.response

    step = request.POST.get("step") if request.method == "POST" else None
    user = None if (request.method == "GET" and auth.prompt_login) else signed_in_user(request)
    if step == "sign_in":
        user = _authenticate(request.POST.get("email", ""), request.POST.get("password", ""))
        if user is None:
            return _page(request, "sign_in.html", {"auth": auth, "error": "The email or password is incorrect.",
                                                   "email": request.POST.get("email", "")}, status=401)
        _sign_in(request, user)
        return _see_other(request)
    if user is None:
        return _page(request, "sign_in.html", {"auth": auth})
    if request.method == "GET" and request.session.pop(SESSION_CONSENT_GIVEN, None) == _request_key(request):
        return _grant(auth, user)  # the GET after Allow (below): the redirect DocuSign sends after consent

    decision = request.POST.get("decision") if step == "consent" else None
    if decision == "decline":
        return auth.redirect(error="access_denied", error_description="The user declined to grant consent.")
    if auth.admin_consent_scopes:
        return _admin_consent(request, auth, user, approved=decision == "approve")
    if decision == "approve":
        consent.grant_individual(user, auth.integration_key, set(auth.scopes))
        return _consent_given(request)
    if not consent.has_consent(user, auth.integration_key, set(auth.scopes)):
        return _page(request, "consent.html", {"auth": auth, "user": user, "scopes": sorted(auth.scopes)})
    # Consent already covers every scope: DocuSign skips the page.
    return _grant(auth, user)


def _admin_consent(request: HttpRequest, auth: AuthorizationRequest, user: User, *, approved: bool) -> HttpResponse:
    """Organization-wide consent: only an organization admin may grant it (docs/docusign.md §3.3)."""
    organizations = list(user.administered_organizations.prefetch_related("claimed_domains").order_by("name"))
    if not organizations:
        return _page(request, "admin_consent_refused.html", {"auth": auth, "user": user}, status=403)
    if not approved:
        return _page(request, "admin_consent.html", {"auth": auth, "user": user, "organizations": organizations,
                                                     "scopes": sorted(auth.admin_consent_scopes)})
    for organization in organizations:
        consent.grant_organization(organization, auth.integration_key, set(auth.admin_consent_scopes), granted_by=user)
    consent.grant_individual(user, auth.integration_key, set(auth.scopes))
    return _consent_given(request)


def _request_key(request: HttpRequest) -> str:
    """This authorization request, as the GET after a 303 repeats it (prompt=login spent: see _see_other)."""
    query = request.GET.copy()
    prompts = [p for p in query.get("prompt", "").split() if p != "login"]
    if prompts:
        query["prompt"] = " ".join(prompts)
    else:
        query.pop("prompt", None)
    return query.urlencode()


def _see_other(request: HttpRequest) -> HttpResponseRedirect:
    """POST/redirect/GET: 303 to `GET /oauth/auth` with the same request, so the back button never resubmits a form.

    The person has just signed in, so the GET does not ask again even when the request said prompt=login.
    """
    response = HttpResponseRedirect(f"{request.path}?{_request_key(request)}")
    response.status_code = 303
    return response


def _consent_given(request: HttpRequest) -> HttpResponseRedirect:
    """After Allow: the GET it redirects to (once) sends the client its code and state, as DocuSign does."""
    request.session[SESSION_CONSENT_GIVEN] = _request_key(request)
    return _see_other(request)


def _grant(auth: AuthorizationRequest, user: User) -> HttpResponseRedirect:
    if auth.response_type == "token":
        # Accepted so that consent can be recorded (docs/docusign.md §3.1); the sandbox issues no implicit-grant tokens.
        return auth.redirect()
    code = new_token("sbx.code.")
    AuthorizationCode.objects.create(
        code_hash=hash_token(code), integration_key=auth.integration_key, user=user, redirect_uri=auth.redirect_uri,
        scopes=consent.scope_string(auth.scopes), code_challenge=auth.code_challenge,
        code_challenge_method="S256" if auth.code_challenge else "", expires_at=clock.now() + CODE_LIFETIME,
    )
    return auth.redirect(code=code)


# --- Sign-in and sign-out outside a client's request ------------------------------------------------


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or "/me/connected-apps"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/me/connected-apps"
    if request.method == "POST":
        user = _authenticate(request.POST.get("email", ""), request.POST.get("password", ""))
        if user is not None:
            _sign_in(request, user)
            return redirect(next_url)
        return _page(request, "sign_in.html", {"next": next_url, "error": "The email or password is incorrect.",
                                               "email": request.POST.get("email", "")}, status=401)
    return _page(request, "sign_in.html", {"next": next_url})


@require_http_methods(["GET"])
def logout(request: HttpRequest) -> HttpResponse:
    """DocuSign's `/logout`: back to `redirect_uri` only when it is registered for `client_id` (docs/docusign.md §1)."""
    _sign_out(request)
    redirect_uri = request.GET.get("redirect_uri", "")
    integration_key = IntegrationKey.objects.filter(client_id__iexact=request.GET.get("client_id", "")).first()
    if integration_key is not None and integration_key.redirect_uris.filter(uri=redirect_uri).exists():
        return HttpResponseRedirect(redirect_uri)
    return _page(request, "signed_out.html")


# --- Connected apps ---------------------------------------------------------------------------------


def _require_user(request: HttpRequest) -> User | HttpResponse:
    user = signed_in_user(request)
    if user is None:
        return redirect(f"/login?{urlencode({'next': request.get_full_path()})}")
    return user


@require_http_methods(["GET"])
def connected_apps(request: HttpRequest) -> HttpResponse:
    """Manage Profile → Connected Apps: the user's own consents (revocable) and their organizations' (docs/docusign.md §3.4)."""
    user = _require_user(request)
    if isinstance(user, HttpResponse):
        return user
    return _page(request, "connected_apps.html", {
        "user": user,
        "consents": Consent.objects.filter(user=user).select_related("integration_key").order_by("created"),
        "organization_consents": (OrganizationConsent.objects
                                  .filter(organization__in=consent.organizations_covering(user))
                                  .select_related("integration_key", "organization").order_by("created")),
        "administered": user.administered_organizations.order_by("name"),
        "notice": NOTICES.get(request.GET.get("notice", "")),
    })


@require_POST
def revoke_connected_app(request: HttpRequest, client_id: str) -> HttpResponse:
    user = _require_user(request)
    if isinstance(user, HttpResponse):
        return user
    integration_key = get_object_or_404(IntegrationKey, client_id__iexact=client_id)
    consent.revoke_individual(user, integration_key)
    return redirect("/me/connected-apps?notice=revoked")


def _administered(request: HttpRequest, organization_id: str) -> tuple[User, Organization] | HttpResponse:
    user = _require_user(request)
    if isinstance(user, HttpResponse):
        return user
    organization = get_object_or_404(Organization, organization_id__iexact=organization_id)
    if not organization.admins.filter(pk=user.pk).exists():
        return _page(request, "error.html", {
            "message": "Only an administrator of this organization can manage its connected apps."}, status=403)
    return user, organization


@require_http_methods(["GET", "POST"])
def organization_connected_apps(request: HttpRequest, organization_id: str) -> HttpResponse:
    """Admin → Connected Apps: the organization-wide consents; an admin grants or revokes them (docs/docusign.md §3.2)."""
    checked = _administered(request, organization_id)
    if isinstance(checked, HttpResponse):
        return checked
    user, organization = checked
    error = None
    if request.method == "POST":
        integration_key = IntegrationKey.objects.filter(client_id__iexact=request.POST.get("client_id", "")).first()
        scopes = consent.scope_set(request.POST.get("scopes", ""))
        if integration_key is None:
            error = "Choose an app."
        elif not scopes or scopes - consent.KNOWN_SCOPES:
            error = "Give the scopes to grant, separated by spaces (for example: signature impersonation)."
        else:
            consent.grant_organization(organization, integration_key, scopes, granted_by=user)
            return redirect(f"/organizations/{organization.organization_id}/connected-apps?notice=granted")
    return _page(request, "organization_connected_apps.html", {
        "organization": organization,
        "domains": organization.claimed_domains.order_by("domain"),
        "consents": organization.consents.select_related("integration_key", "granted_by").order_by("created"),
        "integration_keys": IntegrationKey.objects.order_by("name"),
        "notice": NOTICES.get(request.GET.get("notice", "")),
        "error": error,
    }, status=400 if error else 200)


@require_POST
def revoke_organization_app(request: HttpRequest, organization_id: str, client_id: str) -> HttpResponse:
    checked = _administered(request, organization_id)
    if isinstance(checked, HttpResponse):
        return checked
    _, organization = checked
    integration_key = get_object_or_404(IntegrationKey, client_id__iexact=client_id)
    consent.revoke_organization(organization, integration_key)
    return redirect(f"/organizations/{organization.organization_id}/connected-apps?notice=revoked")
