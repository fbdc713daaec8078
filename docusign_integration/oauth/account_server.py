"""DocuSign's account server: the token endpoint's three grants and userinfo (docs/docusign.md §2, §4, §5).

Every request goes through `http.call`; every answer is validated before anything is stored (docs/security.md BI-1)
and every `base_uri` is checked against the environment's allowlist before a token could be sent there (docs/security.md BI-2).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.views.decorators.debug import sensitive_variables

from docusign_integration.client import conf, http
from docusign_integration.client.errors import BadResponse, NotAMember
from docusign_integration.client.ids import is_guid, require_guid
from docusign_integration.oauth.jwt_assertion import DEFAULT_SCOPES, build_assertion

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
MAX_EXPIRES_IN = 86400  # DocuSign issues 1 h (JWT) or 8 h (code grant) tokens; a day is already generous.
TOKEN_MAX_BYTES = 65536  # a token answer is a few hundred bytes (docs/security.md BI-1: cap at about 64 KB)
USERINFO_MAX_BYTES = 262144  # room for users with many accounts


@dataclass(frozen=True)
class TokenResponse:
    """A validated token endpoint answer. The tokens are left out of repr() so they never reach a log."""

    access_token: str = field(repr=False)
    expires_in: int
    token_type: str = "Bearer"
    refresh_token: str | None = field(default=None, repr=False)
    scope: str | None = None

    @classmethod
    def from_json(cls, body: dict) -> TokenResponse:
        """Validate DocuSign's token JSON; BadResponse (never a partial result) when any field is wrong."""
        access_token = body.get("access_token")
        if not isinstance(access_token, str) or not access_token.strip():
            raise BadResponse("DocuSign's token answer has no access token.", error_code="UNEXPECTED_SHAPE")
        token_type = body.get("token_type")
        if not isinstance(token_type, str) or token_type.lower() != "bearer":
            raise BadResponse("DocuSign's token answer is not a Bearer token.", error_code="UNEXPECTED_SHAPE")
        refresh_token = body.get("refresh_token")
        if refresh_token is not None and (not isinstance(refresh_token, str) or not refresh_token.strip()):
            raise BadResponse("DocuSign's token answer has a malformed refresh token.", error_code="UNEXPECTED_SHAPE")
        scope = body.get("scope")
        return cls(access_token=access_token, expires_in=_expires_in(body.get("expires_in")), token_type="Bearer",
                   refresh_token=refresh_token, scope=scope if isinstance(scope, str) else None)


def _expires_in(value: object) -> int:
    """A positive number of seconds, at most MAX_EXPIRES_IN; anything that is not a positive integer is refused."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BadResponse("DocuSign's token answer has an invalid expires_in.", error_code="UNEXPECTED_SHAPE")
    return min(value, MAX_EXPIRES_IN)


@dataclass(frozen=True)
class UserAccount:
    """One account from userinfo; `base_uri` is the normalised origin the environment's allowlist accepted."""

    account_id: str
    account_name: str
    base_uri: str
    is_default: bool
    organization_id: str | None = None


