"""The app's admin entry (a package, like models/): Django's autodiscovery imports it; each capability registers its own."""

from docusign_integration.connect import admin as connect_admin  # noqa: F401
from docusign_integration.envelopes import admin as envelopes_admin  # noqa: F401
from docusign_integration.oauth import admin as oauth_admin  # noqa: F401
from docusign_integration.setup import admin as setup_admin  # noqa: F401
