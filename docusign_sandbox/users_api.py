"""Users of an account: add (`newUsers`), list, get, update (profile, name, status) and close (DELETE /users).

A sandbox User is one person across accounts (as DocuSign's user is); what is per account (permission profile,
isAdmin, userStatus) is the Membership. Reference:
https://developers.docusign.com/docs/esign-rest-api/reference/users/users/
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods

from . import refusals, role_settings, router
from .api import ApiError, Caller, json_response, read_json, require_admin, rest_endpoint
from .models import Account, Membership, PermissionProfile, User
from .serializers import user_json

USER_STATUSES = ("ActivationRequired", "ActivationSent", "Active", "Closed", "Disabled")
NEW_USER_FIELDS = frozenset({"userName", "email", "permissionProfileId", "permissionProfileName", "firstName",
                             "lastName"})
UPDATE_FIELDS = frozenset({"userName", "permissionProfileId", "permissionProfileName", "userStatus", "userId",
                           "email"})
BODY_ERROR = "The request body is missing or improperly formatted."
NO_SUCH_USER = ("USER_DOES_NOT_EXIST_IN_SYSTEM", "The specified user does not exist in the system.")


def _invalid(detail: str) -> ApiError:
    return ApiError("INVALID_REQUEST_PARAMETER", f"The request contained at least one invalid parameter. {detail}")


def _profile_ids(account: Account) -> dict[str, str]:
    return {p.name: p.profile_id for p in role_settings.ensure_default_profiles(account)}


def _unmodelled(item: dict[str, Any], modelled: frozenset[str], what: str) -> None:
    extra = sorted(k for k in item.keys() - modelled if not refusals.is_off(item[k]))
    if extra:
        raise ApiError(refusals.UNMODELLED, f"The sandbox does not model the {what}'s '{extra[0]}'.")


def _profile_named(account: Account, item: dict[str, Any], default: str) -> str:
    """The profile an item names by id or by name (DocuSign accepts either), else `default`."""
    profiles = role_settings.ensure_default_profiles(account)
    wanted_id, wanted_name = str(item.get("permissionProfileId") or ""), str(item.get("permissionProfileName") or "")
    if not wanted_id and not wanted_name:
        return default
    match = next((p for p in profiles if (wanted_id and p.profile_id == wanted_id)
                  or (not wanted_id and p.name.lower() == wanted_name.lower())), None)
    if match is None:
        raise _invalid("The permission profile named does not exist in the account.")  # UNVERIFIED code
    return match.name


def _new_user(account: Account, item: dict[str, Any]) -> dict[str, Any]:
    """One entry of newUsersSummary: the added member, or its errorDetails (DocuSign reports per user)."""
    email = str(item.get("email") or "").strip()
    name = str(item.get("userName") or " ".join(str(item.get(k) or "") for k in ("firstName", "lastName"))).strip()
    if "@" not in email or not name:
        return {"email": email, "errorDetails": {"errorCode": "INVALID_USERNAME_OR_EMAIL",  # UNVERIFIED code
                                                 "message": "Each new user needs a 'userName' and an 'email'."}}
    profile = _profile_named(account, item, "DocuSign Sender")
    user, _ = User.objects.get_or_create(email__iexact=email, defaults={"email": email, "name": name,
                                                                         "password": "!"})
    membership, created = Membership.objects.get_or_create(
        user=user, account=account, defaults={"permission_profile": profile,
                                              "is_default": not user.memberships.exists()})
    if not created:
        return {"email": email, "errorDetails": {"errorCode": "USER_ALREADY_EXISTS_IN_ACCOUNT",
                                                 "message": "Username and email combination already exists for "
                                                            "this account."}}
    return {"userId": user.user_id, "uri": f"/users/{user.user_id}", "email": user.email, "userName": user.name,
            "userStatus": membership.user_status, "createdDateTime": user.created.isoformat()}


def _add_users(request: HttpRequest, caller: Caller) -> HttpResponse:
    require_admin(caller)
    new_users = read_json(request).get("newUsers")
    if not isinstance(new_users, list) or not new_users or not all(isinstance(u, dict) for u in new_users):
        raise ApiError("INVALID_REQUEST_BODY", f"{BODY_ERROR} 'newUsers' must list the users to add.")
    for item in new_users:
        _unmodelled(item, NEW_USER_FIELDS, "new user")
    with transaction.atomic(using=router.database()):
        summaries = [_new_user(caller.account, item) for item in new_users]
    return json_response({"newUsers": summaries}, status=201)


def _close_users(request: HttpRequest, caller: Caller) -> HttpResponse:
    """DELETE /users with userInfoList {users: [{userId}]}: each is closed in this account (usersResponse)."""
    require_admin(caller)
    listed = read_json(request).get("users")
    if not isinstance(listed, list) or not all(isinstance(u, dict) for u in listed):
        raise ApiError("INVALID_REQUEST_BODY", f"{BODY_ERROR} 'users' must list the users to close.")
    ids = [str(u.get("userId") or "").lower() for u in listed]
    members = list(Membership.objects.select_related("user").filter(account=caller.account, user__user_id__in=ids))
    if len(members) != len(set(ids)):
        raise ApiError(*NO_SUCH_USER)
    Membership.objects.filter(pk__in=[m.pk for m in members]).update(user_status="Closed")
    return json_response({"users": [{"userId": m.user.user_id, "userName": m.user.name, "email": m.user.email,
                                     "userStatus": "Closed", "uri": f"/users/{m.user.user_id}"} for m in members]})


def _count(request: HttpRequest, default: int, highest: int) -> int:
    value = request.GET.get("count", "").strip() or str(default)
    if not value.isdigit() or not 1 <= int(value) <= highest:
        raise _invalid(f"Value for 'count' must be between 1 and {highest}.")
    return int(value)


def _list_users(request: HttpRequest, caller: Caller) -> HttpResponse:
    """GET /users: userInformationList, filtered by email and status, paged by count and start_position."""
    members = Membership.objects.filter(account=caller.account).select_related("user").order_by("user__email")
    if email := request.GET.get("email", "").strip():
        members = members.filter(user__email__iexact=email)
    if status := request.GET.get("status", "").strip():
        by_lower = {s.lower(): s for s in USER_STATUSES}  # enumerations are read case-insensitively
        wanted = {by_lower.get(s.strip().lower(), "") for s in status.split(",")}
        if "" in wanted:
            raise _invalid(f"Value for 'status' must be one of {', '.join(USER_STATUSES)}.")
        members = members.filter(user_status__in=wanted)
    count, start = _count(request, 100, 100), request.GET.get("start_position", "0")
    if not start.isdigit():
        raise _invalid("Value for 'start_position' must be a number.")
    start_position, total = int(start), members.count()
    page = list(members[start_position:start_position + count])
    end = start_position + len(page)
    ids = _profile_ids(caller.account)
    return json_response({
        "users": [user_json(m, ids.get(m.permission_profile, "")) for m in page],
        "resultSetSize": str(len(page)), "totalSetSize": str(total), "startPosition": str(start_position),
        "endPosition": str(end - 1),
        "nextUri": f"/users?start_position={end}&count={count}" if end < total else None,
        "previousUri": f"/users?start_position={max(0, start_position - count)}&count={count}"
        if start_position > 0 else None,
    })


@rest_endpoint
@require_http_methods(["GET", "POST", "DELETE"])
def users(request: HttpRequest, caller: Caller) -> HttpResponse:
    if request.method == "POST":
        return _add_users(request, caller)
    if request.method == "DELETE":
        return _close_users(request, caller)
    return _list_users(request, caller)


@rest_endpoint
@require_http_methods(["GET", "PUT"])
def user(request: HttpRequest, caller: Caller, user_id: str) -> HttpResponse:
    """GET /users/{userId}; PUT with userInformation: name, permission profile, userStatus (Active or Closed)."""
    member = (Membership.objects.select_related("user")
              .filter(account=caller.account, user__user_id__iexact=user_id).first())
    if member is None:
        raise ApiError(*NO_SUCH_USER)
    if request.method == "PUT":
        require_admin(caller)
        body = read_json(request)
        _unmodelled(body, UPDATE_FIELDS, "user")
        with transaction.atomic(using=router.database()):
            member.permission_profile = _profile_named(caller.account, body, member.permission_profile)
            if "userStatus" in body:
                status = str(body["userStatus"]).strip().lower()
                if status not in ("active", "closed"):
                    raise _invalid("Value for 'userStatus' must be 'Active' or 'Closed'.")
                member.user_status = status.capitalize()
            if name := str(body.get("userName") or "").strip():
                User.objects.filter(pk=member.user_id).update(name=name[:200])
                member.user.name = name[:200]
            member.save(update_fields=["permission_profile", "user_status"])
    profile = PermissionProfile.objects.filter(account=caller.account, name=member.permission_profile).first()
    return json_response(user_json(member, profile.profile_id if profile else ""))
