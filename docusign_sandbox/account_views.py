"""Account settings, users and permission profiles: docs/docusign.md §8.

Reference: https://developers.docusign.com/docs/esign-rest-api/reference/accounts/
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET, require_http_methods

from . import router
from .api import ApiError, Caller, json_response, read_json, require_admin, rest_endpoint
from .models import Account, Membership
from .serializers import user_json

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
# DocuSign's three default profiles (docs/docusign.md §8); the ids are the sandbox's own.
PERMISSION_PROFILES = {
    "DocuSign Viewer": ("10000001", {"allowApiAccess": "false", "allowApiAccessToAccount": "false",
                                     "allowSendingEnvelopes": "false"}),
    "DocuSign Sender": ("10000002", {"allowApiAccess": "true", "allowApiAccessToAccount": "true",
                                     "allowSendingEnvelopes": "true", "allowApiSendingOnBehalfOfOthers": "false"}),
    "Account Administrator": ("10000003", {"allowApiAccess": "true", "allowApiAccessToAccount": "true",
                                           "allowSendingEnvelopes": "true", "allowApiSendingOnBehalfOfOthers": "true",
                                           "allowAccountManagement": "true"}),
}
USER_STATUSES = ("ActivationRequired", "ActivationSent", "Active", "Closed", "Disabled")
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


def _profile_id(name: str) -> str:
    return PERMISSION_PROFILES.get(name, ("10000002", {}))[0]


def _count(request: HttpRequest, default: int, highest: int) -> int:
    value = request.GET.get("count", "").strip() or str(default)
    if not value.isdigit() or not 1 <= int(value) <= highest:
        raise ApiError("INVALID_REQUEST_PARAMETER", "The request contained at least one invalid parameter. "
                       f"Value for 'count' must be between 1 and {highest}.")
    return int(value)


@rest_endpoint
@require_GET
def users(request: HttpRequest, caller: Caller) -> HttpResponse:
    """GET /users: userInformationList, filtered by email and status, paged by count and start_position."""
    members = Membership.objects.filter(account=caller.account).select_related("user").order_by("user__email")
    if email := request.GET.get("email", "").strip():
        members = members.filter(user__email__iexact=email)
    if status := request.GET.get("status", "").strip():
        wanted = {s.strip() for s in status.split(",")}
        if not wanted <= set(USER_STATUSES):
            raise ApiError("INVALID_REQUEST_PARAMETER", "The request contained at least one invalid parameter. "
                           f"Value for 'status' must be one of {', '.join(USER_STATUSES)}.")
        # The sandbox's users are either active or closed; the other statuses match nobody.
        members = members.filter(user__is_active__in=[s == "Active" for s in wanted & {"Active", "Closed"}])
    count, start = _count(request, 100, 100), request.GET.get("start_position", "0")
    if not start.isdigit():
        raise ApiError("INVALID_REQUEST_PARAMETER", "The request contained at least one invalid parameter. "
                       "Value for 'start_position' must be a number.")
    start_position = int(start)
    total = members.count()
    page = list(members[start_position:start_position + count])
    end = start_position + len(page)
    data: dict[str, Any] = {
        "users": [user_json(m, _profile_id(m.permission_profile)) for m in page],
        "resultSetSize": str(len(page)), "totalSetSize": str(total), "startPosition": str(start_position),
        "endPosition": str(end - 1),
        "nextUri": f"/users?start_position={end}&count={count}" if end < total else None,
        "previousUri": f"/users?start_position={max(0, start_position - count)}&count={count}"
        if start_position > 0 else None,
    }
    return json_response(data)


@rest_endpoint
@require_GET
def user(request: HttpRequest, caller: Caller, user_id: str) -> HttpResponse:
    """GET /users/{userId}: one member of the account."""
    member = (Membership.objects.select_related("user")
              .filter(account=caller.account, user__user_id__iexact=user_id).first())
    if member is None:
        raise ApiError("USER_DOES_NOT_EXIST_IN_SYSTEM", "The specified user does not exist in the system.")
    return json_response(user_json(member, _profile_id(member.permission_profile)))


@rest_endpoint
@require_GET
def permission_profiles(request: HttpRequest, caller: Caller) -> HttpResponse:
    """GET /permission_profiles[?include=user_count,users]: DocuSign's three default profiles."""
    include = {part.strip() for part in request.GET.get("include", "").split(",")}
    members = list(Membership.objects.filter(account=caller.account).select_related("user"))
    profiles = []
    for name, (profile_id, role_settings) in PERMISSION_PROFILES.items():
        holders = [m for m in members if m.permission_profile == name]
        profile: dict[str, Any] = {"permissionProfileId": profile_id, "permissionProfileName": name,
                                   "settings": role_settings}
        if "user_count" in include:
            profile["userCount"] = str(len(holders))
        if "users" in include:
            profile["users"] = [user_json(m, profile_id) for m in holders]
        profiles.append(profile)
    return json_response({"permissionProfiles": profiles})
