"""The integration's models, one submodule per concept; each is imported here so Django finds it."""

from .limits import AccountRateLimit
from .state import OAuthState
from .tokens import CachedAccessToken

__all__ = ["AccountRateLimit", "CachedAccessToken", "OAuthState"]
