"""Client pages for envelopes: the list, sending a document (DocuSign's sender view), signing it here, downloads.

Every page loads its organization with `onboarding.organization_for` (members of that organization only; others get
404) and looks envelopes up within that organization, so another organization's envelope ids are 404 as well
(docs/security.md TI-1, TI-5). DocuSign's pages are reached by top-level redirects, never frames. The return pages
only pass DocuSign's `event` on to the envelope's page (it picks the banner's words) and ask for a sweep: statuses come
from DocuSign (Connect or the sweep), never from a query string anyone could type.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from docusign_integration.client.errors import DocuSignError
from docusign_integration.client.ids import is_guid
from docusign_integration.envelopes import documents, sending
from docusign_integration.envelopes.models.envelopes import Envelope, EnvelopeStatus
from docusign_integration.envelopes.tasks import sync_organization_soon
from docusign_integration.hosting.tasks import isv_account_sweep_soon
from pages import envelope_page
from portal.request_size import max_request_body
from tenants import onboarding
from tenants.models import ClientOrganization, MembershipRole
from tenants.users import AuthenticatedRequest

PAGE_SIZE = 25


class EnvelopeForm(forms.Form):
    subject = forms.CharField(max_length=100, help_text="The email subject recipients see.")
    document = forms.FileField(help_text="A PDF or Word (.docx) document.")

    def clean_document(self) -> sending.UploadedDocument:
        upload = self.cleaned_data["document"]
        if upload.size > sending.upload_max_bytes():  # refused before it is read into memory
            raise ValidationError(f"The file is larger than {sending.upload_max_bytes() // 1_048_576} MB.")
        return sending.check_document(upload.name, upload.read())


class RecipientForm(forms.Form):
    """A signer: by email from DocuSign (name and email), or a member who signs here (named and emailed as in the portal)."""

    name = forms.CharField(max_length=100, required=False)
    email = forms.EmailField(required=False)
    embedded = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Signs here in the portal as")

    def __init__(self, *args: Any, organization: ClientOrganization, members: Sequence[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.members = {member.pk: member for member in members}
        field = self.fields["embedded"]
        assert isinstance(field, forms.TypedChoiceField)  # declared above
        field.choices = [("", "Nobody: DocuSign emails this signer")] + [
            (member.pk, f"{sending.portal_user_name(member)} ({member.email or 'no email address'})") for member in members]
        field.error_messages["invalid_choice"] = (f"Choose a member of {organization.name}, or nobody: only the "
                                                  "organization's members sign here in the portal.")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        embedded = cleaned.get("embedded")
        member = None if embedded is None else self.members.get(embedded)
        if member is None:
            if "embedded" in cleaned:  # a valid choice of nobody: a signer by email
                if not cleaned.get("name"):
                    self.add_error("name", "Enter the signer's name.")
                if not cleaned.get("email") and "email" not in self.errors:
                    self.add_error("email", "Enter the signer's email address.")
            return cleaned
        name = sending.portal_user_name(member)
        if not member.email:
            self.add_error("embedded", f"{name} has no email address in the portal, which DocuSign needs.")
        elif cleaned.get("email") and cleaned["email"].lower() != member.email.lower():
            self.add_error("email", f"{name} signs here as themself: leave Email empty or enter {member.email}.")
        cleaned["name"] = cleaned.get("name") or name
        cleaned["email"] = member.email
        cleaned["embedded_as"] = sending.SignerIdentity.portal_user(member)
        return cleaned


RecipientFormSet = forms.formset_factory(RecipientForm, extra=2, min_num=1, validate_min=True,
                                         max_num=sending.MAX_RECIPIENTS, validate_max=True)


def _organization(request: AuthenticatedRequest, slug: str) -> ClientOrganization:
    return onboarding.organization_for(request, slug, role=MembershipRole.MEMBER)


def _envelope(organization: ClientOrganization, envelope_id: str) -> Envelope:
    """The organization's envelope; any other id (another organization's, malformed, unknown) is 404."""
    envelope = (Envelope.objects.filter(organization=organization, envelope_id=envelope_id.lower()).first()
                if is_guid(envelope_id) else None)
    if envelope is None:
        raise Http404
    return envelope


def _absolute(path: str) -> str:
    # A server constant, never the request's Host header (docs/security.md OA-3): DocuSign sends the person back here.
    return settings.PORTAL_BASE_URL.rstrip("/") + path


@login_required
def envelope_list(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """The organization's envelopes, newest first, paginated."""
    organization = _organization(request, slug)
    envelopes = Envelope.objects.filter(organization=organization).order_by("-created", "-pk")
    page = Paginator(envelopes, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "onboarding/envelopes/list.html", {"organization": organization, "page": page})


