"""The DocuSign integration: one Django app (label docusign_integration), one subpackage per capability."""

# The capabilities (README "Architecture"). Celery's autodiscovery looks for a `tasks` module in each
# (portal/celery.py): a capability's tasks live beside it, and a new capability is named here once.
CAPABILITIES = ("client", "keys", "oauth", "consent", "connect", "setup", "envelopes", "hosting")
