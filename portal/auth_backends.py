"""Sign-in names are email addresses, and email addresses are case-insensitive to people (and to DocuSign).

Portal users made from invitations have the lower-cased email as their username; someone typing `Ana@Acme.example`
is still Ana. Listed before Django's ModelBackend (settings.AUTHENTICATION_BACKENDS), which still decides an exact
match, so a login stored in the session by either backend keeps working.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User
from django.http import HttpRequest


class CaseInsensitiveModelBackend(ModelBackend):
    def authenticate(self, request: HttpRequest | None, username: str | None = None, password: str | None = None,
                     **kwargs: Any) -> User | None:
        if not username or password is None:
            return None
        model = User
        matches = list(model._default_manager.filter(**{f"{model.USERNAME_FIELD}__iexact": username})[:2])
        if len(matches) != 1 or matches[0].get_username() == username:
            return None  # no one, an exact match or two users differing in case: ModelBackend decides (and hashes)
        user = matches[0]
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
