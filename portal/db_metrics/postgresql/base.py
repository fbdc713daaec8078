"""PostgreSQL counting statements and errors under django-prometheus's series, once per connection (portal/db_metrics)."""

from typing import Any

from django.db.backends.postgresql import base
from django_prometheus.db.common import DatabaseWrapperMixin  # type: ignore[import-untyped]

from portal.db_metrics import counting_cursor


class DatabaseWrapper(DatabaseWrapperMixin, base.DatabaseWrapper):
    def get_connection_params(self) -> dict[str, Any]:
        params = super().get_connection_params()
        params["cursor_factory"] = counting_cursor(params["cursor_factory"], self.alias, self.vendor)
        return params

    def create_cursor(self, name: Any = None) -> Any:
        # psycopg makes counting cursors from cursor_factory; the mixin's create_cursor is for SQLite's API.
        return base.DatabaseWrapper.create_cursor(self, name=name)
