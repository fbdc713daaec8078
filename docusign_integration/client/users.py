"""eSignature REST calls for an account's users and permission profiles (docs/docusign.md §10.1).

The ISV account's hosted system users are created, found, moved to the portal's profile and closed here. All go
through `rest.rest_call`; bodies and answers are in DocuSign's shapes (camelCase, every scalar a string).
"""

from __future__ import annotations

import re
from typing import Any

from docusign_integration.client import http
from docusign_integration.client.errors import BadResponse, DocuSignError, InvalidIdentifier
from docusign_integration.client.ids import is_guid, require_guid
from docusign_integration.client.rest import AccountRef, rest_call

_PROFILE_ID = re.compile(r"[0-9]{1,18}")  # DocuSign's permissionProfileId is a number sent as a string


def _profile_id(profile_id: str) -> str:
    if not isinstance(profile_id, str) or not _PROFILE_ID.fullmatch(profile_id):
        raise InvalidIdentifier("A permission profile id is a number.", error_code="INVALID_PROFILE_ID")
    return profile_id


def _user(item: object) -> dict[str, Any]:
    if not isinstance(item, dict) or not is_guid(item.get("userId")):
        raise BadResponse("DocuSign's user has an unexpected shape.", error_code="UNEXPECTED_SHAPE")
    return item


def list_permission_profiles(ref: AccountRef, *, bearer: str) -> list[dict[str, Any]]:
    """The account's permission profiles (permissionProfiles)."""
    # Reference: https://developers.docusign.com/docs/esign-rest-api/reference/accounts/accountpermissionprofiles/list/
    profiles = http.json_or_raise(rest_call(ref, "GET", "/permission_profiles", bearer=bearer)).get("permissionProfiles")
    if not isinstance(profiles, list) or not all(isinstance(p, dict) for p in profiles):
        raise BadResponse("DocuSign's permission profiles have an unexpected shape.", error_code="UNEXPECTED_SHAPE")
    return profiles


def create_permission_profile(ref: AccountRef, name: str, settings: dict[str, str], *, bearer: str) -> dict[str, Any]:
    """Create a profile; never retried (a retry could create a second one with the same name)."""
    # Reference: https://developers.docusign.com/docs/esign-rest-api/reference/accounts/accountpermissionprofiles/create/
    body = {"permissionProfileName": name, "settings": settings}
    created = http.json_or_raise(rest_call(ref, "POST", "/permission_profiles", bearer=bearer, json=body,
                                           idempotent=False))
    _profile_id(str(created.get("permissionProfileId", "")))
    return created


def update_permission_profile(ref: AccountRef, profile_id: str, name: str, settings: dict[str, str], *,
                              bearer: str) -> dict[str, Any]:
    """Set a profile's name and settings."""
    # Reference: https://developers.docusign.com/docs/esign-rest-api/reference/accounts/accountpermissionprofiles/update/
    body = {"permissionProfileName": name, "settings": settings}
    return http.json_or_raise(rest_call(ref, "PUT", f"/permission_profiles/{_profile_id(profile_id)}", bearer=bearer,
                                        json=body))


def find_user_by_email(ref: AccountRef, email: str, *, bearer: str) -> dict[str, Any] | None:
    """The account's user with this email (any status, closed included), or None."""
    # Reference: https://developers.docusign.com/docs/esign-rest-api/reference/users/users/list/
    users = http.json_or_raise(rest_call(ref, "GET", "/users", bearer=bearer, params={"email": email})).get("users") or []
    if not isinstance(users, list):
        raise BadResponse("DocuSign's user list has an unexpected shape.", error_code="UNEXPECTED_SHAPE")
    matching = [_user(u) for u in users if isinstance(u, dict) and str(u.get("email", "")).lower() == email.lower()]
    return matching[0] if matching else None


def create_user(ref: AccountRef, *, user_name: str, email: str, profile_id: str, bearer: str) -> dict[str, Any]:
    """Add one user (newUsers) with the given profile; never retried: the caller finds it by email instead."""
    # Reference: https://developers.docusign.com/docs/esign-rest-api/reference/users/users/create/
    body = {"newUsers": [{"userName": user_name, "email": email, "permissionProfileId": _profile_id(profile_id)}]}
    answer = http.json_or_raise(rest_call(ref, "POST", "/users", bearer=bearer, json=body, idempotent=False))
    summaries = answer.get("newUsers")
    if not isinstance(summaries, list) or len(summaries) != 1 or not isinstance(summaries[0], dict):
        raise BadResponse("DocuSign's newUsers answer has an unexpected shape.", error_code="UNEXPECTED_SHAPE")
    details = summaries[0].get("errorDetails")
    if isinstance(details, dict):  # DocuSign reports per user inside a 201
        raise DocuSignError(str(details.get("message") or "DocuSign refused the new user."),
                            error_code=str(details.get("errorCode") or "NEW_USER_REFUSED"))
    return _user(summaries[0])


def update_user(ref: AccountRef, user_id: str, changes: dict[str, str], *, bearer: str) -> dict[str, Any]:
    """Change a user's permission profile, name or userStatus (Active reopens a closed user)."""
    # Reference: https://developers.docusign.com/docs/esign-rest-api/reference/users/users/update/
    path = f"/users/{require_guid(user_id, 'user id')}"
    return http.json_or_raise(rest_call(ref, "PUT", path, bearer=bearer, json=changes))


def close_user(ref: AccountRef, user_id: str, *, bearer: str) -> None:
    """Close one user of the account (`DELETE /users` with userInfoList)."""
    # Reference: https://developers.docusign.com/docs/esign-rest-api/reference/users/users/delete/
    body = {"users": [{"userId": require_guid(user_id, "user id")}]}
    http.json_or_raise(rest_call(ref, "DELETE", "/users", bearer=bearer, json=body))
