"""Settings of the services beside DocuSign: operations (probes, metrics, logs, traces), events to the ISV's
product, and the ISV's API. Read after portal/settings/capabilities.py, whose names they extend."""

from portal.settings.base import _secret, env  # noqa: F401  (the helpers the sections below use)
from portal.settings.capabilities import *  # noqa: F403

# --- Operations: health, metrics, traces (portal.health, portal.metrics, portal.tracing; docs/operations.md section 10) ------
# /metrics answers only `Authorization: Bearer <this>`; empty (the default): /metrics is 404 and django-prometheus's
# request and database instruments are not installed.
PORTAL_METRICS_TOKEN = _secret("PORTAL_METRICS_TOKEN")
if PORTAL_METRICS_TOKEN:
    MIDDLEWARE = ["django_prometheus.middleware.PrometheusBeforeMiddleware", *MIDDLEWARE[:-1],
                  "portal.request_metrics.RequestMetricsMiddleware", MIDDLEWARE[-1]]  # axes stays last
    for _database in DATABASES.values():  # the same backends, counting statements, errors and connections
        _database["ENGINE"] = _database["ENGINE"].replace("django.db.backends.", "portal.db_metrics.")
MIDDLEWARE.insert(1, "portal.metrics.ApiRequestsMiddleware")
# A Celery worker's own metrics port (portal.worker_metrics), for workers on machines without a web process; 0: off.
PORTAL_WORKER_METRICS_PORT = env.int("PORTAL_WORKER_METRICS_PORT", default=0)
PORTAL_WORKER_METRICS_ADDRESS = env.str("PORTAL_WORKER_METRICS_ADDRESS", default="127.0.0.1")
# The request id on a worker's plain lines too (make run); portal.request_id adds it to the worker's handlers.
CELERY_WORKER_LOG_FORMAT = "[%(asctime)s: %(levelname)s/%(processName)s] [%(request_id)s] %(message)s"
CELERY_WORKER_TASK_LOG_FORMAT = ("[%(asctime)s: %(levelname)s/%(processName)s] [%(request_id)s] "
                                 "%(task_name)s[%(task_id)s]: %(message)s")
# Probes come over plain HTTP from inside the network: no redirect to https for them.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
# OpenTelemetry traces of Django, requests and Celery, exported over OTLP to OTEL_EXPORTER_OTLP_ENDPOINT (read by the
# exporter itself). Off by default; needs the `tracing` extra (pip install '.[tracing]').
PORTAL_TRACING = env.bool("PORTAL_TRACING", default=False)

# --- Events to the ISV's product (outbound_events, issue 17) ---------------------------------------------
# Loopback endpoints (http or https) only where the deployment serves the sandbox alone: `make run` and the tests.
OUTBOUND_EVENTS_ALLOW_LOOPBACK = env.bool("OUTBOUND_EVENTS_ALLOW_LOOPBACK", default=DOCUSIGN_ENVIRONMENTS == ["sandbox"])
OUTBOUND_EVENTS_CONNECT_TIMEOUT = env.float("OUTBOUND_EVENTS_CONNECT_TIMEOUT", default=3.0)  # seconds
OUTBOUND_EVENTS_READ_TIMEOUT = env.float("OUTBOUND_EVENTS_READ_TIMEOUT", default=10.0)
# Retries: base * 2^(n-1) seconds, capped, with jitter, for the window after the event; then the delivery fails.
OUTBOUND_EVENTS_RETRY_BASE = env.float("OUTBOUND_EVENTS_RETRY_BASE", default=5.0)
OUTBOUND_EVENTS_RETRY_CAP = env.float("OUTBOUND_EVENTS_RETRY_CAP", default=3600.0)
OUTBOUND_EVENTS_RETRY_WINDOW = env.float("OUTBOUND_EVENTS_RETRY_WINDOW", default=3 * 86400.0)
OUTBOUND_EVENTS_DISABLE_AFTER = env.float("OUTBOUND_EVENTS_DISABLE_AFTER", default=5 * 86400.0)  # failing without a success
# A delivery's lease outlasts its POST (connect + read timeouts), so only a dead worker's lease runs out.
OUTBOUND_EVENTS_LEASE_SECONDS = env.float(
    "OUTBOUND_EVENTS_LEASE_SECONDS", default=OUTBOUND_EVENTS_CONNECT_TIMEOUT + OUTBOUND_EVENTS_READ_TIMEOUT + 20)
OUTBOUND_EVENTS_SWEEP_GRACE = env.float("OUTBOUND_EVENTS_SWEEP_GRACE", default=30.0)  # overdue this long: its message was lost
CELERY_IMPORTS = (*CELERY_IMPORTS, "outbound_events.tasks")
CELERY_BEAT_SCHEDULE["outbound-events-sweep"] = {"task": "outbound_events.tasks.sweep", "schedule": 30}

# --- The ISV's API (api/, issue 16) ---------------------------------------------------------------------
API_THROTTLE_RATE = env.str("API_THROTTLE_RATE", default="600/min")  # per API key, counted in the cache
CELERY_IMPORTS = (*CELERY_IMPORTS, "api.tasks")
CELERY_BEAT_SCHEDULE["api-purge-idempotency-keys"] = {"task": "api.tasks.purge_idempotency_keys", "schedule": 3600}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],  # each API view names OrganizationKeyAuthentication (api/base.py)
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser", "rest_framework.parsers.MultiPartParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.problems.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "DocuSign partner portal API",
    "DESCRIPTION": "Send and sign through your client organizations' DocuSign accounts (README: API quick start).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "api.schema.add_problem_responses"],
    "COMPONENT_SPLIT_REQUEST": True,
}
