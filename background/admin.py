"""Admin for dead letters: staff look, then retry or mark resolved; nothing here edits a row by hand.

Rows are written by `background.task_failures` only. The actions need the change permission on failed tasks (ISV
staff granted it) and call one service per row, which writes the audit event.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from background import dead_letters
from background.models import FailedTask
from portal.admin_input import CheckedInputMixin
from portal.badges import BADGE_MEDIA, badge
from tenants.users import signed_in_user


@admin.register(FailedTask)
class FailedTaskAdmin(CheckedInputMixin, admin.ModelAdmin):
    list_display = ("task_name", "arguments", "exception_name", "message", "failure_count", "retries",
                    "last_failed_at", "status_badge")
    list_filter = ("resolved", "task_name")
    # resolved_by is shown on every row: one join instead of a query per row (the tests count the queries).
    list_select_related = ("resolved_by",)
    search_fields = ("task_name", "task_id", "exception_class", "error_code")
    date_hierarchy = "last_failed_at"
    actions = ["retry", "mark_resolved"]
    fields = ("task_name", "task_id", "args", "kwargs", "exception_class", "error_code", "message", "retries",
              "failure_count", "first_failed_at", "last_failed_at", "alerted_at", "resolved", "resolution",
              "resolved_at", "resolved_by")
    readonly_fields = fields

    class Media:
        css = BADGE_MEDIA

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: FailedTask | None = None) -> bool:
        return False  # a dead letter is resolved, never deleted: it is the record of what failed

    def has_change_permission(self, request: HttpRequest, obj: FailedTask | None = None) -> bool:
        # The change permission allows the actions on the changelist; a single row is only ever viewed.
        return obj is None and super().has_change_permission(request)

    @admin.display(description="Arguments")
    def arguments(self, obj: FailedTask) -> str:
        values = [*map(str, obj.args), *(f"{name}={value}" for name, value in obj.kwargs.items())]
        return ", ".join(values)

    @admin.display(description="Exception", ordering="exception_class")
    def exception_name(self, obj: FailedTask) -> str:
        name = obj.exception_class.rsplit(".", 1)[-1]
        return f"{name} ({obj.error_code})" if obj.error_code else name

    @admin.display(description="Status", ordering="resolved")
    def status_badge(self, obj: FailedTask) -> str:
        if not obj.resolved:
            return badge("Open", "error")
        who = f" by {obj.resolved_by.get_username()}" if obj.resolved_by else ""
        return badge(obj.resolution.capitalize() or "Resolved", "ok", title=f"{obj.resolved_at:%Y-%m-%d %H:%M}{who}")

    @admin.action(description="Retry (queue the task again with its ids)", permissions=["change"])
    def retry(self, request: HttpRequest, queryset: QuerySet[FailedTask]) -> None:
        done, refused = 0, []
        for row in queryset.filter(resolved=False):
            try:
                done += dead_letters.failed_task_retry(acting_user=signed_in_user(request), failed_task=row)
            except dead_letters.CannotRetry as exc:
                refused.append(str(exc))
        self.message_user(request, f"{done} failed task(s) queued again and marked resolved.", messages.SUCCESS)
        for reason in refused:
            self.message_user(request, reason, messages.WARNING)

    @admin.action(description="Mark resolved", permissions=["change"])
    def mark_resolved(self, request: HttpRequest, queryset: QuerySet[FailedTask]) -> None:
        done = sum(dead_letters.failed_task_resolve(acting_user=signed_in_user(request), failed_task=row)
                   for row in queryset.filter(resolved=False))
        self.message_user(request, f"{done} failed task(s) marked resolved.", messages.SUCCESS)


from portal import admin_social  # noqa: E402, F401 - python-social-auth's tables, hidden from staff
