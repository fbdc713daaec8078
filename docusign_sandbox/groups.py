"""Groups of an account's users: create, list, and members (add, list).

Reference: https://developers.docusign.com/docs/esign-rest-api/reference/usergroups/groups/
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods

from . import refusals, role_settings, router
from .api import ApiError, Caller, json_response, read_json, require_admin, rest_endpoint
from .models import Group, Membership, new_guid
from .serializers import user_json

GROUP_FIELDS = frozenset({"groupName", "groupType", "groupId"})
BODY_ERROR = "The request body is missing or improperly formatted."


def group_json(group: Group, users_count: int) -> dict[str, Any]:
    return {"groupId": group.group_id, "groupName": group.name, "groupType": group.group_type,
            "usersCount": str(users_count)}


def _listed(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = body.get(key)
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ApiError("INVALID_REQUEST_BODY", f"{BODY_ERROR} '{key}' must be a list.")
    return items


@rest_endpoint
@require_http_methods(["GET", "POST"])
def groups(request: HttpRequest, caller: Caller) -> HttpResponse:
    """GET /groups; POST /groups with groupInformation {groups: [{groupName}]} -> 201 groupInformation."""
    if request.method == "GET":
        found = Group.objects.filter(account=caller.account).annotate(n=Count("members")).order_by("pk")
        listed = [group_json(g, g.n) for g in found]
        return json_response({"groups": listed, "resultSetSize": str(len(listed)),
                              "totalSetSize": str(len(listed)), "startPosition": "0",
                              "endPosition": str(len(listed) - 1)})
    require_admin(caller)
    items = _listed(read_json(request), "groups")
    for item in items:
        extra = sorted(k for k in item.keys() - GROUP_FIELDS if not refusals.is_off(item[k]))
        if extra:
            raise ApiError(refusals.UNMODELLED, f"The sandbox does not model the group's '{extra[0]}'.")
        if not str(item.get("groupName") or "").strip():
            raise ApiError("INVALID_REQUEST_PARAMETER", "The request contained at least one invalid parameter. "
                           "'groupName' must be specified.")
    created = []
    with transaction.atomic(using=router.database()):
        for item in items:
            # DocuSign's group ids are numbers; the row's own key makes one no concurrent request can also take.
            group = Group.objects.create(account=caller.account, group_id=new_guid()[:20],
                                         name=str(item["groupName"]).strip()[:100])
            group.group_id = str(30_000_000 + group.pk)
            group.save(update_fields=["group_id"])
            created.append(group)
    return json_response({"groups": [group_json(g, 0) for g in created]}, status=201)


@rest_endpoint
@require_http_methods(["GET", "PUT"])
def group_users(request: HttpRequest, caller: Caller, group_id: str) -> HttpResponse:
    """GET /groups/{groupId}/users; PUT with userInfoList {users: [{userId}]} adds members of the account."""
    group = Group.objects.filter(account=caller.account, group_id=group_id).first()
    if group is None:
        raise ApiError("INVALID_GROUP_ID", "The group id is invalid.")  # UNVERIFIED code
    if request.method == "PUT":
        require_admin(caller)
        ids = {str(u.get("userId") or "").lower() for u in _listed(read_json(request), "users")}
        adding = list(Membership.objects.filter(account=caller.account, user__user_id__in=ids).select_related("user"))
        if len(adding) != len(ids):
            raise ApiError("USER_DOES_NOT_EXIST_IN_SYSTEM", "The specified user does not exist in the system.")
        group.members.add(*[m.user for m in adding])
    members = list(Membership.objects.filter(account=caller.account, user__sandbox_groups=group)
                   .select_related("user").order_by("user__email"))
    ids_by_name = {p.name: p.profile_id for p in role_settings.ensure_default_profiles(caller.account)}
    return json_response({"users": [user_json(m, ids_by_name.get(m.permission_profile, "")) for m in members],
                          "resultSetSize": str(len(members)), "totalSetSize": str(len(members)),
                          "startPosition": "0", "endPosition": str(len(members) - 1)})
