"""The integration's models, one submodule per concept; each is imported here so Django finds it."""

from .credentials import DocuSignCredential
from .documents import SignedDocument
from .envelopes import ConnectEvent, EmbeddedSigner, Envelope, SignerIdentityKind
from .hmac import ConnectHMACKey
from .limits import AccountRateLimit
from .setup import AccountSetupState, SetupProfile
from .state import OAuthState
from .sync import AccountSyncState
from .tokens import CachedAccessToken

__all__ = [
    "AccountRateLimit", "AccountSetupState", "AccountSyncState", "CachedAccessToken", "ConnectEvent", "ConnectHMACKey",
    "DocuSignCredential", "EmbeddedSigner", "Envelope", "OAuthState", "SetupProfile", "SignedDocument", "SignerIdentityKind",
]
