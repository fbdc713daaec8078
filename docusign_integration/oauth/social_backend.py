"""social-core backend "docusign": "Connect to DocuSign" with the Authorization Code grant and PKCE (docs/docusign.md §4).

social-core drives the flow (start, callback, pipeline); the DocuSign- and portal-specific parts are overridden:

- The account server is the organization's environment's, computed at call time (the sandbox's origin differs
  per test run and deployment), never a class constant.
- `state` is the portal's own single-use OAuthState (flow "authorization_code"), bound to the session, the portal user,
  the organization and the environment; it also keeps the PKCE verifier server-side, encrypted. social-core's
  session-held state is not used, so the one redirect URI can be routed by `state.peek_flow`.
- `redirect_uri` is always settings.DOCUSIGN_REDIRECT_URI, the one URI registered on the integration key.
- The token exchange and userinfo go through `docusign_integration.oauth.account_server` (the HTTP choke point: timeouts,
  rate limits, error classes, logging rules). The client secret is added there and never passes through here.
- Tokens never reach `UserSocialAuth.extra_data`; the pipeline moves them into `DocuSignCredential`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from social_core.backends.oauth import BaseOAuth2PKCE
from social_core.exceptions import AuthConfigurationError
from social_core.storage import UserProtocol
from social_django.strategy import DjangoStrategy

from docusign_integration.client import conf
from docusign_integration.oauth import account_server as oauth
from docusign_integration.oauth import state
from docusign_integration.oauth.account_server import TokenResponse, UserInfo

# The OAuthState flow of "Connect to DocuSign" (the Authorization Code grant). States stored as "connect" before the
# rename (at most 10 minutes old at a deploy) are answered "start again", like any expired state.
AUTHORIZATION_CODE_FLOW = state.OAuthFlow.AUTHORIZATION_CODE
# Exactly these (docs/security.md OA-8): eSignature calls, and refresh tokens whose lifetime slides.
AUTHORIZATION_CODE_SCOPES = ("signature", "extended")
# Fields of the token response that must never be copied into extra_data.
TOKEN_FIELDS = ("access_token", "refresh_token", "id_token", "code", "code_verifier")


class DocuSignOAuth2(BaseOAuth2PKCE):
    """The client admin's own DocuSign connection, linked to the signed-in portal user and one organization."""

    name = "docusign"
    ID_KEY = "sub"
    PKCE_DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    DEFAULT_USE_PKCE = True
    REDIRECT_STATE = False  # the redirect URI is a server constant: nothing is appended to it
    STATE_PARAMETER = True
    USE_BASIC_AUTH = True  # DocuSign's confidential client: Basic auth, added by oauth.exchange_code
    EXTRA_DATA: list = []

    # Set by the start view (authorization_code.authorization_code_start) before `start()`.
    organization: Any = None
    # Set at the callback by validate_state, then by the token exchange and userinfo; read by the pipeline.
    state_record: Any = None
    token_response: TokenResponse | None = None
    userinfo: UserInfo | None = None
    _code_verifier: str | None = None

    def exchanged(self) -> tuple[TokenResponse, UserInfo]:
        """The callback's token answer and userinfo; the pipeline's steps run only after both were read."""
        if self.token_response is None or self.userinfo is None:
            raise RuntimeError("The DocuSign pipeline ran before the token exchange.")
        return self.token_response, self.userinfo

    @property
    def http_request(self) -> HttpRequest:
        """The portal's request. (Not `request`: that is social-core's HTTP client method, which must stay itself.)"""
        strategy = self.strategy
        if not isinstance(strategy, DjangoStrategy) or strategy.request is None:
            raise RuntimeError("The DocuSign backend runs only inside a request.")
        return strategy.request

    def environment_name(self) -> str:
        """The environment this flow runs in: the state record's at the callback, the organization's at the start."""
        if self.state_record is not None:
            return self.state_record.environment
        if self.organization is not None:
            return self.organization.environment
        raise AuthConfigurationError(self, "No organization for this DocuSign connection", code="invalid_setting")

    def authorization_url(self) -> str:
        return conf.get_environment(self.environment_name()).oauth_base_url + "/oauth/auth"

    def access_token_url(self) -> str:
        return conf.get_environment(self.environment_name()).oauth_base_url + "/oauth/token"

    def get_redirect_uri(self, state: str | None = None) -> str:
        return settings.DOCUSIGN_REDIRECT_URI

    def get_scope(self) -> list[str]:
        # Not configurable on purpose: the scope is part of the security contract (docs/security.md OA-8).
        return list(AUTHORIZATION_CODE_SCOPES)

    def get_key_and_secret(self) -> tuple[str, str]:
        # Only the public client_id is needed here; the secret is added at the choke point (oauth.exchange_code).
        return conf.integration_key(), ""

    # --- state and PKCE: the portal's OAuthState instead of social-core's session transaction -----------------

    def get_or_create_state(self) -> str:
        self._code_verifier = state.new_code_verifier()
        return state.issue_state(
            self.http_request,
            flow=AUTHORIZATION_CODE_FLOW,
            environment=self.environment_name(),
            organization_id=self.organization.pk,
            code_verifier=self._code_verifier,
        )

    def create_code_verifier(self, state: str | None = None) -> str:
        # Issued with the state just before (get_or_create_state) and stored, encrypted, in its record only.
        if not self._code_verifier:
            raise AuthConfigurationError(self, "PKCE verifier requested before the state", code="invalid_setting")
        return self._code_verifier

    def validate_state(self) -> str:
        """Consume the state before anything else happens (raises state.StateRejected; no token request is made)."""
        request_state = self.get_request_state() or ""
        self.state_record = state.consume_state(self.http_request, request_state, flow=AUTHORIZATION_CODE_FLOW)
        return request_state

    def get_code_verifier(self, state: str | None = None) -> str:
        return self.state_record.code_verifier

    # --- DocuSign calls through the choke point ----------------------------------------------------------------

    def request_access_token(self, url: str, method: str = "POST", headers: Mapping[str, str | bytes] | None = None,
                             data: dict | None = None, json: dict | None = None, auth: object = None,
                             params: dict | None = None, *, stage: str = "token_exchange") -> dict[str, Any]:
        """Exchange the code with oauth.exchange_code (Basic auth + code_verifier) instead of social-core's HTTP."""
        data = data or {}
        self.token_response = oauth.exchange_code(
            self.environment_name(), data.get("code", ""),
            code_verifier=data["code_verifier"], redirect_uri=self.get_redirect_uri(),
        )
        tokens = self.token_response
        return {
            "access_token": tokens.access_token, "refresh_token": tokens.refresh_token,
            "expires_in": tokens.expires_in, "scope": tokens.scope, "token_type": "Bearer",
        }

    def user_data(self, access_token: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Userinfo (docs/docusign.md §5): `sub` is the uid; accounts stay on `self.userinfo` for the pipeline."""
        self.userinfo = oauth.userinfo(self.environment_name(), access_token)
        return {"sub": self.userinfo.sub, "name": self.userinfo.name, "email": self.userinfo.email}

    def get_user_details(self, response: dict[str, Any]) -> dict[str, Any]:
        email = response.get("email") or ""
        return {"username": email, "email": email, "fullname": response.get("name") or ""}

    def extra_data(self, user: UserProtocol | None, uid: str, response: dict[str, Any], details: dict[str, Any],
                   pipeline_kwargs: dict[str, Any]) -> dict[str, Any]:
        """What social-auth stores on UserSocialAuth: never a token (they live encrypted in DocuSignCredential)."""
        data = super().extra_data(user, uid, response, details, pipeline_kwargs)
        for field in TOKEN_FIELDS:
            data.pop(field, None)
        return data
