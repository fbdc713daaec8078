"""SQLite counting statements and errors under django-prometheus's series, one cursor class per connection (portal/db_metrics)."""

from typing import Any

from django.db.backends.sqlite3 import base
from django.utils.functional import cached_property
from django_prometheus.db.common import DatabaseWrapperMixin  # type: ignore[import-untyped]

from portal.db_metrics import counting_cursor


class DatabaseWrapper(DatabaseWrapperMixin, base.DatabaseWrapper):
    @cached_property
    def _counting_cursor(self) -> type:
        return counting_cursor(base.SQLiteCursorWrapper, self.alias, self.vendor)

    def create_cursor(self, name: Any = None) -> Any:
        return self.connection.cursor(factory=self._counting_cursor)
