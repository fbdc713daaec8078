"""One exception family for everything DocuSign answers (the one HTTP choke point, README.md "Architecture").

`http.call` maps each response to one of these; callers branch on the class (retry, defer, ask for consent,
give up) and show `user_message`, a sentence a person can act on. No message ever carries a token, an
authorization code, an assertion or a response body: `description` holds only DocuSign's short error text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


class DocuSignError(Exception):
    """A DocuSign call failed. `retryable` says whether the same request may succeed later unchanged."""

    default_message = "DocuSign refused the request."
    default_retryable = False

    def __init__(self, user_message: str | None = None, *, status: int | None = None, error_code: str = "",
                 description: str = "", retryable: bool | None = None) -> None:
        self.user_message = user_message or self.default_message
        self.status = status
        self.error_code = error_code
        self.description = description[:300]
        self.retryable = self.default_retryable if retryable is None else retryable
        super().__init__(self.user_message)

    def __str__(self) -> str:
        detail = ", ".join(part for part in (f"HTTP {self.status}" if self.status else "", self.error_code) if part)
        return f"{self.user_message} ({detail})" if detail else self.user_message


class ConsentRequired(DocuSignError):
    default_message = ("The DocuSign user has not granted consent to this application for the requested scopes: "
                       "ask them (or their organization administrator) to grant consent.")


class InvalidGrant(DocuSignError):
    """`invalid_grant` (and other OAuth refusals) from the token endpoint; `error_code` is DocuSign's description."""

    default_message = "DocuSign refused the token request."

    # docs/docusign.md §2.3: `error_description` is the field to branch on.
    MESSAGES = {
        "no_valid_keys_or_signatures": "The configured RSA key is not registered on the integration key, "
                                       "or belongs to the other environment.",
        "issuer_not_found": "The integration key is not known in this DocuSign environment "
                            "(or the JWT audience does not match the account server).",
        "user_not_found": "The DocuSign user id is not an active user in this environment: "
                          "check the system user's GUID.",
        "invalid_subject": "The DocuSign user id is not an active user in this environment: "
                           "check the system user's GUID.",
        "expired_grant": "The JWT assertion had already expired when DocuSign received it: check the server clock.",
        "unsupported_grant_type": "DocuSign does not accept this grant type for the integration key.",
        "invalid_client": "DocuSign did not accept the integration key and secret: check DOCUSIGN_CLIENT_SECRET.",
        "invalid_request": "DocuSign rejected the token request as malformed.",
    }
    GRANT_MESSAGE = ("The authorization code or refresh token is invalid, expired or already used: "
                     "connect to DocuSign again.")

    @classmethod
    def from_oauth(cls, error: str, description: str, status: int | None) -> InvalidGrant:
        code = description if description in cls.MESSAGES else error
        message = cls.MESSAGES.get(code) or (cls.GRANT_MESSAGE if error == "invalid_grant" else None)
        return cls(message, status=status, error_code=code, description=description)


class Unauthorized(DocuSignError):
    default_message = "DocuSign did not accept the access token (expired, revoked or malformed)."


class RateLimited(DocuSignError):
    """An hourly or burst limit was hit; no call should be made before `reset_at`."""

    default_message = "DocuSign's API rate limit for this account was reached; the call will be retried later."
    default_retryable = True

    def __init__(self, user_message: str | None = None, *, reset_at: datetime, **kwargs: Any) -> None:
        self.reset_at = reset_at
        super().__init__(user_message, **kwargs)


class NotFound(DocuSignError):
    default_message = "DocuSign has no such object, or this user has no rights to it."


class PermissionDenied(DocuSignError):
    default_message = ("The DocuSign user or account lacks the permission for this action: "
                       "check the user's permission profile in DocuSign.")


class NotAMember(DocuSignError):
    default_message = "The DocuSign user does not belong to the specified account."


class TransientError(DocuSignError):
    """5xx answers, timeouts and connection failures: the same request may succeed later."""

    default_message = "DocuSign is unavailable or did not answer in time; try again shortly."
    default_retryable = True


class BadResponse(DocuSignError):
    """An answer that is not what DocuSign sends: HTML, garbage, truncated, oversized or the wrong shape."""

    default_message = "DocuSign sent an answer the portal could not understand."


class UntrustedHost(DocuSignError):
    default_message = ("DocuSign named an API host that is not on this environment's allowlist; "
                       "the portal will not send a token there.")


class InvalidIdentifier(DocuSignError):
    default_message = "An identifier is not in the format DocuSign uses."