@dataclass(frozen=True)
class UserInfo:
    """The user behind an access token and the accounts they belong to."""

    sub: str
    name: str
    email: str
    accounts: list[UserAccount]

    def choose_account(self, account_id: str | None = None) -> UserAccount:
        """The account `account_id` (which the user must belong to), or the user's default account."""
        if account_id is not None:
            require_guid(account_id, "account_id")
            for account in self.accounts:
                if account.account_id.lower() == account_id.lower():
                    return account
            raise NotAMember("The DocuSign user does not belong to the chosen account: choose one of their accounts "
                             "or check the account id.", error_code="USER_DOES_NOT_BELONG_TO_SPECIFIED_ACCOUNT")
        for account in self.accounts:
            if account.is_default:
                return account
        if len(self.accounts) == 1:
            return self.accounts[0]
        raise NotAMember("The DocuSign user has no default account: choose one of their accounts.",
                         error_code="NO_DEFAULT_ACCOUNT")

    @classmethod
    def from_json(cls, body: dict, environment: conf.Environment) -> UserInfo:
        """Parse userinfo (snake_case, docs/docusign.md §5); UntrustedHost for any base_uri off the allowlist."""
        sub = body.get("sub")
        if not is_guid(sub):
            raise BadResponse("DocuSign's userinfo has no valid user id.", error_code="UNEXPECTED_SHAPE")
        raw_accounts = body.get("accounts")
        if not isinstance(raw_accounts, list):
            raise BadResponse("DocuSign's userinfo has no account list.", error_code="UNEXPECTED_SHAPE")
        accounts = [_account(item, environment) for item in raw_accounts]
        return cls(sub=sub, name=_str(body.get("name")), email=_str(body.get("email")), accounts=accounts)


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _account(item: object, environment: conf.Environment) -> UserAccount:
    if not isinstance(item, dict) or not is_guid(item.get("account_id")):
        raise BadResponse("DocuSign's userinfo lists an account without a valid account id.", error_code="UNEXPECTED_SHAPE")
    base_uri = environment.allowed_base_uri(item.get("base_uri"))  # UntrustedHost before anything else is read
    is_default = item.get("is_default")
    if isinstance(is_default, str):  # the SDK models it as a string; DocuSign sends a JSON boolean
        is_default = is_default.lower() == "true"
    organization = item.get("organization")
    organization_id = organization.get("organization_id") if isinstance(organization, dict) else None
    return UserAccount(
        account_id=item["account_id"],
        account_name=_str(item.get("account_name")),
        base_uri=base_uri,
        is_default=is_default is True,
        organization_id=organization_id if is_guid(organization_id) else None,
    )


def _token_url(environment: conf.Environment) -> str:
    return environment.oauth_base_url + "/oauth/token"


@sensitive_variables("data", "basic")
def _token_request(environment_name: str, data: dict, *, basic: tuple[str, str] | None, idempotent: bool) -> TokenResponse:
    environment = conf.get_environment(environment_name)
    response = http.call("POST", _token_url(environment), environment=environment_name, data=data, basic=basic,
                         idempotent=idempotent, max_bytes=TOKEN_MAX_BYTES)
    return TokenResponse.from_json(http.json_or_raise(response))


@sensitive_variables("assertion")
def jwt_grant(environment: str, user_id: str, scopes: str = DEFAULT_SCOPES) -> TokenResponse:
    """An access token impersonating `user_id` through the JWT Grant (no refresh token).

    Reference: https://developers.docusign.com/platform/auth/jwt-get-token/
    """
    require_guid(user_id, "DocuSign user id")
    env = conf.get_environment(environment)
    assertion = build_assertion(integration_key=conf.integration_key(), user_id=user_id, audience=env.oauth_host,
                                private_key_pem=conf.private_key_pem(), scopes=scopes)
    # Retrying is safe: a second assertion just yields another token, nothing is consumed.
    return _token_request(environment, {"grant_type": JWT_BEARER, "assertion": assertion}, basic=None, idempotent=True)


@sensitive_variables("code", "code_verifier", "data")
def exchange_code(environment: str, code: str, *, code_verifier: str | None, redirect_uri: str) -> TokenResponse:
    """Exchange an authorization code (confidential client: Basic auth with the integration key and secret).

    Reference: https://developers.docusign.com/platform/auth/reference/obtain-access-token/
    """
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if code_verifier:
        data["code_verifier"] = code_verifier
    # Never retried: a code is single-use, so a resent request after a lost answer can only fail.
    return _token_request(environment, data, basic=(conf.integration_key(), conf.client_secret()), idempotent=False)


@sensitive_variables("refresh_token", "data")
def refresh(environment: str, refresh_token: str) -> TokenResponse:
    """A new access token and a new refresh token (store both: the old refresh token may now be dead).

    Reference: https://www.docusign.com/blog/developers/authorization-code-grant-refresh-tokens
    """
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return _token_request(environment, data, basic=(conf.integration_key(), conf.client_secret()), idempotent=False)


@sensitive_variables("access_token")
def userinfo(environment: str, access_token: str) -> UserInfo:
    """The user and accounts behind `access_token`; every account's base_uri is allowlist-checked.

    Reference: https://developers.docusign.com/platform/auth/reference/user-info/
    """
    env = conf.get_environment(environment)
    response = http.call("GET", env.oauth_base_url + "/oauth/userinfo", environment=environment, bearer=access_token,
                         max_bytes=USERINFO_MAX_BYTES)
    return UserInfo.from_json(http.json_or_raise(response), env)
