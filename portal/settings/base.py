"""Settings for the partner portal, read from the environment with django-environ: the project and its security.

Every value has an embedded default that runs the whole product on one machine (SQLite, an embedded
Celery broker, the project's own DocuSign sandbox). A production deployment sets `DEBUG=False` and the
values `.env.example` documents; misconfiguration is reported by the system checks in `portal/checks.py`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import environ

BASE_DIR = Path(__file__).resolve().parents[2]
VAR_DIR = Path(os.environ.get("PORTAL_VAR_DIR") or BASE_DIR / "var")  # SQLite files, broker, keys of `make run`

env = environ.Env()
# A local `.env` (written by `make run` on first start) is read when present; real environment
# variables always win over it.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def _secret(name: str, default: str = "") -> str:
    """A secret from `NAME`, or from the file named by `NAME_FILE` (for Docker/Kubernetes secrets)."""
    path = env.str(f"{name}_FILE", default="")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError:
            return ""  # Reported by the system checks, which say which file could not be read.
    return env.str(name, default=default)


DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = _secret("SECRET_KEY", default="django-insecure-development-only-key")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "portal.apps.PortalAdminConfig",  # django.contrib.admin with the portal's site (two-factor for staff)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "social_django",
    "portal",
    "background",
    "tenants",
    "docusign_integration",
    "pages",  # the pages over tenants and docusign_integration (staff admin, onboarding, dashboard)
    "outbound_events",
    "docusign_sandbox",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc served from the portal's static files, no CDN
    "api",
]

MIDDLEWARE = [
    "portal.request_id.RequestIdMiddleware",  # first, so every line of the request has its id; reads no body
    "portal.request_size.RequestSizeLimitMiddleware",  # before anything reads request.POST or the body
    "django.middleware.security.SecurityMiddleware",
    "portal.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "portal.nul_bytes.RefuseNulBytesMiddleware",  # before any view queries with a path or query-string value
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_otp.middleware.OTPMiddleware",  # after authentication: adds request.user.is_verified()
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires: turns a lockout into its page
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}")}
# The sandbox's own database (its users, client secret hash, RSA public keys, HMAC secrets, tokens): `make run` gives
# it a file of its own so that no sandbox secret sits in the portal's database (docusign_sandbox.router).
if env.str("SANDBOX_DATABASE_URL", default=""):
    DATABASES["sandbox"] = env.db("SANDBOX_DATABASE_URL")
DATABASE_ROUTERS = ["docusign_sandbox.router.SandboxRouter"]  # routes nothing unless the `sandbox` alias exists
DATABASES["default"].setdefault("ATOMIC_REQUESTS", False)
for _database in DATABASES.values():
    if _database["ENGINE"] == "django.db.backends.sqlite3":
        # Several processes (web, sandbox, worker, beat) share each file in `make run`. WAL: readers never block the
        # writer nor it them. IMMEDIATE: a transaction takes the write lock when it begins, so it waits (timeout, in
        # seconds) instead of failing with "database is locked" when it upgrades a read lock it already holds.
        _database.setdefault("OPTIONS", {}).update({
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        })
    else:
        _database.setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
        _database["CONN_HEALTH_CHECKS"] = True
# The same database, one more connection, used only for DocuSign's rate-limit state (AccountRateLimit), in
# autocommit: a DocuSign call inside a caller's transaction then holds no row lock until that transaction ends,
# and a rollback cannot undo a block (docusign_integration/client/rate_limits.py). Tests share the default's database.
DATABASES["docusign_rate_limits"] = {**DATABASES["default"], "ATOMIC_REQUESTS": False, "AUTOCOMMIT": True,
                                     "OPTIONS": dict(DATABASES["default"].get("OPTIONS", {})),
                                     "TEST": {"MIRROR": "default"}}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite has one writer: never wait long behind a caller that holds the write lock (the write is then skipped).
    DATABASES["docusign_rate_limits"]["OPTIONS"]["timeout"] = 5
else:
    # Nor behind a caller that wrote the same row on its own connection: two connections of one thread waiting
    # on each other are a deadlock PostgreSQL cannot see.
    options = DATABASES["docusign_rate_limits"]["OPTIONS"]
    options["options"] = f"{options.get('options', '')} -c lock_timeout=1000".strip()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if env.str("CACHE_URL", default=""):
    CACHES = {"default": env.cache("CACHE_URL")}
elif REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "staticfiles")
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
MEDIA_URL = "/media-not-served/"  # Signed documents are served only through scoped views.

# The name staff see in the admin's header and title (the ISV's own brand).
PORTAL_BRAND_NAME = env.str("PORTAL_BRAND_NAME", default="DocuSign partner portal")
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/onboarding/"

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="portal@localhost")
ADMINS = [("Portal operators", a) for a in env.list("ADMINS", default=[])]

# --- Security -------------------------------------------------------------------------------------
# Production (DEBUG=False) is secure by default; each flag can still be set explicitly, for example
# behind a TLS-terminating proxy that sets X-Forwarded-Proto (SECURE_PROXY_SSL_HEADER below).
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"  # Lax, not Strict: DocuSign's redirect back is a top-level GET.
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    # Only behind a proxy that overwrites the header; a direct client could forge it otherwise.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Request bodies: 1 MB unless the view declares its own cap (portal.request_size: the Connect listener's, the envelope
# upload's), refused from Content-Length before anything reads them; the proxy holds the same (docs/operations.md).
REQUEST_MAX_BODY = env.int("REQUEST_MAX_BODY", default=1_048_576)
DATA_UPLOAD_MAX_MEMORY_SIZE = REQUEST_MAX_BODY  # form fields other than files, on routes with a larger cap too
FILE_UPLOAD_MAX_MEMORY_SIZE = REQUEST_MAX_BODY  # a larger file (the envelope upload's) goes to a temporary file

# --- Secrets at rest ------------------------------------------------------------------------------
# Base64url-encoded 32-byte AES-256-GCM keys; the first encrypts, all decrypt (rotation).
PORTAL_ENCRYPTION_KEYS = [k.strip() for k in _secret("PORTAL_ENCRYPTION_KEYS").split(",") if k.strip()]

# --- DocuSign -------------------------------------------------------------------------------------
DOCUSIGN_ENVIRONMENTS = env.list("DOCUSIGN_ENVIRONMENTS", default=["sandbox"])
# The project's own DocuSign sandbox (see docusign_sandbox/). Another host name than the portal's so
# the browser keeps the two sites' cookies apart.
DOCUSIGN_SANDBOX_URL = env.str("DOCUSIGN_SANDBOX_URL", default="http://localhost:8001")
# The sandbox's control API and console (/_sandbox/: sign envelopes, move its clock) exist only when this is on:
# `runsandbox --control` (make run) and the tests turn it on; any other sandbox answers 404 there.
DOCUSIGN_SANDBOX_CONTROL = env.bool("DOCUSIGN_SANDBOX_CONTROL", default=False)
DOCUSIGN_INTEGRATION_KEY = env.str(
    "DOCUSIGN_INTEGRATION_KEY",
    # The sandbox's seeded integration key: used only when the deployment serves `sandbox`.
    default="5c1f3d2e-6a1b-4c8e-9f7a-2d4b6e8a0c11",
)
DOCUSIGN_CLIENT_SECRET_FILE_DEFAULT = VAR_DIR / "sandbox" / "client_secret.txt"
DOCUSIGN_PRIVATE_KEY_FILE_DEFAULT = VAR_DIR / "sandbox" / "private_key.pem"
DOCUSIGN_CLIENT_SECRET = _secret("DOCUSIGN_CLIENT_SECRET")
DOCUSIGN_PRIVATE_KEY = _secret("DOCUSIGN_PRIVATE_KEY")
if not env.str("DOCUSIGN_CLIENT_SECRET", default="") and not env.str("DOCUSIGN_CLIENT_SECRET_FILE", default=""):
    # Embedded default: the file `manage.py sandbox_seed` writes. Read lazily (see docusign_integration.client.conf).
    DOCUSIGN_CLIENT_SECRET_FILE = str(DOCUSIGN_CLIENT_SECRET_FILE_DEFAULT)
else:
    DOCUSIGN_CLIENT_SECRET_FILE = env.str("DOCUSIGN_CLIENT_SECRET_FILE", default="")
if not env.str("DOCUSIGN_PRIVATE_KEY", default="") and not env.str("DOCUSIGN_PRIVATE_KEY_FILE", default=""):
    DOCUSIGN_PRIVATE_KEY_FILE = str(DOCUSIGN_PRIVATE_KEY_FILE_DEFAULT)
else:
    DOCUSIGN_PRIVATE_KEY_FILE = env.str("DOCUSIGN_PRIVATE_KEY_FILE", default="")
DOCUSIGN_REDIRECT_URI = env.str("DOCUSIGN_REDIRECT_URI", default="http://127.0.0.1:8000/docusign/callback/")
# (connect, read) seconds for every DocuSign call.
# Where http.call keeps rate-limit state; DOCUSIGN_RATE_LIMIT_RECORDING=false stops it writing any (tests that
# must see no other lock than their own switch it off).
DOCUSIGN_RATE_LIMIT_DATABASE = "docusign_rate_limits"
DOCUSIGN_RATE_LIMIT_RECORDING = env.bool("DOCUSIGN_RATE_LIMIT_RECORDING", default=True)
DOCUSIGN_HTTP_TIMEOUT = (env.float("DOCUSIGN_CONNECT_TIMEOUT", default=5.0), env.float("DOCUSIGN_READ_TIMEOUT", default=30.0))
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")

# --- Celery ---------------------------------------------------------------------------------------
# The embedded default: kombu's SQLAlchemy transport on a SQLite file of its own (README, "The embedded broker").
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=f"sqlite:///{VAR_DIR / 'broker.sqlite3'}")
if CELERY_BROKER_URL.startswith("sqlite://"):
    CELERY_BROKER_TRANSPORT = "portal.embedded_broker:EmbeddedBrokerTransport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {"connect_args": {"timeout": 20}}  # seconds a process waits for the file's lock
else:
    # Redis redelivers an unacknowledged task after this; every retry countdown stays below it.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]  # Never pickle: a broker message must not be able to run code.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 300
CELERY_TASK_TIME_LIMIT = 360
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Filled in below, one entry in the settings section of each feature that owns a periodic task.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- social-auth (Connect to DocuSign) ------------------------------------------------------------
# django-axes first: a locked-out sign-in is refused before any password is checked.
# Then sign-in names (email addresses) regardless of case (portal/auth_backends.py), then Django's exact match.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "portal.auth_backends.CaseInsensitiveModelBackend",
                           "django.contrib.auth.backends.ModelBackend"]

# --- Sign-in: throttling (django-axes) and two-factor for ISV staff (django-otp) ------------------------------
# The admin requires a verified TOTP device when this is on; staff enrol with `manage.py staff_totp EMAIL`.
PORTAL_STAFF_REQUIRE_OTP = env.bool("PORTAL_STAFF_REQUIRE_OTP", default=not DEBUG)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Partner portal")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # the device admin never shows a key after it was created
# Every sign-in form (the admin's, the client admins', the invitation's password check) counts failures per
# username and client address; the pair is locked for the cool-off after this many.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)  # a float: hours, as django-axes reads it
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "portal.sign_in.lockout_response"
# The client address: REMOTE_ADDR, or X-Forwarded-For as written by this many proxies in front of the portal
# (0: none, so a client's own X-Forwarded-For is never believed; docs/security.md DP-3).
PORTAL_TRUSTED_PROXY_COUNT = env.int("PORTAL_TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "portal.sign_in.client_ip"
AXES_USERNAME_CALLABLE = "portal.sign_in.throttled_username"

# --- Logging --------------------------------------------------------------------------------------
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    # On the loggers that name request URLs, so that every handler gets the record without codes, states or tokens.
    # On the handler too (every line it writes, whatever the logger) with the request id (portal.request_id).
    "filters": {"redact_secrets": {"()": "portal.log_redaction.RedactSecretsFilter"},
                "request_id": {"()": "portal.request_id.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        # One JSON object a line (python-json-logger), every value redacted: what log shippers parse as it is.
        "json": {"()": "portal.log_format.RedactedJsonFormatter"},
    },
    # PORTAL_LOG_FORMAT: "json" in production (DEBUG=False), "plain" in `make run`.
    "handlers": {"console": {"class": "logging.StreamHandler",
                             "formatter": env.str("PORTAL_LOG_FORMAT", default="plain" if DEBUG else "json"),
                             "filters": ["request_id", "redact_secrets"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # runserver's access log (make run): 4xx and 5xx only. Django's defaults do not propagate it to the root.
        "django.server": {"level": "WARNING", "handlers": ["console"], "propagate": False, "filters": ["redact_secrets"]},
        "django.request": {"filters": ["redact_secrets"]},
        "django.security.csrf": {"filters": ["redact_secrets"]},
    },
}
DEFAULT_EXCEPTION_REPORTER_FILTER = "background.errors.SecretScrubbingFilter"
