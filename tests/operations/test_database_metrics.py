"""The database backends installed with metrics on (portal/db_metrics): every statement counted and, when it fails,
counted by exception type, under django-prometheus's own series, whichever database the suite runs on; no duration
histogram per statement (its cost, and why, in portal/db_metrics/__init__.py)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection
from django.db.utils import load_backend
from prometheus_client import REGISTRY

ALIAS = "metrics_probe"


@pytest.fixture
def counted_connection():
    settings_dict = {**connection.settings_dict,
                     "ENGINE": connection.settings_dict["ENGINE"].replace("django.db.backends.", "portal.db_metrics.")}
    probe = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, ALIAS)
    probe.ensure_connection()  # PostgreSQL's own statements on connecting are counted too: before the tests' baselines
    yield probe
    probe.close()


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _errors() -> float:
    return sum(sample.value for family in REGISTRY.collect() if family.name == "django_db_errors"
               for sample in family.samples if sample.name == "django_db_errors_total" and sample.labels["alias"] == ALIAS)


@pytest.mark.django_db
def test_statements_and_their_errors_are_counted_and_no_duration_histogram_is_kept(counted_connection):
    vendor = counted_connection.vendor
    labels = {"alias": ALIAS, "vendor": vendor}
    executed = _value("django_db_execute_total", **labels)
    failed = _errors()
    with counted_connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone()[0] == 1
        cursor.execute("SELECT 2")
    with pytest.raises(DatabaseError), counted_connection.cursor() as cursor:
        cursor.execute("SELECT * FROM no_table_by_this_name")
    assert _value("django_db_execute_total", **labels) - executed == 3
    assert _value("django_db_query_duration_seconds_count", **labels) == 0  # left out on purpose
    assert _errors() - failed == 1  # labelled by the driver's exception class (psycopg's UndefinedTable, sqlite3's ...)
    assert _value("django_db_new_connections_total", **labels) >= 1


@pytest.mark.django_db
def test_many_statements_at_once_count_each(counted_connection):
    labels = {"alias": ALIAS, "vendor": counted_connection.vendor}
    executed, many = _value("django_db_execute_total", **labels), _value("django_db_execute_many_total", **labels)
    with counted_connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE probe_rows (n integer)")
        cursor.executemany("INSERT INTO probe_rows (n) VALUES (%s)", (row for row in [(1,), (2,), (3,)]))
        cursor.execute("SELECT count(*) FROM probe_rows")
        assert cursor.fetchone()[0] == 3
    assert _value("django_db_execute_total", **labels) - executed == 5
    assert _value("django_db_execute_many_total", **labels) - many == 3
