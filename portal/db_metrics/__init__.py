"""Database backends counting statements and errors as django-prometheus's do, without a histogram per statement.

django-prometheus's cursor (django_prometheus/db/common.py) records a counter and a duration histogram for every
statement, looking up both series and building two context managers each time. On the Connect listener, which
DocuSign retries when it is slow, metrics then cost about a tenth of a delivery's CPU and 6-9% of its rate
(bench/webhooks.py; issue 19's target: within 5%). These backends keep django-prometheus's series for connections,
statements (`django_db_execute_total`, `django_db_execute_many_total`) and errors by exception type, resolved once per
connection, and leave out `django_db_query_duration_seconds`: a query's latency is PostgreSQL's to report per
statement (pg_stat_statements, or its exporter), and what users feel of it is in the request latency histograms.
Installed by portal/settings/services.py when metrics are on.
"""

from __future__ import annotations

from typing import Any

from django_prometheus.db import errors_total, execute_many_total, execute_total  # type: ignore[import-untyped]


def counting_cursor(cursor_class: type, alias: str, vendor: str) -> type:
    """A subclass of `cursor_class` counting each statement and, when it fails, its error by exception type."""
    executed = execute_total.labels(alias, vendor)
    executed_many = execute_many_total.labels(alias, vendor)

    class CountingCursor(cursor_class):  # a class chosen at run time: the driver's cursor
        def execute(self, *args: Any, **kwargs: Any) -> Any:
            executed.inc()
            try:
                return super().execute(*args, **kwargs)
            except Exception as error:
                errors_total.labels(alias, vendor, type(error).__name__).inc()
                raise

        def executemany(self, query: Any, param_list: Any, *args: Any, **kwargs: Any) -> Any:
            param_list = list(param_list)  # counted before it runs, as django-prometheus does
            executed.inc(len(param_list))
            executed_many.inc(len(param_list))
            try:
                return super().executemany(query, param_list, *args, **kwargs)
            except Exception as error:
                errors_total.labels(alias, vendor, type(error).__name__).inc()
                raise

    return CountingCursor
