"""Account settings: docs/docusign.md §8 (users are in users_api, permission profiles in permission_profiles).

Reference: https://developers.docusign.com/docs/esign-rest-api/reference/accounts/
"""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods

from . import router
from .api import ApiError, Caller, json_response, read_json, require_admin, rest_endpoint
from .models import Account

# accountSettingsInformation as a new DocuSign account answers it (a subset of its ~590 string properties);
# Account.settings holds what was changed and wins.
DEFAULT_SETTINGS = {
    "allowEnvelopeCorrect": "true", "allowEnvelopeCustomFields": "true", "allowInPerson": "true",
    "allowSignerReassign": "true", "attachCompletedEnvelope": "false", "disableUploadSignature": "false",
    "enableAutoNav": "true", "enableResponsiveSigning": "true", "enableSequentialSigningAPI": "true",
    "enableSignerAttachments": "true", "enableSMSAuthentication": "false",
    "envelopeIntegrationAllowed": "full", "envelopeIntegrationEnabled": "true", "signTimeShowAmPm": "false",
    "usesAPI": "true", "allowConnectEnvelopeRemovedEvent": "false", "enableAccessCodeGenerator": "false",
    "enablePowerForm": "true", "enableReservedDomain": "false", "allowAccountManagementGranular": "false",
}
# Properties whose description in DocuSign's OpenAPI spec says only (Sys)Admin users can change them.
ADMIN_ONLY_SETTINGS = frozenset({
    "envelopeIntegrationAllowed", "envelopeIntegrationEnabled", "enableSequentialSigningAPI", "allowInPerson",
    "usesAPI", "allowConnectEnvelopeRemovedEvent", "enableAccessCodeGenerator", "enablePowerForm",
    "enableReservedDomain", "allowAccountManagementGranular", "enableSMSAuthentication",
})
BODY_ERROR = "The request body is missing or improperly formatted."


def account_settings(account: Account) -> dict[str, str]:
    return {**DEFAULT_SETTINGS, **account.settings}


@rest_endpoint
@require_http_methods(["GET", "PUT"])
def settings(request: HttpRequest, caller: Caller) -> HttpResponse:
    """GET /settings; PUT /settings with a partial object -> 200 and no body."""
    if request.method == "GET":
        return json_response(account_settings(caller.account))
    changes = read_json(request)
    if any(not isinstance(value, str) for value in changes.values()):
        raise ApiError("INVALID_REQUEST_BODY", f"{BODY_ERROR} Account settings values must be strings.")
    if not caller.membership.is_admin and ADMIN_ONLY_SETTINGS & changes.keys():
        # Refuse the whole request: a partial apply would leave the caller unsure what changed.
        require_admin(caller)
    with transaction.atomic(using=router.database()):
        account = Account.objects.select_for_update().get(pk=caller.account.pk)
        account.settings = {**account.settings, **changes}
        account.save(update_fields=["settings"])
    return HttpResponse(status=200)
