"""Values as staff read them on admin pages: lists joined, mappings as "key: value", booleans as Yes/No, never reprs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def readable(value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, str) and value.lower() in ("true", "false"):  # DocuSign's string booleans
        return "Yes" if value.lower() == "true" else "No"
    if isinstance(value, Mapping):
        return "; ".join(f"{key}: {readable(item)}" for key, item in value.items()) or "(none)"
    if isinstance(value, list | tuple | set):
        return ", ".join(readable(item) for item in value) or "(none)"
    return "" if value is None else str(value)


def readable_rows(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(name, readable value) rows for a table."""
    return [(name, readable(value)) for name, value in values.items()]
