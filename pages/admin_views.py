"""Admin pages for client organizations that need input or explanation: provision, consent links, invitations,
offboarding."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from docusign_integration.client import conf
from docusign_integration.consent.system_user import consent_links
from docusign_integration.hosting.provisioning import hosted_client_offboard
from tenants import invitations, services
from tenants.models import ClientOrganization, Invitation, MembershipRole
from tenants.users import signed_in_user

if TYPE_CHECKING:
    from pages.admin import ClientOrganizationAdmin


class ProvisionForm(forms.Form):
    name = forms.CharField(max_length=200)
    environment = forms.ChoiceField(choices=conf.ENVIRONMENT_CHOICES, initial=conf.SANDBOX)
    system_user_id = forms.CharField(label="System user's DocuSign user id (GUID)", max_length=36)
    system_user_email = forms.CharField(label="System user's email", max_length=254)
    account_id = forms.CharField(label="Dedicated DocuSign account id (optional)", max_length=36, required=False)
    slug = forms.SlugField(required=False, help_text="Made from the name when left empty.")


class InvitationForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=MembershipRole.choices, initial=MembershipRole.ADMIN)


class OffboardForm(forms.Form):
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 3}),
                             help_text="Why the client leaves; kept in the audit history.")


def provision(model_admin: ClientOrganizationAdmin, request: HttpRequest) -> HttpResponse:
    """The admin's "Add client organization" page, backed by `organization_provision`."""
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    form = ProvisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organization = services.organization_provision(acting_user=signed_in_user(request), **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            model_admin.log_addition(request, organization, [{"added": {}}])
            model_admin.message_user(request, f"Provisioned {organization.name}. Next: invite a client admin.")
            return HttpResponseRedirect(reverse("admin:tenants_clientorganization_change", args=[organization.pk]))
    return _render(model_admin, request, "form.html", None,
                   {"form": form, "title": "Provision a client organization", "submit_label": "Provision"})


def consent_links_view(model_admin: ClientOrganizationAdmin, request: HttpRequest, object_id: int) -> HttpResponse:
    organization = _organization(model_admin, request, object_id)
    return _render(model_admin, request, "consent_links.html", organization, {
        "title": f"Consent links for {organization.name}", "consent_links": consent_links(organization),
    })


def invite(model_admin: ClientOrganizationAdmin, request: HttpRequest, object_id: int) -> HttpResponse:
    organization = _organization(model_admin, request, object_id)
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.invitation_send(acting_user=signed_in_user(request), organization=organization,
                                                  **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            model_admin.log_change(request, organization, f"Invited {invitation.email} as {invitation.get_role_display()}.")
            model_admin.message_user(request, f"Invitation sent to {invitation.email}.")
            return HttpResponseRedirect(reverse("admin:tenants_clientorganization_change", args=[organization.pk]))
    return _render(model_admin, request, "form.html", organization,
                   {"form": form, "title": f"Invite to {organization.name}", "submit_label": "Send invitation"})


def invitation_action(model_admin: ClientOrganizationAdmin, request: HttpRequest, object_id: int, invitation_id: int,
                      action: str) -> HttpResponse:
    """POST from the organization's page: withdraw an invitation, or send it again with a new link."""
    organization = _organization(model_admin, request, object_id)
    back = HttpResponseRedirect(reverse("admin:tenants_clientorganization_change", args=[organization.pk]) + "#invitations")
    if request.method != "POST":
        return back
    invitation = Invitation.objects.filter(pk=invitation_id, organization=organization).first()
    if invitation is None:
        raise Http404
    try:
        if action == "resend":
            sent = invitations.invitation_resend(acting_user=signed_in_user(request), invitation=invitation)
            model_admin.message_user(request, f"A new invitation was sent to {sent.email}; the old link no longer works.")
        else:
            invitations.invitation_revoke(acting_user=signed_in_user(request), invitation=invitation)
            model_admin.message_user(request, f"The invitation to {invitation.email} was withdrawn.")
    except ValidationError as exc:
        model_admin.message_user(request, " ".join(exc.messages), messages.ERROR)
    return back


def offboard(model_admin: ClientOrganizationAdmin, request: HttpRequest, object_id: int) -> HttpResponse:
    """GET: what offboarding the organization deletes and keeps. POST with a reason: `organization_offboard`."""
    organization = _organization(model_admin, request, object_id)
    form = OffboardForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            # A hosted client's system user in the ISV account is also closed, by a task after the commit.
            changed = hosted_client_offboard(acting_user=signed_in_user(request), organization=organization,
                                             reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if changed:
                model_admin.log_change(request, organization, "Offboarded.")
                model_admin.message_user(request, f"Offboarded {organization.name}: its DocuSign connections and tokens "
                                         "are deleted and no background work runs for it.", messages.SUCCESS)
            else:
                model_admin.message_user(request, f"{organization.name} was offboarded already; nothing changed.",
                                         messages.WARNING)
            return HttpResponseRedirect(reverse("admin:tenants_clientorganization_change", args=[organization.pk]))
    preview = services.offboarding_preview(ClientOrganization.objects.filter(pk=organization.pk)).get()
    return _render(model_admin, request, "offboard.html", organization, {
        "form": form, "title": f"Offboard {organization.name}", "preview": preview,
        "retention": services.OFFBOARDING_RETENTION,
    })


def _organization(model_admin: ClientOrganizationAdmin, request: HttpRequest, object_id: int) -> ClientOrganization:
    organization = model_admin.get_object(request, str(object_id))
    if organization is None:
        raise Http404
    if not model_admin.has_change_permission(request, organization):
        raise PermissionDenied
    return organization


def _render(model_admin: ClientOrganizationAdmin, request: HttpRequest, template: str,
            organization: ClientOrganization | None, context: dict) -> TemplateResponse:
    return TemplateResponse(request, f"admin/tenants/clientorganization/{template}", {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "original": organization,
        **context,
    })
