"""Permission profiles: create, list, get, update and delete, with the AccountRoleSettings the sandbox enforces.

Reference: https://developers.docusign.com/docs/esign-rest-api/reference/accounts/accountpermissionprofiles/
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods

from . import refusals, role_settings, router
from .api import ApiError, Caller, json_response, read_json, require_admin, rest_endpoint
from .models import Account, Membership, PermissionProfile, new_guid
from .serializers import user_json

NOT_FOUND = ("PERMISSION_PROFILE_NOT_FOUND",  # UNVERIFIED code
             "The permission profile specified does not exist in the account.")


def profile_json(profile: PermissionProfile, holders: list[Membership] | None = None,
                 include: set[str] | frozenset[str] = frozenset()) -> dict[str, Any]:
    data: dict[str, Any] = {"permissionProfileId": profile.profile_id, "permissionProfileName": profile.name,
                            "settings": profile.settings, "modifiedDateTime": profile.modified.isoformat()}
    if holders is not None and "user_count" in include:
        data["userCount"] = str(len(holders))
    if holders is not None and "users" in include:
        data["users"] = [user_json(m, profile.profile_id) for m in holders]
    return data


def find(account: Account, profile_id: str) -> PermissionProfile:
    role_settings.ensure_default_profiles(account)
    profile = PermissionProfile.objects.filter(account=account, profile_id=profile_id).first()
    if profile is None:
        raise ApiError(*NOT_FOUND)
    return profile


def _role_settings(body: dict[str, Any], current: dict[str, str]) -> dict[str, str]:
    """The profile's settings after this body: the enforced ones as "true"/"false"; any other one set is refused."""
    settings = body.get("settings") or {}
    if not isinstance(settings, dict):
        raise ApiError("INVALID_REQUEST_BODY", "The request body is missing or improperly formatted.")
    unmodelled = sorted(k for k in settings.keys() - set(role_settings.ENFORCED) if not refusals.is_off(settings[k]))
    if unmodelled:
        raise ApiError(refusals.UNMODELLED, f"The sandbox does not model the role setting '{unmodelled[0]}'.")
    merged = {name: current.get(name, "false") for name in role_settings.ENFORCED}
    for name in role_settings.ENFORCED:
        if name in settings:
            merged[name] = "true" if str(settings[name]).lower() == "true" else "false"
    return merged


def _name(body: dict[str, Any]) -> str:
    name = body.get("permissionProfileName")
    if not isinstance(name, str) or not name.strip():
        raise ApiError("INVALID_REQUEST_PARAMETER", "The request contained at least one invalid parameter. "
                       "'permissionProfileName' must be specified.")
    return name.strip()[:100]


def _taken(account: Account, name: str, other_than: int | None = None) -> None:
    same_name = PermissionProfile.objects.filter(account=account, name__iexact=name)
    if other_than is not None:
        same_name = same_name.exclude(pk=other_than)
    if same_name.exists():
        raise ApiError("PERMISSION_PROFILE_NAME_ALREADY_EXISTS",  # UNVERIFIED code
                       f"A permission profile named '{name}' already exists in the account.")


@rest_endpoint
@require_http_methods(["GET", "POST"])
def permission_profiles(request: HttpRequest, caller: Caller) -> HttpResponse:
    """GET /permission_profiles[?include=user_count,users]; POST one permissionProfile -> 201."""
    if request.method == "GET":
        include = {part.strip() for part in request.GET.get("include", "").split(",")}
        profiles = role_settings.ensure_default_profiles(caller.account)
        members = list(Membership.objects.filter(account=caller.account).select_related("user"))
        return json_response({"permissionProfiles": [
            profile_json(p, [m for m in members if m.permission_profile == p.name], include) for p in profiles]})
    require_admin(caller)
    body = read_json(request)
    name = _name(body)
    with transaction.atomic(using=router.database()):
        role_settings.ensure_default_profiles(caller.account)
        _taken(caller.account, name)
        # DocuSign's profile ids are numbers; the row's own key makes one no concurrent request can also take.
        profile = PermissionProfile.objects.create(account=caller.account, name=name, profile_id=new_guid()[:20],
                                                   settings=_role_settings(body, {}))
        profile.profile_id = str(20_000_000 + profile.pk)
        profile.save(update_fields=["profile_id"])
    return json_response(profile_json(profile), status=201)


@rest_endpoint
@require_http_methods(["GET", "PUT", "DELETE"])
def permission_profile(request: HttpRequest, caller: Caller, profile_id: str) -> HttpResponse:
    """GET, PUT (name and settings), DELETE (200; refused while users hold it, or for DocuSign's defaults)."""
    profile = find(caller.account, profile_id)
    if request.method == "GET":
        return json_response(profile_json(profile))
    require_admin(caller)
    if profile.name in role_settings.DEFAULT_PROFILES:
        raise ApiError("PERMISSION_PROFILE_CANNOT_BE_CHANGED",  # UNVERIFIED code
                       "DocuSign's default permission profiles cannot be changed or deleted.")
    holders = Membership.objects.filter(account=caller.account, permission_profile=profile.name)
    if request.method == "DELETE":
        if holders.exists():
            raise ApiError("PERMISSION_PROFILE_IN_USE",  # UNVERIFIED code
                           "The permission profile is assigned to users; move them to another profile first.")
        profile.delete()
        return HttpResponse(status=200)
    body = read_json(request)
    with transaction.atomic(using=router.database()):
        if "permissionProfileName" in body:
            name = _name(body)
            _taken(caller.account, name, other_than=profile.pk)
            holders.update(permission_profile=name)  # members follow their profile through a rename
            profile.name = name
        profile.settings = _role_settings(body, profile.settings)
        profile.save()
    return json_response(profile_json(profile))
