"""Events to the ISV's product: signed webhooks (Standard Webhooks), retried, in order per envelope, never lost.

Layering (for the import-linter contract): `outbound_events.outbox` (the `record` call that the state-changing code
in `tenants` and `docusign_integration` makes inside its own transaction) and `outbound_events.models` import only
Django, so they sit *below* both callers and never import `docusign_integration`. The rest of the app (delivery,
tasks, admin, commands) sits beside `docusign_integration` and must not import it either, with one exception:
`outbound_events.secrets` reuses `docusign_integration.keys.encryption` (a leaf module: Django and `cryptography` only)
so endpoint secrets share the one AES-GCM implementation and its key rotation.
"""
