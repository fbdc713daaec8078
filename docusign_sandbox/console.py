"""The sandbox console under `/_sandbox/`: what the offline DocuSign holds, for a developer at this machine.

Pages without scripts, behind the control API's own gate (control enabled, loopback clients, same origin):
accounts (site, brands) and users (permission profile, status per account) with their consent, envelopes
(with a form per recipient whose turn it is: console_actions),
Connect configurations and deliveries, and the tail of the request log.
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import envelope_state
from .control_views import control_only
from .models import (
    Account,
    ConnectConfiguration,
    ConnectDelivery,
    Envelope,
    Membership,
    OrganizationConsent,
    RequestLog,
    SandboxControl,
    User,
)

PAGE = 200


def _consents(user: User, org_consents: list[OrganizationConsent]) -> list[str]:
    """How each integration key may act as this user: individual consent, or an organization's admin consent."""
    granted = [f"{c.integration_key.name}: {c.scopes}" for c in user.consents.all()]
    granted += [f"{c.integration_key.name}: {c.scopes} (admin consent of {c.organization.name})"
                for c in org_consents
                if user.email_domain in {d.domain.lower() for d in c.organization.claimed_domains.all()}]
    return granted


@control_only
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    accounts = Account.objects.select_related("organization").prefetch_related("brands").order_by("name")
    users = User.objects.order_by("email").prefetch_related(
        "consents__integration_key",
        Prefetch("memberships", queryset=Membership.objects.select_related("account").order_by("account__name")),
    )
    org_consents = list(OrganizationConsent.objects.select_related("organization", "integration_key")
                        .prefetch_related("organization__claimed_domains"))
    rows = [{"user": u, "consents": _consents(u, org_consents)} for u in users]
    return render(request, "docusign_sandbox/console.html",
                  {"accounts": accounts, "users": rows, "control": SandboxControl.get()})


@control_only
@require_GET
def envelopes(request: HttpRequest) -> HttpResponse:
    rows = (Envelope.objects.select_related("account", "sender").prefetch_related("recipients", "custom_fields")
            .order_by("-status_changed_at")[:PAGE])
    return render(request, "docusign_sandbox/console_envelopes.html",
                  {"envelopes": rows, "actionable": envelope_state.VOIDABLE})


@control_only
@require_GET
def connect(request: HttpRequest) -> HttpResponse:
    configurations = ConnectConfiguration.objects.select_related("account").order_by("account__name", "pk")
    deliveries = ConnectDelivery.objects.select_related("account").order_by("-created", "-pk")[:PAGE]
    return render(request, "docusign_sandbox/console_connect.html",
                  {"configurations": configurations, "deliveries": deliveries, "control": SandboxControl.get()})


@control_only
@require_GET
def requests_tail(request: HttpRequest) -> HttpResponse:
    return render(request, "docusign_sandbox/console_requests.html",
                  {"requests": RequestLog.objects.order_by("-at", "-pk")[:PAGE]})
