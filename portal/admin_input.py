"""Admin input checked before it reaches the database: changelist lookups and the rows an action is posted for.

Django's admin hands some values of a hand-made URL or POST to the database as they come: a `date_hierarchy` year
beyond `datetime`'s range raises OverflowError; an id beyond the column's integer range (`?id__in=`, `?organization=`)
raises OverflowError on SQLite (PostgreSQL compares it as a numeric); an action's `_selected_action` that is no id
raises ValueError. Each was a 500. Here a bad lookup gets what the admin answers any other bad lookup (the changelist
again with `?e=1`), and an action posted for rows that cannot exist does nothing and says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import ListFilter, helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import NotRelationField, get_fields_from_path
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest, HttpResponse

# Lookups whose values are compared with the column as they are (not booleans, not text patterns).
VALUE_LOOKUPS = {"exact", "in", "gt", "gte", "lt", "lte"}


def valid_pks(model: type[models.Model], values: Iterable[str]) -> list:
    """The values that are possible primary keys of `model` (right type, within the column's range), converted."""
    pk = model._meta.pk
    valid = []
    for value in values:
        try:
            converted = pk.to_python(value)
            pk.run_validators(converted)  # an IntegerField's validators are the database's integer range
        except ValidationError:
            continue
        if isinstance(converted, str) and "\x00" in converted:
            continue  # a text key never holds NUL, and PostgreSQL refuses one in any query (a 500 otherwise)
        valid.append(converted)
    return valid


def _integer_target(model: type[models.Model], key: str) -> models.IntegerField | None:
    """The integer column a changelist lookup such as `organization__in` compares with, if it compares values."""
    parts = key.split(LOOKUP_SEP)
    path = parts[:-1] if parts[-1] in VALUE_LOOKUPS else parts  # no lookup named: "exact"
    if not path:
        return None
    try:
        field = get_fields_from_path(model, LOOKUP_SEP.join(path))[-1]
    except (FieldDoesNotExist, NotRelationField):
        return None  # Django's own checks refuse it (or a list filter consumed it)
    if isinstance(field, models.ForeignKey):  # OneToOneField too: the lookup compares with the target's column
        field = field.target_field
    return field if isinstance(field, models.IntegerField) else None


def _values(lookup_value: object) -> Iterator[object]:
    """The single values of a prepared lookup: a list of the query string's values, an `__in` one a list again."""
    if isinstance(lookup_value, list):
        for value in lookup_value:
            yield from _values(value)
    else:
        yield lookup_value


class CheckedChangeList(ChangeList):
    def get_filters(self, request: HttpRequest) -> tuple[list[ListFilter], bool, dict[str, bool | str], bool, bool]:
        try:
            filters = super().get_filters(request)
        except OverflowError as exc:  # a date_hierarchy year, month or day beyond datetime's range
            raise IncorrectLookupParameters(exc) from exc
        remaining = filters[2]  # the query string's lookups that no list filter consumed
        for key, values in remaining.items():
            field = _integer_target(self.model, key)
            if field is None:
                continue
            for item in _values(values):
                try:
                    field.run_validators(field.to_python(item))
                except ValidationError as exc:
                    raise IncorrectLookupParameters(exc) from exc
        return filters


class CheckedInputMixin(admin.ModelAdmin):
    """For every ModelAdmin of the portal (and, re-registered in background/admin.py, the ones Django and social-auth add).

    A ModelAdmin itself so that its `super()` calls are checked; placed first among the bases, it runs before the
    class it is mixed into (`guard`).
    """

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return CheckedChangeList

    def response_action(self, request: HttpRequest, queryset: models.QuerySet) -> HttpResponse | None:
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        if len(valid_pks(self.model, selected)) != len(selected):
            self.message_user(request, "The selection holds ids that are no rows of this list; nothing was done.",
                              messages.WARNING)
            return None  # the admin then shows the changelist again, as for an empty selection
        return super().response_action(request, queryset)


def guard(model_admin_class: type[admin.ModelAdmin]) -> type[admin.ModelAdmin]:
    """`model_admin_class` with its changelist lookups and action selections checked (for admins of other apps)."""
    return type(model_admin_class.__name__, (CheckedInputMixin, model_admin_class), {"__module__": __name__})


def guard_every_registered_admin(site: admin.AdminSite) -> None:
    """Give every ModelAdmin on `site` the input checks, whichever app registered it (Django's auth, social-auth,
    axes, django-otp ...): a third-party admin added later is covered without anyone remembering to list it."""
    for model, model_admin in list(site._registry.items()):
        if not isinstance(model_admin, CheckedInputMixin):
            site.unregister(model)
            site.register(model, guard(type(model_admin)))
