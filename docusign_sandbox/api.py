"""Conventions shared by every eSignature REST endpoint of the sandbox.

DocuSign's rules (docs/docusign.md §6, §9, §11): JSON in camelCase, every scalar a string, errors as
`{"errorCode", "message"}` with 400 (401 for a bad or expired token), and the account in the path must be
one the token's user belongs to.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from . import role_settings, sites
from .auth import bearer_token
from .callers import record_caller
from .models import AccessToken, Account, Membership, User

INVALID_TOKEN_MESSAGE = "The access token provided is expired, revoked or malformed."


class ApiError(Exception):
    def __init__(self, error_code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.error_code, self.message, self.status = error_code, message, status


def error_response(error_code: str, message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"errorCode": error_code, "message": message}, status=status)


def json_response(data: Any, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, json_dumps_params={"separators": (",", ":")})


def read_json(request: HttpRequest) -> dict:
    """The request's JSON object body, or DocuSign's INVALID_REQUEST_BODY."""
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError("INVALID_REQUEST_BODY", "The request body is missing or improperly formatted.") from exc
    if not isinstance(body, dict):
        raise ApiError("INVALID_REQUEST_BODY", "The request body is missing or improperly formatted.")
    return body


@dataclass
class Caller:
    token: AccessToken
    user: User
    account: Account
    membership: Membership
    # The member's permission profile's AccountRoleSettings (role_settings.ENFORCED are acted on).
    settings: dict[str, str] = field(default_factory=dict)

    def may(self, setting: str) -> bool:
        return role_settings.allows(self.settings, setting)


def rest_endpoint(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Authenticate the bearer token and the `account_id` path part; map ApiError to DocuSign's body.

    The view is called as `view(request, caller, **kwargs)` with `account_id` removed from kwargs.
    """

    @csrf_exempt
    @functools.wraps(view)
    def wrapper(request: HttpRequest, account_id: str, **kwargs: Any) -> HttpResponse:
        token = bearer_token(request)
        if token is None:
            return error_response("AUTHORIZATION_INVALID_TOKEN", INVALID_TOKEN_MESSAGE, 401)
        account = Account.objects.filter(Q(account_id__iexact=account_id) | Q(account_number=account_id)).first()
        membership = (Membership.objects.filter(user=token.user, account=account).first()
                      if account is not None else None)
        if account is None or membership is None or membership.user_status == "Closed":
            return error_response("USER_DOES_NOT_BELONG_TO_SPECIFIED_ACCOUNT",
                                  "The specified User is not a member of the specified Account.")
        if not sites.served_here(request, account):
            return error_response(*sites.WRONG_SITE, status=401)
        record_caller(request, account_id=account.account_id, user_id=token.user.user_id)
        caller = Caller(token, token.user, account, membership, role_settings.settings_of(membership))
        if not caller.may(role_settings.API_ACCESS):
            return error_response(*LACKS_PERMISSIONS)
        try:
            return view(request, caller, **kwargs)
        except ApiError as exc:
            return error_response(exc.error_code, exc.message, exc.status)

    return wrapper


LACKS_PERMISSIONS = ("USER_LACKS_PERMISSIONS", "This user lacks sufficient permissions to access this resource.")


def require_admin(caller: Caller) -> None:
    """An account administrator: the membership's isAdmin, or a profile with allowAccountManagement."""
    if not (caller.membership.is_admin or caller.may(role_settings.MANAGEMENT)):
        raise ApiError(*LACKS_PERMISSIONS)
