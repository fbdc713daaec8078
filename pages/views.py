"""Client admins' onboarding pages: the invitation, the checklist, "Connect to DocuSign" and the account choice.

Every page except the invitation requires sign-in and loads its organization with `onboarding.organization_for`,
so it is scoped to the user's own organization (404 for any other) and admin actions need the admin role (403).
Pages that send the browser to DocuSign use top-level navigation (links and forms), never frames.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_not_required, login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST

from docusign_integration.client.errors import DocuSignError
from docusign_integration.oauth import authorization_code, credentials
from docusign_integration.oauth.models.credentials import DocuSignCredential
from docusign_integration.setup.models import AccountSetupState
from pages.drift_words import drift_words
from pages.forms import AccountChoiceForm, ExistingPasswordForm, NewPasswordForm
from tenants import onboarding, readiness, services
from tenants.models import AccountSource, ClientMembership, ClientOrganization, Invitation, MembershipRole, SystemUser
from tenants.users import AuthenticatedRequest, User, signed_in_user


@login_required
def index(request: AuthenticatedRequest) -> HttpResponse:
    """The organizations the user belongs to; straight to the checklist when there is only one."""
    memberships = list(ClientMembership.objects.filter(user=request.user).select_related("organization")
                       .order_by("organization__name"))
    if len(memberships) == 1:
        return redirect("onboarding:checklist", memberships[0].organization.slug)
    return render(request, "onboarding/index.html", {"memberships": memberships})


@login_not_required
@sensitive_variables("password")
@sensitive_post_parameters("password", "password1", "password2")  # the portal password never reaches an error report
@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Accept an emailed invitation: choose a portal password (or sign in if the email has an account), then join."""
    invitation = Invitation.find(token)
    problem = services.invitation_status(invitation)
    if problem or invitation is None:  # no invitation always has a problem
        return render(request, "onboarding/invitation_unusable.html", {"problem": problem}, status=410 if invitation else 404)

    existing = get_user_model().objects.filter(email__iexact=invitation.email).first()
    form: NewPasswordForm | ExistingPasswordForm | None
    acting_user: User | None
    if request.user.is_authenticated:
        form, acting_user = None, signed_in_user(request)
    elif existing is not None:
        form = ExistingPasswordForm(request.POST or None, request=request, user=existing)
        acting_user = existing
    else:
        form = NewPasswordForm(request.POST or None, email=invitation.email)
        acting_user = None

    if request.method == "POST" and (form is None or form.is_valid()):
        password = form.cleaned_data["password1"] if isinstance(form, NewPasswordForm) else None
        try:
            membership = services.invitation_accept(acting_user=acting_user, invitation=invitation, password=password)
        except services.InvitationUnusable as exc:
            return render(request, "onboarding/invitation_unusable.html", {"problem": exc.message}, status=410)
        if not request.user.is_authenticated:
            login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome to {membership.organization.name}'s onboarding.")
        return redirect("onboarding:checklist", membership.organization.slug)
    return render(request, "onboarding/invitation.html", {
        "invitation": invitation, "form": form, "existing": existing is not None and not request.user.is_authenticated,
    })


