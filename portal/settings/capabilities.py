"""Settings of the DocuSign capabilities: Connect to DocuSign, Setup DocuSign account, the Connect listener,
envelopes (docs/docusign.md). Read after portal/settings/base.py, whose names they extend."""

from portal.settings.base import *  # noqa: F403
from portal.settings.base import _secret, env  # noqa: F401  (the helpers the sections below use)

# --- Connect to DocuSign (social-auth) and the refresh of its tokens ------------------------------
# The "docusign" backend links a DocuSign identity to the signed-in portal user; it never signs anyone in.
AUTHENTICATION_BACKENDS = [*AUTHENTICATION_BACKENDS, "docusign_integration.oauth.social_backend.DocuSignOAuth2"]
SOCIAL_AUTH_PIPELINE = (
    "social_core.pipeline.social_auth.social_details",
    "social_core.pipeline.social_auth.social_uid",
    "social_core.pipeline.social_auth.auth_allowed",
    "docusign_integration.oauth.pipeline.require_connecting_admin",
    "social_core.pipeline.social_auth.social_user",
    "social_core.pipeline.social_auth.associate_user",
    "social_core.pipeline.social_auth.load_extra_data",  # the backend's extra_data never includes a token
    "docusign_integration.oauth.pipeline.store_credential",
    "docusign_integration.oauth.pipeline.finish_on_account_step",
)
# Celery autodiscovers each capability's tasks module (portal/celery.py); CELERY_IMPORTS names them once more, harmlessly.
CELERY_IMPORTS: tuple[str, ...] = ("docusign_integration.oauth.tasks",)
CELERY_BEAT_SCHEDULE["tenants-refresh-readiness"] = {
    "task": "tenants.tasks.refresh_readiness",
    "schedule": 300,  # Ready follows a first envelope or a setup within minutes; one query finds who changed
}
CELERY_BEAT_SCHEDULE["docusign-refresh-expiring-credentials"] = {
    "task": "docusign_integration.tasks_credentials.refresh_expiring_credentials",
    "schedule": 6 * 3600,  # refresh tokens expiring within 10 days: four chances a day, well before day 30
}

# --- Setup DocuSign account (docusign_integration.setup.account_setup) ---------------------------------
# The first SetupProfile row is made from this; ISV staff edit the profile in the admin afterwards.
# Values are DocuSign's string forms (docs/docusign.md §6): "true", not True.
DOCUSIGN_SETUP_PROFILE = {
    "connect_name": env.str("DOCUSIGN_CONNECT_NAME", default="Partner portal"),
    "connect_configuration": {
        "configurationType": "custom",  # account-level
        "deliveryMode": "SIM",
        "eventData": {"version": "restv2.1", "format": "json", "includeData": ["recipients"]},
        "events": ["envelope-sent", "envelope-delivered", "envelope-completed", "envelope-declined", "envelope-voided",
                   "recipient-sent", "recipient-delivered", "recipient-completed", "recipient-declined"],
        "allUsers": "true",
        "allowEnvelopePublish": "true",  # DocuSign's default is "false": nothing would be published
        "includeHMAC": "true",
        "integratorManaged": "true",  # signed with the ISV's partner HMAC keys; clients manage no keys (docs/docusign.md §7.4)
        "requiresAcknowledgement": "true",  # failed deliveries are queued and retried (docs/docusign.md §7.5)
        "enableLog": "true",
        "includeDocuments": "false",  # documents are downloaded separately; keeps the listener's body cap small
    },
    "account_settings": {"attachCompletedEnvelope": "true", "enableResponsiveSigning": "true"},
}
CELERY_IMPORTS = (*CELERY_IMPORTS, "docusign_integration.setup.tasks")
CELERY_BEAT_SCHEDULE["docusign-setup-drift-check"] = {
    "task": "docusign_integration.tasks_setup.account_setup_check_all",
    "schedule": 24 * 3600,  # daily: drift comes from people editing the account in DocuSign's console
}

# --- Connect listener (docusign_integration.connect.listener, tasks_connect) -----------------------
DOCUSIGN_CONNECT_MAX_BODY = env.int("DOCUSIGN_CONNECT_MAX_BODY", default=1_048_576)  # SIM without documents
# How long a web process remembers an account's HMAC keys; a retired key stops working within this.
DOCUSIGN_CONNECT_KEY_CACHE_SECONDS = env.float("DOCUSIGN_CONNECT_KEY_CACHE_SECONDS", default=10.0)
CELERY_IMPORTS = (*CELERY_IMPORTS, "docusign_integration.connect.tasks")
CELERY_BEAT_SCHEDULE["docusign-sweep-isv-accounts"] = {
    "task": "docusign_integration.tasks_hosting.sweep_isv_accounts",
    "schedule": 15 * 60,  # one listing of the ISV account for all hosted clients (docs/docusign.md §10.1)
}
CELERY_BEAT_SCHEDULE["docusign-isv-setup-drift-check"] = {
    "task": "docusign_integration.tasks_hosting.isv_account_setup_check",
    "schedule": 24 * 3600,  # as the client accounts' daily drift check, for the ISV account's own setup
}
CELERY_BEAT_SCHEDULE["docusign-sweep-connect-events"] = {
    "task": "docusign_integration.tasks_connect.sweep_connect_events",
    "schedule": 60,  # messages stored while the broker was down get processed within about two minutes
}
CELERY_BEAT_SCHEDULE["docusign-republish-connect-failures"] = {
    "task": "docusign_integration.tasks_connect.republish_failures_all",
    "schedule": 3600,  # DocuSign itself retries only daily (docs/docusign.md §7.5)
}

# --- Envelopes: polling fallback and signed documents (docusign_integration.envelopes.tasks) ----------
DOCUSIGN_DOCUMENT_MAX_BYTES = env.int("DOCUSIGN_DOCUMENT_MAX_BYTES", default=200 * 1_048_576)  # DocuSign's envelope limit
DOCUSIGN_UPLOAD_MAX_BYTES = env.int("DOCUSIGN_UPLOAD_MAX_BYTES", default=25 * 1_048_576)  # DocuSign's per-document limit
DOCUSIGN_SENDER_VIEW_STARTING_SCREEN = env.str("DOCUSIGN_SENDER_VIEW_STARTING_SCREEN", default="Tagger")  # or "Prepare"
# A download holds its document this long; as long as a task may run, so only a dead worker's lease runs out.
DOCUSIGN_DOWNLOAD_LEASE_SECONDS = env.int("DOCUSIGN_DOWNLOAD_LEASE_SECONDS", default=CELERY_TASK_TIME_LIMIT)
CELERY_IMPORTS = (*CELERY_IMPORTS, "docusign_integration.envelopes.tasks")
CELERY_BEAT_SCHEDULE["docusign-sync-envelopes"] = {
    "task": "docusign_integration.tasks_envelopes.sync_all_organizations",
    # DocuSign advises polling every 20 minutes; a sweep lists changes per account, never one envelope (docs/docusign.md §9).
    "schedule": 20 * 60,
}
CELERY_BEAT_SCHEDULE["docusign-download-missing-documents"] = {
    "task": "docusign_integration.tasks_envelopes.download_missing_documents",
    "schedule": 3600,  # repairs downloads whose completion hook was lost (e.g. the broker was down at that moment)
}
