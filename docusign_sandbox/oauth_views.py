"""The account server's API: `POST /oauth/token` (three grants) and `GET /oauth/userinfo` (docs/docusign.md §2, §4, §5).

Token errors are HTTP 400 `{"error", "error_description"}` (docs/docusign.md §1, §2.3). Refresh tokens and codes are stored
as SHA-256 hashes only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from . import clock, router, sites
from .auth import CODE_GRANT_TOKEN_LIFETIME, JWT_TOKEN_LIFETIME, bearer_token, hash_token, issue_access_token, new_token
from .consent import scope_set
from .jwt_grant import GRANT_TYPE as JWT_GRANT_TYPE
from .jwt_grant import JwtGrantError, check_assertion
from .models import AuthorizationCode, IntegrationKey, Membership, RefreshToken, User

REFRESH_TOKEN_LIFETIME = timedelta(days=30)  # docs/docusign.md §4


class TokenError(Exception):
    def __init__(self, error: str, description: str | None = None) -> None:
        super().__init__(description or error)
        self.error, self.description = error, description


def _token_json(data: dict[str, Any], status: int = 200) -> JsonResponse:
    response = JsonResponse(data, status=status)
    # RFC 6749 §5.1: token responses must never be cached.
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


def _error_json(error: str, description: str | None) -> JsonResponse:
    body = {"error": error} if description is None else {"error": error, "error_description": description}
    return _token_json(body, status=400)


@csrf_exempt
@require_POST
def token(request: HttpRequest) -> JsonResponse:
    """`POST /oauth/token`: form-encoded only; JWT bearer, authorization_code or refresh_token."""
    if request.content_type != "application/x-www-form-urlencoded":
        return _error_json("invalid_request", "The request body must be application/x-www-form-urlencoded.")
    grant_type = request.POST.get("grant_type", "")
    try:
        if grant_type == JWT_GRANT_TYPE:
            return _jwt_bearer(request)
        if grant_type == "authorization_code":
            return _authorization_code(request)
        if grant_type == "refresh_token":
            return _refresh_token(request)
    except (JwtGrantError, TokenError) as exc:
        return _error_json(exc.error, exc.description)
    # Reported as invalid_grant/unsupported_grant_type (docs/docusign.md §2.3, UNVERIFIED community reports).
    return _error_json("invalid_grant", "unsupported_grant_type")


def _jwt_bearer(request: HttpRequest) -> JsonResponse:
    grant = check_assertion(request.POST.get("assertion", ""), request.get_host())
    access_token = issue_access_token(grant.user, grant.integration_key, grant.scopes, "jwt", JWT_TOKEN_LIFETIME)
    # No refresh_token for the JWT grant (docs/docusign.md §2.2).
    return _token_json({"access_token": access_token, "token_type": "Bearer", "expires_in": JWT_TOKEN_LIFETIME})


def _client(request: HttpRequest) -> tuple[IntegrationKey, bool]:
    """The authenticated client and whether it is confidential (Basic) rather than public (client_id only)."""
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, _, secret = base64.b64decode(credentials.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise TokenError("invalid_client", "The Authorization header is malformed.") from exc
        integration_key = IntegrationKey.objects.filter(client_id__iexact=client_id).first()
        offered = hashlib.sha256(secret.encode()).hexdigest()
        if (integration_key is None or not integration_key.secret_hash
                or not hmac.compare_digest(offered, integration_key.secret_hash)):
            raise TokenError("invalid_client", "The client id or secret is incorrect.")
        body_client_id = request.POST.get("client_id")
        if body_client_id and body_client_id.lower() != integration_key.client_id.lower():
            raise TokenError("invalid_client", "client_id does not match the Authorization header.")
        return integration_key, True
    if header:
        raise TokenError("invalid_client", "Only Basic client authentication is supported.")
    integration_key = IntegrationKey.objects.filter(client_id__iexact=request.POST.get("client_id", "")).first()
    if integration_key is None:
        raise TokenError("invalid_client", "The client id is unknown.")
    return integration_key, False


def _pkce_matches(verifier: str, challenge: str) -> bool:
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return hmac.compare_digest(expected, challenge)


def _authorization_code(request: HttpRequest) -> JsonResponse:
    integration_key, confidential = _client(request)
    verifier = request.POST.get("code_verifier", "")
    with transaction.atomic(using=router.database()):
        code = (AuthorizationCode.objects.select_for_update().select_related("user")
                .filter(code_hash=hash_token(request.POST.get("code", "")), integration_key=integration_key).first())
        if code is None or code.used or code.expires_at <= clock.now():
            raise TokenError("invalid_grant", "The authorization code is invalid, expired or already used.")
        # Used even when the exchange below fails: a code gets one attempt.
        AuthorizationCode.objects.filter(pk=code.pk).update(used=True)
    redirect_uri = request.POST.get("redirect_uri")
    if redirect_uri is not None and redirect_uri != code.redirect_uri:
        raise TokenError("invalid_grant", "redirect_uri does not match the authorization request.")
    if code.code_challenge:
        if not verifier or not _pkce_matches(verifier, code.code_challenge):
            raise TokenError("invalid_grant", "The code_verifier does not match the code_challenge.")
    elif verifier:
        # A verifier without a challenge is a PKCE downgrade attempt (RFC 9700 §2.1.1).
        raise TokenError("invalid_grant", "A code_verifier was sent but the authorization request had no code_challenge.")
    elif not confidential:
        raise TokenError("invalid_request", "A public client must use PKCE.")
    refresh_expires = clock.now() + REFRESH_TOKEN_LIFETIME
    return _code_grant_tokens(code.user, integration_key, code.scopes, "authorization_code", refresh_expires)


def _refresh_token(request: HttpRequest) -> JsonResponse:
    integration_key, confidential = _client(request)
    if not confidential and integration_key.secret_hash:
        # RFC 6749 §6: a client that has a secret must authenticate with it to refresh.
        raise TokenError("invalid_client", "This integration key has a secret: authenticate with it to refresh.")
    with transaction.atomic(using=router.database()):
        refresh = (RefreshToken.objects.select_for_update().select_related("user")
                   .filter(token_hash=hash_token(request.POST.get("refresh_token", "")),
                           integration_key=integration_key).first())
        if refresh is None or refresh.revoked or refresh.expires_at <= clock.now() or not refresh.user.is_active:
            raise TokenError("invalid_grant", "The refresh token is invalid, expired or revoked.")
        # Whether DocuSign invalidates a used refresh token is UNVERIFIED (docs/docusign.md §4); the sandbox takes the
        # strict choice and revokes it, so a client that keeps an old one finds out here, not in production.
        RefreshToken.objects.filter(pk=refresh.pk).update(revoked=True)
        # With `extended` the new token gets a full lifetime; without, it keeps the original expiry (docs/docusign.md §4).
        extended = "extended" in scope_set(refresh.scopes)
        expires = clock.now() + REFRESH_TOKEN_LIFETIME if extended else refresh.expires_at
        return _code_grant_tokens(refresh.user, integration_key, refresh.scopes, "refresh_token", expires)


def _code_grant_tokens(user: User, integration_key: IntegrationKey, scopes: str, source: str,
                       refresh_expires: datetime) -> JsonResponse:
    access_token = issue_access_token(user, integration_key, scopes, source, CODE_GRANT_TOKEN_LIFETIME)
    refresh_token = new_token("sbx.rt.")
    RefreshToken.objects.create(token_hash=hash_token(refresh_token), integration_key=integration_key, user=user,
                                scopes=scopes, expires_at=refresh_expires)
    return _token_json({"access_token": access_token, "token_type": "Bearer", "refresh_token": refresh_token,
                        "expires_in": CODE_GRANT_TOKEN_LIFETIME, "scope": scopes})


@require_GET
def userinfo(request: HttpRequest) -> JsonResponse:
    """`GET /oauth/userinfo`: the user and their accounts, snake_case, `base_uri` without /restapi (docs/docusign.md §5).

    Each account's `base_uri` is its own site (sites.base_uri), whatever Host this request was addressed to.
    """
    access_token = bearer_token(request)
    if access_token is None:
        response = JsonResponse({"error": "invalid_token", "error_description": "The access token is invalid or expired."},
                                status=401)
        response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return response
    user = access_token.user
    origin = f"{request.scheme}://{request.get_host()}"  # the account server's own links only, never a base_uri
    given_name, _, family_name = user.name.partition(" ")
    # A user closed in an account (DELETE /users) no longer has it.
    memberships = (Membership.objects.filter(user=user).exclude(user_status="Closed")
                   .select_related("account__organization")
                   .order_by("-is_default", "account__name"))
    accounts = []
    for membership in memberships:
        account = membership.account
        entry: dict[str, Any] = {"account_id": account.account_id, "is_default": membership.is_default,
                                 "account_name": account.name, "base_uri": sites.base_uri(account)}
        if account.organization is not None:
            organization_id = account.organization.organization_id
            entry["organization"] = {"organization_id": organization_id,
                                     "links": [{"rel": "self", "href": f"{origin}/organizations/{organization_id}"}]}
        accounts.append(entry)
    return JsonResponse({
        "sub": user.user_id, "name": user.name, "given_name": given_name, "family_name": family_name,
        # DocuSign writes `created` without a zone, to the hundredth of a second ("2015-08-13T22:03:03.45").
        "created": user.created.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-4], "email": user.email, "accounts": accounts,
    })
