"""Honest refusals: what the sandbox does not model is refused, never accepted and ignored.

A test double that ignores a field lets the portal's tests pass on behaviour DocuSign would not have (a payment
never taken, an access code never asked for). Every property of DocuSign's EnvelopeDefinition, Signer (each
recipient) and Document models is decided here, once (tests/sandbox/test_refusals.py walks the official SDK's
models to keep it so): modelled, read-only (DocuSign itself ignores them on input), modelled by another module,
or refused with 400 UNMODELLED_BY_SANDBOX naming the field (docs/sandbox.md "Refusals").
An unrouted path under /restapi or /oauth is DocuSign's JSON 404, never Django's HTML page.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from .api import ApiError, error_response

UNMODELLED = "UNMODELLED_BY_SANDBOX"  # the sandbox's own errorCode; DocuSign has none for this
# UNVERIFIED: DocuSign's exact errorCode and message for a path it does not route.
NOT_FOUND = ("RESOURCE_NOT_FOUND", "The URL provided does not resolve to a resource.")
# Recipient groups the sandbox models (the others are refused when not empty).
MODELLED_RECIPIENT_GROUPS = frozenset({"signers", "carbonCopies"})

# What the sandbox acts on (envelopes.py, brands.py).
MODELLED_ENVELOPE_FIELDS = frozenset({"brandId", "documents", "emailBlurb", "emailSubject", "recipients", "status",
                                      "transactionId"})
MODELLED_RECIPIENT_FIELDS = frozenset({"clientUserId", "email", "name", "recipientId", "routingOrder", "tabs"})
MODELLED_DOCUMENT_FIELDS = frozenset({"documentBase64", "documentId", "fileExtension", "name", "order"})
# Templates, custom fields and workflow are modelled by the templates half of issue 15: never refused here.
MODELLED_ELSEWHERE = frozenset({"compositeTemplates", "customFields", "templateId", "templateRoles", "workflow",
                                "roleName", "templateLocked", "templateRequired"})
# Properties DocuSign writes in its answers; sent back in a request they ask for nothing (DocuSign ignores them).
READ_ONLY_FIELDS = frozenset({
    "attachmentsUri", "certificateUri", "completedDateTime", "createdDateTime", "customFieldsUri", "declinedDateTime",
    "deletedDateTime", "deliveredDateTime", "documentsCombinedUri", "documentsUri", "envelopeDocuments", "envelopeId",
    "envelopeLocation", "envelopeUri", "hasComments", "hasFormDataChanged", "hasWavFile", "holder",
    "initialSentDateTime", "is21CFRPart11", "isDynamicEnvelope", "isSignatureProviderEnvelope",
    "isTicketRelatedEnvelope", "lastModifiedDateTime", "location", "lockInformation", "notificationUri",
    "purgeCompletedDate", "purgeRequestDate", "purgeState", "recipientsUri", "sender", "sentDateTime",
    "statusChangedDateTime", "statusDateTime", "templatesUri", "uSigState", "voidedDateTime", "voidedReason",
    "expireDateTime",
    # recipients
    "autoRespondedReason", "completedCount", "creationReason", "declinedReason", "errorDetails",
    "recipientAuthenticationStatus", "recipientIdGuid", "recipientType", "signedDateTime", "statusCode",
    "totalTabCount", "accessCodeMetadata", "emailMetadata", "faxNumberMetadata", "firstNameMetadata",
    "fullNameMetadata", "idCheckConfigurationNameMetadata", "isBulkRecipientMetadata", "lastNameMetadata",
    "nameMetadata", "noteMetadata", "recipientTypeMetadata", "requireIdLookupMetadata", "routingOrderMetadata",
    "signInEachLocationMetadata", "signingGroupIdMetadata", "deliveryMethodMetadata",
    # documents
    "pages", "uri",
})

# The fields the sandbox refuses, in one place. Set to an "off" value (absent, null, "", false, "false", [] or
# {}) they ask nothing of the sandbox and pass.
REFUSED_ENVELOPE_FIELDS = frozenset({
    "accessControlListBase64", "accessibility", "allowComments", "allowMarkup", "allowReassign",
    "allowRecipientRecursion", "allowViewHistory", "anySigner", "asynchronous", "attachments", "authoritativeCopy",
    "authoritativeCopyDefault", "autoNavigation", "brandLock", "burnDefaultTabData", "copyRecipientData",
    "disableResponsiveDocument", "documentBase64", "emailSettings", "enableWetSign", "enforceSignerVisibility",
    "envelopeAttachments", "envelopeCustomMetadata", "envelopeIdStamping", "envelopeMetadata", "eventNotification",
    "eventNotifications", "expireAfter", "expireEnabled", "externalEnvelopeId", "folders", "messageLock",
    "notification", "password", "powerForm", "recipientViewRequest", "recipientsLock", "signerCanSignOnMobile",
    "signingLocation", "useDisclosure",
})
REFUSED_RECIPIENT_FIELDS = frozenset({
    "accessCode", "addAccessCodeToEmail", "additionalNotifications", "agentCanEditEmail", "agentCanEditName",
    "allowSystemOverrideForLockedRecipient", "autoNavigation", "bulkRecipientsUri", "canSignOffline",
    "consentDetailsList", "defaultRecipient", "delegatedBy", "delegatedTo", "deliveryMethod", "designatorId",
    "designatorIdGuid", "documentVisibility", "emailNotification", "emailRecipientPostSigningURL",
    "embeddedRecipientStartURL", "excludedDocuments", "faxNumber", "firstName", "fullName",
    "idCheckConfigurationName", "idCheckInformationInput", "identityVerification",
    "inheritEmailNotificationConfiguration", "isBulkRecipient", "lastName", "lockedRecipientPhoneAuthEditable",
    "lockedRecipientSmsEditable", "notaryId", "notarySignerEmailSent", "note", "offlineAttributes",
    "phoneAuthentication", "phoneNumber", "proofFile", "recipientAttachments", "recipientFeatureMetadata",
    "recipientSignatureProviders", "recipientSuppliesTabs", "requireIdLookup", "requireSignOnPaper",
    "requireSignerCertificate", "requireUploadSignature", "signInEachLocation", "signatureInfo", "signingGroupId",
    "signingGroupName", "signingGroupType", "signingGroupUsers", "smsAuthentication", "socialAuthentications",
    "suppressEmails", "userId", "webFormRecipientViewId", "bulkSendV2Recipient", "documentTemplateId",
    "linkedAccountConfigurationId",
})
REFUSED_DOCUMENT_FIELDS = frozenset({
    "applyAnchorTabs", "assignTabsToRecipientId", "authoritativeCopy", "display", "docGenDocumentStatus",
    "docGenFormFields", "documentFields", "documentTemplateId", "encryptedWithKeyManager", "fileFormatHint",
    "htmlDefinition", "includeInDownload", "isDocGenDocument", "matchBoxes", "password", "pdfFormFieldOption",
    "remoteUrl", "signerMustAcknowledge", "signerMustAcknowledgeUseAccountDefault", "tabs", "transformPdfFields",
})


def is_off(value: object) -> bool:
    """Whether a value asks for nothing: absent, null, "", false, "false", [] or {}."""
    return value is None or value is False or (isinstance(value, str | list | dict) and value in ("", "false", [], {}))
# recipientViewRequest: what views_api.py acts on, the focused view's framing included (focused_view.py).
MODELLED_RECIPIENT_VIEW_FIELDS = frozenset({
    "authenticationMethod", "clientUserId", "email", "frameAncestors", "messageOrigins", "recipientId", "returnUrl",
    "userId", "userName",
})
# Its pings, SSO assertions and the old X-Frame-Options framing are not modelled.
REFUSED_RECIPIENT_VIEW_FIELDS = frozenset({
    "assertionId", "authenticationInstant", "clientURLs", "displayFormat", "pingFrequency", "pingUrl",
    "securityDomain", "xFrameOptions", "xFrameOptionsAllowFromUrl",
})
# PUT /envelopes/{id}: the sandbox changes an envelope only through its status (send a draft, void).
MODELLED_UPDATE_FIELDS = frozenset({"status", "voidedReason"})


def _refuse(where: str, field: str) -> ApiError:
    return ApiError(UNMODELLED, f"The sandbox does not model '{where}{field}': it refuses the request rather than "
                    "ignore it. See docs/sandbox.md (Refusals) for what the sandbox models.")


def check_fields(item: object, refused: frozenset[str], where: str = "") -> None:
    if not isinstance(item, dict):
        return  # the envelope parser reports a malformed body in DocuSign's words
    for field in sorted(refused & item.keys()):
        if not is_off(item[field]):
            raise _refuse(where, field)


def check_envelope_definition(definition: dict[str, Any]) -> None:
    """Refuse an envelopeDefinition that asks for anything the sandbox does not model (400 naming the field)."""
    check_fields(definition, REFUSED_ENVELOPE_FIELDS, "")
    recipients = definition.get("recipients")
    if isinstance(recipients, dict):
        for group, members in recipients.items():
            if group in ("recipientCount", "currentRoutingOrder"):
                continue
            if group not in MODELLED_RECIPIENT_GROUPS:
                if not is_off(members):
                    raise _refuse("recipients.", group)
                continue
            for member in members if isinstance(members, list) else []:
                check_fields(member, REFUSED_RECIPIENT_FIELDS, f"recipients.{group}[].")
    documents = definition.get("documents")
    for document in documents if isinstance(documents, list) else []:
        check_fields(document, REFUSED_DOCUMENT_FIELDS, "documents[].")


def check_envelope_update(body: dict[str, Any]) -> None:
    """Refuse a PUT /envelopes/{id} that asks to change anything but the status (read-only fields pass)."""
    allowed = MODELLED_UPDATE_FIELDS | READ_ONLY_FIELDS | MODELLED_ELSEWHERE
    check_fields(body, frozenset(body.keys() - allowed))


@csrf_exempt
def unknown_route(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Any path under /restapi or /oauth that nothing routes: DocuSign's JSON error, status 404."""
    return error_response(*NOT_FOUND, status=404)
