"""The person a page acts for: Django's own auth `User` (the project keeps the default AUTH_USER_MODEL)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

__all__ = ["AuthenticatedRequest", "User", "signed_in_user"]


class AuthenticatedRequest(HttpRequest):
    """The request a view behind `login_required` receives: its `user` is signed in (for the type checker only)."""

    user: User


def signed_in_user(request: HttpRequest) -> User:
    """`request.user`, signed in; PermissionDenied for an anonymous visitor (a view that forgot its login check)."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


def acting_user(request: HttpRequest) -> User | None:
    """`request.user` when signed in, else None: what a service records as the actor of a change."""
    user = request.user
    return user if isinstance(user, User) else None
