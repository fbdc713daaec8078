"""The API's request and response shapes (they are also its OpenAPI schema, through drf-spectacular)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from docusign_integration.client.custom_fields import HOSTED_CLIENT_FIELD
from docusign_integration.envelopes.sending import MAX_END_USER_ID, MAX_RECIPIENTS, check_document

MAX_DOCUMENTS = 10
MAX_METADATA = 10  # DocuSign allows a few text custom fields per envelope; the portal keeps ten
METADATA_TEXT = 100  # DocuSign's custom field value limit
ENVELOPE_STATUSES = ("created", "sent", "delivered", "signed", "completed", "declined", "voided")


class StringMapField(serializers.DictField):
    """An object of string values, each 1 to 100 characters, with at most `max_keys` keys of 1 to 100 characters."""

    def __init__(self, *, max_keys: int, **kwargs: Any) -> None:
        self.max_keys = max_keys
        super().__init__(child=serializers.CharField(max_length=METADATA_TEXT, allow_blank=False), **kwargs)

    def to_internal_value(self, data: Any) -> dict[str, str]:
        value: dict[str, str] = super().to_internal_value(data)
        if len(value) > self.max_keys:
            raise serializers.ValidationError(f"At most {self.max_keys} entries.")
        for key in value:
            if not key or len(key) > METADATA_TEXT or not key.isprintable():
                raise serializers.ValidationError(f"Keys are 1 to {METADATA_TEXT} printable characters.")
        return value


class DocumentIn(serializers.Serializer):
    name = serializers.CharField(max_length=150)
    content_base64 = serializers.CharField(help_text="The PDF or DOCX file, base64-encoded.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            content = base64.b64decode(attrs["content_base64"], validate=True)
        except (binascii.Error, ValueError):
            raise serializers.ValidationError({"content_base64": "Not valid base64."}) from None
        try:
            attrs["document"] = check_document(attrs["name"], content)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"content_base64": exc.messages}) from None
        return attrs


class RecipientIn(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    email = serializers.EmailField(max_length=100)
    end_user_id = serializers.CharField(
        max_length=MAX_END_USER_ID, required=False,
        help_text="Your product's id of this person: they sign embedded, and only this id gets their signing view. "
                  "Leave out for a remote signer (DocuSign emails them).")
    role_name = serializers.CharField(max_length=100, required=False, help_text="The template role this person fills.")
    tabs = StringMapField(max_keys=50, required=False, help_text="Prefilled text tab values by tabLabel (templates).")


class EnvelopeCreate(serializers.Serializer):
    subject = serializers.CharField(max_length=100)
    status = serializers.ChoiceField(choices=["created", "sent"], default="sent")
    documents = DocumentIn(many=True, required=False, max_length=MAX_DOCUMENTS)  # type: ignore[call-arg]
    template_id = serializers.CharField(max_length=36, required=False)
    recipients = RecipientIn(many=True, min_length=1, max_length=MAX_RECIPIENTS)  # type: ignore[call-arg]
    metadata = StringMapField(max_keys=MAX_METADATA, required=False)

    def validate_metadata(self, value: dict[str, str]) -> dict[str, str]:
        # The portal routes a hosted client's Connect messages by this custom field: an ISV-chosen value would
        # route its envelopes' Connect messages to another organization, or to none (connect/hosted_routing.py).
        for key in value:
            if key.casefold() == HOSTED_CLIENT_FIELD.casefold():
                raise serializers.ValidationError({key: f"{HOSTED_CLIENT_FIELD} is reserved by the portal."})
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if bool(attrs.get("documents")) == bool(attrs.get("template_id")):
            raise serializers.ValidationError({"documents": "Give either documents or a template_id, not both."})
        return attrs


class EnvelopeMultipart(serializers.Serializer):
    """multipart/form-data: the same envelope as JSON text in `envelope` (without documents), the files in `documents`."""

    envelope = serializers.CharField(help_text="The EnvelopeCreate JSON object, without `documents`.")
    documents = serializers.ListField(child=serializers.FileField(), min_length=1, max_length=MAX_DOCUMENTS)


class RecipientOut(serializers.Serializer):
    recipient_id = serializers.CharField()
    name = serializers.CharField()
    email = serializers.CharField()
    status = serializers.CharField()
    embedded = serializers.BooleanField()


class EnvelopeOut(serializers.Serializer):
    envelope_id = serializers.CharField()
    status = serializers.ChoiceField(choices=ENVELOPE_STATUSES)
    subject = serializers.CharField()
    recipients = RecipientOut(many=True)
    metadata = serializers.DictField(child=serializers.CharField())
    status_changed_at = serializers.DateTimeField(allow_null=True)
    sent_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    declined_at = serializers.DateTimeField(allow_null=True)
    voided_at = serializers.DateTimeField(allow_null=True)
    voided_reason = serializers.CharField()
    created = serializers.DateTimeField()
    updated = serializers.DateTimeField()


class EnvelopePage(serializers.Serializer):
    next = serializers.URLField(allow_null=True, help_text="The next page (cursor pagination), or null.")
    previous = serializers.URLField(allow_null=True)
    results = EnvelopeOut(many=True)


class EnvelopeFilters(serializers.Serializer):
    status = serializers.ChoiceField(choices=ENVELOPE_STATUSES, required=False)
    metadata_key = serializers.CharField(max_length=METADATA_TEXT, required=False)
    metadata_value = serializers.CharField(max_length=METADATA_TEXT, required=False)
    updated_since = serializers.DateTimeField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "metadata_value" in attrs and "metadata_key" not in attrs:
            raise serializers.ValidationError({"metadata_key": "metadata_value needs metadata_key."})
        return attrs


class ReturnUrlIn(serializers.Serializer):
    return_url = serializers.URLField(max_length=470, help_text="Must be on one of the organization's allowed origins.")


class SigningViewIn(ReturnUrlIn):
    end_user_id = serializers.CharField(max_length=MAX_END_USER_ID,
                                        help_text="The id of the end user you authenticated; must be this signer's.")


class FocusedViewIn(SigningViewIn):
    frame_ancestors = serializers.ListField(child=serializers.CharField(max_length=200), min_length=1, max_length=5,
                                            help_text="Origins of your pages that frame the view (allowed frame "
                                                      "ancestors).")
    message_origins = serializers.ListField(child=serializers.CharField(max_length=200), required=False, max_length=5,
                                            help_text="Origins that receive the view's events (allowed origins).")


class ViewOut(serializers.Serializer):
    url = serializers.URLField(help_text="DocuSign's one-time URL (a signing URL lives 5 minutes).")


class VoidIn(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class ResendOut(serializers.Serializer):
    envelope_id = serializers.CharField()
    resent = serializers.BooleanField()


class TemplateRoleOut(serializers.Serializer):
    role_name = serializers.CharField()
    recipient_id = serializers.CharField()


class TemplateOut(serializers.Serializer):
    template_id = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    roles = TemplateRoleOut(many=True)
    allowed = serializers.BooleanField(help_text="Whether the ISV lets this organization send from it.")
    refreshed_at = serializers.DateTimeField()


class TemplateList(serializers.Serializer):
    templates = TemplateOut(many=True)


class DocuSignAccountOut(serializers.Serializer):
    environment = serializers.CharField()
    account_id = serializers.CharField()
    account_name = serializers.CharField()
    base_uri = serializers.CharField()


class OrganizationOut(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField(help_text="The onboarding status.")
    ready = serializers.BooleanField(help_text="Whether envelopes can be sent now.")
    checklist = serializers.DictField(child=serializers.CharField(),
                                      help_text="Each onboarding step's state: consent, account, account_setup "
                                      "(isv_account for a client hosted in the ISV's account, which the ISV sets up).")
    docusign_account = DocuSignAccountOut(allow_null=True)


MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
MAX_USAGE_MONTHS = 120


class UsageQuery(serializers.Serializer):
    """`from` and `to` (a Python keyword and its pair) as query parameters; `get_fields` gives `from` its name."""

    from_ = serializers.RegexField(MONTH_PATTERN, required=False, help_text="First month, YYYY-MM (default: 11 months "
                                   "before `to`).", error_messages={"invalid": "A month as YYYY-MM."})
    to = serializers.RegexField(MONTH_PATTERN, required=False, help_text="Last month, YYYY-MM (default: the current "
                                "month, UTC).", error_messages={"invalid": "A month as YYYY-MM."})

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class MonthUsageOut(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM (UTC).")
    envelopes_sent = serializers.IntegerField(help_text="Envelopes DocuSign sent that month, from the portal's records.")


class UsageOut(serializers.Serializer):
    organization = serializers.CharField(help_text="The key's organization (its slug).")
    hosting = serializers.ChoiceField(choices=["own_account", "hosted"], help_text=(
        "hosted: in the ISV's DocuSign account, the envelopes its own system user sent; own_account: every envelope "
        "of its own account that the portal has recorded."))
    months = MonthUsageOut(many=True, help_text="Every month from `from` to `to`, oldest first; zero when none.")
    total = serializers.IntegerField()
    from_ = serializers.CharField()
    to = serializers.CharField()

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields
