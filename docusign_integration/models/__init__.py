"""The integration's models, one submodule per concept; each is imported here so Django finds it."""

from docusign_integration.client.models import AccountRateLimit
from docusign_integration.connect.models import ConnectEvent, ConnectHMACKey
from docusign_integration.envelopes.models.documents import SignedDocument
from docusign_integration.envelopes.models.envelopes import EmbeddedSigner, Envelope, SignerIdentityKind
from docusign_integration.envelopes.models.sync import AccountSyncState
from docusign_integration.oauth.models.credentials import DocuSignCredential
from docusign_integration.oauth.models.state import OAuthState
from docusign_integration.oauth.models.tokens import CachedAccessToken
from docusign_integration.setup.models import AccountSetupState, SetupProfile

__all__ = [
    "AccountRateLimit", "AccountSetupState", "AccountSyncState", "CachedAccessToken", "ConnectEvent", "ConnectHMACKey",
    "DocuSignCredential", "EmbeddedSigner", "Envelope", "OAuthState", "SetupProfile", "SignedDocument", "SignerIdentityKind",
]