@max_request_body(sending.upload_max_bytes, form_overhead=64 * 1024)  # the document, the subject and the signers
@login_required
@require_http_methods(["GET", "POST"])
def envelope_new(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """Upload a document and name the signers; DocuSign's sender view then places the fields and sends it."""
    organization = _organization(request, slug)
    form = EnvelopeForm(request.POST or None, request.FILES or None)
    recipients = RecipientFormSet(request.POST or None, prefix="recipient", form_kwargs={
        "organization": organization, "members": sending.embedded_signer_candidates(organization)})
    if request.method == "POST" and form.is_valid() and recipients.is_valid():
        people = [sending.RecipientRequest(name=r["name"], email=r["email"], embedded_as=r.get("embedded_as"))
                  for r in recipients.cleaned_data if r]
        try:
            envelope = sending.envelope_create_draft(acting_user=request.user, organization=organization,
                                                     subject=form.cleaned_data["subject"],
                                                     documents=[form.cleaned_data["document"]], recipients=people)
        except DocuSignError as exc:
            messages.error(request, exc.user_message)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            return _to_sender_view(request, envelope)
    return render(request, "onboarding/envelopes/new.html",
                  {"organization": organization, "form": form, "recipients": recipients})


def _to_sender_view(request: AuthenticatedRequest, envelope: Envelope) -> HttpResponse:
    return_url = _absolute(reverse("onboarding:envelope_sender_return", args=[envelope.organization.slug])
                           + f"?envelope={envelope.envelope_id}")
    try:
        url = sending.sender_view_url(acting_user=request.user, envelope=envelope, return_url=return_url)
    except DocuSignError as exc:
        messages.error(request, f"The draft is saved, but DocuSign's sending page did not open: {exc.user_message}")
        return redirect("onboarding:envelope_detail", envelope.organization.slug, envelope.envelope_id)
    return HttpResponseRedirect(url)


@login_required
@require_POST
def envelope_prepare(request: AuthenticatedRequest, slug: str, envelope_id: str) -> HttpResponse:
    """Open DocuSign's sender view again for a draft (after Save or Cancel)."""
    envelope = _envelope(_organization(request, slug), envelope_id)
    if envelope.status != EnvelopeStatus.CREATED:
        messages.info(request, "This envelope has been sent already.")
        return redirect("onboarding:envelope_detail", slug, envelope.envelope_id)
    return _to_sender_view(request, envelope)


@login_required
@never_cache
def envelope_sender_return(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """Where DocuSign's sender view sends the person back, with `?event=Send|Save|Cancel|Error`."""
    organization = _organization(request, slug)
    event = envelope_page.known_event(request.GET.get("event", ""), envelope_page.SENDER_EVENTS)
    if event == "Send":
        _sweep_soon(organization, "sent")
    envelope_id = request.GET.get("envelope", "")
    if is_guid(envelope_id) and Envelope.objects.filter(organization=organization, envelope_id=envelope_id.lower()).exists():
        # The envelope's page shows the outcome beside the status it has, and follows it live (pages.envelope_page).
        return HttpResponseRedirect(reverse("onboarding:envelope_detail", args=[slug, envelope_id.lower()])
                                    + f"?{urlencode({'sent': event})}")
    outcome = envelope_page.sender_outcome(event)
    messages.add_message(request, outcome.level, outcome.text)
    return redirect("onboarding:envelopes", slug)


@login_required
def envelope_detail(request: AuthenticatedRequest, slug: str, envelope_id: str) -> HttpResponse:
    """One envelope: the outcome of a return from DocuSign, status, recipients ("Sign now"), the signed documents."""
    return _envelope_page(request, slug, envelope_id, "onboarding/envelopes/detail.html")


@login_required
def envelope_live(request: AuthenticatedRequest, slug: str, envelope_id: str) -> HttpResponse:
    """The detail page's live part, polled by static/envelope_live.js: the portal's own rows only, never DocuSign."""
    return _envelope_page(request, slug, envelope_id, "onboarding/envelopes/_live.html")


def _envelope_page(request: AuthenticatedRequest, slug: str, envelope_id: str, template: str) -> HttpResponse:
    organization = _organization(request, slug)
    envelope = _envelope(organization, envelope_id)
    context = envelope_page.envelope_context(
        envelope, request.user,
        sent_event=envelope_page.known_event(request.GET.get("sent", ""), envelope_page.SENDER_EVENTS),
        signed_event=envelope_page.known_event(request.GET.get("signed", ""), envelope_page.SIGNING_EVENTS))
    return render(request, template, {"organization": organization, **context})


@login_required
@require_POST
def envelope_sign(request: AuthenticatedRequest, slug: str, envelope_id: str, recipient_id: str) -> HttpResponse:
    """Open DocuSign's signing page for the embedded signer the signed-in user is (the portal authenticated them).

    Anyone else gets 404, the same as for an unknown recipient, and DocuSign is not called.
    """
    envelope = _envelope(_organization(request, slug), envelope_id)
    return_url = _absolute(reverse("onboarding:envelope_signing_return", args=[slug, envelope.envelope_id]))
    try:
        url = sending.signing_view_url(acting_user=request.user, envelope=envelope, recipient_id=recipient_id,
                                       return_url=return_url)
    except sending.NotTheSigner:
        raise Http404 from None
    except DocuSignError as exc:
        messages.error(request, exc.user_message)
        return redirect("onboarding:envelope_detail", slug, envelope.envelope_id)
    return HttpResponseRedirect(url)


@login_required
@never_cache
def envelope_signing_return(request: AuthenticatedRequest, slug: str, envelope_id: str) -> HttpResponse:
    """Where DocuSign's signing page sends the signer back, with `?event=signing_complete|decline|cancel|...`."""
    organization = _organization(request, slug)
    envelope = _envelope(organization, envelope_id)
    event = envelope_page.known_event(request.GET.get("event", ""), envelope_page.SIGNING_EVENTS)
    if event in envelope_page.SIGNING_DONE_EVENTS:
        _sweep_soon(organization, event)
    return HttpResponseRedirect(reverse("onboarding:envelope_detail", args=[slug, envelope.envelope_id])
                                + f"?{urlencode({'signed': event})}")


@login_required
def document_download(request: AuthenticatedRequest, slug: str, envelope_id: str, kind: str) -> FileResponse:
    """A stored signed document of the organization's envelope, streamed from storage (there is no public URL)."""
    organization = _organization(request, slug)
    document = documents.stored_document(organization.pk, envelope_id.lower(), kind) if is_guid(envelope_id) else None
    if document is None:
        raise Http404
    return documents.document_response(document)


def _sweep_soon(organization: ClientOrganization, reason: str) -> None:
    """Back from DocuSign's page: the sweep that serves this organization (a hosted client's is its ISV account's)."""
    if organization.is_hosted:
        isv_account_sweep_soon(organization.environment, reason)
    else:
        sync_organization_soon(organization, reason)
