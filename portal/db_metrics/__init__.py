"""Database backends that count queries as django-prometheus's do, for less of each query's time.

django-prometheus's cursor (django_prometheus/db/common.py) looks up its labelled series and builds two context
managers on every `execute`, and on SQLite builds a new cursor class for every cursor. The Connect listener makes a
few queries per delivery, and with metrics on that cost the listener about a tenth of its CPU (bench/webhooks.py,
issue 19's target: within 5%). These backends keep django-prometheus's metrics (the same series, names and labels,
and its connection counting) and resolve each connection's series once. Installed by portal/settings/services.py
when metrics are on.
"""

from __future__ import annotations

import time
from typing import Any

from django_prometheus.db import errors_total, execute_many_total, execute_total, query_duration_seconds  # type: ignore[import-untyped]


def counting_cursor(cursor_class: type, alias: str, vendor: str) -> type:
    """A subclass of `cursor_class` counting each statement, its duration and its errors by exception type."""
    executed = execute_total.labels(alias, vendor)
    executed_many = execute_many_total.labels(alias, vendor)
    duration = query_duration_seconds.labels(alias, vendor)

    class CountingCursor(cursor_class):  # a class chosen at run time: the driver's cursor
        def execute(self, *args: Any, **kwargs: Any) -> Any:
            executed.inc()
            started = time.perf_counter()
            try:
                return super().execute(*args, **kwargs)
            except Exception as error:
                errors_total.labels(alias, vendor, type(error).__name__).inc()
                raise
            finally:
                duration.observe(time.perf_counter() - started)

        def executemany(self, query: Any, param_list: Any, *args: Any, **kwargs: Any) -> Any:
            param_list = list(param_list)  # counted before it runs, as django-prometheus does
            executed.inc(len(param_list))
            executed_many.inc(len(param_list))
            started = time.perf_counter()
            try:
                return super().executemany(query, param_list, *args, **kwargs)
            except Exception as error:
                errors_total.labels(alias, vendor, type(error).__name__).inc()
                raise
            finally:
                duration.observe(time.perf_counter() - started)

    return CountingCursor