@login_required
def checklist(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """The onboarding checklist: each step's state from the facts, done steps collapsed, blocked steps saying why."""
    organization = onboarding.organization_for(request, slug, role=MembershipRole.MEMBER)
    # Ready is recorded here too (and by beat), so the client sees it the moment the last fact holds.
    organization = readiness.readiness_refresh(acting_user=request.user, organization=organization)
    facts = readiness.facts_of(organization)
    is_admin = ClientMembership.objects.filter(user=request.user, organization=organization,
                                               role=MembershipRole.ADMIN).exists()
    credential = DocuSignCredential.objects.filter(organization=organization, user=request.user).first()
    system_user = SystemUser.objects.filter(organization=organization).first()
    setup = AccountSetupState.objects.filter(organization=organization).first()
    return render(request, "onboarding/checklist.html", {
        "organization": organization,
        "facts": facts,
        "drift_words": drift_words(setup.drift) if setup else [],
        "missing": _missing(facts, system_user, organization),
        "is_admin": is_admin,
        "system_user": system_user,
        "credential": credential,
        "account_reachable": _account_reachable(organization, credential),
        "base_uri_host": urlsplit(organization.base_uri).netloc if organization.base_uri else "",
    })


def _missing(facts: readiness.Facts, system_user: SystemUser | None, organization: ClientOrganization) -> dict[str, str]:
    """Per step, the sentence saying which earlier fact does not hold yet ("" when the step can be taken)."""
    no_consent = "Waiting for the system user's consent (step 1)."
    no_user = "The ISV's staff have not recorded your system user yet. They will contact you."
    if organization.is_hosted:  # the portal creates it in the background (docusign_integration/hosting/tasks.py)
        no_user = ("Your DocuSign user could not be created in the ISV's DocuSign account yet: the ISV's staff see why "
                   "and will provision it again." if organization.provisioning_error else
                   "Your DocuSign user is being created in the ISV's DocuSign account: reload this page in a minute.")
    return {
        "consent": "" if system_user else no_user,
        "account": "" if facts.connected else "Connect to DocuSign first (step 2): the account is one of your DocuSign user's.",
        "setup": (no_consent if not facts.consent else
                  "" if facts.account_chosen else "Choose the DocuSign account first (step 3)."),
        # The sending service refuses on the same fact with the same sentence (docusign_integration.envelopes.sending).
        "send": no_consent if not facts.consent else "" if facts.setup_done else readiness.SETUP_FIRST,
    }


@login_required
@require_POST
def connect(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """Start "Connect to DocuSign": a top-level redirect to DocuSign's sign-in and approval page."""
    organization = _own_account_organization(request, slug)
    return authorization_code.authorization_code_start(request, organization)


@login_required
@require_POST
def disconnect(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """Delete the user's DocuSign connection for this organization (its tokens and the social-auth link)."""
    organization = onboarding.organization_for(request, slug)
    credential = DocuSignCredential.objects.filter(organization=organization, user=request.user).first()
    if credential is not None:
        credentials.credential_disconnect(acting_user=request.user, credential=credential)
        messages.success(request, "Disconnected from DocuSign. The portal no longer holds your DocuSign tokens.")
    return redirect("onboarding:checklist", organization.slug)


@login_required
@require_http_methods(["GET", "POST"])
def account(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """Choose which of the connected user's DocuSign accounts this organization uses (the default is marked)."""
    organization = _own_account_organization(request, slug)
    credential = DocuSignCredential.objects.filter(organization=organization, user=request.user).first()
    if credential is None:
        messages.info(request, "Connect to DocuSign first; then choose the account.")
        return redirect("onboarding:checklist", organization.slug)
    # Accounts another client organization has are shown, unavailable, and are not valid choices (one query).
    taken = {(account_id or "").lower() for account_id in ClientOrganization.objects.filter(
        environment=organization.environment, account_id__in=[a["account_id"].lower() for a in credential.accounts],
    ).exclude(pk=organization.pk).values_list("account_id", flat=True)}
    available = [a for a in credential.accounts if a["account_id"].lower() not in taken]
    form = AccountChoiceForm(request.POST or None, accounts=available)
    if request.method == "POST" and form.is_valid():
        response = _choose(request, organization, credential, form.cleaned_data["account_id"])
        if response is not None:
            return response
    current = (organization.account_id or "").lower() if onboarding.account_is_chosen(organization) else ""
    accounts = [{**a, "region": urlsplit(a["base_uri"]).netloc, "taken": a["account_id"].lower() in taken,
                 "current": a["account_id"].lower() == current} for a in credential.accounts]
    return render(request, "onboarding/account.html", {
        "organization": organization, "form": form, "accounts": accounts,
        "staff_set": organization.account_source == AccountSource.STAFF and bool(organization.account_id),
        "selected": current or next((a["account_id"] for a in available if a.get("is_default")), ""),
    })


def _choose(request: AuthenticatedRequest, organization: ClientOrganization, credential: DocuSignCredential,
            account_id: str) -> HttpResponseRedirect | None:
    """Re-check with DocuSign that the user reaches `account_id`, then record it; None (with a message) on failure."""
    try:
        userinfo = credentials.fetch_userinfo(credential)
        # What the page listed is refreshed from what DocuSign says now, before the choice is checked against it.
        credentials.credential_accounts_update(acting_user=request.user, credential=credential, userinfo=userinfo)
        chosen = userinfo.choose_account(account_id)
        services.account_choose(acting_user=request.user, organization=organization, account=chosen)
    except DocuSignError as exc:
        messages.error(request, exc.user_message)
        return None
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return None
    messages.success(request, f"This organization uses the DocuSign account {chosen.account_name}.")
    return HttpResponseRedirect(reverse("onboarding:checklist", args=[organization.slug]))


def _own_account_organization(request: AuthenticatedRequest, slug: str) -> ClientOrganization:
    """The organization for the connection and account steps: a hosted client has neither (the account is the ISV's,
    and a person's connection to it could reach other clients' envelopes), so they are 404 for it."""
    organization = onboarding.organization_for(request, slug)
    if organization.is_hosted:
        raise Http404("A hosted client does not connect to the ISV's DocuSign account.")
    return organization


def _account_reachable(organization: ClientOrganization, credential: DocuSignCredential | None) -> bool | None:
    """Whether the user's connection reaches the organization's account (None when there is nothing to compare)."""
    if credential is None or not organization.account_id:
        return None
    return any(a["account_id"].lower() == organization.account_id.lower() for a in credential.accounts)
