"""Settings for bench/webhooks.py: the portal's own, plus a URLconf that adds a bare view to compare against."""

import os

from portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.webhooks_urls"
# The broker's folders live in the benchmark's temporary directory; no worker consumes them (processing is not measured).
if CELERY_BROKER_URL.startswith("filesystem://"):  # noqa: F405
    _broker = os.environ["BENCH_BROKER_DIR"]
    CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": _broker, "data_folder_out": _broker, "store_processed": False,
                                       "control_folder": _broker}  # else kombu makes ./control in the checkout
LOGGING["root"]["level"] = "WARNING"  # noqa: F405 - one log line per delivery would measure the terminal
LOGGING["loggers"]["kombu"] = {"level": "ERROR"}  # noqa: F405 - the filesystem transport warns about a missing host
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405 - django_prometheus's wrapper too (metrics on)
    # Writers take the lock when their transaction starts: a read lock upgraded later fails at once with "locked".
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"  # noqa: F405
    DATABASES["default"]["CONN_MAX_AGE"] = 60  # noqa: F405 - as on PostgreSQL: no new connection per request
