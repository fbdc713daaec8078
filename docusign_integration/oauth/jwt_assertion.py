"""The JWT Grant's assertion (docs/docusign.md §2.1; docs/security.md OA-9): a pure function, no ORM.

Reference: https://developers.docusign.com/platform/auth/jwt-get-token/
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import jwt
from django.views.decorators.debug import sensitive_variables

DEFAULT_SCOPES = "signature impersonation"
MAX_LIFETIME = 3600  # DocuSign caps tokens at one hour whatever `exp` says (docs/docusign.md §2.1).


@sensitive_variables("private_key_pem")
def build_assertion(*, integration_key: str, user_id: str, audience: str, private_key_pem: str,
                    scopes: str = DEFAULT_SCOPES, now: datetime | None = None, lifetime: int = MAX_LIFETIME) -> str:
    """An RS256 assertion for impersonating `user_id`, with fresh iat/exp/jti.

    `audience` is the account server's host exactly (`account-d.docusign.com`), no scheme and no slash:
    anything else makes DocuSign answer `no_valid_keys_or_signatures` or `issuer_not_found`.
    """
    if not audience or "/" in audience or any(c.isspace() for c in audience):
        raise ValueError("The JWT audience must be the account server's host, without a scheme or path.")
    if not 0 < lifetime <= MAX_LIFETIME:
        raise ValueError(f"The assertion lifetime must be 1..{MAX_LIFETIME} seconds.")
    issued_at = int((now or datetime.now(UTC)).timestamp())
    claims = {
        "iss": integration_key,
        "sub": user_id,
        "aud": audience,
        "iat": issued_at,
        "exp": issued_at + lifetime,
        "jti": str(uuid.uuid4()),
        "scope": scopes,
    }
    return jwt.encode(claims, private_key_pem, algorithm="RS256", headers={"typ": "JWT"})
